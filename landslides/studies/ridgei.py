"""The `ridgei` study (Kimura, Ridge-i): on one labelled optical scene split train:test 0.5:0.5, compare
a patch classifier (ResNet50), DeepLabV3+ segmentation and unsupervised denoising-U-Net anomaly detection.

The scene (or a folder of tiles) becomes three lists of areas: train, a validation strip carved from
the train half (model selection, anomaly threshold) and test. Every method cuts its own patches from
them, trains with the shared loop, and writes metrics, model, history and test-half maps.
"""

from __future__ import annotations

import logging
import math
import shutil
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import rioxarray
import torch
import torch.nn.functional as F
from affine import Affine
from rasterio.crs import CRS

from landslides.aggregate import format_mean_std, seeds_phrase, summarize
from landslides.anomaly import (
    AddGaussianNoise,
    choose_threshold,
    error_maps,
    reconstruction_loss,
    validation_score,
)
from landslides.constants import DECISION_THRESHOLD
from landslides.errors import InputError
from landslides.geo import mosaic, write_geotiff
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics, classification_metrics
from landslides.models import build_model, patch_classifier_spec, segmentation_spec
from landslides.normalization import ChannelStats, fit_channel_stats, normalize
from landslides.predict import covering_starts, predict_area  # noqa: F401  (covering_starts: public here)
from landslides.published import RIDGEI
from landslides.runs import Job, RunFiles, save_model, start_job
from landslides.scene.reader import Tile, read_scene, read_tile_folder
from landslides.scene.tiles import (
    DEFAULT_STRATEGY,
    describe,
    describe_split,
    extract_patches,
    format_composition,
    patch_labels,
    split_halves,
    split_problems,
    split_tile_folder,
)
from landslides.train import Split, fit, predict

# landslides.plots (matplotlib) is imported inside the plotting functions: a training job draws nothing,
# and matplotlib would add about half a second to the start-up of every job.

METHODS = ("classifier", "deeplab", "anomaly")

log = logging.getLogger(__name__)

# The scene keys that choose a tile folder's split, with their schema defaults (a job's trimmed scene
# block may lack them; scripts/ridgei_train.py fills them in from the config).
SPLIT_KEYS = {"split": None, "split_seed": 0, "split_file": None, "split_gap_m": None, "max_fraction_ratio": 3.0}

# Tiles carry no georeferencing: their maps are laid out side by side on this local pixel grid.
TILE_CRS = CRS.from_wkt('LOCAL_CS["tile folder layout",LOCAL_DATUM["none",32767],UNIT["metre",1],'
                        'AXIS["Easting",EAST],AXIS["Northing",NORTH]]')


# ---- data: areas of the train part, the validation strip and the test half ----

@dataclass
class Area:
    """A contiguous piece of imagery with its label and its place on the map."""

    image: np.ndarray  # (bands, H, W) uint8 or float32, as read
    label: np.ndarray  # (H, W) uint8, 1 = landslide
    transform: Affine
    name: str = ""  # the tile's name (tile folders only)
    where: str = ""  # what messages call it: "tile <mask file>" or "the test half of scene <file>"


@dataclass
class SceneParts:
    train: list[Area]
    val: list[Area]
    test: list[Area]
    crs: CRS
    resolution_m: float
    tiles: bool = False  # independent areas of a tile folder (figure: a grid of tiles, not one map)
    georeferenced: bool = True  # the areas sit on a real map grid (north arrow and scale bar mean something)
    split: dict = field(default_factory=dict)  # the composition of every part (metrics.json `split`)

    @property
    def bands(self) -> int:
        return self.test[0].image.shape[0]


