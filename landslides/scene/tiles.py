"""Honest train/val/test splits of a scene or a tile folder, their composition, and patch extraction.

The paper splits its scene train:test 0.5:0.5. Interleaving patches from the same area in both sets
would leak neighbouring pixels into the test set, so a scene is cut into two contiguous halves and
patches are taken inside each half only. A tile folder is split by position (georeferenced tiles) or,
for independent crops, by a seeded stratified or random draw, or by a split file; every split's
composition is checked (both classes in every part, similar landslide fractions).
"""

import csv
import re
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
from affine import Affine

from landslides.errors import InputError
from landslides.scene.reader import TILE_SUFFIXES, Scene, Tile

SPLIT_CSV = "split.csv"


def split_halves(scene_or_arrays, axis: str = "x", train_fraction: float = 0.5):
    """Cut a Scene (or an (image, label) pair) into a train part and a test part along `axis`.

    axis="x": train is the western (left) part, test the eastern part; axis="y": train is the
    northern (top) part. The parts are contiguous and together cover the scene exactly; each
    Scene part keeps a transform that places it where it was. A scene too small to give both parts
    a pixel raises InputError naming its file (ValueError for plain arrays).
    """
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be between 0 and 1, got {train_fraction}")
    if isinstance(scene_or_arrays, Scene):
        image, label = scene_or_arrays.image, scene_or_arrays.label
    else:
        image, label = scene_or_arrays
    size = label.shape[1] if axis == "x" else label.shape[0]
    cut = int(round(size * train_fraction))
    if cut == 0 or cut == size:
        problem = (f"scene of {size} pixel(s) along {axis} is too small to split at {train_fraction} "
                   "(both parts need at least one pixel)")
        if isinstance(scene_or_arrays, Scene):
            raise InputError(f"{scene_or_arrays.source or 'scene'}: {problem}")
        raise ValueError(problem)
    if axis == "x":
        parts = ((image[:, :, :cut], label[:, :cut], 0, 0), (image[:, :, cut:], label[:, cut:], cut, 0))
    else:
        parts = ((image[:, :cut], label[:cut], 0, 0), (image[:, cut:], label[cut:], 0, cut))
    if not isinstance(scene_or_arrays, Scene):
        return tuple((part_image, part_label) for part_image, part_label, _, _ in parts)
    return tuple(
        Scene(
            image=part_image,
            label=part_label,
            crs=scene_or_arrays.crs,
            # Shift the origin by the pixel offset of the part; the pixel size is unchanged.
            transform=scene_or_arrays.transform @ Affine.translation(col_off, row_off),
            source=scene_or_arrays.source,
        )
        for part_image, part_label, col_off, row_off in parts
    )


class Patches(NamedTuple):
    """Square patches cut from an image/label pair, with the pixel offset of each patch."""

    images: np.ndarray  # (N, bands, p, p)
    labels: np.ndarray  # (N, p, p)
    rows: np.ndarray  # (N,) row of each patch's top-left pixel
    cols: np.ndarray  # (N,) column of each patch's top-left pixel


def extract_patches(
    image: np.ndarray, label: np.ndarray, patch_size: int, stride: int | None = None
) -> Patches:
    """Cut patch_size x patch_size patches every `stride` pixels (default: non-overlapping).

    Only whole patches are returned; a strip narrower than a patch at the right or bottom edge is
    left out rather than padded, so every patch holds real pixels.
    """
    stride = patch_size if stride is None else stride
    if patch_size <= 0 or stride <= 0:
        raise ValueError(f"patch_size and stride must be positive, got {patch_size} and {stride}")
    if image.shape[1:] != label.shape:
        raise ValueError(f"image {image.shape} and label {label.shape} differ in size")
    height, width = label.shape
    rows = np.arange(0, height - patch_size + 1, stride)
    cols = np.arange(0, width - patch_size + 1, stride)
    grid_rows, grid_cols = np.meshgrid(rows, cols, indexing="ij")
    grid_rows, grid_cols = grid_rows.ravel(), grid_cols.ravel()
    images = np.empty((grid_rows.size, image.shape[0], patch_size, patch_size), dtype=image.dtype)
    labels = np.empty((grid_rows.size, patch_size, patch_size), dtype=label.dtype)
    for i, (row, col) in enumerate(zip(grid_rows, grid_cols, strict=True)):
        images[i] = image[:, row : row + patch_size, col : col + patch_size]
        labels[i] = label[row : row + patch_size, col : col + patch_size]
    return Patches(images=images, labels=labels, rows=grid_rows, cols=grid_cols)


