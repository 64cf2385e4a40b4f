"""What a landslide does to the backscatter of the ground it fails: zones, partial stripping, edges, geometry.

A co-seismic or rainfall landslide is not one uniform new surface:
- its source (scar) loses part of its vegetation and soil, exposing wet, rough debris or rock; how much
  of the cover goes differs from slide to slide (shallow slides leave trees standing at their margins,
  deep ones strip the slope), and so does the wetness and roughness of what is exposed;
- its runout and deposit, at the foot, piles soil, rock and broken trees onto the ground below: rougher
  than before, with trunks acting as dihedrals (VV up), but with less intact canopy volume (VH down);
- at its edges a 10 m pixel holds both slide and untouched ground, and a radar resolution cell of about
  20 m mixes them further;
- what the radar sees of it depends on the slope's facing: on slopes facing the sensor (foreshortening)
  one radar sample covers more ground across track than on flat ground, so a slide narrower than it
  fills less of it; in layover the slope is folded onto other terrain; in radar shadow nothing but noise
  is recorded.

This module turns the scene's landslide mask into per-pixel zones and per-slide draws, and mixes the
post-event backscatter of each pixel from the pre-event cover and the slide's surface in linear power.
The magnitudes are in docs/sources.md ("Landslide backscatter change") with their source or marked
as project choices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

NONE, SOURCE, DEPOSIT = 0, 1, 2
# Share of a slide's relief, from its lowest point up, taken by runout and deposit (project choice:
# shallow slides on the Iburi and Talakmau hillslopes run out a third or so of their length).
DEPOSIT_RELIEF_SHARE = 0.35
# Sub-pixel mixing: a pixel's share of slide, from the rasterized mask blurred over half a pixel (a
# polygon edge falls anywhere inside the pixel it crosses).
EDGE_SIGMA_PX = 0.5


@dataclass(frozen=True)
class SignatureSpec:
    """How the landslides of one region change the backscatter (dB unless said)."""

    stripped_mean: float = 0.75  # mean share of the source's cover removed (per slide, beta distributed)
    stripped_concentration: float = 4.0  # alpha + beta of that beta distribution: lower, more varied slides
    # VV, VH of the freshly exposed surface (wet soil, debris, broken trunks) on flat ground. Calibrated so
    # that a forest scar the radar sees whole changes, on average, as Sentinel-1 measured clear-cut forest
    # change: VV -2.0, VH -2.3 dB (docs/sources.md, [Silva]; Hokkaido's twin gives -2.1 / -2.4).
    exposed_db: tuple[float, float] = (-9.0, -14.8)
    exposed_spread_db: float = 1.5  # slide-to-slide spread of it (moisture, roughness, rock vs soil)
    deposit_db: tuple[float, float] = (1.0, -1.5)  # VV, VH change of the deposit against the cover before
    deposit_spread_db: float = 1.5  # slide-to-slide spread of the deposit change
    exposed_exponents: tuple[float, float] = (1.5, 0.8)  # cos(local incidence)^n of a rough surface


@dataclass
class Slides:
    """Per-pixel slide identity and zone, and per-slide draws (index 0: no slide)."""

    labels: np.ndarray  # connected slide bodies, 0 outside
    zone: np.ndarray  # NONE, SOURCE or DEPOSIT
    coverage: np.ndarray  # share of each pixel covered by a slide (sub-pixel mixing at the edges)
    stripped: np.ndarray  # per slide: share of the source's cover removed
    exposed_shift_db: np.ndarray  # per slide: offset of the exposed surface from `exposed_db`
    deposit_shift_db: np.ndarray  # per slide: offset of the deposit change from `deposit_db`


def slide_zones(slides: np.ndarray, dem: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label connected slides and split each into source (upper) and deposit (lowest part of its relief)."""
    labels, n = ndimage.label(slides)
    zone = np.zeros(slides.shape, np.uint8)
    if n == 0:
        return labels, zone
    index = np.arange(1, n + 1)
    low = np.asarray(ndimage.minimum(dem, labels, index))
    high = np.asarray(ndimage.maximum(dem, labels, index))
    low_map = np.concatenate([[0.0], low])[labels]
    relief = np.concatenate([[1.0], np.maximum(high - low, 1e-6)])[labels]
    height = (dem - low_map) / relief
    zone[slides] = SOURCE
    zone[slides & (height < DEPOSIT_RELIEF_SHARE)] = DEPOSIT
    return labels, zone


