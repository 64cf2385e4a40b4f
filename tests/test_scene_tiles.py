"""Spatial train/test halves, tile-folder splits (stratified, random, spatial, file) and their checks, and
patch extraction."""

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS

from landslides.errors import InputError
from landslides.scene.reader import Scene, Tile
from landslides.scene.tiles import (
    describe,
    extract_patches,
    patch_labels,
    split_halves,
    split_problems,
    split_tile_folder,
)


def _scene(height=10, width=13):
    image = np.arange(3 * height * width, dtype=np.float32).reshape(3, height, width)
    label = (np.arange(height * width).reshape(height, width) % 5 == 0).astype(np.uint8)
    transform = Affine(0.5, 0.0, 1000.0, 0.0, -0.5, 2000.0)
    return Scene(image=image, label=label, crs=None, transform=transform)


@pytest.mark.parametrize("axis", ["x", "y"])
def test_halves_are_disjoint_cover_the_scene_and_keep_their_place(axis):
    scene = _scene()
    train, test = split_halves(scene, axis=axis)
    dim = 2 if axis == "x" else 1
    assert train.image.shape[dim] + test.image.shape[dim] == scene.image.shape[dim]
    assert np.array_equal(np.concatenate([train.image, test.image], axis=dim), scene.image)
    assert np.array_equal(np.concatenate([train.label, test.label], axis=dim - 1), scene.label)
    # Each half's transform maps its pixel (0, 0) to where that pixel was in the scene.
    cut = train.image.shape[dim]
    assert train.transform == scene.transform
    if axis == "x":
        assert test.transform @ (0, 0) == scene.transform @ (cut, 0)
        assert test.transform.c == 1000.0 + 0.5 * cut
    else:
        assert test.transform @ (0, 0) == scene.transform @ (0, cut)
        assert test.transform.f == 2000.0 - 0.5 * cut
    assert (test.transform.a, test.transform.e) == (0.5, -0.5)


def test_halves_of_plain_arrays_and_fraction():
    scene = _scene(height=10, width=20)
    (train_image, train_label), (test_image, test_label) = split_halves(
        (scene.image, scene.label), axis="x", train_fraction=0.25
    )
    assert train_label.shape == (10, 5) and test_label.shape == (10, 15)
    assert train_image.shape == (3, 10, 5) and test_image.shape == (3, 10, 15)


def test_patch_counts_offsets_and_contents():
    scene = _scene(height=10, width=13)
    patches = extract_patches(scene.image, scene.label, patch_size=4)
    assert patches.images.shape == (6, 3, 4, 4) and patches.labels.shape == (6, 4, 4)
    assert patches.rows.tolist() == [0, 0, 0, 4, 4, 4] and patches.cols.tolist() == [0, 4, 8] * 2
    assert np.array_equal(patches.images[4], scene.image[:, 4:8, 4:8])
    assert np.array_equal(patches.labels[5], scene.label[4:8, 8:12])
    overlapping = extract_patches(scene.image, scene.label, patch_size=4, stride=2)
    assert len(overlapping.images) == 4 * 5
    empty = extract_patches(scene.image, scene.label, patch_size=16)
    assert empty.images.shape == (0, 3, 16, 16)


def test_patch_label_threshold():
    labels = np.zeros((4, 10, 10), dtype=np.uint8)
    labels[1, 0, :5] = 1  # 5%
    labels[2, :1, :] = 1  # 10%
    labels[3] = 1
    assert patch_labels(labels, 0.1).tolist() == [0, 0, 1, 1]
    assert patch_labels(labels, 0.05).tolist() == [0, 1, 1, 1]
    # A zero threshold still needs at least one landslide pixel.
    assert patch_labels(labels, 0.0).tolist() == [0, 1, 1, 1]


def _tiles(names):
    return [Tile(name=n, image=np.zeros((3, 2, 2), np.uint8), mask=np.zeros((2, 2), np.uint8)) for n in names]


def _crop(name, size, landslide_px=0, transform=None, crs=None):
    """A size x size tile with `landslide_px` landslide pixels (row-major from the top left)."""
    mask = np.zeros(size * size, np.uint8)
    mask[:landslide_px] = 1
    return Tile(name=name, image=np.zeros((3, size, size), np.uint8), mask=mask.reshape(size, size),
                transform=transform, crs=crs)


def _grouped_crops():
    """Independent crops of different sizes named by class, as in the issue: landslide tiles first (a_*),
    landslide-free ones after (b_*)."""
    rng = np.random.default_rng(0)
    sizes = rng.integers(6, 40, 30)
    with_landslides = [_crop(f"a_{i:02d}", int(size), int(size * size * rng.uniform(0.05, 0.4)))
                       for i, size in enumerate(sizes[:16])]
    free = [_crop(f"b_{i:02d}", int(size)) for i, size in enumerate(sizes[16:])]
    return with_landslides + free