def patch_labels(label_patches: np.ndarray, min_fraction: float) -> np.ndarray:
    """1 where a patch's landslide fraction is >= min_fraction and above zero, else 0 (uint8, (N,)).

    The "above zero" part means min_fraction=0 still needs at least one landslide pixel.
    """
    fractions = label_patches.reshape(len(label_patches), -1).mean(axis=1)
    return ((fractions >= min_fraction) & (fractions > 0)).astype(np.uint8)


def natural_key(name: str) -> list:
    """Sort key that orders tile_2 before tile_10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


# ---- tile folders: train, val and test ----
#
# A folder of tiles is either pieces of one georeferenced area (split them by position, `spatial`) or
# independent crops (their names say nothing about where they are, and are often grouped by class):
# `stratified` (the default) or `random` draw them with a seed. `file` takes the split a user wrote.
# Validation is drawn from the train tiles by the same strategy.

SPLITS = ("train", "val", "test")
STRATEGIES = ("stratified", "random", "spatial", "file")
DEFAULT_STRATEGY = "stratified"
_FILE_VALUES = {"train": "train", "val": "val", "validation": "val", "test": "test", "drop": "drop"}


@dataclass
class TileSplit:
    """The tiles of train, val and test (each in natural name order) and how they were chosen."""

    train: list[Tile]
    val: list[Tile]
    test: list[Tile]
    strategy: str
    dropped: list[Tile] = field(default_factory=list)  # spatial: in a gap; file: marked `drop`
    notes: list[str] = field(default_factory=list)  # anything the split decided on its own

    def groups(self) -> dict[str, list[Tile]]:
        return {"train": self.train, "val": self.val, "test": self.test}


def split_tile_folder(tiles: list[Tile], strategy: str = DEFAULT_STRATEGY, *, folder=None,
                      test_fraction: float = 0.5, val_fraction: float = 0.25, seed: int = 0, split_file=None,
                      axis: str = "x", gap: float | None = None) -> TileSplit:
    """Split tiles into train, val and test.

    - stratified: seeded; landslide tiles and landslide-free tiles are dealt separately, each to the side
      furthest below its share of landslide pixels (landslide tiles) or of all pixels (landslide-free
      tiles); of a largest-first deal and 64 seeded random ones the deal with the closest landslide
      fractions and pixel shares is kept. Every part gets both kinds of tile where there are enough of
      them (3 of each), and about the same landslide fraction.
    - random: seeded shuffle; test gets `test_fraction` of the tiles, val `val_fraction` of the rest.
    - spatial: georeferenced tiles ordered along `axis` (x: train west, test east; y: train north, test
      south); the cut puts about `test_fraction` of the pixels east (south) of it, and tiles that reach
      into a band of `gap` map units after the cut are dropped (None: the median tile side). Validation
      is the train part next to the test part, with the same gap.
    - file: `split_file` (default `folder`/split.csv; columns name,split; split train, val, test or drop).
      Without any val row, val is drawn from the file's train tiles (stratified, `seed`).
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    for name, fraction in (("test_fraction", test_fraction), ("val_fraction", val_fraction)):
        if not 0.0 < fraction < 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {fraction}")
    where = folder if folder is not None else "tile list"
    ordered = sorted(tiles, key=lambda tile: natural_key(tile.name))
    rng = np.random.default_rng(seed)
    if strategy == "file":
        path = Path(split_file) if split_file is not None else Path(where) / SPLIT_CSV
        return _split_by_file(ordered, path, val_fraction, rng, seed)
    if len(ordered) < 3:
        raise InputError(f"{where}: {len(ordered)} tile(s) are too few to split into train, val and test "
                         "(at least 3 are needed)")
    if strategy == "spatial":
        _check_georeferenced(ordered)
        gap = _median_side(ordered) if gap is None else gap
        draw = partial(_spatial_draw, axis=axis, gap=gap)
    else:
        draw = partial(_stratified_draw if strategy == "stratified" else _random_draw, rng=rng)
    # Stratified: the rest keeps two tiles of each kind (where there are three) for train and val.
    rest, test, dropped = draw(ordered, test_fraction, **({"keep": 2} if strategy == "stratified" else {}))
    train, val, dropped_val = draw(rest, val_fraction)
    result = TileSplit(*(_by_name(group) for group in (train, val, test)), strategy=strategy,
                       dropped=_by_name(dropped + dropped_val))
    if strategy == "spatial" and result.dropped:
        result.notes.append(f"{len(result.dropped)} tile(s) in the {gap:g}-unit gaps between the parts left out")
    for name, group in result.groups().items():
        if not group:
            hint = "lower ridgei.scene.split_gap_m or " if strategy == "spatial" else ""
            raise InputError(f"{where}: ridgei.scene.split {strategy} left the {name} part without a tile "
                             f"({len(ordered)} tiles in all); {hint}add tiles")
    return result


