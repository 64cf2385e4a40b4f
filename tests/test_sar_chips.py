"""Chip store: means, orbit filters, chips and splits on a hand-made cube; schema on a synthetic one."""

import warnings

import numpy as np
import pytest

from landslides.errors import InputError
from landslides.sar.chips import build_chip_store, chip_table, open_chip_store, write_chip_store
from landslides.sar.validate import open_datacube

EVENT = ("20200104", "20200105")  # timesteps 0-3 are pre-event, 4-7 post-event
SAR = ["vv_before", "vv_after", "vh_before", "vh_after"]


def build(cube, **kw):
    kw = {"name": "hand", "event_date": EVENT, "n_looks_before": 2, "n_looks_after": 2, "chip_size": 32,
          "channels": SAR, **kw}
    return build_chip_store(cube, **kw)


def channel_value(store, channel):
    """The value of a channel at a pixel that is valid and not the NaN one (constant by construction)."""
    return float(store["image"].sel(channel=channel).isel(chip=0, y=20, x=20))


def test_before_after_means_descending(hand_cube):
    store = build(hand_cube)  # descending: pre 0,2,3 and post 5,6,7
    assert channel_value(store, "vv_before") == pytest.approx(2.5)
    assert channel_value(store, "vv_after") == pytest.approx(5.5)
    assert channel_value(store, "vh_before") == pytest.approx(12.5)
    assert channel_value(store, "vh_after") == pytest.approx(15.5)
    assert store.attrs["dates_before"] == ["20200103", "20200104"]


def test_skip_last_pre_quirk_averages_earlier_acquisitions(hand_cube):
    store = build(hand_cube, skip_last_pre=True)  # isel(range(-1-L, -1)) of 0,2,3 -> 0,2
    assert channel_value(store, "vv_before") == pytest.approx(1.0)
    assert channel_value(store, "vv_after") == pytest.approx(5.5)


def test_orbit_filters(hand_cube):
    assert channel_value(build(hand_cube, orbit=None), "vv_after") == pytest.approx(4.5)
    ascending = build(hand_cube, orbit="a", n_looks_before=1, n_looks_after=1)
    assert channel_value(ascending, "vv_before") == pytest.approx(1.0)
    assert channel_value(ascending, "vv_after") == pytest.approx(4.0)
    explicit = build(hand_cube, orbit=list("aaadaada"), keep_orbit="d", n_looks_before=1, n_looks_after=1)
    assert channel_value(explicit, "vv_before") == pytest.approx(3.0)
    assert channel_value(explicit, "vv_after") == pytest.approx(6.0)


def test_bad_requests_raise_input_error(hand_cube):
    with pytest.raises(InputError, match="hand.*acquisitions"):
        build(hand_cube, orbit="a")
    with pytest.raises(InputError, match="hand.*7 entries"):
        build(hand_cube, orbit=list("ddddddd"))
    with pytest.raises(InputError, match="hand.*unknown channels"):
        build(hand_cube, channels=["vv_before", "ndvi"])


def test_chips_labels_splits_and_nan(hand_cube):
    store = build(hand_cube)
    assert store.sizes["chip"] == 3  # the bottom-right chip lies outside the extraction mask
    # The authors' (xbatcher's) order: x outer, so the left column's chips come first.
    assert list(zip(store["row"].values, store["col"].values, strict=True)) == [(0, 0), (32, 0), (0, 32)]
    np.testing.assert_allclose(store["landslide_fraction"], [128 / 1024, 0.0, 1 / 1024])
    assert store["has_landslide"].values.tolist() == [True, False, True]
    positive = store["split_positive"].values.tolist()
    assert sorted(positive) == ["", "test", "train"]  # 2 positives: int(1.4)=1 train, int(0.4)=0 val, 1 test
    assert sorted(store["split_all"].values.tolist()) == ["test", "train", "train"]
    assert store["split_positive"].values[1] == ""
    # NaN -> 0 in the image and invalid in the mask.
    assert float(store["image"].sel(channel="vv_before")[0, 5, 5]) == 0.0
    assert store["valid"].values[0, 5, 5] == 0 and store["valid"].values[0, 5, 6] == 1
    assert store["label"].dtype == np.uint8 and store["image"].dtype == np.float32
    np.testing.assert_allclose(store["whole_mean"].sel(channel="vv_before"), 2.5, rtol=1e-6)
    np.testing.assert_allclose(store["whole_std"].sel(channel="vv_before"), 0.0, atol=1e-5)


def test_chip_transform_maps_first_pixel_to_cube_coordinates(hand_cube):
    store = build(hand_cube)
    for k in range(store.sizes["chip"]):
        x0, dx, _, y0, _, dy = store["transform"].values[k]
        row, col = int(store["row"][k]), int(store["col"][k])
        # GDAL affine: the centre of pixel (0, 0) is at (0.5, 0.5).
        assert x0 + 0.5 * dx == pytest.approx(float(hand_cube["x"][col]))
        assert y0 + 0.5 * dy == pytest.approx(float(hand_cube["y"][row]))


def test_store_from_synthetic_cube_round_trip(tiny_cube_path, tiny_cube_event, tmp_path):
    cube = open_datacube(tiny_cube_path, event_date=tiny_cube_event)
    store = build_chip_store(cube, name="hokkaido", event_date=tiny_cube_event, chip_size=32)
    assert store["image"].dims == ("chip", "channel", "y", "x")
    assert store["channel"].values.tolist() == ["vv_before", "vv_after", "vh_before", "vh_after",
                                                "dem_aspect", "dem_slope_radians", "dem_curvature"]
    assert "UTM zone 54N" in store.attrs["crs"]
    assert np.isfinite(store["image"].values).all()
    path = tmp_path / "chips.zarr"
    write_chip_store(store, path)
    reopened = open_chip_store(path)
    np.testing.assert_array_equal(reopened["image"].values, store["image"].values)
    table = chip_table(reopened)
    assert list(table.columns) == ["id", "row", "col", "landslide_fraction", "has_landslide",
                                   "split_positive", "split_all"]
    assert len(table) == store.sizes["chip"]
    assert set(table["split_all"]) <= {"train", "val", "test"}
    assert not list(tmp_path.glob("*.tmp-*"))


def test_open_chip_store_errors(tmp_path, hand_cube):
    with pytest.raises(InputError, match="missing.zarr.*does not exist"):
        open_chip_store(tmp_path / "missing.zarr")
    path = tmp_path / "chips.zarr"
    write_chip_store(build(hand_cube), path)
    (path / "label" / ".zarray").unlink()
    (path / ".zmetadata").unlink()
    # zarr and xarray warn about the broken metadata on the way to the error that is tested here.
    with pytest.raises(InputError, match="chips.zarr"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        open_chip_store(path)
