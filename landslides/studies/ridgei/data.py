"""ridgei: the scene (or tile folder) as areas of the train part, the validation strip and the test half;
patches, and the maps written back onto the scene."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from affine import Affine
from rasterio.crs import CRS

from landslides.errors import InputError
from landslides.geo import mosaic, write_geotiff
from landslides.normalization import ChannelStats, fit_channel_stats, normalize
from landslides.scene.reader import Tile, read_scene, read_tile_folder
from landslides.scene.tiles import (
    DEFAULT_STRATEGY,
    describe,
    describe_split,
    extract_patches,
    format_composition,
    split_halves,
    split_problems,
    split_tile_folder,
)

log = logging.getLogger(__name__)


# The scene keys that choose a tile folder's split (and how its masks are read), with their schema defaults (a
# job's trimmed scene block may lack them; scripts/ridgei_train.py fills them in from the config).
SPLIT_KEYS = {"split": None, "split_seed": 0, "split_file": None, "split_gap_m": None, "max_fraction_ratio": 3.0,
              "mask_landslide": None}


# Tiles carry no georeferencing: their maps are laid out side by side on this local pixel grid.
TILE_CRS = CRS.from_wkt('LOCAL_CS["tile folder layout",LOCAL_DATUM["none",32767],UNIT["metre",1],'
                        'AXIS["Easting",EAST],AXIS["Northing",NORTH]]')


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
    scene = read_scene(image, label, landslide={**SPLIT_KEYS, **scene_cfg}["mask_landslide"])
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
    tiles = read_tile_folder(folder, landslide=cfg["mask_landslide"])
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
