"""Spatially honest train/test splits of a scene or a tile folder, and patch extraction.

The paper splits its scene train:test 0.5:0.5. Interleaving patches from the same area in both sets
would leak neighbouring pixels into the test set, so a scene is cut into two contiguous halves and
patches are taken inside each half only.
"""

import csv
import re
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


def split_tiles(tiles: list[Tile], folder=None, train_fraction: float = 0.5) -> tuple[list[Tile], list[Tile]]:
    """Split tiles into (train, test).

    If `folder` holds split.csv (columns name,split; split is train or test), it decides. Otherwise
    tiles are sorted by name (numbers in names compare as numbers) and the first `train_fraction`
    goes to train: name tiles so that this order is spatial (for example row-major tile indices),
    or neighbouring tiles will end up on both sides of the split.
    """
    csv_path = Path(folder) / SPLIT_CSV if folder is not None else None
    if csv_path is not None and csv_path.is_file():
        return _split_by_csv(tiles, csv_path)
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be between 0 and 1, got {train_fraction}")
    ordered = sorted(tiles, key=lambda tile: natural_key(tile.name))
    cut = int(round(len(ordered) * train_fraction))
    if cut == 0 or cut == len(ordered):
        where = folder if folder is not None else "tile list"
        raise InputError(f"{where}: {len(ordered)} tile(s) are too few to split into train and test")
    return ordered[:cut], ordered[cut:]


def _split_by_csv(tiles: list[Tile], csv_path: Path) -> tuple[list[Tile], list[Tile]]:
    assignment = _read_split_csv(csv_path)
    names = {tile.name for tile in tiles}
    unassigned = sorted(names - assignment.keys(), key=natural_key)
    if unassigned:
        raise InputError(f"{csv_path}: no split given for tile(s) {unassigned[:5]}")
    unknown = sorted(assignment.keys() - names, key=natural_key)
    if unknown:
        raise InputError(f"{csv_path}: names {unknown[:5]} match no tile")
    ordered = sorted(tiles, key=lambda tile: natural_key(tile.name))
    train = [tile for tile in ordered if assignment[tile.name] == "train"]
    test = [tile for tile in ordered if assignment[tile.name] == "test"]
    if not train or not test:
        raise InputError(f"{csv_path}: both train and test need at least one tile")
    return train, test


def _read_split_csv(csv_path: Path) -> dict[str, str]:
    """Read name,split rows (header required) into a dict."""
    with open(csv_path, newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"name", "split"} <= {f.strip() for f in reader.fieldnames}:
            raise InputError(f"{csv_path}: header must have columns 'name' and 'split'")
        assignment: dict[str, str] = {}
        for line_number, row in enumerate(reader, start=2):
            row = {key.strip(): (value or "").strip() for key, value in row.items() if key is not None}
            name, split = row["name"], row["split"].lower()
            if split not in ("train", "test"):
                raise InputError(
                    f"{csv_path}: line {line_number}: split must be 'train' or 'test', got {split!r}"
                )
            # Allow names with an extension (tile_1.png) as well as bare stems.
            if Path(name).suffix.lower() in TILE_SUFFIXES:
                name = Path(name).stem
            if name in assignment:
                raise InputError(f"{csv_path}: line {line_number}: tile {name!r} listed twice")
            assignment[name] = split
    return assignment