def load_parts(scene_cfg: dict, image=None, label=None, tiles=None) -> SceneParts:
    """Read a scene pair (image, label paths) or a tile folder and split it into train, val and test.

    The composition of the parts is logged and kept in `SceneParts.split`.
    """
    if tiles is not None:
        return _tile_parts(str(tiles), scene_cfg)
    strategy = {**SPLIT_KEYS, **scene_cfg}["split"]
    if strategy not in (None, "spatial"):
        raise InputError(f"config: ridgei.scene.split {strategy} applies to tile folders; a GeoTIFF or synthetic "
                         "scene is always cut into spatial halves along ridgei.scene.split_axis (leave "
                         "ridgei.scene.split unset)")
    scene = read_scene(image, label)
    train_half, test_half = split_halves(scene, axis=scene_cfg["split_axis"])
    # The validation strip is the part of the train half next to the test half; train stays contiguous.
    fit_part, val_part = split_halves(train_half, axis=scene_cfg["split_axis"],
                                      train_fraction=1.0 - scene_cfg["val_fraction"])
    names = ("train part", "validation strip", "test half")
    areas = [[Area(part.image, part.label, part.transform, where=f"the {name} of scene {scene.source}")]
             for part, name in zip((fit_part, val_part, test_half), names, strict=True)]
    crs = scene.crs if scene.crs is not None else TILE_CRS
    split = {"strategy": "spatial halves", "axis": scene_cfg["split_axis"],
             **{name: describe([area.label for area in group]) for name, group in zip(("train", "val", "test"),
                                                                                       areas, strict=True)}}
    _report_split(split, scene.source, {**SPLIT_KEYS, **scene_cfg}["max_fraction_ratio"], strict=False)
    return SceneParts(*areas, crs=crs, resolution_m=abs(scene.transform.a), split=split)


def _tile_parts(folder: str, scene_cfg: dict) -> SceneParts:
    """Tiles split by `ridgei.scene.split` (default stratified), laid out for the maps (see _layout)."""
    cfg = {**SPLIT_KEYS, **scene_cfg}
    strategy = cfg["split"] or DEFAULT_STRATEGY
    tiles = read_tile_folder(folder)
    if strategy != "file" and (Path(folder) / "split.csv").is_file() and cfg["split_file"] is None:
        log.warning("%s: split.csv is not used (ridgei.scene.split is %s); set ridgei.scene.split: file to use "
                    "it", folder, strategy)
    chosen = split_tile_folder(tiles, strategy, folder=folder, val_fraction=cfg["val_fraction"],
                               seed=cfg["split_seed"], split_file=cfg["split_file"], axis=cfg["split_axis"],
                               gap=cfg["split_gap_m"])
    split = describe_split(chosen, seed=cfg["split_seed"] if strategy in ("stratified", "random") else None)
    _report_split(split, folder, cfg["max_fraction_ratio"], strict=strategy != "file",
                  need_free_tiles=any(not tile.mask.any() for tile in tiles))
    groups = [chosen.train, chosen.val, chosen.test]
    layout, crs, res, georeferenced = _layout(groups, folder, cfg["resolution_m"])
    parts = [[Area(tile.image, tile.mask, transform, name=tile.name, where=f"tile {tile.where}")
              for tile, transform in zip(group, transforms, strict=True)]
             for group, transforms in zip(groups, layout, strict=True)]
    return SceneParts(*parts, crs=crs, resolution_m=res, tiles=True, georeferenced=georeferenced, split=split)


def _report_split(split: dict, where, max_ratio: float, strict: bool, need_free_tiles: bool = False) -> None:
    """Log each part's composition; a part without a class or with an outlying landslide fraction stops
    the run (strict) or is logged as a warning (a split file, a scene's halves)."""
    parts = {name: split[name] for name in ("train", "val", "test")}
    log.info("%s: split %s", where, split["strategy"])
    for name, part in parts.items():
        log.info("  %s", format_composition(name, part))
    for note in split.get("notes", []):
        log.info("  %s", note)
    if split.get("dropped"):
        log.info("  left out: %s", ", ".join(split["dropped"]))
    problems = split_problems(parts, where, split["strategy"], max_ratio, need_free_tiles)
    if problems and strict:
        raise InputError(problems[0])
    for problem in problems:
        log.warning("%s", problem)


def _layout(groups: list[list[Tile]], folder: str, resolution_m: float
            ) -> tuple[list[list[Affine]], CRS, float, bool]:
    """Where each tile's maps go: the tiles' own georeferencing where every tile has one in one CRS with one
    pixel size and the test tiles lie close enough for one GeoTIFF; otherwise a local grid (rows of tiles,
    see _grid, each part below the previous one) in `resolution_m` units.
    Returns the transforms per part, the maps' CRS, the pixel size and whether the layout is georeferenced."""
    tiles = [tile for group in groups for tile in group]
    first = tiles[0]
    if all(tile.transform is not None for tile in tiles) and \
            len({(tile.crs, abs(tile.transform.a), abs(tile.transform.e)) for tile in tiles}) == 1:
        transforms = [[tile.transform for tile in group] for group in groups]
        test_pixels = sum(tile.mask.size for tile in groups[2])
        canvas = _canvas_pixels(groups[2], transforms[2])
        if canvas <= max(16 * test_pixels, 25_000_000):
            return transforms, first.crs if first.crs is not None else TILE_CRS, abs(first.transform.a), True
        log.warning("%s: the test tiles lie far apart (a %d-pixel map for %d pixels of tiles); their maps are "
                    "laid out on a local grid", folder, canvas, test_pixels)
    layout, top = [], 0
    for group in groups:
        transforms, top = _grid(group, resolution_m, top)
        layout.append(transforms)
    return layout, TILE_CRS, resolution_m, False


