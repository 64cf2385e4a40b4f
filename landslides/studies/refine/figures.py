"""refine: F1 per round, prediction and sample-patch maps, pseudo-labels, class ratio and band statistics."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from landslides.errors import InputError
from landslides.l4s.dataset import (
    BAND_NAMES,
    SPLIT_DIRS,
    list_patches,
    read_image,
    read_mask,
    read_split,
)
from landslides.l4s.pseudo import label_summary, pseudo_labels
from landslides.published import REFINE
from landslides.runs import read_predictions
from landslides.studies.refine.plan import TARGET_SPLITS
from landslides.studies.refine.tables import percent_of
from landslides.studies.refine.train import read_samples

RGB_BANDS = (3, 2, 1)  # B4, B3, B2 in the benchmark's band order


def plot_f1_rounds(runs: list[dict], ensembles: list[dict], png: str, pdf: str, source: str = "") -> None:
    """Ensemble F1 per round on val and test (lines), members (dots), the paper's test F1 (dashed) over the rounds
    this run has; the paper's later rounds are named in the legend, not drawn past our last round."""
    from landslides.plots import add_footer, plt, save_figure
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    rounds = [e["params"]["round"] for e in ensembles]
    members = list(ensembles[0]["params"]["members"]) if ensembles else []
    # One marker per member, named by its ladder label, so that each dot says which network it is.
    markers = dict(zip(members, "^vDPX*", strict=False))
    for split, color in (("val", "#1b9e77"), ("test", "#d95f02")):
        ax.plot(rounds, [percent_of(e.get(split), "f1") for e in ensembles], "o-", color=color,
                label=f"ensemble, {split}")
        for member in members:
            member_runs = [r for r in runs if r["params"]["run"] == member]
            if not member_runs:
                continue
            name = member_runs[0]["params"].get("label", member)
            ax.plot([r["params"]["round"] + (0.06 if split == "test" else -0.06) for r in member_runs],
                    [percent_of(r.get(split), "f1") for r in member_runs], markers.get(member, "."), color=color,
                    alpha=0.6, markersize=5, linestyle="none", label=f"member {name}, {split}")
    last = max(rounds, default=0)
    published = sorted(REFINE["ensemble_test_f1"].items())
    shown = [(r, v) for r, v in published if r <= last]
    later = ", ".join(f"round {r}: {v:.2f}" for r, v in published if r > last)
    label = "published ensemble, test leaderboard" + (f"\n(paper continues: {later})" if later else "")
    ax.plot([r for r, _ in shown], [v for _, v in shown], "s--", color="#7570b3", label=label)
    ax.set_xlabel("refinement round (0 = source only)")
    ax.set_ylabel("F1 of the landslide class (%)")
    ax.set_xticks(range(0, last + 1))
    ax.set_xlim(-0.3, last + 0.3)
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title("Progressive label refinement: one training seed, single runs", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def rgb(image: np.ndarray) -> np.ndarray:
    """(14, H, W) patch -> (H, W, 3) true-color B4/B3/B2, stretched between its 2nd and 98th percentiles."""
    bands = image[list(RGB_BANDS)].transpose(1, 2, 0).astype(np.float64)
    low, high = np.percentile(bands, [2, 98])
    return np.clip((bands - low) / max(high - low, 1e-6), 0, 1)


# Landslide4Sense patches are 128 x 128 pixels resampled to 10 m.
PATCH_EXTENT = "each patch 128 x 128 px at 10 m = 1.28 km across"


def _panel(ax, array, title, outline=None, **kwargs):
    """One map; `outline`: a label whose landslides are drawn as cyan contours over it (the truth to compare with)."""
    im = ax.imshow(array, interpolation="nearest", **kwargs)
    if outline is not None and outline.any():
        ax.contour(outline.astype(float), levels=[0.5], colors="cyan", linewidths=0.7)
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def plot_predictions(ensemble_files: list[str], data_root: str | Path, n_patches: int, png: str,
                     pdf: str, source: str = "") -> None:
    """Test patches with the most landslide pixels (val when test has no labels): RGB, label, the
    ensemble probability of the first and the last round."""
    from landslides.plots import add_footer, plt, save_figure
    first, last = read_predictions(ensemble_files[0]), read_predictions(ensemble_files[-1])
    split = "test" if "label" in first["test"] else "val"
    labels = first[split]["label"]
    landslide_pixels = labels.reshape(len(labels), -1).sum(1, dtype=np.int64)
    chosen = np.argsort(-landslide_pixels, kind="stable")[:n_patches]
    images = read_split(data_root, split, require_masks=False).images
    rows = [("RGB (B4, B3, B2)", None), ("label", None), ("round 0 ensemble", first),
            (f"round {len(ensemble_files) - 1} ensemble", last)]
    fig, axes = plt.subplots(len(rows), len(chosen), figsize=(1.7 * len(chosen) + 1.0, 1.75 * len(rows) + 0.4),
                             squeeze=False, layout="constrained")
    im = None
    for col, i in enumerate(chosen):
        patch_id = first[split]["id"][i]
        # The truth as cyan outlines over the image and both probability maps: where each round finds it.
        _panel(axes[0, col], rgb(images[i]), f"{split} patch {patch_id}", outline=labels[i])
        _panel(axes[1, col], labels[i], "label (white: landslide)", cmap="gray", vmin=0, vmax=1)
        for row, (title, data) in enumerate(rows[2:], start=2):
            im = _panel(axes[row, col], data[split]["prob"][i], title, outline=labels[i], cmap="magma", vmin=0,
                        vmax=1)
    # The colourbar stands beside the probability rows only (the lower half), every panel keeping one size.
    fig.colorbar(im, ax=axes, shrink=0.45, anchor=(0.0, 0.02), label="landslide probability")
    fig.suptitle(f"{split.capitalize()} patches with the most landslide pixels; {PATCH_EXTENT}, north up;\n"
                 "cyan: true landslide outlines", fontsize=8)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def plot_sample_maps(ensemble_files: list[str], sample_path: str | Path | None, png: str, pdf: str,
                     source: str = "") -> None:
    """The real sample patches (no labels exist): RGB beside the round-0 and last-round probability."""
    from landslides.plots import add_footer, plt, save_figure
    samples = read_samples(sample_path)
    last = read_predictions(ensemble_files[-1])
    if samples is None or "samples" not in last:
        fig, ax = plt.subplots(figsize=(5, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"real sample patches not found at {sample_path}: no maps", ha="center", fontsize=8)
        save_figure(fig, png, pdf)
        return
    first = read_predictions(ensemble_files[0])
    per_row = 2  # samples per figure row, three panels each
    n = len(samples)
    n_rows = math.ceil(n / per_row)
    fig, axes = plt.subplots(n_rows, 3 * per_row, figsize=(1.6 * 3 * per_row + 0.8, 1.65 * n_rows + 0.6),
                             squeeze=False, layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    im = None
    for k in range(n):
        row, col = divmod(k, per_row)
        cells = axes[row, 3 * col : 3 * col + 3]
        _panel(cells[0], rgb(samples.images[k]), f"sample {samples.ids[k]} RGB")
        _panel(cells[1], first["samples"]["prob"][k], "round 0", cmap="magma", vmin=0, vmax=1)
        im = _panel(cells[2], last["samples"]["prob"][k], f"round {len(ensemble_files) - 1}",
                    cmap="magma", vmin=0, vmax=1)
    fig.colorbar(im, ax=axes, shrink=0.4, label="landslide probability (ensemble)")
    fig.suptitle(f"REAL Landslide4Sense sample patches (no labels exist) read by the ensemble trained on the "
                 f"configured data; {PATCH_EXTENT}, north up", fontsize=8)
    add_footer(fig, "Images: data/landslide4sense-samples (real Sentinel-2 patches of the benchmark). The models were "
                    f"trained on the configured data. {source}")
    save_figure(fig, png, pdf)


def pseudo_label_frame(runs: list[dict], ensemble_files: list[str], pseudo: dict) -> pd.DataFrame:
    """Per round r >= 1 and target split: the pseudo-labels that round trained on (from round r-1's ensemble):
    the share of pixels labelled at all, the landslide share among them, and against the true masks (where the
    split has them) their precision and recall for the landslide class and the true landslide pixel fraction."""
    rows = []
    recorded = {}
    for run in runs:
        for split, summary in (run.get("pseudo_labels") or {}).items():
            recorded[(run["params"]["round"], split)] = summary
    for r in range(1, len(ensemble_files)):
        previous = read_predictions(ensemble_files[r - 1])
        for split in pseudo.get("target_splits", TARGET_SPLITS):
            if split not in previous:
                continue
            labels = pseudo_labels(previous[split]["prob"], pseudo["threshold"], pseudo["background_threshold"])
            summary = recorded.get((r, split)) or label_summary(labels)
            row = {"round": r, "split": split, "labelled_fraction": summary["labelled_fraction"],
                   "landslide_fraction": summary["landslide_fraction"], "precision": np.nan, "recall": np.nan,
                   "true_fraction": np.nan}
            truth = previous[split].get("label")
            if truth is not None:
                truth = truth.astype(bool)
                pseudo_pos = labels == 1
                row["precision"] = float((pseudo_pos & truth).sum() / pseudo_pos.sum()) if pseudo_pos.any() else np.nan
                row["recall"] = float((pseudo_pos & truth).sum() / truth.sum()) if truth.any() else np.nan
                row["true_fraction"] = float(truth.mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=["round", "split", "labelled_fraction", "landslide_fraction", "precision",
                                       "recall", "true_fraction"])


def plot_pseudo_labels(runs: list[dict], ensemble_files: list[str], pseudo: dict, png: str, pdf: str,
                       source: str = "") -> None:
    """Per refinement round: how much of the target images the pseudo-labels cover, how many of them say
    landslide (against the true landslide fraction), and how right they are."""
    from landslides.plots import add_footer, plt, save_figure
    frame = pseudo_label_frame(runs, ensemble_files, pseudo)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
    colors = {"val": "#1b9e77", "test": "#d95f02"}
    if frame.empty:
        for ax in axes:
            ax.axis("off")
        axes[1].text(0.5, 0.5, "no refinement round (refine.rounds = 0): no pseudo-labels", ha="center", fontsize=9)
    for split, part in frame.groupby("split", sort=False):
        c = colors.get(split, "#666666")
        axes[0].plot(part["round"], 100 * part["labelled_fraction"], "o-", color=c, label=split)
        axes[1].plot(part["round"], 100 * part["landslide_fraction"], "o-", color=c, label=f"{split}: pseudo-labels")
        if part["true_fraction"].notna().any():
            axes[1].plot(part["round"], 100 * part["true_fraction"], "--", color=c, alpha=0.7,
                         label=f"{split}: true masks")
        axes[2].plot(part["round"], 100 * part["precision"], "o-", color=c, label=f"{split} precision")
        axes[2].plot(part["round"], 100 * part["recall"], "s:", color=c, label=f"{split} recall", clip_on=False)
        # A round without any landslide pseudo-label has no precision: a cross at 0, named, not a silent gap.
        undefined = part[part["true_fraction"].notna() & part["precision"].isna()]
        if len(undefined):
            axes[2].plot(undefined["round"], np.zeros(len(undefined)), "x", color=c, markersize=9, mew=2,
                         clip_on=False, label=f"{split} precision undefined (no landslide label)")
    titles = ("pixels with a pseudo-label (%)", "landslide share (%)", "landslide pseudo-labels vs truth (%)")
    for ax, title in zip(axes, titles, strict=True):
        if frame.empty:
            continue
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("round trained on them")
        rounds = sorted(frame["round"].unique())
        ax.set_xticks(rounds)
        ax.set_xlim(rounds[0] - 0.25, rounds[-1] + 0.25)  # the first and last rounds' markers clear of the frame
        ax.legend(fontsize=7)
    if not frame.empty:
        # Each axis starts a little below 0, so that a line at 0 (recall, share) is seen above the axis, not on it.
        axes[0].set_ylim(-3, 102)
        top = max(5.0, float(100 * frame[["landslide_fraction", "true_fraction"]].max().max()) * 1.3)
        axes[1].set_ylim(-0.03 * top, top)
        axes[2].set_ylim(-3, 102)
    threshold, background = pseudo.get("threshold"), pseudo.get("background_threshold")
    rule = (f"landslide where p >= {threshold}, background where p <= {background}, ignored in between"
            if background is not None else f"landslide where p >= {threshold}, background elsewhere")
    fig.suptitle(f"Pseudo-labels of each round (from the previous round's ensemble: {rule}); truth: the target "
                 "masks, never used in training", fontsize=8)
    fig.tight_layout()
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def split_statistics(data_root: str | Path) -> dict[str, dict]:
    """Per split, read one patch at a time: patches, pixels, landslide pixels (None without masks) and per-band
    mean and standard deviation over every pixel."""
    stats = {}
    for split in ("train", "val", "test"):
        try:
            ids = list_patches(Path(data_root), split)
        except InputError:
            continue
        folder = Path(data_root) / SPLIT_DIRS[split]
        total = np.zeros(len(BAND_NAMES))
        squares = np.zeros(len(BAND_NAMES))
        pixels, positive, with_masks = 0, 0, (folder / "mask").is_dir()
        for n in ids:
            image = read_image(folder / "img" / f"image_{n}.h5").astype(np.float64)
            total += image.sum(axis=(1, 2))
            squares += (image ** 2).sum(axis=(1, 2))
            pixels += image.shape[1] * image.shape[2]
            mask_path = folder / "mask" / f"mask_{n}.h5"
            if with_masks and mask_path.exists():
                positive += int(read_mask(mask_path).sum())
            else:
                with_masks = False
        mean = total / max(pixels, 1)
        std = np.sqrt(np.maximum(squares / max(pixels, 1) - mean ** 2, 0))
        stats[split] = {"patches": len(ids), "pixels": pixels, "landslide_pixels": positive if with_masks else None,
                        "mean": mean, "std": std}
    return stats


SPLIT_COLORS = {"train": "#1b9e77", "val": "#7570b3", "test": "#d95f02"}


def plot_class_ratio(stats: dict[str, dict], png: str, pdf: str, source: str = "") -> None:
    """After Zhao et al. Fig. 1b: the landslide share of the pixels of each split, with the class ratio."""
    from landslides.plots import add_footer, plt, save_figure
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    names = list(stats)
    shares = {split: 100 * s["landslide_pixels"] / max(s["pixels"], 1) for split, s in stats.items()
              if s["landslide_pixels"] is not None}
    top = max(shares.values(), default=1.0) * 1.45
    for i, split in enumerate(names):
        s = stats[split]
        if split not in shares:
            ax.text(i, top / 2, "no masks", ha="center", va="center", fontsize=8, color="#666666")
            continue
        share = shares[split]
        ax.bar(i, share, color=SPLIT_COLORS.get(split, "#d95f02"), width=0.6)
        ratio = (s["pixels"] - s["landslide_pixels"]) / max(s["landslide_pixels"], 1)
        ax.text(i, share, f"{share:.2f} %\n1 : {ratio:.0f}\n{s['landslide_pixels']:d} of {s['pixels']:d} px",
                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(names)), [f"{n}\n{stats[n]['patches']} patches" for n in names])
    ax.set_ylabel("landslide pixels (% of the split)")
    ax.set_ylim(0, top)
    ax.set_title("Class ratio per split (after Zhao et al., Fig. 1b): landslide : non-landslide", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def plot_band_statistics(stats: dict[str, dict], png: str, pdf: str, source: str = "") -> None:
    """After Zhao et al. Fig. 2: per band, the mean ± std of every pixel of each split: the shift between the
    source (train) and the target (val, test) domains."""
    from landslides.plots import add_footer, plt, save_figure
    bands = list(BAND_NAMES)
    cols = 7
    rows = math.ceil(len(bands) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols + 0.4, 1.7 * rows + 0.6), squeeze=False)
    names = list(stats)
    for b, band in enumerate(bands):
        ax = axes.flat[b]
        for i, split in enumerate(names):
            s = stats[split]
            ax.errorbar(i, s["mean"][b], yerr=s["std"][b], fmt="o", color=SPLIT_COLORS.get(split, "#666666"),
                        capsize=3, markersize=4)
        ax.set_title(band, fontsize=8)
        ax.set_xticks(range(len(names)), names, fontsize=6)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.tick_params(axis="y", labelsize=6)
    for ax in axes.flat[len(bands):]:
        ax.axis("off")
    # Landslide4Sense releases each band divided by a constant of its own: a value without a physical unit.
    for ax in axes[:, 0]:
        ax.set_ylabel("stored value\n(no unit)", fontsize=7)
    fig.suptitle("Per-band mean ± std of every pixel, per split (after Zhao et al., Fig. 2); values as stored: "
                 "each band divided by a constant, no physical unit", fontsize=9)
    fig.tight_layout()
    add_footer(fig, source)
    save_figure(fig, png, pdf)