def _by_name(tiles: list[Tile]) -> list[Tile]:
    return sorted(tiles, key=lambda tile: natural_key(tile.name))


def _random_draw(tiles: list[Tile], share: float, rng) -> tuple[list[Tile], list[Tile], list[Tile]]:
    """(rest, drawn, dropped): a seeded `share` of the tiles (at least one, and one left)."""
    count = min(max(int(round(len(tiles) * share)), 1), len(tiles) - 1)
    chosen = set(rng.permutation(len(tiles))[:count].tolist())
    return ([t for i, t in enumerate(tiles) if i not in chosen], [t for i, t in enumerate(tiles) if i in chosen],
            [])


STRATIFIED_CANDIDATES = 64  # seeded random deals tried besides the largest-first one; the best is kept


def _stratified_draw(tiles: list[Tile], share: float, rng, keep: int = 1
                     ) -> tuple[list[Tile], list[Tile], list[Tile]]:
    """(rest, drawn, dropped): landslide pixels and all pixels shared about `share` / 1 - share; of each
    kind of tile (with landslides, landslide-free) the drawn side gets at least one and the rest at least
    `keep` where there are enough (keep=2 when the rest is split again, into train and val).

    Deals are tried in the largest-first order and in STRATIFIED_CANDIDATES seeded random orders; the one
    whose two sides have the closest landslide fractions and the pixel share nearest to `share` is kept.
    """
    landslide = np.array([int(t.mask.sum()) for t in tiles], np.int64)
    pixels = np.array([t.mask.size for t in tiles], np.int64)
    octave = np.floor(np.log2(np.maximum(np.where(landslide > 0, landslide, pixels), 1)))
    largest_first = np.lexsort((rng.permutation(len(tiles)), -octave))  # random order within an octave
    orders = [largest_first] + [rng.permutation(len(tiles)) for _ in range(STRATIFIED_CANDIDATES)]
    deals = [_deal(order, landslide, pixels, share, keep) for order in orders]
    drawn = deals[int(np.argmin([_deal_score(d, landslide, pixels, share) for d in deals]))]
    return ([t for t, d in zip(tiles, drawn, strict=True) if not d],
            [t for t, d in zip(tiles, drawn, strict=True) if d], [])