def _grid(tiles: list[Tile], res: float, top: int) -> tuple[list[Affine], int]:
    """Shelf packing, starting `top` pixels down: the tallest tiles first, rows about as wide as the square
    root of the tiles' area, 1-pixel gaps. Returns the tiles' transforms (in their order) and the next top."""
    if not tiles:
        return [], top
    target = max(max(t.mask.shape[1] for t in tiles), math.sqrt(sum(t.mask.size for t in tiles)))
    transforms: list[Affine | None] = [None] * len(tiles)
    x, row_height = 0, 0
    for index in sorted(range(len(tiles)), key=lambda i: -tiles[i].mask.shape[0]):
        height, width = tiles[index].mask.shape
        if x and x + width > target:  # start a new row
            top, x, row_height = top + row_height + 1, 0, 0
        transforms[index] = Affine(res, 0.0, x * res, 0.0, -res, -top * res)
        x, row_height = x + width + 1, max(row_height, height)
    return transforms, top + row_height + 1


def _canvas_pixels(tiles: list[Tile], transforms: list[Affine]) -> int:
    """Pixels of the smallest grid holding every tile (all share one pixel size)."""
    first = transforms[0]
    corners = [~first @ (t @ corner) for tile, t in zip(tiles, transforms, strict=True)
               for corner in ((0, 0), (tile.mask.shape[1], tile.mask.shape[0]))]
    cols, rows = [c for c, _ in corners], [r for _, r in corners]
    return int((max(cols) - min(cols)) * (max(rows) - min(rows)))


def band_stats(areas: list[Area]) -> ChannelStats:
    """Per-band mean/std over every pixel of the training areas (never val or test)."""
    bands = areas[0].image.shape[0]
    pixels = np.concatenate([area.image.reshape(bands, -1) for area in areas], axis=1)
    return fit_channel_stats(pixels[None, :, None, :], [f"band{b + 1}" for b in range(bands)])


def normalized(area: Area, stats: ChannelStats) -> np.ndarray:
    return normalize(area.image[None], stats)[0]


@dataclass
class Patches:
    """Normalized patches cut from a list of areas, with where each came from."""

    images: np.ndarray  # (N, bands, p, p) float32
    labels: np.ndarray  # (N, p, p) uint8
    area: np.ndarray  # (N,) index into the area list
    rows: np.ndarray
    cols: np.ndarray


def cut_patches(areas: list[Area], stats: ChannelStats, patch_size: int, stride: int | None = None,
                key: str = "patch_size") -> Patches:
    """Whole patches of every area (extract_patches drops ragged edges); stride None = non-overlapping."""
    pieces = []
    for index, area in enumerate(areas):
        _check_size(area, patch_size, key)
        cut = extract_patches(normalized(area, stats), area.label, patch_size, stride)
        pieces.append((cut, np.full(len(cut.rows), index)))
    return Patches(
        images=np.concatenate([cut.images for cut, _ in pieces]),
        labels=np.concatenate([cut.labels for cut, _ in pieces]),
        area=np.concatenate([index for _, index in pieces]),
        rows=np.concatenate([cut.rows for cut, _ in pieces]),
        cols=np.concatenate([cut.cols for cut, _ in pieces]),
    )


def _check_size(area: Area, patch_size: int, key: str = "patch_size") -> None:
    """`key` (e.g. ridgei.deeplab.patch_size) must fit in the area; the message names both."""
    height, width = area.label.shape
    if min(height, width) < patch_size:
        if area.name:
            raise InputError(f"{key} {patch_size} is larger than {area.where} ({height}x{width}); lower it or "
                             "drop the tile")
        where = area.where or "an area of the scene"
        raise InputError(f"{key} {patch_size} is larger than {where} ({height}x{width}); lower it or use a "
                         "larger scene")


