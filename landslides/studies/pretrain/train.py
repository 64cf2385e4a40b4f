"""pretrain: stage-1 chip classification and stage-2 sparse-label segmentation runs (Boehm et al.)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import xarray as xr

from landslides.errors import InputError
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics, classification_metrics
from landslides.models import build_model
from landslides.normalization import ChannelStats
from landslides.runs import RunFiles, load_model, save_model, start_job, write_predictions
from landslides.sar.selection import class_indices, require_chips, select_indices, to_split
from landslides.siamese import Segmenter
from landslides.train import Split, chip_probability, fit, predict

TEST_DRAW_SEED = 42  # the fixed test set is one draw, the same for every run of the grid


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


def epoch_repeats(n_chips: int, min_chips: int) -> int:
    """How many copies of a training set of `n_chips` one epoch holds: enough for `min_chips` samples."""
    return max(1, math.ceil(min_chips / max(n_chips, 1)))


def repeat_to(split: Split, min_chips: int) -> Split:
    """Tile a small training set so that one epoch holds at least `min_chips` samples.

    With 2 or 5 chips an epoch would be a single optimizer step; tiling keeps the number of steps per
    epoch comparable across training sizes without changing which chips are seen.
    """
    reps = epoch_repeats(len(split), min_chips)
    target_reps = (reps,) + (1,) * (split.target.ndim - 1)
    return Split(split.images.repeat(reps, 1, 1, 1), split.target.repeat(*target_reps))


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