def draw_slides(rng: np.random.Generator, slides: np.ndarray, dem: np.ndarray, spec: SignatureSpec) -> Slides:
    """Zones, edge coverage and one draw per slide of how much it stripped and what it exposed."""
    labels, zone = slide_zones(slides, dem)
    n = int(labels.max()) + 1
    a = spec.stripped_mean * spec.stripped_concentration
    b = (1.0 - spec.stripped_mean) * spec.stripped_concentration
    stripped = rng.beta(a, b, size=n).astype(np.float32)
    exposed = rng.normal(0.0, spec.exposed_spread_db, size=n).astype(np.float32)
    deposit = rng.normal(0.0, spec.deposit_spread_db, size=n).astype(np.float32)
    coverage = ndimage.gaussian_filter(slides.astype(np.float32), EDGE_SIGMA_PX, mode="nearest")
    # Inside a rasterized polygon a pixel is at least half covered, outside at most half.
    coverage = np.where(slides, np.maximum(coverage, 0.5), np.minimum(coverage, 0.5)).astype(np.float32)
    # Pixels around a slide take its draws and zone: what the edge and the resolution cell spill into
    # them is that slide.
    labels = np.where(slides, labels, ndimage.grey_dilation(labels, size=5))
    zone = np.where(slides, zone, ndimage.grey_dilation(zone, size=5)).astype(np.uint8)
    return Slides(labels=labels, zone=zone, coverage=coverage, stripped=stripped,
                  exposed_shift_db=exposed, deposit_shift_db=deposit)


def range_compression(dzdx: np.ndarray, dzdy: np.ndarray, incidence_deg: np.ndarray,
                      look_azimuth_deg: float) -> np.ndarray:
    """Horizontal ground covered by one slant-range sample on the slope over that on flat ground.

    With alpha the terrain slope along the look direction (positive facing the sensor) and theta the
    incidence angle, a slant-range interval covers cos(alpha) sin(theta) / sin(theta - alpha) as much
    horizontal ground as on flat terrain: more on slopes facing the sensor (foreshortening), unbounded at
    theta = alpha, and folded over (layover, returned as a negative number) beyond.
    """
    az = np.radians(look_azimuth_deg)
    # Height gained per metre walked along the beam (away from the sensor): positive on slopes facing it.
    rise = dzdx * np.float32(np.sin(az)) + dzdy * np.float32(np.cos(az))
    alpha = np.arctan(rise)
    theta = np.radians(incidence_deg)
    return (np.sin(theta - alpha) / (np.cos(alpha) * np.sin(theta))).astype(np.float32)


def radar_share(coverage: np.ndarray, compression: np.ndarray, psf_sigma_px: tuple[float, float],
                max_cell_px: int = 16) -> np.ndarray:
    """Share of slide in the radar sample each map pixel takes its value from.

    The image of a slide is blurred by the resolution cell (`psf_sigma_px`, the product's 20 x 22 m); on
    a slope facing the sensor one slant-range sample spans 1 / compression times more ground across
    track, so a map pixel there shows the mean over that longer cell (a slide narrower than it is
    diluted, a wide one keeps its change inside). In layover (compression <= 0) the slope is folded onto
    other terrain at the same range: the slide's change is lost. Range runs along the columns (the
    orbits look about east or west).
    """
    share = ndimage.gaussian_filter(coverage, psf_sigma_px, mode="nearest")
    cell = np.where(compression > 0, 1.0 / np.maximum(compression, 1e-3), np.inf)  # in flat-ground cells
    out = share.copy()
    width, previous = 2, 1.0
    while previous < max_cell_px:
        pick = (cell > previous) & (cell <= width) if width < max_cell_px else cell > previous
        if pick.any():
            smeared = ndimage.uniform_filter1d(share, size=width, axis=1, mode="nearest")
            out[pick] = smeared[pick]
        previous, width = width, min(2 * width, max_cell_px)
    out[compression <= 0] = 0.0
    return out.astype(np.float32)


def post_event_linear(pre: np.ndarray, exposed: np.ndarray, s: Slides, spec: SignatureSpec, pol: int,
                      share: np.ndarray) -> np.ndarray:
    """Post-event backscatter (linear) from the pre-event backscatter and the exposed surface (linear).

    Source: the stripped share of the pixel shows the exposed surface, the rest keeps its cover.
    Deposit: the cover's backscatter changed by the slide's deposit change. Then each pixel mixes the
    slide surface with the untouched ground by the slide's share of its radar sample (`radar_share`).
    """
    stripped = s.stripped[s.labels]
    source = (1.0 - stripped) * pre + stripped * exposed * np.power(
        np.float32(10.0), s.exposed_shift_db[s.labels] / np.float32(10.0))
    deposit = pre * np.power(np.float32(10.0), (spec.deposit_db[pol] + s.deposit_shift_db[s.labels]) / 10.0)
    surface = np.where(s.zone == DEPOSIT, deposit, np.where(s.zone == SOURCE, source, pre))
    return ((1.0 - share) * pre + share * surface).astype(np.float32)