def mosaic_areas(maps: list[np.ndarray], areas: list[Area]) -> tuple[np.ndarray, Affine]:
    """Per-area maps on the areas' common grid (NaN between areas), and its transform."""
    return mosaic(maps, [area.transform for area in areas])


@dataclass(frozen=True)
class MapFiles:
    """The test-half maps a ridgei run writes: the score (probability or denoising error) and the
    detection map (1 = detected landslide), GeoTIFFs on the scene grid."""

    score: Path
    detection: Path


def write_maps(score_maps: list[np.ndarray], detections: list[np.ndarray], parts: SceneParts, out: MapFiles):
    for path, maps in ((out.score, score_maps), (out.detection, detections)):
        canvas, transform = mosaic_areas([m.astype(np.float32) for m in maps], parts.test)
        write_geotiff(canvas, transform, parts.crs, path)


# ---- method 1: patch classifier (ResNet50) ----

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
    spec = patch_classifier_spec(parts.bands)
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


# ---- method 2: DeepLabV3+ segmentation ----

def run_deeplab(parts: SceneParts, cfg: dict, seed: int, files: RunFiles, maps: MapFiles, job: Job) -> dict:
    stats = band_stats(parts.train)
    size, training = cfg["patch_size"], cfg["training"]
    train = cut_patches(parts.train, stats, size, cfg["train_stride"])
    val = cut_patches(parts.val, stats, size)

    torch.manual_seed(seed)
    spec = segmentation_spec({"arch": "deeplabv3plus", "encoder": cfg["encoder"]}, parts.bands)
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


# ---- method 3: denoising U-Net anomaly detection ----

def landslide_free(patches: Patches) -> np.ndarray:
    """The only use of labels by the anomaly method: keep patches without any landslide pixel."""
    keep = patches.labels.reshape(len(patches.labels), -1).max(axis=1) == 0
    return patches.images[keep]


def run_anomaly(parts: SceneParts, cfg: dict, seed: int, files: RunFiles, maps: MapFiles, job: Job) -> dict:
    stats = band_stats(parts.train)
    size, training = cfg["patch_size"], cfg["training"]
    train_clean = landslide_free(cut_patches(parts.train, stats, size, cfg["train_stride"]))
    val_clean = landslide_free(cut_patches(parts.val, stats, size))
    if len(train_clean) == 0 or len(val_clean) == 0:
        raise InputError("config: no landslide-free patch in the train part or the validation strip; "
                         "lower ridgei.anomaly.patch_size")
    maps_kw = {"noise_std": cfg["noise_std"], "batch_size": training["eval_batch_size"], "device": job.device}

    torch.manual_seed(seed)
    spec = segmentation_spec({"arch": "unet", "encoder": cfg["encoder"], "encoder_depth": cfg["encoder_depth"],
                              "decoder_channels": cfg["decoder_channels"]}, parts.bands, classes=parts.bands)
    model = build_model(spec)
    # The target of a denoiser is its clean input; the loop's augment step adds the noise.
    clean_train, clean_val = torch.from_numpy(train_clean), torch.from_numpy(val_clean)
    result = fit(model, Split(clean_train, clean_train), Split(clean_val, clean_val),
                 {**training, "selection_metric": "neg_mse"}, checkpoint=files.checkpoint,
                 history_path=files.history, seed=seed, loss_fn=reconstruction_loss, device=job.device,
                 augment=AddGaussianNoise(cfg["noise_std"]),
                 evaluate_fn=partial(validation_score, **maps_kw),
                 run_id={"method": "anomaly", "cfg": cfg, "patches": train_clean.shape})

    def error_fn(images, first_index=0):
        return error_maps(model, images, noisy=cfg["noisy_inference"], smooth_px=cfg["smooth_px"],
                          first_index=first_index, **maps_kw)

    threshold = choose_threshold(error_fn(clean_val).numpy(), cfg["threshold_percentile"])
    score_maps = [predict_area(error_fn, normalized(area, stats), size) for area in parts.test]
    metrics = {"val": {"mse": result.best_val_metrics.get("mse", float("nan"))},
               "test": _pixel_metrics(score_maps, parts.test, threshold=threshold)}
    write_maps(score_maps, [m >= threshold for m in score_maps], parts, maps)
    save_model(files.model, model, study="ridgei", spec=spec, channels=stats.channels,
               normalization={"mode": "train_bands", **stats.to_dict()}, config=cfg,
               extra={"method": "anomaly", "patch_size": size, "threshold": threshold, "noise_std": cfg["noise_std"],
                      "noisy_inference": cfg["noisy_inference"], "smooth_px": cfg["smooth_px"]})
    return {**metrics, "best_epoch": result.best_epoch, "threshold": threshold,
            "patches": {"train_landslide_free": len(train_clean), "val_landslide_free": len(val_clean)}}


