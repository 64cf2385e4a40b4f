"""Reading a scene raster pair and a tile folder; each bad input names its file."""

import numpy as np
import pytest
from PIL import Image

from landslides.errors import InputError
from landslides.scene.reader import read_scene, read_tile_folder
from landslides.scene.synthetic import make_scene, write_scene


@pytest.fixture
def scene_files(tmp_path):
    image, label = make_scene(height=64, width=80, seed=1)
    paths = tmp_path / "image.tif", tmp_path / "label.tif"
    write_scene(image, label, *paths)
    return image, label, paths


def test_read_scene_round_trip(scene_files):
    image, label, (image_path, label_path) = scene_files
    scene = read_scene(image_path, label_path)
    assert scene.image.shape == (3, 64, 80) and scene.image.dtype == np.uint8
    assert np.array_equal(scene.label, label.values)
    assert scene.crs.to_epsg() == 32654
    assert scene.transform.almost_equals(image.rio.transform())


def test_label_0_255_is_normalized(tmp_path, scene_files):
    image, label, (image_path, _) = scene_files
    label_path = tmp_path / "label255.tif"
    write_scene(image, label * 255, image_path, label_path)
    assert np.array_equal(read_scene(image_path, label_path).label, label.values)


def test_missing_file(tmp_path, scene_files):
    _, _, (image_path, _) = scene_files
    with pytest.raises(InputError, match="nolabel.tif: file not found"):
        read_scene(image_path, tmp_path / "nolabel.tif")


def test_label_on_another_grid(tmp_path, scene_files):
    image, label, (image_path, _) = scene_files
    shifted = label.rio.write_transform(label.rio.transform() @ label.rio.transform().translation(3, 0))
    shifted = shifted.assign_coords(x=label.x + 1.5)
    other_path = tmp_path / "shifted.tif"
    write_scene(image, shifted, tmp_path / "unused.tif", other_path)
    with pytest.raises(InputError, match="shifted.tif: label transform"):
        read_scene(image_path, other_path)
    cropped_path = tmp_path / "cropped.tif"
    write_scene(image, label[:, :40], tmp_path / "unused.tif", cropped_path)
    with pytest.raises(InputError, match="cropped.tif: label is 64x40"):
        read_scene(image_path, cropped_path)


def test_label_with_four_values(tmp_path, scene_files):
    image, label, (image_path, _) = scene_files
    four = label.copy(data=np.arange(64 * 80, dtype=np.uint8).reshape(64, 80) % 4)
    bad_path = tmp_path / "four.tif"
    write_scene(image, four, tmp_path / "unused.tif", bad_path)
    with pytest.raises(
        InputError, match=r"four.tif: label values must be 0/1 or 0/255, found 4 values \[0, 1, 2, 3\]"
    ):
        read_scene(image_path, bad_path)


def test_too_few_bands_and_nan(tmp_path, scene_files):
    image, label, (_, label_path) = scene_files
    two_band = tmp_path / "two.tif"
    write_scene(image[:2].assign_attrs(long_name=("red", "green")), label, two_band, tmp_path / "l.tif")
    with pytest.raises(InputError, match="two.tif: image has 2 band"):
        read_scene(two_band, label_path)
    with_nan = image.astype(np.float32)
    with_nan[0, 5, 5] = np.nan
    nan_path = tmp_path / "nan.tif"
    write_scene(with_nan, label, nan_path, tmp_path / "l.tif")
    with pytest.raises(InputError, match="nan.tif: image contains NaN"):
        read_scene(nan_path, label_path)


def _write_tile(folder, name, size=8, mask_values=(0, 255), suffix=".png"):
    rng = np.random.default_rng(len(name))
    rgb = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    mask = np.where(rng.random((size, size)) < 0.3, mask_values[1], mask_values[0]).astype(np.uint8)
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(folder / "images" / f"{name}{suffix}")
    Image.fromarray(mask).save(folder / "masks" / f"{name}{suffix}")
    return rgb, (mask > 0).astype(np.uint8)


def test_tile_folder_png_and_tiff(tmp_path):
    expected = {
        "tile_2": _write_tile(tmp_path, "tile_2", mask_values=(0, 255), suffix=".png"),
        "tile_10": _write_tile(tmp_path, "tile_10", mask_values=(0, 1), suffix=".tif"),
    }
    tiles = read_tile_folder(tmp_path)
    assert sorted(tile.name for tile in tiles) == ["tile_10", "tile_2"]
    for tile in tiles:
        rgb, mask = expected[tile.name]
        assert tile.image.shape == (3, 8, 8) and tile.image.dtype == np.uint8
        assert np.array_equal(tile.image, rgb.transpose(2, 0, 1))
        assert np.array_equal(tile.mask, mask)


def test_tile_without_mask_names_the_image(tmp_path):
    _write_tile(tmp_path, "a")
    Image.fromarray(np.zeros((8, 8, 3), dtype=np.uint8)).save(tmp_path / "images" / "b.png")
    with pytest.raises(InputError, match=r"images/b.png: image has no mask"):
        read_tile_folder(tmp_path)


def test_tile_mask_with_bad_values(tmp_path):
    _write_tile(tmp_path, "a", mask_values=(0, 7))
    with pytest.raises(InputError, match=r"masks/a.png: label values must be 0/1 or 0/255"):
        read_tile_folder(tmp_path)
