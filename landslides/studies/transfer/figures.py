"""transfer: the AUPRC bars, the per-chip AUPRC and the prediction maps."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from landslides.aggregate import summarize
from landslides.geo import pixel_size
from landslides.metrics import ScoreHistogram
from landslides.published import TRANSFER_AUPRC
from landslides.runs import read_predictions
from landslides.studies.transfer.tables import arm_label


def plot_auprc(tidy: pd.DataFrame, png: str, pdf: str, source: str = "") -> None:
    """Bars: our AUPRC per arm (mean over seeds), dots: each seed's run; solid black ticks: the paper's Table 1
    (one run per arm); dashed grey line: no-skill, its value right of the panel."""
    from landslides.plots import add_footer, arm_color, bar_with_errors, plt, save_figure, spread_phrase
    summary = summarize(tidy[tidy.metric == "auprc"], ["features", "augmentation", "split"])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.4), sharey=True)
    for ax, (split, title) in zip(axes, (("val", "training region (validation chips)"), ("test", "test region")),
                                  strict=True):
        part = summary[summary.split == split]
        labels = [arm_label(f, a) for f, a in zip(part.features, part.augmentation, strict=True)]
        bar_with_errors(ax, labels, part["mean"], part["std"], part["n"], "pixel AUPRC")
        published = [TRANSFER_AUPRC.get((f, a), {}).get(split, np.nan)
                     for f, a in zip(part.features, part.augmentation, strict=True)]
        x = np.arange(len(labels))
        runs = tidy[(tidy.metric == "auprc") & (tidy.split == split)]
        for i, (features, augmentation) in enumerate(zip(part.features, part.augmentation, strict=True)):
            values = runs[(runs.features == features) & (runs.augmentation == augmentation)]["value"].to_numpy()
            ax.plot(x[i] + np.linspace(-0.2, 0.2, len(values)) * (len(values) > 1), values, "o", markersize=3,
                    color="black", markerfacecolor="white", zorder=4, label="each seed's run" if i == 0 else None)
        # Solid black ticks for the paper, a dashed grey line for no-skill: two styles that cannot be confused.
        ax.hlines(published, x - 0.4, x + 0.4, colors="black", linewidth=2.0, zorder=3,
                  label="published (Prapas et al., Table 1, real data)")
        baseline = tidy[(tidy.metric == "no_skill") & (tidy.split == split)]["value"].mean()
        ax.axhline(baseline, color=arm_color("no-skill"), linestyle="--", label="no-skill (landslide pixel fraction)")
        # The value right of the panel, on the line's height: inside, a label box would cover part of a bar.
        ax.text(1.01, baseline, f"{baseline:.3f}", transform=ax.get_yaxis_transform(), ha="left", va="center",
                fontsize=7, color="#555555")
        ax.set_ylim(0, 1.05)
        ax.set_title(title, fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    # Below the panels, where it covers no bar and no error bar.
    fig.legend(handles, labels, loc="lower center", ncol=2, fontsize=7, bbox_to_anchor=(0.5, 0.0), frameon=False)
    fig.suptitle(f"Pixel AUPRC per arm; bars: {spread_phrase(summary['n'])}; dots: each seed", fontsize=9)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def chip_auprc(prob: np.ndarray, label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pixel AUPRC of each chip on its valid pixels (NaN for a chip without landslide pixels)."""
    out = np.full(len(prob), np.nan)
    for i in range(len(prob)):
        keep = valid[i].astype(bool)
        histogram = ScoreHistogram()
        histogram.update(prob[i][keep], label[i][keep])
        out[i] = histogram.average_precision()
    return out


def chip_auprc_frame(prediction_files: list[str], runs: list[dict]) -> pd.DataFrame:
    """One row per (run, split, chip): the chip's AUPRC and its landslide pixel fraction."""
    rows = []
    for path, run in zip(prediction_files, runs, strict=True):
        p = run["params"]
        for split, part in read_predictions(path).items():
            valid = part["valid"].astype(bool)
            label = part["label"].astype(bool) & valid
            scores = chip_auprc(part["prob"], label, valid)
            fraction = label.sum(axis=(1, 2)) / np.maximum(valid.sum(axis=(1, 2)), 1)
            rows += [{"arm": arm_label(p["features"], p["augmentation"]), "seed": p["seed"], "split": split,
                      "chip": int(chip), "auprc": score, "landslide_fraction": frac}
                     for chip, score, frac in zip(part["id"], scores, fraction, strict=True)]
    return pd.DataFrame(rows)