# ---- one job ----

RUNNERS = {"classifier": run_classifier, "deeplab": run_deeplab, "anomaly": run_anomaly}


def run_method(parts: SceneParts, method: str, study: dict, seed: int, files: RunFiles, maps: MapFiles, *,
               threads: int, device_name: str = "auto", deterministic: bool | None = None) -> dict:
    """Train and evaluate one method; writes the run files and the test maps."""
    # Every area, test included (predicted in windows of the patch size), must hold one patch.
    for area in parts.train + parts.val + parts.test:
        _check_size(area, study[method]["patch_size"], f"ridgei.{method}.patch_size")
    job = start_job(threads, device_name, deterministic, files)
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


# ---- aggregation: Tables 1 and 2 of the paper ----

# (metric, column label, factor to % for ours, factor to % for the published value): every number of both
# tables is printed in percent, ours and the paper's alike (the paper gives accuracy in %, the rest as fractions).
TABLE1_METRICS = (("accuracy", "Accuracy (%)", 100.0, 1.0), ("f1", "F1 (%)", 100.0, 100.0),
                  ("precision", "Precision (%)", 100.0, 100.0), ("recall", "Recall (%)", 100.0, 100.0))
TABLE2_METRICS = (("miou", "Mean IoU (%)"), ("iou", "Landslide IoU (%)"))
TABLE2_ROWS = (("deeplab", "DeepLabv3+", "Supervised"), ("anomaly", "Anomaly U-Net", "Unsupervised"))


