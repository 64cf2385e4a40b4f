"""Synthetic terrain: a fractal DEM, its derivatives, a land-cover map and landslide footprints.

Everything here works on plain numpy arrays in map orientation: row 0 is the northern edge, column 0 the
western edge, and pixels are square with side `spacing` metres.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy.ndimage import gaussian_filter

log = logging.getLogger(__name__)

# Land-cover classes; the radar model in synthetic.py gives each its own backscatter.
WATER, FOREST, GRASS, BARE = 0, 1, 2, 3
# Effective resolution of the DEM: the cubes carry DEMs resampled from about 30 m products.
DEM_SMOOTH_M = 20.0


def fractal_field(rng: np.random.Generator, shape: tuple[int, int], hurst: float, corr_px: float,
                  smooth_px: float = 0.0) -> np.ndarray:
    """Zero-mean, unit-variance fractal (fBm-like) field by spectral synthesis.

    The power spectrum is (k^2 + k0^2)^-(H+1): a power law k^-(2H+2) at short wavelengths (the spectrum of
    a fractional Brownian surface with Hurst exponent H) that flattens beyond `corr_px`, so the terrain
    statistics do not depend on the size of the cube. `smooth_px` rolls the spectrum off (Gaussian) below
    that wavelength scale, as a DEM's own resolution does: without it a rough fractal's pixel-scale slopes
    are noise, and hillslopes would not have coherent steepness or facing. The field is synthesized on a
    grid padded by half its size and cropped, so the periodic wrap-around of the FFT does not show.
    """
    h, w = shape
    ph, pw = h + h // 2, w + w // 2
    ky = np.fft.fftfreq(ph)[:, None]
    kx = np.fft.rfftfreq(pw)[None, :]
    k0 = 1.0 / corr_px
    amplitude = (kx**2 + ky**2 + k0**2) ** (-(hurst + 1.0) / 2.0)
    amplitude *= np.exp(-((kx**2 + ky**2) * (2.0 * np.pi * smooth_px) ** 2) / 2.0)
    amplitude[0, 0] = 0.0
    spectrum = np.fft.rfft2(rng.standard_normal((ph, pw))) * amplitude
    field = np.fft.irfft2(spectrum, s=(ph, pw))[:h, :w]
    field -= field.mean()
    return field / field.std()


def gradients(dem: np.ndarray, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Return (dz/d_east, dz/d_north) by central differences; rows run southwards, hence the sign."""
    dz_drow, dz_dcol = np.gradient(dem, spacing)
    return dz_dcol, -dz_drow


def slope_riserun(dem: np.ndarray, spacing: float) -> np.ndarray:
    """Magnitude of the gradient (rise over run)."""
    dzdx, dzdy = gradients(dem, spacing)
    return np.hypot(dzdx, dzdy)


def aspect_degrees(dem: np.ndarray, spacing: float) -> np.ndarray:
    """Direction the slope faces (steepest descent), degrees clockwise from north in [0, 360)."""
    dzdx, dzdy = gradients(dem, spacing)
    return np.degrees(np.arctan2(-dzdx, -dzdy)) % 360.0


def curvature(dem: np.ndarray, spacing: float) -> np.ndarray:
    """Negative Laplacian in 1/(100 m), the usual GIS unit: positive on convex ridges, negative in hollows."""
    d2_row = np.gradient(np.gradient(dem, spacing, axis=0), spacing, axis=0)
    d2_col = np.gradient(np.gradient(dem, spacing, axis=1), spacing, axis=1)
    return -100.0 * (d2_row + d2_col)


def make_dem(rng: np.random.Generator, shape: tuple[int, int], *, spacing: float, hurst: float,
             corr_m: float, rms_slope: float, base_m: float, cone_slope: float) -> np.ndarray:
    """Fractal DEM scaled to a target RMS slope, optionally on a volcanic cone centred off one corner.

    Scaling by slope rather than by total relief keeps the hillslope statistics (what landslides and
    radar geometry respond to) the same whatever the size of the cube.
    """
    field = fractal_field(rng, shape, hurst, corr_m / spacing, smooth_px=DEM_SMOOTH_M / spacing)
    field *= rms_slope / np.sqrt(np.mean(slope_riserun(field, spacing) ** 2))
    if cone_slope > 0:
        rows, cols = np.indices(shape)
        # The summit sits beyond the north-west corner, so the whole cube is a flank of the volcano.
        dist = np.hypot(rows + 0.3 * shape[0], cols + 0.3 * shape[1]) * spacing
        field += cone_slope * (dist.max() - dist)
    return field - field.min() + base_m


