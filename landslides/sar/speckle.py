"""Speckle of a Sentinel-1 IW GRD-HR product resampled to 10 m pixels: gamma distributed and spatially correlated.

A GRD-HR pixel is not an independent look at the ground: the product has a resolution of about 20 m in
range and 22 m in azimuth and is sampled every 10 m, so neighbouring pixels share most of their
scatterers and their speckle is correlated. Within one pixel, intensity speckle is the average of
`looks` independent exponential looks (gamma distributed, mean 1, variance 1/looks).

The field is made the way the processor makes it: independent intensity samples averaged over the
resolution cell. A Gaussian kernel whose full width at half maximum is the resolution (in pixels)
averages a white gamma field whose shape is chosen so that the average has the requested number of
looks: the sum of gammas of one scale is gamma, and averaging with weights k multiplies the shape by
1 / sum(k^2). The intensity correlation between pixels is then the kernel's autocorrelation:
exp(-d^2 / (4 sigma^2)) at lag d.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

SPACING_M = 10.0  # pixel spacing of the cubes
# Sentinel-1 IW GRD-HR: resolution range x azimuth 20 x 22 m, pixel spacing 10 m (docs/sources.md).
RESOLUTION_M = (22.0, 20.0)  # (azimuth ~ rows: the orbits run about north-south, range ~ columns)
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def kernel_sigma_px(resolution_m: tuple[float, float] = RESOLUTION_M,
                    spacing_m: float = SPACING_M) -> tuple[float, float]:
    """Gaussian sigma (rows, cols) in pixels whose full width at half maximum is the resolution."""
    return tuple(r / spacing_m / FWHM_PER_SIGMA for r in resolution_m)


def kernel_energy(sigma_px: tuple[float, float]) -> float:
    """sum(k^2) of the discrete, normalized kernel: the factor by which averaging divides the variance."""
    size = 2 * int(np.ceil(4 * max(sigma_px))) + 1
    delta = np.zeros((size, size))
    delta[size // 2, size // 2] = 1.0
    return float((gaussian_filter(delta, sigma_px, mode="constant") ** 2).sum())


def expected_correlation(lag_px: int, axis: int, sigma_px: tuple[float, float]) -> float:
    """Correlation of intensity speckle between pixels `lag_px` apart along `axis` (0 rows, 1 cols)."""
    return float(np.exp(-(lag_px**2) / (4.0 * sigma_px[axis] ** 2)))


def correlated_speckle(rng: np.random.Generator, shape: tuple[int, int], looks: float,
                       sigma_px: tuple[float, float] | None = None) -> np.ndarray:
    """Multiplicative intensity speckle (mean 1, `looks` equivalent looks per pixel), correlated in space."""
    sigma_px = kernel_sigma_px() if sigma_px is None else sigma_px
    shape_parameter = looks * kernel_energy(sigma_px)
    white = rng.standard_gamma(shape_parameter, size=shape, dtype=np.float32) / np.float32(shape_parameter)
    # "wrap" keeps the statistics the same at the edges (no half-empty kernels).
    return gaussian_filter(white, sigma_px, mode="wrap").astype(np.float32)


def lag_correlation(field: np.ndarray, lag_px: int, axis: int) -> float:
    """Measured correlation of a field with itself shifted by `lag_px` along `axis`."""
    a = np.moveaxis(field, axis, 0)
    x, y = a[:-lag_px].ravel(), a[lag_px:].ravel()
    return float(np.corrcoef(x, y)[0, 1])
