"""Reader for the Landslide4Sense layout: real sample patches and broken files."""

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from landslides.errors import InputError
from landslides.l4s.dataset import BAND_NAMES, list_patches, read_folder, read_image, read_split

# Four real patches travel with the repository (provenance in their README), so these tests always run.
SAMPLES = Path(__file__).resolve().parents[1] / "data" / "landslide4sense-samples"


def _write(path: Path, name: str, data: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as h5:
        h5.create_dataset(name, data=data)


def _image(value: float = 1.0, shape=(128, 128, 14)) -> np.ndarray:
    return np.full(shape, value, dtype=np.float64)


def test_real_samples_read_channels_first_float32():
    split = read_folder(SAMPLES / "img")
    assert split.ids == [31, 37, 39, 55]  # numeric order
    assert split.images.shape == (4, 14, 128, 128)
    assert split.images.dtype == np.float32
    assert split.masks is None
    assert np.isfinite(split.images).all()
    assert len(BAND_NAMES) == 14 and BAND_NAMES[7] == "B8" and BAND_NAMES[-2:] == ("slope", "dem")
    # Documented range (README): released scale, typically 0-7, B10 outliers up to about 50.
    assert split.images.min() >= 0.0
    assert split.images.max() < 60.0
    assert np.percentile(np.delete(split.images, 9, axis=1), 99) < 7.5
    np.testing.assert_array_equal(read_image(SAMPLES / "img" / "image_37.h5"), split.images[1])


def test_split_layout_sorted_numerically(tmp_path):
    for n in (10, 2, 1):
        _write(tmp_path / "TrainData" / "img" / f"image_{n}.h5", "img", _image(n))
        _write(tmp_path / "TrainData" / "mask" / f"mask_{n}.h5", "mask", np.zeros((128, 128), np.uint8))
    assert list_patches(tmp_path, "train") == [1, 2, 10]
    split = read_split(tmp_path, "train", require_masks=True)
    assert split.ids == [1, 2, 10]
    assert split.images[:, 0, 0, 0].tolist() == [1.0, 2.0, 10.0]
    assert split.masks.shape == (3, 128, 128) and split.masks.dtype == np.uint8


def test_split_without_masks(tmp_path, caplog):
    _write(tmp_path / "TestData" / "img" / "image_1.h5", "img", _image())
    with pytest.raises(InputError, match="has no masks"):
        read_split(tmp_path, "test", require_masks=True)
    split = read_split(tmp_path, "test", require_masks=False)
    assert split.masks is None and split.images.shape == (1, 14, 128, 128)
    assert "no masks" in caplog.text


def test_missing_mask_for_one_image(tmp_path):
    for n in (1, 2):
        _write(tmp_path / "ValidData" / "img" / f"image_{n}.h5", "img", _image())
    _write(tmp_path / "ValidData" / "mask" / "mask_1.h5", "mask", np.zeros((128, 128), np.uint8))
    with pytest.raises(InputError, match="mask_2.h5"):
        read_split(tmp_path, "val", require_masks=True)


def test_unknown_split(tmp_path):
    with pytest.raises(InputError, match="unknown Landslide4Sense split"):
        list_patches(tmp_path, "holdout")


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def test_truncated_file_names_the_file(tmp_path):
    good = tmp_path / "good" / "image_1.h5"
    _write(good, "img", _image())
    bad = tmp_path / "image_7.h5"
    shutil.copy(good, bad)
    with open(bad, "r+b") as f:
        f.truncate(bad.stat().st_size // 2)
    with pytest.raises(InputError) as err:
        read_image(bad)
    assert str(bad) in _one_line(err)


def test_missing_dataset_wrong_shape_nan(tmp_path):
    cases = {
        "image_1.h5": ("image", _image(), "missing dataset 'img'"),
        "image_2.h5": ("img", _image(shape=(128, 128, 13)), "shape"),
        "image_3.h5": ("img", _image(shape=(14, 128, 128)), "shape"),
        "image_4.h5": ("img", np.ones((128, 128, 14), np.int16), "dtype"),
    }
    nan_image = _image()
    nan_image[5, 6, 3] = np.nan
    cases["image_5.h5"] = ("img", nan_image, "NaN")
    for name, (dataset, data, problem) in cases.items():
        path = tmp_path / name
        _write(path, dataset, data)
        with pytest.raises(InputError, match=problem) as err:
            read_image(path)
        assert str(path) in _one_line(err)


def test_mask_values_checked(tmp_path):
    _write(tmp_path / "TrainData" / "img" / "image_1.h5", "img", _image())
    bad_mask = np.zeros((128, 128), np.uint8)
    bad_mask[0, 0] = 3
    _write(tmp_path / "TrainData" / "mask" / "mask_1.h5", "mask", bad_mask)
    with pytest.raises(InputError, match="mask_1.h5: mask has values other than 0 and 1"):
        read_split(tmp_path, "train", require_masks=True)
