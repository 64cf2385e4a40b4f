"""Random fields and shading used by the synthetic scene: fractal noise, slope and hillshade.

Everything here is plain numpy so that a 2048x2048 field costs a fraction of a second.
"""

import numpy as np


def fractal_noise(
    shape: tuple[int, int],
    rng: np.random.Generator,
    *,
    beta: float,
    min_wavelength_px: float = 2.0,
    max_wavelength_px: float | None = None,
) -> np.ndarray:
    """Gaussian random field with power spectrum ~ f**-beta, zero mean and unit standard deviation.

    Built by shaping white noise in the Fourier domain: beta ~ 3.5 gives terrain-like relief,
    beta ~ 1-2 gives the patchy texture of canopy or soil. The wavelength limits band-pass the
    field so that, for example, tree crowns appear at their physical size whatever the scene size.
    """
    height, width = shape
    fy = np.fft.fftfreq(height)[:, None]
    fx = np.fft.rfftfreq(width)[None, :]
    freq = np.hypot(fy, fx)
    freq[0, 0] = np.inf  # drop the mean; it is set by the caller
    amplitude = freq ** (-beta / 2.0)
    amplitude[freq > 1.0 / min_wavelength_px] = 0.0
    if max_wavelength_px is not None:
        amplitude[freq < 1.0 / max_wavelength_px] = 0.0
    spectrum_shape = (height, width // 2 + 1)
    white = rng.standard_normal(spectrum_shape) + 1j * rng.standard_normal(spectrum_shape)
    field = np.fft.irfft2(white * amplitude, s=shape)
    field -= field.mean()
    std = field.std()
    if std > 0:
        field /= std
    return field.astype(np.float32)


def surface_gradient(elevation_m: np.ndarray, resolution_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (dz/d_east, dz/d_north) in metres per metre; rows run southwards, hence the sign flip."""
    dz_drow, dz_dcol = np.gradient(elevation_m, resolution_m)
    return dz_dcol.astype(np.float32), (-dz_drow).astype(np.float32)


def slope_degrees(elevation_m: np.ndarray, resolution_m: float) -> np.ndarray:
    """Terrain slope in degrees."""
    d_east, d_north = surface_gradient(elevation_m, resolution_m)
    return np.degrees(np.arctan(np.hypot(d_east, d_north))).astype(np.float32)


def hillshade(
    elevation_m: np.ndarray, resolution_m: float, *, azimuth_deg: float, elevation_deg: float
) -> np.ndarray:
    """Lambertian illumination in [0, 1] for a sun at the given azimuth (clockwise from north)."""
    d_east, d_north = surface_gradient(elevation_m, resolution_m)
    norm = np.sqrt(d_east**2 + d_north**2 + 1.0)
    azimuth = np.radians(azimuth_deg)
    altitude = np.radians(elevation_deg)
    sun_east = np.sin(azimuth) * np.cos(altitude)
    sun_north = np.cos(azimuth) * np.cos(altitude)
    sun_up = np.sin(altitude)
    # Surface normal is (-dz/dE, -dz/dN, 1) / norm.
    shade = (-d_east * sun_east - d_north * sun_north + sun_up) / norm
    return np.clip(shade, 0.0, 1.0).astype(np.float32)
