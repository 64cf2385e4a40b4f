"""The `pretrain` study (Boehm et al.): stage-1 "any landslide in this chip?" pretraining, then stage-2
segmentation from sparse labels with and without the frozen stage-1 embeddings.

Stage 1 and stage 2 both respect the chip partition of `landslides.sar.selection.chip_partition`, so a
stage-2 test chip is never seen in stage 1 either.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
import xarray as xr

from landslides.aggregate import format_mean_std, markdown_table, seeds_phrase, summarize
from landslides.errors import InputError
from landslides.geo import pixel_size
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics, classification_metrics
from landslides.models import build_model
from landslides.normalization import ChannelStats
from landslides.report import FIGURE_ONLY
from landslides.runs import RunFiles, load_model, read_predictions, save_model, start_job, write_predictions
from landslides.sar.selection import class_indices, require_chips, select_indices, to_split
from landslides.siamese import Segmenter
from landslides.train import Split, chip_probability, fit, predict

# landslides.plots (matplotlib) is imported inside the plotting functions: a training job draws nothing,
# and matplotlib would add about half a second to the start-up of every job.

TEST_DRAW_SEED = 42  # the fixed test set is one draw, the same for every run of the grid


# ---- data selection ----

def balanced_indices(store: xr.Dataset, split: str, seed: int) -> np.ndarray:
    """Equal numbers of chips with and without landslides (the rarer class decides), sorted."""
    pos, neg = class_indices(store, split)
    n = min(len(pos), len(neg))
    if n == 0:
        raise InputError(f"chip store {store.attrs.get('region', '?')}: split '{split}' needs chips with and "
                         f"without landslides for stage 1 (has {len(pos)} and {len(neg)})")
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.choice(pos, n, replace=False), rng.choice(neg, n, replace=False)]))


def draw_training_chips(pos: np.ndarray, neg: np.ndarray, size: int | str, seed: int) -> np.ndarray:
    """The sparse setting: `size` chips, half of them (size // 2) without landslides, drawn with `seed`.

    One permutation of each class per seed, of which every size takes a prefix: the sets of one seed
    are nested (the 5 chips contain the 2), so sizes differ by the added chips, not by a new draw.
    'all' is the largest half/half set.
    """
    n_free_max = min(len(pos), len(neg))
    total = 2 * n_free_max if size == "all" else int(size)
    n_free = total // 2
    n_landslide = total - n_free
    if n_landslide > len(pos) or n_free > len(neg) or total < 1:
        raise InputError(f"training size {size}: only {len(pos)} landslide and {len(neg)} landslide-free "
                         "training chips")
    rng = np.random.default_rng(seed)
    return np.sort(np.concatenate([rng.permutation(pos)[:n_landslide], rng.permutation(neg)[:n_free]]))


def test_indices(store: xr.Dataset, landslide: int | None, landslide_free: int | None) -> np.ndarray:
    """The fixed stage-2 test set: test-partition chips with and without landslides (None = all)."""
    pos, neg = class_indices(store, "test")
    rng = np.random.default_rng(TEST_DRAW_SEED)
    picked = []
    for chips, n, what in ((pos, landslide, "landslide"), (neg, landslide_free, "landslide-free")):
        if n is not None and n > len(chips):
            raise InputError(f"chip store {store.attrs.get('region', '?')}: {n} {what} test chips asked, "
                             f"the test split has {len(chips)}")
        picked.append(chips if n is None else rng.choice(chips, n, replace=False))
    return np.sort(np.concatenate(picked))


def parse_size(value) -> int | str:
    """A grid value: 'all' or a chip count (wildcards arrive as strings)."""
    if str(value) == "all":
        return "all"
    try:
        return int(value)
    except ValueError as err:
        raise InputError(f"training size {value!r}: expected an integer or 'all'") from err


def pair_stats(chips: dict, pre: list[str], post: list[str]) -> ChannelStats:
    """Mean/std per polarisation pooled over pre and post, so both go through the same normalization.

    The stage-1 encoder applies the same weights to pre and post: normalizing them separately would
    remove part of the very change between them that it has to detect.
    """
    k = len(pre)
    images, valid = chips["images"], chips["valid"]
    means, stds = [], []
    for c in range(k):
        values = np.concatenate([images[:, c][valid], images[:, k + c][valid]])
        if values.size == 0:
            raise InputError("no valid pixel in the training chips to fit normalization statistics")
        means.append(values.mean(dtype=np.float64))
        stds.append(values.std(dtype=np.float64) or 1.0)
    return ChannelStats(pre + post, np.array(means * 2), np.array(stds * 2), int(valid.sum()) * 2)


def chip_split(chips: dict, stats: ChannelStats) -> Split:
    """Images normalized as for segmentation; the target is the chip label (N,) float32 0/1."""
    split = to_split(chips, stats)
    return Split(split.images, torch.from_numpy(chips["has_landslide"].astype(np.float32)))


def repeat_to(split: Split, min_chips: int) -> Split:
    """Tile a small training set so that one epoch holds at least `min_chips` samples.

    With 2 or 5 chips an epoch would be a single optimizer step; tiling keeps the number of steps per
    epoch comparable across training sizes without changing which chips are seen.
    """
    reps = max(1, math.ceil(min_chips / max(len(split), 1)))
    target_reps = (reps,) + (1,) * (split.target.ndim - 1)
    return Split(split.images.repeat(reps, 1, 1, 1), split.target.repeat(*target_reps))


# ---- stage 1 ----

def stage1_loss(name: str):
    """bce: the intent. batch_softmax_ce: the authors' quirk, cross-entropy of one softmax over the batch."""
    if name == "bce":
        return lambda logits, target: F.binary_cross_entropy_with_logits(logits, target.float())
    if name == "batch_softmax_ce":
        # The batch's logits form one distribution; the loss pushes mass onto the landslide chips.
        return lambda logits, target: -(target.float() * F.log_softmax(logits, dim=0)).sum()
    raise InputError(f"unknown stage-1 loss {name!r} (bce, batch_softmax_ce)")


def chip_spec(study: dict) -> dict:
    cfg = study["stage1"]
    return {"kind": "chip_classifier", "pair_channels": len(study["pre"]), "width": cfg["width"],
            "embedding_channels": cfg["embedding_channels"], "network": cfg["network"]}


def train_stage1(store: xr.Dataset, study: dict, files: RunFiles, *, threads: int = 1,
                 device_name: str = "auto", deterministic: bool | None = None) -> dict:
    """Train the chip classifier on balanced chips of one region; write model.pt, history, metrics."""
    job = start_job(threads, device_name, deterministic, files)
    cfg, channels = study["stage1"], study["pre"] + study["post"]
    training, seed = dict(cfg["training"]), cfg["seed"]
    chips = {s: select_indices(store, channels, balanced_indices(store, s, seed))
             for s in ("train", "val", "test")}
    stats = pair_stats(chips["train"], study["pre"], study["post"])
    splits = {s: chip_split(c, stats) for s, c in chips.items()}

    def evaluate_fn(model, split):
        prob = predict(model, split.images, training["eval_batch_size"], job.device, output=chip_probability)
        return classification_metrics(prob, split.target)

    torch.manual_seed(seed)
    spec = chip_spec(study)
    model = build_model(spec)
    result = fit(model, splits["train"], splits["val"], training, checkpoint=files.checkpoint,
                 history_path=files.history, seed=seed, loss_fn=stage1_loss(cfg["loss"]), device=job.device,
                 evaluate_fn=evaluate_fn,
                 run_id={"stage": 1, "model": model.config, "loss": cfg["loss"], "channels": channels})
    test = evaluate_fn(model, splits["test"])
    save_model(files.model, model, study="pretrain", spec=spec, channels=channels,
               normalization={"mode": "pair_pooled", **stats.to_dict()}, config=study,
               extra={"region": store.attrs.get("region")})
    metrics = {"params": {"region": store.attrs.get("region")},
               "chips": {s: len(c["chip"]) for s, c in chips.items()},
               "best_epoch": result.best_epoch, "val": result.best_val_metrics, "test": test}
    return job.finish(metrics, files)


def load_stage1(path: str | Path) -> tuple[torch.nn.Module, dict]:
    """The stage-1 classifier and its spec from its model file."""
    model, saved = load_model(path)
    if saved["spec"]["kind"] != "chip_classifier":
        raise InputError(f"{path}: not a stage-1 chip classifier (model kind {saved['spec']['kind']})")
    return model, saved["spec"]


# ---- stage 2 ----

def count_errors(prob: np.ndarray, label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per chip: sum of predicted probabilities minus the number of landslide pixels (valid pixels only)."""
    valid = np.asarray(valid).astype(bool)
    predicted = np.where(valid, np.asarray(prob, np.float64), 0.0).sum(axis=(1, 2))
    true = (np.asarray(label).astype(bool) & valid).sum(axis=(1, 2))
    return predicted - true


def count_error_metrics(prob: np.ndarray, label: np.ndarray, valid: np.ndarray,
                        has_landslide: np.ndarray) -> dict[str, float]:
    """Mean absolute and signed count error on all, landslide and landslide-free chips; the median signed
    error on landslide-free chips (the authors' summary of false positives)."""
    errors = count_errors(prob, label, valid)
    has_landslide = np.asarray(has_landslide).astype(bool)
    out = {}
    for group, keep in (("all", np.ones_like(has_landslide)), ("landslide", has_landslide),
                        ("landslide_free", ~has_landslide)):
        chosen = errors[keep]
        out[f"count_abs_{group}"] = float(np.abs(chosen).mean()) if chosen.size else float("nan")
        out[f"count_signed_{group}"] = float(chosen.mean()) if chosen.size else float("nan")
    free = errors[~has_landslide]
    out["median_signed_landslide_free"] = float(np.median(free)) if free.size else float("nan")
    return out


def segmentation_test_metrics(prob: np.ndarray, label: np.ndarray, valid: np.ndarray,
                              has_landslide: np.ndarray) -> dict[str, float]:
    """Pixel metrics on all test chips, the false-positive rate on landslide-free ones, count errors."""
    valid, has_landslide = np.asarray(valid).astype(bool), np.asarray(has_landslide).astype(bool)
    everything = SegmentationMetrics()
    everything.update(prob, label, valid=valid)
    metrics = everything.compute()
    free = SegmentationMetrics(with_auprc=False)
    free.update(prob[~has_landslide], label[~has_landslide], valid=valid[~has_landslide])
    metrics["fpr_landslide_free"] = free.compute()["fpr"]
    metrics.update(count_error_metrics(prob, label, valid, has_landslide))
    return metrics


def segmenter_spec(study: dict, stage1_spec: dict | None) -> dict:
    return {"kind": "sparse_segmenter", "in_channels": len(study["pre"]) + len(study["post"]),
            "width": study["stage2"]["width"], "stage1": stage1_spec, "network": study["stage2"]["network"],
            "stage1_batchnorm": study["stage2"]["stage1_batchnorm"]}


def build_segmenter(study: dict, stage1: torch.nn.Module | None) -> Segmenter:
    """The stage-2 network around a trained stage-1 classifier (or none). Built directly, not through
    build_model, so that the seeded initialization draws exactly the stage-2 layers and nothing else."""
    return Segmenter(len(study["pre"]) + len(study["post"]), study["stage2"]["width"], stage1,
                     study["stage2"]["network"], study["stage2"]["stage1_batchnorm"])


def train_stage2(store: xr.Dataset, stage1_path: str | Path | None, files: RunFiles, *, pretraining: str,
                 size, seed: int, study: dict, threads: int = 1, device_name: str = "auto",
                 deterministic: bool | None = None) -> dict:
    """One grid cell: draw the sparse training set, train, evaluate on the fixed test set, write files."""
    cfg, channels, size = study["stage2"], study["pre"] + study["post"], parse_size(size)
    loss_fn = build_loss(cfg["loss"], **cfg["loss_params"])  # a bad parameter fails before any file is written
    job = start_job(threads, device_name, deterministic, files)
    training = dict(cfg["training"])

    pos, neg = class_indices(store, "train")
    chosen = {"train": draw_training_chips(pos, neg, size, seed),
              "val": np.sort(np.concatenate(class_indices(store, "val"))),
              "test": test_indices(store, **study["test_chips"])}
    chips = {s: select_indices(store, channels, index) for s, index in chosen.items()}
    require_chips(store, {s: chips[s] for s in ("val", "test")}, what="chips")
    # Labels are sparse, images are not: normalize with every training-partition chip of the region, so
    # a 2-chip run does not get statistics of 2 chips.
    stats = pair_stats(select_indices(store, channels, np.concatenate([pos, neg])), study["pre"], study["post"])
    splits = {s: to_split(c, stats, study["invalid_pixels"]) for s, c in chips.items()}

    stage1, stage1_spec = load_stage1(stage1_path) if stage1_path else (None, None)
    torch.manual_seed(seed)  # initialization depends on the seed only
    model = build_segmenter(study, stage1)
    train = repeat_to(splits["train"], study["min_epoch_chips"])
    result = fit(model, train, splits["val"], training, checkpoint=files.checkpoint,
                 history_path=files.history, seed=seed, loss_fn=loss_fn, device=job.device,
                 run_id={"stage": 2, "pretraining": pretraining, "size": size, "model": model.config,
                         "loss": cfg["loss"], "loss_params": cfg["loss_params"], "chips": chosen["train"].tolist()})

    test = chips["test"]
    prob = predict(model, splits["test"].images, training["eval_batch_size"], job.device).numpy()
    # invalid_pixels "score": the authors' test metrics count every pixel (their labels: NaN -> 0).
    scored = test["valid"] if study["invalid_pixels"] == "ignore" else np.ones_like(test["valid"])
    test_metrics = segmentation_test_metrics(prob, test["label"], scored, test["has_landslide"])
    save_model(files.model, model, study="pretrain", spec=segmenter_spec(study, stage1_spec), channels=channels,
               normalization={"mode": "pair_pooled", **stats.to_dict()}, config=study)
    write_predictions(files.predictions, {"test": {
        "prob": prob, "id": test["chip"], "label": test["label"], "valid": test["valid"],
        "has_landslide": test["has_landslide"]}})
    metrics = {"params": {"pretraining": pretraining, "size": str(size), "seed": seed},
               "region": store.attrs.get("region"),
               "chips": {s: len(c["chip"]) for s, c in chips.items()},
               "train_chips": chips["train"]["chip"].tolist(),
               "train_landslide_free": int((~chips["train"]["has_landslide"]).sum()),
               "best_epoch": result.best_epoch, "val": result.best_val_metrics, "test": test_metrics}
    return job.finish(metrics, files)


# ---- aggregation: table and figures ----

TABLE_METRICS = {
    "auprc": "pixel AUPRC",
    "fpr_landslide_free": "FPR, landslide-free chips",
    "median_signed_landslide_free": "median signed count error, landslide-free (px)",
    "count_abs_all": "mean abs count error, all (px)",
    "count_abs_landslide": "mean abs count error, landslide (px)",
    "count_abs_landslide_free": "mean abs count error, landslide-free (px)",
    "count_signed_all": "mean signed count error, all (px)",
    "count_signed_landslide": "mean signed count error, landslide (px)",
    "count_signed_landslide_free": "mean signed count error, landslide-free (px)",
}
FIGURE_METRICS = ("auprc", "fpr_landslide_free", "median_signed_landslide_free", "count_abs_all")
PAPER = "Boehm et al."


def size_order(size: str) -> float:
    return math.inf if str(size) == "all" else float(size)


def _digits(metric: str) -> int:
    """Count errors (pixels) to whole pixels; AUPRC and FPR to 3 decimals."""
    return 0 if "count" in metric or metric.startswith("median") else 3


def build_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """One row per (pretraining, size): mean ± std over seeds of every test metric, plus numeric columns."""
    test = tidy[(tidy.split == "test") & tidy.metric.isin(list(TABLE_METRICS) + ["train_chips"])]
    summary = summarize(test, ["pretraining", "size", "metric"])
    rows = []
    for (pretraining, size), group in summary.groupby(["pretraining", "size"], sort=False):
        row = {"pretraining": pretraining, "size": str(size)}
        values = group.set_index("metric")
        row["seeds"] = int(values["n"].max())
        row["training chips"] = int(values.loc["train_chips", "mean"])
        for metric, label in TABLE_METRICS.items():
            hit = values.loc[metric] if metric in values.index else {"mean": np.nan, "std": np.nan, "n": 0}
            mean, std = hit["mean"], hit["std"]
            row[label] = format_mean_std(mean, std, digits=_digits(metric), n=int(hit["n"]), na="undefined")
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
        rows.append(row)
    table = pd.DataFrame(rows)
    arms = {a: i for i, a in enumerate(["none", "hokkaido", "kaikoura"])}
    order = np.lexsort((table["pretraining"].map(lambda a: arms.get(a, 99)), table["size"].map(size_order)))
    return table.iloc[order].reset_index(drop=True)


def printed_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as printed: the formatted columns, without the numeric mean/std columns."""
    return table[[c for c in table.columns if not c.endswith(("_mean", "_std"))]]


def runs_frame(metric_files: list[str | Path]) -> pd.DataFrame:
    """Tidy rows as aggregate.load_runs, plus the actual training-set size as the metric 'train_chips'."""
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        values = dict(run["test"], train_chips=run["chips"]["train"])
        rows += [{**run["params"], "split": "test", "metric": k, "value": float(v), "run": str(path)}
                 for k, v in values.items() if isinstance(v, int | float)]
    return pd.DataFrame(rows)


def stage1_table(metric_files: list[str | Path], flags: dict[str, str] | None = None) -> pd.DataFrame:
    """The stage-1 classifiers on their held-out balanced test chips; `check`: what the sanity pass flagged
    (landslides.report.run_flags, keyed by run folder). Precision is empty where no chip was predicted
    positive (it is undefined)."""
    flags = flags or {}
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        rows.append({"pretraining region": run["params"]["region"],
                     **{f"{k} chips": int(v) for k, v in run["chips"].items()},
                     **{m: run["test"].get(m, np.nan) for m in ("accuracy", "precision", "recall", "auroc")},
                     "best epoch": int(run["best_epoch"]),
                     "check": flags.get(str(Path(path).parent), "ok")})
    return pd.DataFrame(rows)


def _axis_limits(ax, metric: str, values: np.ndarray) -> None:
    """Axes that do not magnify seed noise: rates on [0, 1], count errors from 0 (or below for signed ones)."""
    values = values[np.isfinite(values)]
    if metric == "auprc":
        ax.set_ylim(0, 1.02)
    elif metric.startswith("fpr"):
        ax.set_ylim(0, max(0.1, float(values.max(initial=0)) * 1.2))
    else:
        low, high = float(values.min(initial=0)), float(values.max(initial=0))
        pad = 0.1 * max(high - min(low, 0), 1.0)
        ax.set_ylim(min(low, 0) - (pad if low < 0 else 0), high + pad)


ARM_ORDER = {"none": 0, "hokkaido": 1, "kaikoura": 2}


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
    fig, axes = plt.subplots(1, len(FIGURE_METRICS), figsize=(3.3 * len(FIGURE_METRICS), 3.2))
    for ax, metric in zip(axes, FIGURE_METRICS, strict=True):
        part = summary[summary.metric == metric]
        arms = sorted(part["pretraining"].unique(), key=lambda a: ARM_ORDER.get(a, 99))
        for i, arm in enumerate(arms):
            line = part[part.pretraining == arm]
            line = line.iloc[np.argsort([size_order(s) for s in line["size"]])]
            xs = [x_of[str(s)] + 0.06 * (i - 1) for s in line["size"]]  # small offset keeps the points apart
            yerr = np.where(line["n"] > 1, np.nan_to_num(line["std"]), np.nan) if with_spread else None
            label = f"{arm} (stage 1 did not learn)" if arm in flagged else arm
            ax.errorbar(xs, line["mean"], yerr=yerr, marker="o", capsize=3, color=arm_color(arm, i), label=label,
                        linestyle=":" if arm in flagged else "-")
        if metric == "auprc":
            no_skill = summary[summary.metric == "no_skill"]["mean"]
            if len(no_skill):
                ax.axhline(float(no_skill.mean()), color="#999999", linewidth=0.8, linestyle="--")
                ax.text(-0.35, float(no_skill.mean()) + 0.01, "no-skill", fontsize=7, color="#666666",
                        ha="left", va="bottom")
        if "signed" in metric:
            ax.axhline(0, color="#999999", linewidth=0.8, linestyle="--")
        _axis_limits(ax, metric, part["mean"].to_numpy(float))
        ax.set_xlim(-0.4, len(sizes) - 0.6)
        ax.set_xticks(range(len(sizes)), [f"{s}\n({int(chips.get(s, np.nan))})" if s == "all" else s
                                          for s in sizes])
        ax.set_xlabel("training chips (half landslide-free)")
        ax.set_title(TABLE_METRICS[metric], fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, title="pretraining", fontsize=7, title_fontsize=7, loc="center left",
               bbox_to_anchor=(1.0, 0.55), frameon=False)
    fig.suptitle(f"Stage-2 test metrics against training size ({spread_phrase(ns)}); after {PAPER}, who show "
                 "these as figures", fontsize=9)
    fig.tight_layout()
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


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Rows for the report's published-vs-reproduced overview. The paper shows these results in figures, without
    numbers: `published` is empty and its note says 'figure only'; the headline metrics are listed so that the
    overview shows the study."""
    rows = [{"study": "pretrain", "experiment": f"pretraining {row['pretraining']}, size {row['size']}",
             "split": "test", "metric": metric, "published": np.nan, "reproduced": row[f"{metric}_mean"],
             "std": row[f"{metric}_std"], "n": row["seeds"], "published_note": FIGURE_ONLY,
             "unit": "px" if _digits(metric) == 0 else "fraction"}
            for _, row in table.iterrows()
            for metric in ("auprc", "fpr_landslide_free", "median_signed_landslide_free")]
    return pd.DataFrame(rows, columns=["study", "experiment", "split", "metric", "published", "reproduced",
                                       "std", "n", "published_note", "unit"])


def printed_stage1(stage1: pd.DataFrame) -> str:
    if not len(stage1):
        return "(no pretraining arm in this grid)"
    return markdown_table(stage1, digits=3, na={"precision": "undefined", "auroc": "undefined"})


def table_note(study: dict, stage1: pd.DataFrame, source: str = "") -> str:
    """What the numbers are, and the stage-1 classifiers' held-out metrics."""
    flagged = stage1[stage1["check"] != "ok"] if len(stage1) else stage1
    lines = [
        f"Stage 2 on {study['stage2_region']}; {seeds_phrase(study['seeds'])} (seeds {study['seeds']}).",
        "Training sets: half of the chips landslide-free, drawn with the run's seed; 'all' is the largest "
        "such set.",
        "Count error (px): per test chip, sum of predicted probabilities minus the number of landslide pixels "
        "(valid pixels); abs = mean of |error|, signed = mean of error; median over landslide-free chips is "
        "the authors' false-positive summary. FPR: pixels >= 0.5 on landslide-free chips.",
        f"Published: none to print: {PAPER} show these results as figures only. Deviations from the paper and the "
        "authors' code: docs/deviations.md.",
    ]
    if source:
        lines.append(source)
    lines += [
        "",
        "## Stage 1: chip classifier on held-out balanced test chips of its region",
        "",
        printed_stage1(stage1),
        "",
        "Precision 'undefined': no test chip was predicted to hold a landslide. check: the report's sanity pass "
        "(a validation metric that never moved, epoch 0 selected, a constant prediction).",
    ]
    if len(flagged):
        regions = ", ".join(flagged["pretraining region"])
        lines.append(f"WARNING: the stage-1 classifier of {regions} did not learn; the stage-2 arm built on it "
                     "measures a frozen untrained embedding, not pretraining.")
    return "\n".join(lines)


def store_pixel_size(store: xr.Dataset) -> float | None:
    return pixel_size(store["transform"].values[0])

