"""The non-learned detectors of the signal report (landslides/sar/signal.py) on tiny cubes."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from landslides.sar import signal


def tiny_cube(pre_db: float, post_db: float, slide_db: float) -> xr.Dataset:
    """Two descending and one ascending acquisition each side of the event; a 4 x 4 slide whose VH falls."""
    times = pd.to_datetime(["2018-08-20", "2018-08-26", "2018-08-27", "2018-09-07", "2018-09-13",
                            "2018-09-14", "2018-10-30", "2018-11-05"])
    states = np.array(["d", "d", "a", "d", "d", "a", "d", "d"])
    vh = np.full((len(times), 10, 10), pre_db, np.float32)
    after = times >= pd.Timestamp("2018-09-07")
    vh[after] = post_db
    vh[np.ix_(after, range(3, 7), range(3, 7))] = post_db + slide_db
    # Late acquisitions, outside the 15 days after the event, that a stack detector must not read.
    vh[-2:] = pre_db + 20.0
    labels = np.zeros((10, 10), np.uint8)
    labels[3:7, 3:7] = 1
    return xr.Dataset(
        {"vh": (("timestep", "y", "x"), 10 ** (vh / 10)), "landslides": (("y", "x"), labels)},
        coords={"timestep": times, "sat:orbit_state": ("timestep", states)})


def test_stack_change_is_the_median_change_within_the_post_window():
    cube = tiny_cube(-13.0, -12.0, -4.0)
    change = signal.stack_change_db(cube, ("20180905", "20180907"))
    assert change[0, 0] == pytest.approx(1.0, abs=1e-4)  # the scene's own change, both orbits
    assert change[4, 4] == pytest.approx(-3.0, abs=1e-4)  # the slide: -4 dB on top of it
    assert signal.stack_change_db(cube, ("20180905", "20180907"), post_days=60)[0, 0] > 5.0  # the late ones


def test_stack_change_needs_an_orbit_with_both_sides():
    cube = tiny_cube(-13.0, -12.0, -4.0)
    with pytest.raises(ValueError, match="no orbit direction"):
        signal.stack_change_db(cube, ("20180905", "20181201"))


def test_percentile_detection_flags_the_strongest_decrease():
    cube = tiny_cube(-13.0, -13.0, -4.0)
    change = signal.stack_change_db(cube, ("20180905", "20180907"))
    change += np.random.default_rng(0).normal(0, 0.1, change.shape).astype(np.float32)
    labels = cube["landslides"].values > 0
    mask = np.ones_like(labels)
    out = signal.percentile_detection(change, labels, mask, percentile=84.0)  # 16 of 100 pixels flagged
    assert out["precision"] == pytest.approx(1.0) and out["recall"] == pytest.approx(1.0)
    assert out["auprc"] == pytest.approx(1.0) and out["no_skill"] == pytest.approx(0.16)
    masked = signal.percentile_detection(change, labels, mask & ~labels, percentile=84.0)
    assert masked["recall"] == 0.0 and masked["precision"] == 0.0  # nothing to find outside the mask


def test_percentile_detection_names_an_empty_mask():
    change = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="no pixel"):
        signal.percentile_detection(change, change > 0, np.zeros((4, 4), bool))
