"""Random fields and shading used by the synthetic scene: fractal noise, slope and hillshade.

Plain numpy, and scipy.fft in single precision on all cores for the fields.
"""

import numpy as np
import scipy.fft


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
    Single precision throughout (a float32 field needs no more), so an 8192 x 8192 field takes about
    a second and 0.8 GB at its peak.
    """
    height, width = shape
    fy = np.fft.fftfreq(height).astype(np.float32)[:, None]
    fx = np.fft.rfftfreq(width).astype(np.float32)[None, :]
    freq = np.hypot(fy, fx)
    freq[0, 0] = np.inf  # drop the mean; it is set by the caller
    amplitude = freq ** np.float32(-beta / 2.0)
    amplitude[freq > 1.0 / min_wavelength_px] = 0.0
    if max_wavelength_px is not None:
        amplitude[freq < 1.0 / max_wavelength_px] = 0.0
    del freq
    spectrum_shape = (height, width // 2 + 1)
    white = np.empty(spectrum_shape, np.complex64)
    white.real = rng.standard_normal(spectrum_shape, dtype=np.float32)
    white.imag = rng.standard_normal(spectrum_shape, dtype=np.float32)
    white *= amplitude
    del amplitude
    field = scipy.fft.irfft2(white, s=shape, overwrite_x=True, workers=-1)
    field -= field.mean(dtype=np.float64)
    std = field.std(dtype=np.float64)
    if std > 0:
        field /= np.float32(std)
    return field.astype(np.float32, copy=False)


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