def _deal(order: np.ndarray, landslide: np.ndarray, pixels: np.ndarray, share: float, keep: int) -> np.ndarray:
    """Which tiles are drawn (bool per tile). Landslide tiles first, then landslide-free ones, each in
    `order` to the side furthest below its share of landslide pixels (landslide tiles) or of all pixels
    (landslide-free tiles), except that once the tiles of the kind left are no more than the sides still
    need (drawn: 1, rest: `keep`, as far as the kind has tiles), they go to those sides."""
    drawn = np.zeros(len(order), bool)
    target = {True: share, False: 1.0 - share}  # keyed by "drawn"
    sums = {"landslide": {True: 0, False: 0}, "pixels": {True: 0, False: 0}}
    for kind in ("landslide", "pixels"):
        group = [i for i in order if (landslide[i] > 0) == (kind == "landslide")]
        total = int(landslide.sum() if kind == "landslide" else pixels.sum())
        need = {True: min(1, len(group)), False: min(keep, max(len(group) - 1, 0))}
        current, has = sums[kind], {True: 0, False: 0}
        for position, i in enumerate(group):
            short = {side: need[side] - has[side] for side in (True, False) if has[side] < need[side]}
            candidates = list(short) if short and len(group) - position <= sum(short.values()) else [True, False]
            side = max(candidates, key=lambda s: target[s] * total - current[s])
            drawn[i] = side
            has[side] += 1
            sums["landslide"][side] += int(landslide[i])
            sums["pixels"][side] += int(pixels[i])
    return drawn


def _deal_score(drawn: np.ndarray, landslide: np.ndarray, pixels: np.ndarray, share: float) -> float:
    """Lower is better: |log| of the ratio of the sides' landslide fractions plus twice the pixel-share
    error; a side without a kind of tile of which there are two or more scores 1e6 more."""
    score = 0.0
    for kind in (landslide > 0, landslide == 0):
        if kind.sum() >= 2 and min((kind & drawn).sum(), (kind & ~drawn).sum()) == 0:
            score += 1e6
    side_pixels = np.array([pixels[~drawn].sum(), pixels[drawn].sum()], float)
    side_landslide = np.array([landslide[~drawn].sum(), landslide[drawn].sum()], float)
    if side_pixels.min() == 0:
        return score + 2e6
    if side_landslide.min() > 0:
        fractions = side_landslide / side_pixels
        score += abs(np.log(fractions[1] / fractions[0]))
    elif side_landslide.max() > 0:
        score += 1e3
    return score + 2.0 * abs(side_pixels[1] / side_pixels.sum() - share)


def _check_georeferenced(tiles: list[Tile]) -> None:
    for tile in tiles:
        if tile.transform is None:
            raise InputError(f"{tile.where}: ridgei.scene.split spatial needs georeferenced tiles and this one "
                             "has none; use ridgei.scene.split: stratified (or random) for independent crops")
        if tile.crs != tiles[0].crs:
            raise InputError(f"{tile.where}: CRS {tile.crs} differs from {tiles[0].crs} of {tiles[0].where}; "
                             "ridgei.scene.split spatial needs every tile in one CRS")


def _extent(tile: Tile, axis: str) -> tuple[float, float]:
    """Start and end of a tile along the split axis: eastwards for x, southwards for y."""
    height, width = tile.mask.shape
    corners = [tile.transform @ corner for corner in ((0, 0), (width, 0), (0, height), (width, height))]
    if axis == "x":
        xs = [x for x, _ in corners]
        return min(xs), max(xs)
    ys = [-y for _, y in corners]
    return min(ys), max(ys)


def _median_side(tiles: list[Tile]) -> float:
    return float(np.median([(t.mask.shape[0] * abs(t.transform.e) + t.mask.shape[1] * abs(t.transform.a)) / 2
                            for t in tiles]))


