"""pretrain: metrics against training size and the prediction maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from landslides.aggregate import summarize
from landslides.geo import pixel_size
from landslides.runs import read_predictions
from landslides.studies.pretrain.tables import PAPER, TABLE_METRICS, size_order
from landslides.studies.pretrain.train import count_errors

FIGURE_METRICS = ("auprc", "fpr_landslide_free", "median_signed_landslide_free", "count_abs_all")


def _axis_limits(ax, metric: str, values: np.ndarray) -> None:
    """Axes that do not magnify seed noise: rates on [0, 1], count errors from 0 (or below for signed ones)."""
    values = values[np.isfinite(values)]
    if metric == "auprc":
        # Zoomed on the values, at least 0.1 wide and topped at 1: on [0, 1] arms near 1 sit on one another.
        low = min(float(values.min(initial=1.0)) - 0.02, 0.9)
        ax.set_ylim(max(low, 0.0), 1.005)
    elif metric.startswith("fpr"):
        ax.set_ylim(0, max(0.1, float(values.max(initial=0)) * 1.2))
    else:
        low, high = float(values.min(initial=0)), float(values.max(initial=0))
        pad = 0.1 * max(high - min(low, 0), 1.0)
        ax.set_ylim(min(low, 0) - (pad if low < 0 else 0), high + pad)


ARM_ORDER = {"none": 0, "hokkaido": 1, "kaikoura": 2}


def _no_skill(ax, no_skill: pd.Series) -> None:
    """The no-skill AUPRC as a dashed line, or, where the zoomed axis leaves it out, its value at the foot."""
    if not len(no_skill):
        return
    value = float(no_skill.mean())
    if value >= ax.get_ylim()[0]:
        ax.axhline(value, color="#999999", linewidth=0.8, linestyle="--")
        ax.text(0.02, value, " no-skill", transform=ax.get_yaxis_transform(), fontsize=8, color="#666666",
                ha="left", va="bottom")
    else:
        ax.text(0.02, 0.03, f"no-skill {value:.3f}: below the axis", transform=ax.transAxes, fontsize=8,
                color="#666666", ha="left", va="bottom")


def plot_metrics(tidy: pd.DataFrame, png: str, pdf: str, source: str = "", flagged: tuple = ()) -> None:
    """Each metric against the training size, one line per pretraining arm; error bars ±1 std over seeds
    where there is more than one seed. `flagged`: arms whose stage-1 classifier the sanity pass flagged."""
    from landslides.plots import add_footer, arm_color, plt, save_figure, spread_phrase
    summary = summarize(tidy[tidy.split == "test"], ["pretraining", "size", "metric"])
    sizes = sorted(summary["size"].astype(str).unique(), key=size_order)
    x_of = {s: i for i, s in enumerate(sizes)}
    chips = summary[summary.metric == "train_chips"].groupby("size")["mean"].max()
    ns = summary[summary.metric.isin(FIGURE_METRICS)]["n"]
    with_spread = len(ns) and ns.max() > 1
    # Two by two: a row of four is shrunk to unreadable fonts when the report fits it to the page width.
    fig, axes = plt.subplots(2, 2, figsize=(8.5, 6.6))
    axes = axes.ravel()
    for ax, metric in zip(axes, FIGURE_METRICS, strict=True):
        part = summary[summary.metric == metric]
        arms = sorted(part["pretraining"].unique(), key=lambda a: ARM_ORDER.get(a, 99))
        for i, arm in enumerate(arms):
            line = part[part.pretraining == arm]
            line = line.iloc[np.argsort([size_order(s) for s in line["size"]])]
            xs = [x_of[str(s)] + 0.1 * (i - 1) for s in line["size"]]  # an offset keeps the arms' points apart
            yerr = np.where(line["n"] > 1, np.nan_to_num(line["std"]), np.nan) if with_spread else None
            label = f"{arm} (stage 1 did not learn)" if arm in flagged else arm
            ax.errorbar(xs, line["mean"], yerr=yerr, marker="o", capsize=3, color=arm_color(arm, i), label=label,
                        linestyle=":" if arm in flagged else "-")
        if "signed" in metric:
            ax.axhline(0, color="#999999", linewidth=0.8, linestyle="--")
        _axis_limits(ax, metric, part["mean"].to_numpy(float))
        if metric == "auprc":
            _no_skill(ax, summary[summary.metric == "no_skill"]["mean"])
        ax.set_xlim(-0.4, len(sizes) - 0.6)
        ax.set_xticks(range(len(sizes)), [f"{s}\n({int(chips.get(s, np.nan))})" if s == "all" else s
                                          for s in sizes])
        ax.set_xlabel("training chips (half landslide-free)", fontsize=9)
        ax.set_title(TABLE_METRICS[metric], fontsize=10)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="pretraining", fontsize=9, title_fontsize=9, loc="upper center",
               bbox_to_anchor=(0.5, 0.925), ncol=len(labels), frameon=False)
    fig.suptitle(f"Stage-2 test metrics against training size ({spread_phrase(ns)});\nafter {PAPER}, who show "
                 "these as figures", fontsize=10)
    fig.tight_layout(rect=(0, 0.03, 1, 0.88))
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def plot_maps(prediction_files: list[str], runs: list[dict], n_chips: int, pixel_m: float | None,
              png: str, pdf: str, source: str = "", flagged: tuple = ()) -> None:
    """Predicted probability with the true outline: landslide-free chips, then landslide chips, for the
    first seed and the largest training size of each pretraining arm (rows). `flagged`: arms whose stage-1
    classifier the sanity pass flagged."""
    from landslides.plots import add_footer, chip_panel, plt, save_figure
    largest = max((r["params"]["size"] for r in runs), key=size_order)
    first_seed = min(r["params"]["seed"] for r in runs)
    chosen = [(f, r) for f, r in zip(prediction_files, runs, strict=True)
              if r["params"]["seed"] == first_seed and r["params"]["size"] == largest]
    chosen.sort(key=lambda item: ARM_ORDER.get(item[1]["params"]["pretraining"], 99))
    data = [read_predictions(f)["test"] for f, _ in chosen]
    has, label = data[0]["has_landslide"].astype(bool), data[0]["label"]
    # Landslide-free chips where the first arm errs most; landslide chips with the most landslide pixels.
    free = np.flatnonzero(~has)
    free = free[np.argsort(-data[0]["prob"][free].astype(np.float32).sum(axis=(1, 2)), kind="stable")][:n_chips]
    slides = np.flatnonzero(has)
    slides = slides[np.argsort(-label[slides].sum(axis=(1, 2)), kind="stable")][:n_chips]
    columns = list(free) + list(slides)
    fig, axes = plt.subplots(len(chosen), len(columns), figsize=(2.0 * len(columns) + 1.0, 2.1 * len(chosen) + 0.5),
                             squeeze=False, layout="constrained")
    im = None
    for row, ((_, run), arrays) in enumerate(zip(chosen, data, strict=True)):
        for col, i in enumerate(columns):
            prob, truth, valid = arrays["prob"][i], arrays["label"][i], arrays["valid"][i]
            kind = "landslide" if has[i] else "no landslide"
            error = count_errors(prob[None], truth[None], valid[None])[0]
            im = chip_panel(axes[row, col], prob, truth, valid,
                            f"{kind}, chip {arrays['id'][i]}\ncount error {error:+.0f} px", pixel_m)
        arm = run["params"]["pretraining"]
        axes[row, 0].set_ylabel(f"pretraining: {arm}" + ("\n(stage 1 did not learn)" if arm in flagged else ""),
                                fontsize=8)
    if im is not None:
        fig.colorbar(im, ax=axes, shrink=0.6, label="landslide probability (cyan: true outline; grey: no data)")
    fig.suptitle(f"Stage-2 test predictions, training size {largest}, seed {first_seed}", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def store_pixel_size(store: xr.Dataset) -> float | None:
    return pixel_size(store["transform"].values[0])
