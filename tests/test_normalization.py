"""Normalization statistics and the refine study's per-domain modes (source, joint, separated)."""

import numpy as np
import pytest

from landslides.errors import InputError
from landslides.normalization import ChannelStats, band_stats, domain_stats, fit_channel_stats, normalize


def _normalized(mode, source, target):
    stats = domain_stats(mode, {"train": source, "val": target, "test": target})
    return normalize(source, stats["train"]), normalize(target, stats["val"])


def _images(seed: int, n: int, offset: float, gain: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (offset + gain * rng.standard_normal((n, 3, 8, 8))).astype(np.float32)


def test_band_stats_equals_numpy_float64():
    images = _images(0, 5, offset=1000.0, gain=0.01)  # large offset: naive sum of squares would cancel
    stats = band_stats(images)
    mean, std = stats.mean, stats.std
    as64 = images.astype(np.float64)
    np.testing.assert_allclose(mean, as64.mean(axis=(0, 2, 3)), rtol=1e-14)
    np.testing.assert_allclose(std, as64.std(axis=(0, 2, 3)), rtol=1e-10)
    assert mean.dtype == np.float64 and std.dtype == np.float64


def test_separated_gives_each_domain_zero_mean_unit_std():
    source, target = _images(1, 4, 1.0, 0.3), _images(2, 3, 1.5, 0.6)
    s, t = _normalized("separated", source, target)
    for x in (s, t):
        stats = band_stats(x)
        np.testing.assert_allclose(stats.mean, 0.0, atol=1e-5)
        np.testing.assert_allclose(stats.std, 1.0, atol=1e-5)
        assert x.dtype == np.float32


def test_joint_uses_statistics_of_the_union():
    source, target = _images(1, 4, 1.0, 0.3), _images(2, 3, 1.5, 0.6)
    # val and test are the same target set here, so the union is source + target + target.
    s, t = _normalized("joint", source, target)
    union = band_stats(np.concatenate([source, target, target]))
    np.testing.assert_allclose(s, normalize(source, union), atol=1e-5)
    np.testing.assert_allclose(t, normalize(target, union), atol=1e-5)
    # The domain shift survives joint normalization: the target mean stays clearly positive.
    assert band_stats(t).mean.min() > 0.3


def test_source_normalize_uses_source_statistics_for_both():
    source, target = _images(1, 4, 1.0, 0.3), _images(2, 3, 1.5, 0.6)
    s, t = _normalized("source", source, target)
    np.testing.assert_allclose(t, normalize(target, band_stats(source)), atol=1e-6)


def test_constant_band_is_not_divided_by_zero():
    images = np.ones((2, 2, 4, 4), dtype=np.float32)
    out = normalize(images, band_stats(images))
    assert np.isfinite(out).all() and np.all(out == 0.0)


def test_wrong_rank_is_input_error():
    with pytest.raises(InputError, match="expected \\(N, C, H, W\\)"):
        band_stats(np.zeros((3, 8, 8)))


def test_unknown_mode_is_input_error():
    with pytest.raises(InputError, match="unknown normalization mode 'per_patch'"):
        domain_stats("per_patch", {"train": _images(0, 2, 0.0, 1.0)})


def test_masked_statistics_ignore_invalid_pixels_and_round_trip():
    images = _images(3, 2, 5.0, 2.0)
    valid = np.ones((2, 8, 8), bool)
    valid[:, :2] = False
    images[:, :, :2] = 1e6  # invalid pixels hold garbage that must not move the statistics
    stats = fit_channel_stats(images, ["a", "b", "c"], valid)
    expected = images.transpose(1, 0, 2, 3)[:, valid].mean(axis=1, dtype=np.float64)
    np.testing.assert_allclose(stats.mean, expected, rtol=1e-10)
    assert stats.count == valid.sum()
    again = ChannelStats.from_dict(stats.to_dict())
    np.testing.assert_array_equal(normalize(images, again, valid), normalize(images, stats, valid))


def test_no_valid_pixel_is_input_error():
    with pytest.raises(InputError, match="no valid pixel"):
        fit_channel_stats(_images(0, 1, 0.0, 1.0), ["a", "b", "c"], np.zeros((1, 8, 8), bool))