def _names(tiles):
    return [tile.name for tile in tiles]


def _parts(split):
    return {name: describe([tile.mask for tile in tiles]) for name, tiles in split.groups().items()}


def _uses_each_tile_once(split, tiles):
    used = _names(split.train + split.val + split.test + split.dropped)
    return sorted(used) == sorted(_names(tiles))


def test_stratified_split_of_class_grouped_crops_holds_both_classes_everywhere():
    tiles = _grouped_crops()
    split = split_tile_folder(tiles, "stratified", seed=0)
    assert _uses_each_tile_once(split, tiles) and not split.dropped
    parts = _parts(split)
    for name, part in parts.items():
        assert part["landslide_pixels"] > 0 and part["landslide_free_tiles"] > 0, name
    fractions = [part["landslide_fraction"] for part in parts.values()]
    assert max(fractions) / min(fractions) < 1.5
    # Shares of all pixels follow 0.375 / 0.125 / 0.5.
    total = sum(part["pixels"] for part in parts.values())
    assert abs(parts["test"]["pixels"] / total - 0.5) < 0.1
    assert abs(parts["val"]["pixels"] / total - 0.125) < 0.06
    assert split_problems(parts, "tiles", "stratified", 3.0, need_free_tiles=True) == []
    # Seeded: the same seed gives the same split, another seed another one.
    again = split_tile_folder(list(reversed(tiles)), "stratified", seed=0)
    assert [_names(g) for g in again.groups().values()] == [_names(g) for g in split.groups().values()]
    other = split_tile_folder(tiles, "stratified", seed=1)
    assert [_names(g) for g in other.groups().values()] != [_names(g) for g in split.groups().values()]


def test_stratified_split_gives_every_part_a_tile_of_each_class_when_there_are_three():
    tiles = [_crop("a_1", 30, 500), _crop("a_2", 8, 3), _crop("a_3", 8, 2)] + \
        [_crop(f"b_{i}", 10) for i in range(3)]
    split = split_tile_folder(tiles, "stratified")
    for name, group in split.groups().items():
        assert sum(t.mask.any() for t in group) == 1 and sum(not t.mask.any() for t in group) == 1, name


def test_random_split_is_seeded_and_counts_tiles():
    tiles = _grouped_crops()[:20]
    split = split_tile_folder(tiles, "random", seed=3)
    assert (len(split.train), len(split.val), len(split.test)) == (8, 2, 10)
    assert _uses_each_tile_once(split, tiles)
    assert _names(split_tile_folder(tiles, "random", seed=3).test) == _names(split.test)
    assert _names(split.test) == sorted(_names(split.test))  # each part in name order


def test_spatial_split_by_position_with_a_gap():
    # A 2 x 6 grid of georeferenced 8-pixel tiles (1 m pixels), named column-major so names are not order.
    tiles = [_crop(f"t_{col}_{row}", 8, 4 if col % 2 else 0, Affine(1, 0, 500 + 8 * col, 0, -1, 900 - 8 * row),
                   CRS.from_epsg(32654))
             for col in range(6) for row in range(2)]
    split = split_tile_folder(tiles, "spatial", axis="x")  # gap: the median tile side, 8 m
    columns = {name: sorted({int(t.name.split("_")[1]) for t in group}) for name, group in split.groups().items()}
    assert columns == {"train": [0], "val": [2], "test": [4, 5]}  # column 1 and 3 lie in the gaps
    assert sorted({int(t.name.split("_")[1]) for t in split.dropped}) == [1, 3]
    assert split.notes and "gap" in split.notes[0]
    no_gap = split_tile_folder(tiles, "spatial", axis="x", gap=0)
    assert not no_gap.dropped and max(t.transform.c for t in no_gap.train) < min(t.transform.c for t in no_gap.val)
    assert max(t.transform.c for t in no_gap.val) < min(t.transform.c for t in no_gap.test)
    # axis y: train north, val next to test, test south (the same grid turned: 6 rows of 2 tiles).
    turned = [_crop(t.name, 8, int(t.mask.sum()), Affine(1, 0, 500 + 8 * int(t.name.split("_")[2]), 0, -1,
                                                          900 - 8 * int(t.name.split("_")[1])), t.crs)
              for t in tiles]
    south = split_tile_folder(turned, "spatial", axis="y", gap=0)
    rows = {name: sorted({int(t.name.split("_")[1]) for t in group}) for name, group in south.groups().items()}
    assert rows == {"train": [0, 1], "val": [2], "test": [3, 4, 5]}


