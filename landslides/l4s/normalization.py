"""Per-band normalization for the refine study: separated (per domain) versus joint statistics.

Zhao et al. normalize the source (train) images with the train statistics and the target (val/test)
images with the target statistics ("separated normalization"), so that a per-band offset or gain between
domains is removed before the network sees the data. Joint normalization (one set of statistics for
both) is the usual baseline. See docs/normalization.md for the numbers.
"""

from dataclasses import dataclass

import numpy as np

from landslides.errors import InputError


@dataclass(frozen=True)
class BandStats:
    """Per-band mean and (population) std in float64, plus the pixel count per band they came from."""

    mean: np.ndarray
    std: np.ndarray
    count: int


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4:
        raise InputError(f"images: expected (N, C, H, W), got shape {images.shape}")
    if images.shape[0] == 0:
        raise InputError("images: no patches to compute band statistics from")


def compute_band_stats(images: np.ndarray) -> BandStats:
    """Exact two-pass mean/std per channel of (N, C, H, W) images.

    Accumulates in float64 one patch at a time, so the whole array is never copied to float64
    (the real train split is ~3.5 GB as float32); two passes avoid the cancellation of sum-of-squares.
    """
    _check_images(images)
    n, c = images.shape[:2]
    count = n * images.shape[2] * images.shape[3]
    total = np.zeros(c, dtype=np.float64)
    for patch in images:
        total += patch.sum(axis=(1, 2), dtype=np.float64)
    mean = total / count
    squares = np.zeros(c, dtype=np.float64)
    for patch in images:
        squares += ((patch.astype(np.float64) - mean[:, None, None]) ** 2).sum(axis=(1, 2))
    return BandStats(mean=mean, std=np.sqrt(squares / count), count=count)


def band_stats(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-band (mean[C], std[C]) in float64 of (N, C, H, W) images; std is the population std (ddof=0)."""
    stats = compute_band_stats(images)
    return stats.mean, stats.std


def pooled_stats(a: BandStats, b: BandStats) -> BandStats:
    """Statistics of the union of two pixel sets from theirs (no concatenation needed)."""
    count = a.count + b.count
    mean = (a.count * a.mean + b.count * b.mean) / count
    # Total sum of squared deviations = within-set parts + between-set parts.
    ssd = a.count * (a.std**2 + (a.mean - mean) ** 2) + b.count * (b.std**2 + (b.mean - mean) ** 2)
    return BandStats(mean=mean, std=np.sqrt(ssd / count), count=count)


def normalize(images: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(images - mean) / std per channel, as float32 (N, C, H, W)."""
    _check_images(images)
    # A constant band (std 0, e.g. a flat DEM in a tiny set) would divide by zero: leave it unscaled.
    safe_std = np.where(std > 0, std, 1.0)
    out = images.astype(np.float32, copy=True)
    out -= mean.astype(np.float32)[None, :, None, None]
    out /= safe_std.astype(np.float32)[None, :, None, None]
    return out


def separated_normalize(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Source normalized with source statistics, target with target statistics (Zhao et al.)."""
    s_mean, s_std = band_stats(source)
    t_mean, t_std = band_stats(target)
    return normalize(source, s_mean, s_std), normalize(target, t_mean, t_std)


def joint_normalize(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets normalized with the statistics of their union (the usual single-normalization baseline)."""
    joint = pooled_stats(compute_band_stats(source), compute_band_stats(target))
    return normalize(source, joint.mean, joint.std), normalize(target, joint.mean, joint.std)


def source_normalize(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both sets normalized with the source (train) statistics: what a model trained once and then
    applied to new data does, and the official baseline's setting."""
    s_mean, s_std = band_stats(source)
    return normalize(source, s_mean, s_std), normalize(target, s_mean, s_std)