def land_cover(rng: np.random.Generator, dem: np.ndarray, slope_deg: np.ndarray, *, spacing: float,
               water_fraction: float, bare_fraction: float, grass_fraction: float) -> np.ndarray:
    """Classify water / forest / grass / bare from elevation, slope and a patchy random field.

    Water fills the flattest low ground, bare rock the highest and steepest ground, grass (pasture, crops)
    the gentle ground; the rest is forest. The random field makes patches instead of contour-following bands.
    """
    patches = fractal_field(rng, dem.shape, 0.5, 800.0 / spacing)
    elev = (dem - dem.mean()) / dem.std()
    cover = np.full(dem.shape, FOREST, dtype=np.uint8)
    gentle = -slope_deg / 10.0 - 0.5 * elev + 0.7 * patches
    cover[gentle > np.quantile(gentle, 1.0 - grass_fraction)] = GRASS
    exposed = elev + slope_deg / 20.0 + 0.5 * patches
    if bare_fraction > 0:
        cover[exposed > np.quantile(exposed, 1.0 - bare_fraction)] = BARE
    if water_fraction > 0:
        wet = -elev - slope_deg / 5.0
        cover[wet > np.quantile(wet, 1.0 - water_fraction)] = WATER
    return cover


def trigger_intensity(rng: np.random.Generator, shape: tuple[int, int], *, spacing: float, trigger: str,
                      source_length_px: float, decay_px: float, dem: np.ndarray | None = None) -> np.ndarray:
    """Relative intensity of the triggering event, lognormal around a regional trend.

    `trigger="earthquake"`: ground shaking decays with distance from the rupture (a straight segment of
    `source_length_px` through the central part of the scene, any strike), with e-folding distance
    `decay_px`; co-seismic landslide density follows (Keefer 1984; Meunier et al. 2007).
    `trigger="rainfall"`: storm rainfall, a smooth field of correlation length `decay_px` plus an
    orographic increase with elevation (`dem`).
    Both are multiplied by site-to-site variability (topographic and soil amplification, or cell-scale
    rain): a lognormal factor with log-standard deviation 0.5 correlated over about 2 km, the size of the
    within-event scatter of ground-motion models.
    """
    h, w = shape
    site = fractal_field(rng, shape, 0.9, 2000.0 / spacing)
    if trigger == "earthquake":
        centre = rng.uniform(0.3, 0.7, 2) * (h, w)
        strike = rng.uniform(0.0, np.pi)
        along_r, along_c = np.cos(strike), np.sin(strike)
        rows = np.arange(h, dtype=np.float32)[:, None] - np.float32(centre[0])
        cols = np.arange(w, dtype=np.float32)[None, :] - np.float32(centre[1])
        along = rows * np.float32(along_r) + cols * np.float32(along_c)
        across = -rows * np.float32(along_c) + cols * np.float32(along_r)
        beyond = np.maximum(np.abs(along) - np.float32(source_length_px / 2.0), 0.0)
        distance = np.hypot(beyond, across)
        log_intensity = -distance / np.float32(decay_px)
    elif trigger == "rainfall":
        storm = fractal_field(rng, shape, 1.0, decay_px)
        elevation = 0.0 if dem is None else (dem - dem.mean()) / (dem.std() + 1e-9)
        log_intensity = 0.8 * storm + 0.5 * elevation
    else:
        raise ValueError(f"unknown trigger {trigger!r} (earthquake, rainfall)")
    return np.exp(log_intensity + 0.5 * site).astype(np.float32)


def failure_excess(intensity: np.ndarray, usable: np.ndarray, affected_fraction: float) -> np.ndarray:
    """How far the trigger exceeded the failure threshold: log(intensity / threshold), 0 below it.

    Below a critical acceleration (Newmark's rigid-block threshold), or below a critical rainfall, no
    slope fails. The threshold is the intensity exceeded on `affected_fraction` of the usable scene, so
    the region affected by landslides covers that share of the scene at any cube size. Above it,
    landslide density grows with the log of the exceedance.
    """
    threshold = np.quantile(intensity[usable], 1.0 - affected_fraction)
    return np.log(np.maximum(intensity / threshold, 1.0)).astype(np.float32)


