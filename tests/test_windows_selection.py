"""Issue #32: blended windows leave no seams in a map; the anomaly threshold reads landslide-free patches
only; model selection never keeps a constant predictor over a model that is not one."""

import math

import numpy as np
import torch

from landslides.predict import covering_starts, predict_area, window_taper
from landslides.studies.ridgei.data import Patches
from landslides.studies.ridgei.train import landslide_free_errors
from landslides.train import _better, constant_prediction


def _seamy(batch, first_index):
    """A scorer whose every window is 1 inside and 10 on its border ring, like a network's edge error."""
    scores = torch.ones(batch.shape[0], batch.shape[-2], batch.shape[-1])
    scores[:, [0, -1], :] = 10.0
    scores[:, :, [0, -1]] = 10.0
    return scores


def test_covering_starts_with_a_step():
    assert covering_starts(100, 32, 16) == [0, 16, 32, 48, 64, 68]
    assert covering_starts(64, 32) == [0, 32]


def test_blended_windows_of_a_constant_score_give_that_constant_everywhere():
    image = np.zeros((3, 50, 70), np.float32)
    out = predict_area(lambda b, f: torch.full((b.shape[0], 16, 16), 3.0), image, 16, overlap=True)
    np.testing.assert_allclose(out, 3.0, rtol=1e-6)


def test_blended_windows_leave_no_seam():
    image = np.zeros((3, 64, 64), np.float32)
    side_by_side = predict_area(_seamy, image, 16)
    blended = predict_area(_seamy, image, 16, overlap=True)
    inner = (slice(8, 56), slice(8, 56))  # away from the raster's own border, which only border windows see
    assert side_by_side[inner].max() == 10.0  # the window grid: rows and columns 15, 16, 31, 32, ...
    # The seam's excess over the interior drops to an eighth (1.09 of 9 here), and the interior stays 1.
    assert blended[inner].max() - 1.0 < 0.15 * (side_by_side[inner].max() - 1.0)
    assert np.median(blended[inner]) == 1.0
    assert window_taper(16).min() > 0  # a pixel only one window sees keeps that window's score


def test_threshold_errors_come_from_landslide_free_patches_only():
    maps = [np.arange(16, dtype=np.float32).reshape(4, 4)]
    labels = np.zeros((4, 2, 2), np.uint8)
    labels[3, 0, 0] = 1  # the bottom-right patch holds a landslide pixel
    cut = Patches(images=np.zeros((4, 3, 2, 2), np.float32), labels=labels, area=np.zeros(4, int),
                  rows=np.array([0, 0, 2, 2]), cols=np.array([0, 2, 0, 2]))
    values = landslide_free_errors(maps, cut)
    assert sorted(values.tolist()) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13]


def _metrics(recall, fpr, precision):
    return {"recall": recall, "fpr": fpr, "precision": precision, "f1": 0.0}


def test_constant_predictors_are_recognized():
    assert constant_prediction(_metrics(1.0, 1.0, 0.08))  # every sample called landslide
    assert constant_prediction(_metrics(0.0, 0.0, math.nan))  # none
    assert not constant_prediction(_metrics(0.6, 0.2, 0.3))
    assert not constant_prediction({"mse": 0.1, "neg_mse": -0.1})  # a denoiser's metrics


def test_selection_prefers_a_real_model_over_a_constant_one_with_a_higher_score():
    # The case: epoch 0 calls every patch landslide (F1 0.15), a later epoch learns (F1 0.12).
    best = {"epoch": 0, "score": 0.15, "constant": True}
    assert _better(0.12, False, best)
    assert not _better(0.99, True, {"epoch": 1, "score": 0.12, "constant": False})
    assert _better(0.2, True, best) and not _better(0.1, True, best)  # all constant: the score decides
    assert _better(0.0, True, {"epoch": -1, "score": -math.inf})  # the first epoch always counts
    assert _better(0.3, False, {"epoch": 2, "score": 0.2})  # a checkpoint without the flag