def plot_chip_auprc(prediction_files: list[str], runs: list[dict], png: str, pdf: str, source: str = "") -> None:
    """The spread behind Table 1: per-chip AUPRC of every arm (all seeds), validation chips and test chips, with
    each chip's no-skill level (its landslide pixel fraction) for reference."""
    from landslides.plots import add_footer, arm_color, plt, save_figure
    frame = chip_auprc_frame(prediction_files, runs)
    arms = list(dict.fromkeys(arm_label(r["params"]["features"], r["params"]["augmentation"]) for r in runs))
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6), sharey=True)
    region = {"val": runs[0].get("train_region", "training region"), "test": runs[0].get("test_region", "test region")}
    for ax, split in zip(axes, ("val", "test"), strict=True):
        part = frame[(frame.split == split) & frame.auprc.notna()]
        data = [part[part.arm == arm]["auprc"].to_numpy() for arm in arms]
        box = ax.boxplot(data, positions=np.arange(len(arms)), widths=0.55, showfliers=False, patch_artist=True,
                         medianprops={"color": "black"})
        for patch, arm in zip(box["boxes"], arms, strict=True):
            patch.set_facecolor(arm_color(arm))
            patch.set_alpha(0.35)
        rng = np.random.default_rng(0)
        for i, (arm, values) in enumerate(zip(arms, data, strict=True)):
            ax.scatter(i + rng.uniform(-0.18, 0.18, len(values)), values, s=9, color=arm_color(arm, i), zorder=3)
        no_skill = part.drop_duplicates("chip")["landslide_fraction"]
        if len(no_skill):
            ax.axhline(float(no_skill.median()), color=arm_color("no-skill"), linestyle="--", linewidth=1)
        n_chips = part["chip"].nunique()
        ax.set_xticks(range(len(arms)), [a.replace(" (", "\n(") for a in arms], fontsize=7)
        ax.set_title(f"{'validation' if split == 'val' else 'test'} chips, {region[split]} ({n_chips} chips)",
                     fontsize=9)
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("pixel AUPRC of one chip")
    seeds = frame["seed"].nunique() if len(frame) else 0
    fig.suptitle(f"Per-chip AUPRC: one dot per chip and run ({seeds} seed{'s' if seeds != 1 else ''}); box: "
                 "quartiles; dashed: median no-skill level of a chip (its landslide pixel fraction)", fontsize=8)
    fig.tight_layout()
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def plot_predictions(prediction_files: list[str], runs: list[dict], train_store: xr.Dataset,
                     test_store: xr.Dataset, n_chips: int, png: str, pdf: str, source: str = "") -> None:
    """Figure 1: predicted probability with the true landslide outline, chips of both regions, for the
    first seed's run of each arm (rows) and the chips with the most landslide pixels (columns): first the
    validation chips of the training region, then the test chips of the test region."""
    from landslides.plots import add_footer, chip_panel, plt, save_figure
    first_seed = min(r["params"]["seed"] for r in runs)
    chosen = [(f, r) for f, r in zip(prediction_files, runs, strict=True) if r["params"]["seed"] == first_seed]
    data = [read_predictions(f) for f, _ in chosen]
    columns = []
    for split, store in (("val", train_store), ("test", test_store)):
        labels = data[0][split]["label"]
        order = np.argsort(-labels.reshape(len(labels), -1).sum(1), kind="stable")[:n_chips]
        columns += [(split, i, pixel_size(store["transform"].values[0])) for i in order]
    n_val = sum(1 for split, _, _ in columns if split == "val")
    fig, axes = plt.subplots(len(chosen), len(columns), figsize=(1.6 * len(columns) + 1.2, 1.75 * len(chosen) + 0.6),
                             squeeze=False, layout="constrained")
    im = None
    for row, ((_, run), arrays) in enumerate(zip(chosen, data, strict=True)):
        for col, (split, i, pixel_m) in enumerate(columns):
            part = arrays[split]
            im = chip_panel(axes[row, col], part["prob"][i], part["label"][i], part["valid"][i],
                            f"{'val' if split == 'val' else 'test'} chip {part['id'][i]}", pixel_m)
            if col == 0:
                p = run["params"]
                axes[row, col].set_ylabel(arm_label(p["features"], p["augmentation"]), fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.6, label="landslide probability (cyan: true outline; grey: no data)")
    # Which columns are which: a header over each group.
    run = chosen[0][1]
    # Over one or two columns a header on one line runs into its neighbour: then on three lines.
    sep = "\n" if min(n_val, len(columns) - n_val) <= 2 else " "
    groups = ((0, n_val, f"VALIDATION chips:{sep}{run['train_region']}{sep}(training region)"),
              (n_val, len(columns), f"TEST chips:{sep}{run['test_region']}{sep}(test region,{sep}never trained on)"))
    fig.canvas.draw()
    for start, stop, text in groups:
        if stop <= start:
            continue
        left = axes[0, start].get_position().x0
        right = axes[0, stop - 1].get_position().x1
        fig.text((left + right) / 2, 1.0, text, ha="center", va="bottom", fontsize=9, fontweight="bold")
    if 0 < n_val < len(columns):  # a rule between the two groups
        x = (axes[0, n_val - 1].get_position().x1 + axes[0, n_val].get_position().x0) / 2
        top = 1.03 if sep == " " else axes[0, 0].get_position().y1 + 0.02  # below headers of several lines
        fig.add_artist(plt.Line2D([x, x], [axes[-1, 0].get_position().y0, top], color="black", linewidth=1.2,
                                  transform=fig.transFigure))
    fig.suptitle(f"Predictions of seed {first_seed} of each arm; columns: chips with the most landslide pixels",
                 fontsize=9, y=1.06 if sep == " " else 1.13)
    add_footer(fig, source)
    save_figure(fig, png, pdf)