def place_landslides(rng: np.random.Generator, slope_deg: np.ndarray, aspect_deg: np.ndarray,
                     cover: np.ndarray, *, spacing: float, target_fraction: float, slope50_deg: float,
                     median_length_m: float, usable: np.ndarray, intensity: np.ndarray | None = None) -> np.ndarray:
    """Draw elongated landslides until they cover `target_fraction` of the usable pixels.

    Source points are drawn with a probability rising steeply with hillslope steepness (a logistic around
    `slope50_deg`) and zero on water. Each landslide is an ellipse whose long axis runs downslope (along the
    aspect at its source) and whose centre lies a third of a length below the source, the way a scar runs
    from its head scarp.
    Lengths are log-normal, widths a third to a half of the length. `intensity` (e.g. `failure_excess`) scales the
    source probability.
    """
    h, w = slope_deg.shape
    # A landslide fails a hillslope, not a pixel: judge steepness averaged over about its own footprint.
    hillslope = gaussian_filter(slope_deg, sigma=median_length_m / spacing / 4.0, mode="nearest")
    weight = 1.0 / (1.0 + np.exp(-(hillslope - slope50_deg) / 3.0))
    if intensity is not None:  # where the trigger exceeded the threshold more, more hillslopes failed
        weight = weight * intensity
    weight = np.where((cover != WATER) & usable, weight, 0.0).ravel()
    weight /= weight.sum()
    mask = np.zeros((h, w), dtype=bool)
    goal = target_fraction * usable.sum()
    typical_area = 0.33 * (median_length_m / spacing) ** 2  # pi/4 x length x width, roughly
    covered, stalled = 0, 0
    while covered < goal:
        # Draw in batches of about half of what is still missing, so small cubes do not overshoot.
        batch = int((goal - covered) / typical_area / 2) + 1
        for source in rng.choice(h * w, size=batch, p=weight):
            where = divmod(int(source), w)
            _draw_ellipse(mask, rng, where, aspect_deg.flat[source], median_length_m / spacing)
        # Landslides start only where the ground shook and slopes can fail. In a scene much larger than
        # the shaken area the target may not fit there: when round after round the new scars mostly land
        # on old ones, stop (and say so) instead of piling them onto the same pixels forever.
        added = mask[usable].sum() - covered
        covered += added
        stalled = stalled + 1 if added < 0.1 * batch * typical_area else 0
        if stalled == 20:
            log.warning("landslides cover %.1f%% of the scene instead of %.1f%%: the area that shook hard "
                        "enough holds no more", 100 * mask[usable].mean(), 100 * target_fraction)
            break
    return mask


def _draw_ellipse(mask: np.ndarray, rng: np.random.Generator, source: tuple[int, int], aspect: float,
                  median_length_px: float) -> None:
    """Burn one downslope-oriented ellipse into `mask` (in place)."""
    length = median_length_px * rng.lognormal(0.0, 0.45)
    width = length * rng.uniform(0.33, 0.5)
    down_e, down_n = np.sin(np.radians(aspect)), np.cos(np.radians(aspect))
    # Centre a third of a length downslope of the source; north is minus a row.
    cr = source[0] - 0.35 * length * down_n
    cc = source[1] + 0.35 * length * down_e
    half = int(np.ceil(length / 2.0)) + 1
    r0, r1 = max(int(cr) - half, 0), min(int(cr) + half + 1, mask.shape[0])
    c0, c1 = max(int(cc) - half, 0), min(int(cc) + half + 1, mask.shape[1])
    if r0 >= r1 or c0 >= c1:
        return
    rows, cols = np.mgrid[r0:r1, c0:c1]
    east, north = cols - cc, cr - rows
    along = east * down_e + north * down_n
    across = -east * down_n + north * down_e
    inside = (along / (length / 2.0)) ** 2 + (across / (width / 2.0)) ** 2 <= 1.0
    mask[r0:r1, c0:c1] |= inside


def valid_footprint(rng: np.random.Generator, shape: tuple[int, int], *, spacing: float) -> np.ndarray:
    """Irregular valid-data footprint: a ragged margin along the edges and one clipped corner.

    Real cubes are cut from SAR swaths and orbit frames, so their valid area does not fill the rectangle.
    """
    h, w = shape
    rows, cols = np.indices(shape)
    edge = np.minimum.reduce([rows, cols, h - 1 - rows, w - 1 - cols]) / max(h, w)
    ragged = fractal_field(rng, shape, 0.8, 1500.0 / spacing)
    inside = edge - (0.025 + 0.012 * ragged) > 0
    # A swath edge crossing one corner diagonally.
    corner = rng.integers(4)
    rr = rows if corner < 2 else h - 1 - rows
    cc = cols if corner % 2 == 0 else w - 1 - cols
    inside &= (rr / h + cc / w) > rng.uniform(0.12, 0.25)
    return inside