def build_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (table, method, split, metric), ours (mean ± std over seeds) and published, all
    in percent."""
    summary = summarize(tidy, ["method", "split", "metric"])
    rows = []
    for split in ("train", "test"):
        for metric, _, scale, published_scale in TABLE1_METRICS:
            rows.append(_row(summary, "Table 1", "classifier", f"ResNet50 ({split})", split, metric, scale,
                             published_scale))
    for method, name, _ in TABLE2_ROWS:
        for metric, _ in TABLE2_METRICS:
            rows.append(_row(summary, "Table 2", method, name, "test", metric, 100.0, 100.0))
    return pd.DataFrame(rows)


def _row(summary, table, method, name, split, metric, scale, published_scale) -> dict:
    hit = summary[(summary.method == method) & (summary.split == split) & (summary.metric == metric)]
    mean, std, n = (hit["mean"].iloc[0] * scale, hit["std"].iloc[0] * scale, int(hit["n"].iloc[0])) \
        if len(hit) else (np.nan, np.nan, 0)
    published = RIDGEI.get(method, {}).get(split, {}).get(metric, np.nan) * published_scale
    return {"table": table, "method": name, "split": split, "metric": metric, "unit": "%",
            "ours": format_mean_std(mean, std, 1, na="undefined", n=n), "published": published, "mean": mean,
            "std": std, "n": n}


def table_markdown(table: pd.DataFrame, source: str = "", flags: dict[str, str] | None = None) -> str:
    """Both tables laid out as in the paper, ours beside the published value, every number in percent."""
    header = " | ".join(f"{label} ours | {label} published" for _, label, _, _ in TABLE1_METRICS)
    lines = ["# Ridge-i (Kimura): patch classifier, DeepLabv3+ and anomaly U-Net on the test half", "",
             "## Table 1: patch-based ResNet50 classifier (patch-level, %)", "",
             f"| Network (dataset) | {header} |",
             "|---|" + "---:|" * (2 * len(TABLE1_METRICS))]
    for split in ("train", "test"):
        cells = [_cell(table, f"ResNet50 ({split})", metric, 1) for metric, _, _, _ in TABLE1_METRICS]
        lines.append(f"| ResNet50 ({split}) | " + " | ".join(cells) + " |")
    header2 = " | ".join(f"{label} ours | {label} published" for _, label in TABLE2_METRICS)
    lines += ["", "## Table 2: segmentation on the test half (pixel-level, %)", "",
              f"| Method | {header2} | Annotation |", "|---|" + "---:|" * (2 * len(TABLE2_METRICS)) + "---|"]
    for _, name, annotation in TABLE2_ROWS:
        cells = [_cell(table, name, metric, 2) for metric, _ in TABLE2_METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {annotation} |")
    n = int(table["n"].max()) if len(table) else 0
    lines += ["", f"Ours: {seeds_phrase(n)}; published: Kimura (Ridge-i), Tables 1-2, dataset A. Every number in "
              "percent (Table 1 to 0.1, Table 2 to 0.01, as the paper). 'not reported': the paper gives no number; "
              "'undefined': the metric has no value in our runs (precision without a positive prediction). mIoU = mean "
              "of background and landslide IoU."]
    for run, problem in (flags or {}).items():
        lines.append(f"WARNING: {run} did not train properly ({problem}); its numbers do not measure the method "
                     "(details: the report's sanity checks).")
    if source:
        lines.append(source)
    return "\n".join(lines) + "\n"


def _cell(table: pd.DataFrame, name: str, metric: str, digits: int = 1) -> str:
    """'ours | published' for one metric, both in percent with the same digits."""
    row = table[(table.method == name) & (table.metric == metric)].iloc[0]
    ours = format_mean_std(row["mean"], row["std"], digits, na="undefined", n=int(row["n"]))
    published = "not reported" if pd.isna(row["published"]) else f"{row['published']:.{digits}f}"
    return f"{ours} | {published}"


# ---- figure: the paper's qualitative panel ----

def plot_qualitative(parts: SceneParts, map_paths: dict[str, str], png: str, pdf: str, source: str = "") -> None:
    """Test-half image, ground truth and the three detection maps side by side, north up, scale bar in m.

    For a tile folder: a grid, one row per shown test tile (see _figure_tiles) and the same five columns;
    north arrow and scale bar only where the tiles are georeferenced.
    """
    from landslides.plots import add_footer, add_scale_bar, plt, save_figure
    if parts.tiles:
        _plot_tile_grid(parts, map_paths, png, pdf, source)
        return
    rgb = np.stack([mosaic_areas([_display_band(a.image[b]) for a in parts.test], parts.test)[0]
                    for b in range(3)], axis=-1)
    truth, transform = mosaic_areas([a.label.astype(np.float32) for a in parts.test], parts.test)
    panels = [("test-half image", np.nan_to_num(rgb, nan=1.0), None), ("ground truth", truth, None)]
    titles = {"classifier": "ResNet50 patch classifier", "deeplab": "DeepLabV3+", "anomaly": "anomaly U-Net"}
    for method in METHODS:
        panels.append((titles[method], _read_map(map_paths[method]), truth))
    north_up = transform.e < 0  # rows run southwards on a north-up grid; flip otherwise
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6))
    for ax, (title, image, outline) in zip(axes, panels, strict=True):
        shown = image if north_up else image[::-1]
        if shown.ndim == 3:
            ax.imshow(shown, interpolation="nearest")
        else:
            ax.imshow(np.ma.masked_invalid(shown), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        if outline is not None and outline.any():
            ax.contour(np.nan_to_num(outline if north_up else outline[::-1]), levels=[0.5], colors="cyan",
                       linewidths=0.6)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        add_scale_bar(ax, shown.shape[1], parts.resolution_m)
    axes[0].annotate("N ↑", xy=(0.93, 0.95), xycoords="axes fraction", color="white", fontsize=8, ha="right",
                     va="top")
    fig.suptitle("Test half: detections (1 = landslide, yellow) with the true outline (cyan)", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


FIGURE_TILES = 8  # test tiles in the tile-folder figure: mostly with landslides, a quarter without
TITLES = {"classifier": "ResNet50 patch classifier", "deeplab": "DeepLabV3+", "anomaly": "anomaly U-Net"}


def _figure_tiles(areas: list[Area], count: int = FIGURE_TILES) -> list[int]:
    """Indices of the test tiles to show: up to a quarter landslide-free (first in name order), the rest
    with landslides, evenly spread over their landslide fraction (highest first)."""
    with_landslides = sorted((i for i, a in enumerate(areas) if a.label.any()), key=lambda i: -areas[i].label.mean())
    free = [i for i, a in enumerate(areas) if not a.label.any()]
    n_free = min(len(free), max(count // 4, count - len(with_landslides)))
    n_landslide = min(len(with_landslides), count - n_free)
    spread = np.unique(np.linspace(0, len(with_landslides) - 1, n_landslide).round().astype(int)) \
        if n_landslide else []
    return [with_landslides[i] for i in spread] + free[:n_free]


def _plot_tile_grid(parts: SceneParts, map_paths: dict[str, str], png: str, pdf: str, source: str = "") -> None:
    from landslides.plots import add_footer, add_scale_bar, plt, save_figure
    maps = {method: _read_map_and_transform(map_paths[method]) for method in METHODS}
    shown = _figure_tiles(parts.test)
    columns = ["image", "ground truth"] + [TITLES[method] for method in METHODS]
    fig, axes = plt.subplots(len(shown), len(columns), figsize=(2.0 * len(columns), 2.0 * len(shown) + 0.5),
                             squeeze=False, layout="constrained")
    for row, index in enumerate(shown):
        area = parts.test[index]
        rgb = np.stack([_display_band(area.image[b]) for b in range(3)], axis=-1)
        truth = area.label.astype(np.float32)
        panels = [(rgb, None), (truth, None)] + [(_window(*maps[method], area), truth) for method in METHODS]
        for col, (image, outline) in enumerate(panels):
            ax = axes[row, col]
            if image.ndim == 3:
                ax.imshow(image, interpolation="nearest")
            else:
                ax.imshow(np.ma.masked_invalid(image), cmap="magma", vmin=0, vmax=1, interpolation="nearest")
            if outline is not None and outline.any():
                ax.contour(outline, levels=[0.5], colors="cyan", linewidths=0.6)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(columns[col], fontsize=8)
        height, width = area.label.shape
        axes[row, 0].set_ylabel(f"{area.name}\n{height}x{width} px, {area.label.mean():.1%}", fontsize=7)
        if parts.georeferenced:  # only then do metres and north mean anything
            add_scale_bar(axes[row, 0], width, parts.resolution_m)
            if area.transform.e < 0:
                axes[row, 0].annotate("N ↑", xy=(0.93, 0.95), xycoords="axes fraction", color="white", fontsize=7,
                                      ha="right", va="top")
    fig.suptitle(f"{len(shown)} of {len(parts.test)} test tiles: detections (1 = landslide, yellow) with the true "
                 "outline (cyan);\nwhite: not predicted (classifier: edge strips narrower than a patch); row label: "
                 "tile, size, landslide fraction", fontsize=8)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def _read_map_and_transform(path: str) -> tuple[np.ndarray, Affine]:
    with rioxarray.open_rasterio(path) as data:
        return data.values[0].astype(np.float32), data.rio.transform()


def _window(canvas: np.ndarray, transform: Affine, area: Area) -> np.ndarray:
    """The part of a mosaicked map that covers `area`."""
    col, row = ~transform @ (area.transform.c, area.transform.f)
    row, col = int(round(row)), int(round(col))
    height, width = area.label.shape
    return canvas[row : row + height, col : col + width]


def _display_band(band: np.ndarray) -> np.ndarray:
    """One band scaled to [0, 1]: 8-bit as is, other data stretched between its 2nd and 98th percentile."""
    if band.dtype == np.uint8:
        return band.astype(np.float32) / 255.0
    low, high = np.percentile(band, [2, 98])
    return np.clip((band - low) / max(high - low, 1e-12), 0, 1).astype(np.float32)


def _read_map(path: str) -> np.ndarray:
    with rioxarray.open_rasterio(path) as data:
        return data.values[0].astype(np.float32)


def copy_maps(sources: dict[str, str], targets: dict[str, str]) -> None:
    """The first seed's detection maps, copied next to the figure."""
    for method, source in sources.items():
        shutil.copyfile(source, targets[method])


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """The report's tidy published-vs-reproduced rows (only cells the paper gives a number for), in percent."""
    given = table[table["published"].notna()]
    return pd.DataFrame({"study": "ridgei", "experiment": given["method"], "split": given["split"],
                         "metric": given["metric"], "published": given["published"],
                         "reproduced": given["mean"], "std": given["std"], "n": given["n"], "unit": "%"})