def _spatial_draw(tiles: list[Tile], share: float, axis: str, gap: float
                  ) -> tuple[list[Tile], list[Tile], list[Tile]]:
    """(rest, drawn, dropped): rest ends before a cut, drawn starts `gap` after it, dropped lies across.

    The cut is at a tile's end; of the cuts that leave both sides a tile, the one whose drawn side holds
    the share of their pixels nearest to `share` (the later cut on a tie).
    """
    extents = [_extent(tile, axis) for tile in tiles]
    eps = 1e-6 * max(abs(tiles[0].transform.a), 1e-12)

    def sides(cut: float):
        rest = [t for t, (_, end) in zip(tiles, extents, strict=True) if end <= cut + eps]
        drawn = [t for t, (start, end) in zip(tiles, extents, strict=True) if start >= cut + gap - eps]
        return rest, drawn

    best, best_error = None, np.inf
    for cut in sorted({end for _, end in extents}):
        rest, drawn = sides(cut)
        if rest and drawn:
            drawn_px = sum(t.mask.size for t in drawn)
            error = abs(drawn_px / (drawn_px + sum(t.mask.size for t in rest)) - share)
            if error <= best_error + 1e-12:  # on a tie the later cut: a larger rest to split again
                best, best_error = cut, error
    if best is None:  # no cut leaves a tile on both sides: the caller reports the empty part
        return list(tiles), [], []
    rest, drawn = sides(best)
    kept = {id(t) for t in rest + drawn}
    return rest, drawn, [t for t in tiles if id(t) not in kept]


def _split_by_file(tiles: list[Tile], csv_path: Path, val_fraction: float, rng, seed: int) -> TileSplit:
    if not csv_path.is_file():
        raise InputError(f"{csv_path}: split file not found (ridgei.scene.split: file reads "
                         "ridgei.scene.split_file, by default split.csv in the tile folder)")
    assignment = _read_split_csv(csv_path)
    names = {tile.name for tile in tiles}
    unassigned = sorted(names - assignment.keys(), key=natural_key)
    if unassigned:
        raise InputError(f"{csv_path}: no split given for tile(s) {unassigned[:5]}")
    unknown = sorted(assignment.keys() - names, key=natural_key)
    if unknown:
        raise InputError(f"{csv_path}: names {unknown[:5]} match no tile")
    groups = {value: [tile for tile in tiles if assignment[tile.name] == value] for value in (*SPLITS, "drop")}
    for name in ("train", "test"):
        if not groups[name]:
            raise InputError(f"{csv_path}: no tile is marked {name}; train and test need at least one")
    notes = []
    if not groups["val"]:
        if len(groups["train"]) < 2:
            raise InputError(f"{csv_path}: {len(groups['train'])} train tile(s) and no val tile; mark val tiles "
                             "or give train at least 2 tiles")
        groups["train"], groups["val"], _ = _stratified_draw(groups["train"], val_fraction, rng)
        notes.append(f"the file marks no val tile: val drawn from its train tiles (stratified, seed {seed})")
    return TileSplit(*(_by_name(groups[name]) for name in SPLITS), strategy="file", dropped=groups["drop"],
                     notes=notes)


