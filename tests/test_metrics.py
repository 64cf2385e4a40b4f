import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, f1_score, jaccard_score, precision_score, recall_score

from landslides.metrics import ScoreHistogram, SegmentationMetrics, split_metrics_on_device


def _arrays(seed=0, n=20_000, ties=True):
    rng = np.random.default_rng(seed)
    prob = rng.random(n).astype(np.float32)
    if ties:
        prob = np.round(prob, 2).astype(np.float32)  # many tied scores, as saturated outputs give
    label = rng.random(n) < 0.2 + 0.6 * prob
    return prob, label


@pytest.mark.parametrize("ties", [True, False])
def test_auprc_equals_sklearn_over_batches(ties):
    prob, label = _arrays(ties=ties)
    metrics = SegmentationMetrics()
    for start in range(0, prob.size, 3001):
        metrics.update(prob[start : start + 3001], label[start : start + 3001])
    assert metrics.compute()["auprc"] == pytest.approx(average_precision_score(label, prob), abs=1e-12)


def test_threshold_metrics_equal_sklearn():
    prob, label = _arrays(seed=1)
    pred = prob >= 0.5
    metrics = SegmentationMetrics()
    metrics.update(torch.from_numpy(prob).view(2, 100, 100), torch.from_numpy(label).view(2, 100, 100))
    got = metrics.compute()
    assert got["precision"] == pytest.approx(precision_score(label, pred))
    assert got["recall"] == pytest.approx(recall_score(label, pred))
    assert got["f1"] == pytest.approx(f1_score(label, pred))
    assert got["iou"] == pytest.approx(jaccard_score(label, pred))
    assert got["miou"] == pytest.approx(jaccard_score(label, pred, average="macro"))
    fp, tn = np.sum(pred & ~label), np.sum(~pred & ~label)
    assert got["fpr"] == pytest.approx(fp / (fp + tn))
    assert got["no_skill"] == pytest.approx(label.mean())


def test_valid_mask_excludes_pixels():
    prob = np.array([0.9, 0.8, 0.1, 0.7], np.float32)
    label = np.array([1, 0, 0, 1])
    valid = np.array([1, 0, 1, 1], bool)
    metrics = SegmentationMetrics()
    metrics.update(prob, label, valid)
    got = metrics.compute()
    assert got["pixels"] == 3
    assert got["auprc"] == pytest.approx(1.0)
    assert got["precision"] == 1.0


def test_histogram_memory_is_per_distinct_value():
    hist = ScoreHistogram()
    for _ in range(5):
        hist.update(np.full(10_000, 0.25, np.float32), np.ones(10_000, bool))
    assert hist.values.size == 1 and hist.totals[0] == 50_000


def test_no_positive_gives_nan_auprc():
    metrics = SegmentationMetrics()
    metrics.update(np.array([0.2, 0.7], np.float32), np.array([0, 0]))
    assert np.isnan(metrics.compute()["auprc"])


def test_histogram_counts_equal_numpy_unique_with_nan_and_signed_zeros():
    """Distinct values and counts over several batches are np.unique's on all scores together: ties, NaN
    (one value) and -0.0 / 0.0 (one value) included; an empty batch changes nothing."""
    rng = np.random.default_rng(4)
    hist, scores, labels = ScoreHistogram(), [], []
    for n in (5000, 0, 3000, 4000):
        batch = np.round(rng.random(n), 3).astype(np.float32)
        batch[::37] = np.nan
        batch[1::41], batch[2::43] = -0.0, 0.0
        label = rng.random(n) < 0.3
        hist.update(batch, label)
        scores.append(batch)
        labels.append(label)
    scores, labels = np.concatenate(scores) + np.float32(0.0), np.concatenate(labels)
    values, totals = np.unique(scores, return_counts=True)
    positives = np.array([np.sum(labels & ((scores == v) | (np.isnan(scores) & np.isnan(v)))) for v in values])
    assert np.array_equal(hist.values, values, equal_nan=True)
    assert np.array_equal(hist.totals, totals) and np.array_equal(hist.positives, positives)


@pytest.mark.parametrize("case", ["ties", "continuous", "nan_and_signed_zeros", "no_positive", "all_positive"])
def test_split_metrics_on_device_equal_the_histogram(case):
    """GPU jobs compute validation metrics with `split_metrics_on_device` (fixed shapes, one host read); run
    here on the CPU, it gives SegmentationMetrics' values: the counts exactly, the AUPRC up to float64
    summation order, invalid pixels left out."""
    gen = torch.Generator().manual_seed(3)
    prob = torch.rand(12, 16, 16, generator=gen)
    if case != "continuous":
        prob = (prob * 20).round() / 20  # many ties
    if case == "nan_and_signed_zeros":
        prob[0, 0, :4] = float("nan")
        prob[1, 0, :4], prob[1, 1, :4] = -0.0, 0.0
    label = torch.rand(12, 16, 16, generator=gen) < 0.15
    label = {"no_positive": torch.zeros_like(label), "all_positive": torch.ones_like(label)}.get(case, label)
    valid = torch.rand(12, 16, 16, generator=gen) > 0.2
    reference = SegmentationMetrics()
    reference.update(prob, label, valid=valid)
    expected, got = reference.compute(), split_metrics_on_device(prob, label, valid)
    assert set(got) == set(expected)
    for key, value in expected.items():
        if key == "auprc" or np.isnan(value):
            assert got[key] == pytest.approx(value, rel=1e-12, nan_ok=True), key
        else:
            assert got[key] == value, key
    if case == "continuous":
        keep = valid.numpy()
        assert got["auprc"] == pytest.approx(average_precision_score(label.numpy()[keep], prob.numpy()[keep]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA: the GPU jobs' path")
def test_split_metrics_on_the_gpu_equal_the_cpu_histogram():
    gen = torch.Generator().manual_seed(4)
    prob = (torch.rand(40, 64, 64, generator=gen) * 100).round() / 100
    label, valid = torch.rand(40, 64, 64, generator=gen) < 0.1, torch.rand(40, 64, 64, generator=gen) > 0.05
    reference = SegmentationMetrics()
    reference.update(prob, label, valid=valid)
    got = split_metrics_on_device(prob.cuda(), label.cuda(), valid.cuda())
    assert got == pytest.approx(reference.compute(), rel=1e-12)
