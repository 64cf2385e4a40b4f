"""The time estimate printed before a ridgei job trains (issue #32): training pixels x epochs x a rate."""

import io
import sys

import numpy as np
from affine import Affine

from landslides import jobs
from landslides.studies.ridgei import train as ridgei_train
from landslides.studies.ridgei.data import Area, SceneParts


def _parts(*shapes):
    areas = [Area(np.zeros((3, *shape), np.uint8), np.zeros(shape, np.uint8), Affine.identity()) for shape in shapes]
    return SceneParts(train=areas, val=areas, test=areas, crs=None, resolution_m=1.0)


CFG = {"patch_size": 64, "train_stride": None, "encoder": "resnet18", "encoder_depth": 3, "training": {"epochs": 5}}


def test_training_pixels_count_whole_patches_only():
    # 700 x 600 at 64: 10 x 9 patches; 100 x 100: 1 patch; with stride 32, 700 x 600 gives 20 x 17.
    areas = _parts((700, 600), (100, 100)).train
    assert ridgei_train.training_megapixels(areas, 64, None) == (90 + 1) * 64 * 64 / 1e6
    assert ridgei_train.training_megapixels(areas[:1], 64, 32) == 20 * 17 * 64 * 64 / 1e6


def test_estimate_is_pixels_times_epochs_times_rate(monkeypatch):
    monkeypatch.setitem(ridgei_train.RATES_S_PER_MPX_EPOCH, ("deeplab resnet18", "cpu"), 30.0)
    parts = _parts((1024, 1024))  # 256 patches of 64 x 64: 1.05 Mpx
    line = ridgei_train.time_estimate("deeplab", CFG, parts, "cpu")
    # 1.048576 Mpx x 5 epochs x 30 s = 157 s
    assert line.startswith("ridgei deeplab: about 3 min to train (1.05 Mpx of training patches x 5 epoch(s) x 30 s")


def test_setup_without_a_rate_says_so():
    line = ridgei_train.time_estimate("deeplab", {**CFG, "encoder": "resnet101"}, _parts((128, 128)), "cuda")
    assert "no measured rate for deeplab resnet101 on cuda" in line


def test_announce_reaches_the_log_and_the_terminal(monkeypatch):
    log, terminal = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr(sys, "__stderr__", terminal)
    jobs.announce("about 3 min")
    assert log.getvalue() == terminal.getvalue() == "about 3 min\n"