def _read_split_csv(csv_path: Path) -> dict[str, str]:
    """Read name,split rows (header required) into a dict; split is train, val, test or drop."""
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"name", "split"} <= {f.strip() for f in reader.fieldnames}:
            raise InputError(f"{csv_path}: header must have columns 'name' and 'split'")
        assignment: dict[str, str] = {}
        for line_number, row in enumerate(reader, start=2):
            row = {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
            name, split = row["name"], row["split"].lower()
            if split not in _FILE_VALUES:
                raise InputError(f"{csv_path}: line {line_number}: split must be 'train', 'val', 'test' or "
                                 f"'drop', got {split!r}")
            # Allow names with an extension (tile_1.png) as well as bare stems.
            if Path(name).suffix.lower() in TILE_SUFFIXES:
                name = Path(name).stem
            if name in assignment:
                raise InputError(f"{csv_path}: line {line_number}: tile {name!r} listed twice")
            assignment[name] = _FILE_VALUES[split]
    return assignment


# ---- what a split holds, and whether it can be trusted ----

def describe(masks: list[np.ndarray], names: list[str] | None = None) -> dict:
    """Tiles (areas), pixels, landslide pixels and fraction, landslide-free tiles, and their names."""
    pixels = int(sum(mask.size for mask in masks))
    landslide = int(sum(int(mask.sum()) for mask in masks))
    summary = {"tiles": len(masks), "pixels": pixels, "landslide_pixels": landslide,
               "landslide_fraction": landslide / pixels if pixels else float("nan"),
               "landslide_free_tiles": int(sum(not mask.any() for mask in masks))}
    if names is not None:
        summary["names"] = list(names)
    return summary


def describe_split(split: TileSplit, seed: int | None = None) -> dict:
    """The composition of every part of a tile split (what metrics.json holds under `split`)."""
    result = {"strategy": split.strategy, "seed": seed}
    for name, tiles in split.groups().items():
        result[name] = describe([tile.mask for tile in tiles], [tile.name for tile in tiles])
    result["dropped"] = [tile.name for tile in split.dropped]
    result["notes"] = list(split.notes)
    return result


def format_composition(name: str, part: dict) -> str:
    """One log line: 'train: 12 tiles, 40960 px, landslide fraction 3.12% (1280 px), 4 landslide-free tiles'."""
    return (f"{name}: {part['tiles']} tile(s), {part['pixels']} px, landslide fraction "
            f"{part['landslide_fraction']:.2%} ({part['landslide_pixels']} px), "
            f"{part['landslide_free_tiles']} landslide-free tile(s)")


def split_problems(parts: dict[str, dict], where, strategy: str, max_ratio: float,
                   need_free_tiles: bool) -> list[str]:
    """One-line messages for parts without a class, or landslide fractions more than `max_ratio` apart.

    `parts` maps train/val/test to describe() results. A part lacks a class when it has no landslide
    pixel, no background pixel, or (where the folder has landslide-free tiles) no landslide-free tile.
    """
    totals = {key: sum(part[key] for part in parts.values())
              for key in ("tiles", "landslide_free_tiles")}
    with_landslides = totals["tiles"] - totals["landslide_free_tiles"]
    advice = {"stratified": f"the folder has {with_landslides} tile(s) with landslides and "
                            f"{totals['landslide_free_tiles']} without: add tiles, or name each tile's split "
                            "with ridgei.scene.split: file",
              "file": "edit the split file",
              "spatial halves": "try the other ridgei.scene.split_axis or another ridgei.scene.val_fraction",
              }.get(strategy, "use ridgei.scene.split: stratified")
    how = "the spatial halves" if strategy == "spatial halves" else f"ridgei.scene.split {strategy}"
    problems = []
    for name, part in parts.items():
        size = f"({part['tiles']} tile(s), {part['pixels']} px)" if strategy != "spatial halves" else \
            f"({part['pixels']} px)"
        if part["landslide_pixels"] == 0:
            problems.append(f"{where}: {how} gave a {name} part without landslide "
                            f"pixels {size}; {advice}")
        elif part["landslide_pixels"] == part["pixels"]:
            problems.append(f"{where}: {how} gave a {name} part without "
                            f"landslide-free pixels {size}; {advice}")
        elif need_free_tiles and part["landslide_free_tiles"] == 0:
            problems.append(f"{where}: {how} gave a {name} part without landslide-free "
                            f"tiles {size}; {advice}")
    fractions = {name: part["landslide_fraction"] for name, part in parts.items()
                 if part["landslide_pixels"] > 0}
    if not problems and len(fractions) > 1:
        high, low = max(fractions, key=fractions.get), min(fractions, key=fractions.get)
        if fractions[high] > max_ratio * fractions[low]:
            ratio_advice = {"stratified": "add tiles, raise ridgei.scene.max_fraction_ratio, or name each "
                                          "tile's split with ridgei.scene.split: file"}.get(strategy, advice)
            problems.append(f"{where}: {how}: landslide fraction {fractions[high]:.2%} in "
                            f"{high} vs {fractions[low]:.2%} in {low}, more than ridgei.scene.max_fraction_ratio "
                            f"{max_ratio:g} apart; {ratio_advice}")
    return problems
