"""ridgei: the three methods' runs (patch classifier, DeepLabV3+, denoising-U-Net anomaly detection; Kimura)."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
import torch.nn.functional as F

from landslides.anomaly import (
    AddGaussianNoise,
    anomaly_map,
    choose_threshold,
    reconstruction_loss,
    validation_score,
)
from landslides.constants import DECISION_THRESHOLD
from landslides.errors import InputError
from landslides.jobs import announce
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics, classification_metrics
from landslides.models import build_model, patch_classifier_spec, segmentation_spec
from landslides.predict import predict_area
from landslides.runs import Job, RunFiles, save_model, start_job
from landslides.scene.tiles import (
    patch_labels,
)
from landslides.studies.ridgei.data import (
    Area,
    MapFiles,
    Patches,
    SceneParts,
    _check_size,
    band_stats,
    cut_patches,
    normalized,
    write_maps,
)
from landslides.train import Split, fit, predict


def network_spec(method: str, cfg: dict, bands: int) -> dict:
    """Each method's network: a ResNet50 patch classifier, DeepLabV3+, or a denoising U-Net that returns
    its `bands` inputs."""
    if method == "classifier":
        return patch_classifier_spec(bands)
    if method == "deeplab":
        return segmentation_spec({"arch": "deeplabv3plus", "encoder": cfg["encoder"]}, bands)
    return segmentation_spec({"arch": "unet", "encoder": cfg["encoder"], "encoder_depth": cfg["encoder_depth"],
                              "decoder_channels": cfg["decoder_channels"]}, bands, classes=bands)


def run_classifier(parts: SceneParts, cfg: dict, seed: int, files: RunFiles, maps: MapFiles, job: Job) -> dict:
    stats = band_stats(parts.train)
    size, training = cfg["patch_size"], cfg["training"]
    train = cut_patches(parts.train, stats, size, cfg["train_stride"])
    evaluation = {name: cut_patches(getattr(parts, name), stats, size) for name in ("train", "val", "test")}
    target = {name: patch_labels(p.labels, cfg["min_fraction"]) for name, p in evaluation.items()}
    train_target = patch_labels(train.labels, cfg["min_fraction"])
    if train_target.sum() == 0:
        raise InputError("config: no training patch reaches ridgei.classifier.min_fraction "
                         f"{cfg['min_fraction']}")

    weight = torch.tensor([1.0, 1.0])
    if cfg["class_weight"] == "balanced":  # landslide patches are rare: weight them by negatives/positives
        weight[1] = float((train_target == 0).sum() / train_target.sum())

    def loss_fn(logits, labels):
        return F.cross_entropy(logits, labels, weight=weight.to(logits.device))

    def patch_prob(model, images):
        return predict(model, images, training["eval_batch_size"], job.device)

    def evaluate_fn(model, split: Split):
        return classification_metrics(patch_prob(model, split.images), split.target, unit="patches")

    torch.manual_seed(seed)  # model initialization depends on the seed only
    spec = network_spec("classifier", cfg, parts.bands)
    model = build_model(spec)
    result = fit(model, _split(train.images, train_target), _split(evaluation["val"].images, target["val"]),
                 training, checkpoint=files.checkpoint, history_path=files.history, seed=seed, loss_fn=loss_fn,
                 device=job.device, evaluate_fn=evaluate_fn,
                 run_id={"method": "classifier", "cfg": cfg, "patches": train.images.shape})

    scores = {name: patch_prob(model, torch.from_numpy(p.images)).numpy() for name, p in evaluation.items()}
    metrics = {name: classification_metrics(scores[name], target[name], unit="patches") for name in scores}
    # The map paints each non-overlapping test patch with its probability (edge strips stay NaN).
    test_patches = evaluation["test"]
    score_maps = [np.full(area.label.shape, np.nan, np.float32) for area in parts.test]
    for prob, index, r, c in zip(scores["test"], test_patches.area, test_patches.rows, test_patches.cols,
                                 strict=True):
        score_maps[index][r : r + size, c : c + size] = prob
    detections = [np.where(np.isnan(m), np.nan, m >= DECISION_THRESHOLD) for m in score_maps]
    write_maps(score_maps, detections, parts, maps)
    save_model(files.model, model, study="ridgei", spec=spec, channels=stats.channels,
               normalization={"mode": "train_bands", **stats.to_dict()}, config=cfg,
               extra={"method": "classifier", "patch_size": size, "threshold": DECISION_THRESHOLD})
    return {**metrics, "best_epoch": result.best_epoch, "threshold": DECISION_THRESHOLD}


def run_deeplab(parts: SceneParts, cfg: dict, seed: int, files: RunFiles, maps: MapFiles, job: Job) -> dict:
    stats = band_stats(parts.train)
    size, training = cfg["patch_size"], cfg["training"]
    train = cut_patches(parts.train, stats, size, cfg["train_stride"])
    val = cut_patches(parts.val, stats, size)

    torch.manual_seed(seed)
    spec = network_spec("deeplab", cfg, parts.bands)
    model = build_model(spec, weights=cfg["weights"])
    result = fit(model, _split(train.images, train.labels), _split(val.images, val.labels), training,
                 checkpoint=files.checkpoint, history_path=files.history, seed=seed,
                 loss_fn=build_loss(training["loss"]), device=job.device,
                 run_id={"method": "deeplab", "cfg": cfg, "patches": train.images.shape})

    def prob_fn(images, first_index=0):  # predict_area's window offset: nothing random here
        return predict(model, images, training["eval_batch_size"], job.device)

    metrics = {"val": result.best_val_metrics}
    score_maps = [predict_area(prob_fn, normalized(area, stats), size) for area in parts.test]
    metrics["test"] = _pixel_metrics(score_maps, parts.test, threshold=DECISION_THRESHOLD)
    write_maps(score_maps, [m >= DECISION_THRESHOLD for m in score_maps], parts, maps)
    save_model(files.model, model, study="ridgei", spec=spec, channels=stats.channels,
               normalization={"mode": "train_bands", **stats.to_dict()}, config=cfg,
               extra={"method": "deeplab", "patch_size": size, "threshold": DECISION_THRESHOLD})
    return {**metrics, "best_epoch": result.best_epoch, "threshold": DECISION_THRESHOLD}


def landslide_free(patches: Patches) -> np.ndarray:
    """The only use of labels by the anomaly method: keep patches without any landslide pixel."""
    keep = patches.labels.reshape(len(patches.labels), -1).max(axis=1) == 0
    return patches.images[keep]


def landslide_free_errors(val_maps: list[np.ndarray], cut: Patches) -> np.ndarray:
    """The map values inside the landslide-free patches of `cut` (patches of the areas `val_maps` cover)."""
    size = cut.labels.shape[-1]
    free = cut.labels.reshape(len(cut.labels), -1).max(axis=1) == 0
    return np.concatenate([val_maps[a][r : r + size, c : c + size].ravel()
                           for a, r, c, keep in zip(cut.area, cut.rows, cut.cols, free, strict=True) if keep])


def run_anomaly(parts: SceneParts, cfg: dict, seed: int, files: RunFiles, maps: MapFiles, job: Job) -> dict:
    stats = band_stats(parts.train)
    size, training = cfg["patch_size"], cfg["training"]
    train_clean = landslide_free(cut_patches(parts.train, stats, size, cfg["train_stride"]))
    val_cut = cut_patches(parts.val, stats, size)
    val_clean = landslide_free(val_cut)
    if len(train_clean) == 0 or len(val_clean) == 0:
        raise InputError("config: no landslide-free patch in the train part or the validation strip; "
                         "lower ridgei.anomaly.patch_size")
    maps_kw = {"noise_std": cfg["noise_std"], "batch_size": training["eval_batch_size"], "device": job.device}

    torch.manual_seed(seed)
    spec = network_spec("anomaly", cfg, parts.bands)
    model = build_model(spec)
    # The target of a denoiser is its clean input; the loop's augment step adds the noise.
    clean_train, clean_val = torch.from_numpy(train_clean), torch.from_numpy(val_clean)
    result = fit(model, Split(clean_train, clean_train), Split(clean_val, clean_val),
                 {**training, "selection_metric": "neg_mse"}, checkpoint=files.checkpoint,
                 history_path=files.history, seed=seed, loss_fn=reconstruction_loss, device=job.device,
                 augment=AddGaussianNoise(cfg["noise_std"]),
                 evaluate_fn=partial(validation_score, **maps_kw),
                 run_id={"method": "anomaly", "cfg": cfg, "patches": train_clean.shape})

    def map_of(area: Area) -> np.ndarray:
        return anomaly_map(model, normalized(area, stats), size, noise_std=cfg["noise_std"],
                           noisy=cfg["noisy_inference"], smooth_px=cfg["smooth_px"],
                           batch_size=training["eval_batch_size"], device=job.device)

    # The threshold comes from maps made exactly as the test maps are (whole areas, blended windows,
    # smoothing), read inside the validation part's landslide-free patches only.
    threshold = choose_threshold(landslide_free_errors([map_of(area) for area in parts.val], val_cut),
                                 cfg["threshold_percentile"])
    score_maps = [map_of(area) for area in parts.test]
    metrics = {"val": {"mse": result.best_val_metrics.get("mse", float("nan"))},
               "test": _pixel_metrics(score_maps, parts.test, threshold=threshold)}
    write_maps(score_maps, [m >= threshold for m in score_maps], parts, maps)
    save_model(files.model, model, study="ridgei", spec=spec, channels=stats.channels,
               normalization={"mode": "train_bands", **stats.to_dict()}, config=cfg,
               extra={"method": "anomaly", "patch_size": size, "threshold": threshold, "noise_std": cfg["noise_std"],
                      "noisy_inference": cfg["noisy_inference"], "smooth_px": cfg["smooth_px"]})
    return {**metrics, "best_epoch": result.best_epoch, "threshold": threshold,
            "patches": {"train_landslide_free": len(train_clean), "val_landslide_free": len(val_clean)}}


RUNNERS = {"classifier": run_classifier, "deeplab": run_deeplab, "anomaly": run_anomaly}


# Seconds per megapixel of training patches per epoch, the epoch's validation included, by setup and device.
# From docs/benchmarks.md's measured loop and evaluation rates of the default setups (64 px patches, batch 8 /
# 8 / 16, an idle 2-core machine, 2 threads): classifier 40.1 / 260.7 samples/s, DeepLabV3+ 60.5 / 317.5,
# anomaly U-Net 129.2 / 387.8; one sample is 0.004096 Mpx, and validation holds a third of the training pixels
# at the default val_fraction. docs/own-data.md shows the arithmetic. A setup without a rate gets no estimate
# before training; `fit` prints one after the first epoch for every setup.
RATES_S_PER_MPX_EPOCH = {
    ("classifier resnet50", "cpu"): 6.4,
    ("deeplab resnet18", "cpu"): 4.3,
    ("anomaly resnet18 depth 3", "cpu"): 2.1,
}


def setup_name(method: str, cfg: dict) -> str:
    """The network of a method as the rate table names it: what sets its cost per pixel."""
    if method == "classifier":
        return "classifier resnet50"
    if method == "deeplab":
        return f"deeplab {cfg['encoder']}"
    return f"anomaly {cfg['encoder']} depth {cfg['encoder_depth']}"


def training_megapixels(areas: list[Area], patch_size: int, stride: int | None) -> float:
    """Pixels of the training patches cut from `areas` (overlapping ones counted each time), in Mpx. For the
    anomaly U-Net an upper bound: it trains on the landslide-free ones only (and its rate is measured so)."""
    stride = stride or patch_size
    patches = sum(((a.label.shape[0] - patch_size) // stride + 1) * ((a.label.shape[1] - patch_size) // stride + 1)
                  for a in areas)
    return patches * patch_size * patch_size / 1e6


def time_estimate(method: str, cfg: dict, parts: SceneParts, device_type: str) -> str:
    """One line: the training time expected from training pixels x epochs x the setup's measured rate."""
    mpx = training_megapixels(parts.train, cfg["patch_size"], cfg["train_stride"])
    epochs, setup = cfg["training"]["epochs"], setup_name(method, cfg)
    rate = RATES_S_PER_MPX_EPOCH.get((setup, device_type))
    work = f"{mpx:.2f} Mpx of training patches x {epochs} epoch(s)"
    if rate is None:
        return (f"ridgei {method}: {work}; no measured rate for {setup} on {device_type} (docs/own-data.md), the "
                "time of the first epoch follows it")
    seconds = mpx * epochs * rate
    return (f"ridgei {method}: about {_duration(seconds)} to train ({work} x {rate:g} s per Mpx per epoch, "
            f"measured for {setup} on 2 {device_type.upper()} threads; other machines differ)")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def run_method(parts: SceneParts, method: str, study: dict, seed: int, files: RunFiles, maps: MapFiles, *,
               threads: int, device_name: str = "auto", deterministic: bool | None = None) -> dict:
    """Train and evaluate one method; writes the run files and the test maps."""
    # Every area, test included (predicted in windows of the patch size), must hold one patch.
    for area in parts.train + parts.val + parts.test:
        _check_size(area, study[method]["patch_size"], f"ridgei.{method}.patch_size")
    job = start_job(threads, device_name, deterministic, files)
    announce(time_estimate(method, study[method], parts, job.device.type))
    result = RUNNERS[method](parts, study[method], seed, files, maps, job)
    return job.finish({"params": {"method": method, "seed": seed}, **result, "split": parts.split}, files)


def _split(images: np.ndarray, target: np.ndarray) -> Split:
    return Split(torch.from_numpy(images), torch.from_numpy(target.astype(np.int64)))


def _pixel_metrics(score_maps: list[np.ndarray], areas: list[Area], threshold: float) -> dict:
    """Pixel metrics over every test pixel; mIoU is the mean of background and landslide IoU."""
    metrics = SegmentationMetrics(threshold=threshold)
    for score, area in zip(score_maps, areas, strict=True):
        metrics.update(score, area.label)
    return metrics.compute()