def test_spatial_split_needs_georeferenced_tiles():
    tiles = [_crop(f"t_{i}", 8, 2) for i in range(4)]
    with pytest.raises(InputError, match=r"t_0: ridgei.scene.split spatial needs georeferenced tiles and this one "
                                         r"has none; use ridgei.scene.split: stratified"):
        split_tile_folder(tiles, "spatial")


def test_split_file_names_train_val_test_and_drop(tmp_path):
    (tmp_path / "split.csv").write_text("name,split\nt_1,test\nt_2.png,train\nt_3,val\nt_4,drop\nt_5,train\n")
    split = split_tile_folder(_tiles(["t_1", "t_2", "t_3", "t_4", "t_5"]), "file", folder=tmp_path)
    assert [_names(g) for g in split.groups().values()] == [["t_2", "t_5"], ["t_3"], ["t_1"]]
    assert _names(split.dropped) == ["t_4"] and not split.notes
    # A file without val rows (train/test only): val is drawn from its train tiles, and that is noted.
    other = tmp_path / "other.csv"
    other.write_text("name,split\nt_1,test\nt_2,train\nt_3,train\nt_4,train\nt_5,train\n")
    split = split_tile_folder(_tiles(["t_1", "t_2", "t_3", "t_4", "t_5"]), "file", split_file=other)
    assert len(split.val) >= 1 and len(split.train) + len(split.val) == 4 and "no val tile" in split.notes[0]


def test_tile_split_csv_errors_name_the_file(tmp_path):
    (tmp_path / "split.csv").write_text("name,split\nt_1,test\n")
    with pytest.raises(InputError, match=r"split.csv: no split given for tile\(s\) \['t_2'\]"):
        split_tile_folder(_tiles(["t_1", "t_2"]), "file", folder=tmp_path)
    (tmp_path / "split.csv").write_text("name,split\nt_1,test\nt_2,holdout\n")
    with pytest.raises(InputError, match="split.csv: line 3: split must be 'train', 'val', 'test' or 'drop'"):
        split_tile_folder(_tiles(["t_1", "t_2"]), "file", folder=tmp_path)
    (tmp_path / "split.csv").write_text("name,split\nt_1,val\nt_2,train\n")
    with pytest.raises(InputError, match="split.csv: no tile is marked test"):
        split_tile_folder(_tiles(["t_1", "t_2"]), "file", folder=tmp_path)
    with pytest.raises(InputError, match="missing.csv: split file not found"):
        split_tile_folder(_tiles(["t_1", "t_2"]), "file", split_file=tmp_path / "missing.csv")


def test_too_few_tiles():
    with pytest.raises(InputError, match=r"tiles: 2 tile\(s\) are too few to split into train, val and test"):
        split_tile_folder(_tiles(["t_1", "t_2"]), "random", folder="tiles")


def _part(tiles, pixels, landslide, free):
    return {"tiles": tiles, "pixels": pixels, "landslide_pixels": landslide,
            "landslide_fraction": landslide / pixels, "landslide_free_tiles": free}


def test_split_problems_name_the_part_and_the_option():
    parts = {"train": _part(10, 1000, 100, 0), "val": _part(2, 200, 20, 1), "test": _part(10, 1000, 0, 10)}
    problems = split_problems(parts, "tiles", "random", 3.0, need_free_tiles=True)
    assert problems == [
        "tiles: ridgei.scene.split random gave a train part without landslide-free tiles (10 tile(s), 1000 px); "
        "use ridgei.scene.split: stratified",
        "tiles: ridgei.scene.split random gave a test part without landslide pixels (10 tile(s), 1000 px); "
        "use ridgei.scene.split: stratified"]
    parts = {"train": _part(10, 1000, 100, 3), "val": _part(2, 200, 2, 1), "test": _part(10, 1000, 90, 4)}
    assert split_problems(parts, "tiles", "stratified", 3.0, need_free_tiles=True) == [
        "tiles: ridgei.scene.split stratified: landslide fraction 10.00% in train vs 1.00% in val, more than "
        "ridgei.scene.max_fraction_ratio 3 apart; add tiles, raise ridgei.scene.max_fraction_ratio, or name each "
        "tile's split with ridgei.scene.split: file"]
    assert split_problems(parts, "tiles", "stratified", 20.0, need_free_tiles=True) == []
    assert split_problems({"train": _part(3, 300, 30, 0), "val": _part(1, 100, 10, 0), "test": _part(3, 300, 30, 0)},
                          "tiles", "random", 3.0, need_free_tiles=False) == []


def test_describe_counts():
    masks = [np.array([[0, 1], [1, 1]], np.uint8), np.zeros((3, 3), np.uint8)]
    assert describe(masks, ["a", "b"]) == {"tiles": 2, "pixels": 13, "landslide_pixels": 3,
                                           "landslide_fraction": 3 / 13, "landslide_free_tiles": 1,
                                           "names": ["a", "b"]}
