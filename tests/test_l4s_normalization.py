"""Band statistics and separated versus joint normalization."""

import numpy as np
import pytest

from landslides.errors import InputError
from landslides.l4s.normalization import (
    band_stats,
    joint_normalize,
    normalize,
    separated_normalize,
    source_normalize,
)


def _images(seed: int, n: int, offset: float, gain: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (offset + gain * rng.standard_normal((n, 3, 8, 8))).astype(np.float32)


def test_band_stats_equals_numpy_float64():
    images = _images(0, 5, offset=1000.0, gain=0.01)  # large offset: naive sum of squares would cancel
    mean, std = band_stats(images)
    as64 = images.astype(np.float64)
    np.testing.assert_allclose(mean, as64.mean(axis=(0, 2, 3)), rtol=1e-14)
    np.testing.assert_allclose(std, as64.std(axis=(0, 2, 3)), rtol=1e-10)
    assert mean.dtype == np.float64 and std.dtype == np.float64


def test_separated_gives_each_domain_zero_mean_unit_std():
    source, target = _images(1, 4, 1.0, 0.3), _images(2, 3, 1.5, 0.6)
    s, t = separated_normalize(source, target)
    for x in (s, t):
        mean, std = band_stats(x)
        np.testing.assert_allclose(mean, 0.0, atol=1e-5)
        np.testing.assert_allclose(std, 1.0, atol=1e-5)
        assert x.dtype == np.float32


def test_joint_uses_statistics_of_the_union():
    source, target = _images(1, 4, 1.0, 0.3), _images(2, 3, 1.5, 0.6)
    s, t = joint_normalize(source, target)
    mean, std = band_stats(np.concatenate([source, target]))
    np.testing.assert_allclose(s, normalize(source, mean, std), atol=1e-5)
    np.testing.assert_allclose(t, normalize(target, mean, std), atol=1e-5)
    # The domain shift survives joint normalization: the target mean stays clearly positive.
    assert band_stats(t)[0].min() > 0.3


def test_source_normalize_uses_source_statistics_for_both():
    source, target = _images(1, 4, 1.0, 0.3), _images(2, 3, 1.5, 0.6)
    s, t = source_normalize(source, target)
    mean, std = band_stats(source)
    np.testing.assert_allclose(t, normalize(target, mean, std), atol=1e-6)


def test_constant_band_is_not_divided_by_zero():
    images = np.ones((2, 2, 4, 4), dtype=np.float32)
    out = normalize(images, *band_stats(images))
    assert np.isfinite(out).all() and np.all(out == 0.0)


def test_wrong_rank_is_input_error():
    with pytest.raises(InputError, match="expected \\(N, C, H, W\\)"):
        band_stats(np.zeros((3, 8, 8)))
