"""Spatial train/test halves, tile-folder splits and patch extraction."""

import numpy as np
import pytest
from affine import Affine

from landslides.errors import InputError
from landslides.scene.reader import Scene, Tile
from landslides.scene.tiles import extract_patches, patch_labels, split_halves, split_tiles


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


def test_tile_split_by_natural_name_order(tmp_path):
    train, test = split_tiles(_tiles(["t_10", "t_2", "t_1", "t_3"]), tmp_path)
    assert [t.name for t in train] == ["t_1", "t_2"] and [t.name for t in test] == ["t_3", "t_10"]


def test_tile_split_csv_wins(tmp_path):
    (tmp_path / "split.csv").write_text("name,split\nt_1,test\nt_2.png,train\nt_3,train\n")
    train, test = split_tiles(_tiles(["t_1", "t_2", "t_3"]), tmp_path)
    assert [t.name for t in train] == ["t_2", "t_3"] and [t.name for t in test] == ["t_1"]


def test_tile_split_csv_errors_name_the_file(tmp_path):
    (tmp_path / "split.csv").write_text("name,split\nt_1,test\n")
    with pytest.raises(InputError, match=r"split.csv: no split given for tile\(s\) \['t_2'\]"):
        split_tiles(_tiles(["t_1", "t_2"]), tmp_path)
    (tmp_path / "split.csv").write_text("name,split\nt_1,test\nt_2,validation\n")
    with pytest.raises(InputError, match="split.csv: line 3: split must be 'train' or 'test'"):
        split_tiles(_tiles(["t_1", "t_2"]), tmp_path)
