"""Synthetic SAR datacubes in the schema of the Zenodo record 7248056 cubes: a twin of each real cube.

A cube is built from physics, not from noise: a fractal DEM gives slope, aspect and curvature; land cover
follows elevation and slope; the trigger (earthquake shaking or storm rainfall) exceeds the failure
threshold over part of the region, and there landslides start on steep ground and run downslope; VV and
VH come from the land cover and the local incidence angle seen from the orbit's side, plus a natural
change between acquisitions that varies in space (soil moisture and rain cells, wet canopies, harvest;
natural.py), times gamma speckle correlated over the product's resolution cell (speckle.py). After the
event each landslide changes the backscatter by zone (scar, deposit), by how much cover it stripped and
what it exposed, mixed at its edges and seen through the radar's geometry (signature.py), and the
coherence across the event drops. Regions differ where real regions differ: relief, land-cover mix and
season, radar geometry (incidence angle, orbit direction), natural change, the trigger and the
landslides it left. The number of looks is a property of the processing chain, shared by all cubes.
docs/twin.md lists every calibration target beside its source.

At `twin_size` (the real scale) a region's chip store reproduces the real chip counts and landslide
pixel fractions; at a smaller size the trigger's footprint shrinks with the scene, so the share of
chips with landslides and the landslide fraction inside them stay those of the region, while terrain,
land cover and landslide sizes keep their physical scales.

Statistics of the authors' cubes (docs/sources.md) are quoted as "natural-log" means, e.g. Hokkaido vh -1.32.
Read as natural logs they cannot be true: the authors' linear mean of vh is 0.0528, and the mean of a log
cannot exceed the log of the mean (exp(-1.32) = 0.27 > 0.0528). Read as log10 they fit (10^-1.32 = 0.048),
and they give the levels SAR over vegetated hills really has (VH about -13 dB, VV about -7 dB). So the
presets hold them as mean backscatter in dB (10 x log10). The chip pipeline still takes natural logs.

The cube is lazy (dask): the static layers and labels are computed at once, each acquisition and each
interferometric pair when it is written or read, one at a time per worker, so a real-size cube never
sits in memory whole. Every acquisition and pair draws from its own seeded stream, so the bytes depend
only on (region, size, seed).
"""

from __future__ import annotations

import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import dask
import dask.array as da
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from scipy.ndimage import zoom
from scipy.special import digamma

from landslides.errors import InputError
from landslides.sar import signature, terrain
from landslides.sar.natural import NaturalChange, NaturalSpec
from landslides.sar.signature import SignatureSpec
from landslides.sar.speckle import correlated_speckle, kernel_sigma_px
from landslides.sar.terrain import BARE, FOREST, GRASS, WATER
from landslides.sar.zarr_io import write_zarr_atomic

SPACING_M = 10.0  # pixel size of the real cubes (Prapas et al.: 10 m x 10 m)
# Sentinel-1 IW: incidence 29.1-46.0 deg across the 250 km swath, about 0.068 deg per km towards far range.
INCIDENCE_PER_KM = (46.0 - 29.1) / 250.0
WAVELENGTH_M = 0.0555  # Sentinel-1 C band
IFG_LOOKS = 20  # looks of the coherence estimator window (5 x 4 pixels)
SCAR = 4  # land-cover code of a fresh landslide scar (after the event only)
CHUNK = 256  # y/x chunk size, as in the real cubes
# Equivalent number of looks of the cubes' backscatter. One processing chain made all four cubes, so one
# value for all: the one that, with the scene's own variance and natural change, gives the per-pixel
# spread of log backscatter in the authors' statistics (docs/twin.md). The GRD-HR product itself has 4.4
# looks, whose speckle alone would spread log backscatter more than the published total: the cubes were
# averaged further (terrain correction, resampling to the 10 m grid). The speckle is spatially correlated
# over the product's resolution cell (speckle.py).
LOOKS = 12.0
# Amplitude scale of the interferometric products (topophase_cor_0 is an amplitude in the processor's
# digital numbers, topophase_flat the complex interferogram in their square): the published means of
# topophase_cor_0 (105 Hokkaido, 84 Kaikoura) over the square root of the typical VV backscatter
# (0.43, 0.32) both give about 250.
AMPLITUDE_DN = 250.0

# Backscatter of each cover on flat ground at the reference incidence, dB (VV, VH), and the exponents
# (VV, VH) of its residual cos(local incidence)^n dependence. The cubes carry radiometrically
# terrain-corrected backscatter (gamma0, the pixel-area effect of slopes removed), so what terrain leaves
# is the angular behaviour of the scatterer itself: little for canopy volume scattering, more for
# surfaces, more in VV (surface) than in VH (volume). Typical C-band levels; GRASS (crops, pasture,
# tussock, shrub) depends on the season and comes from each region's preset.
COVER_DB = {
    WATER: (-20.0, -27.0, 2.0, 2.0),
    FOREST: (-7.0, -12.5, 1.0, 0.3),
    BARE: (-11.0, -19.0, 1.5, 0.8),
    SCAR: (-9.5, -18.5, 1.5, 0.8),  # rough wet debris: VV drops a little, VH (canopy volume) drops a lot
}
GRASS_EXPONENTS = (1.0, 0.4)
# Coherence of each cover for a zero-day pair and its decay time in days.
COVER_COHERENCE = {WATER: (0.05, 1.0), FOREST: (0.45, 12.0), GRASS: (0.65, 24.0), BARE: (0.85, 120.0),
                   SCAR: (0.75, 60.0)}
NOISE_FLOOR_DB = -24.0  # Sentinel-1 NESZ: what radar shadow looks like


@dataclass(frozen=True)
class RegionPreset:
    """What makes one region's cube look like that region (docs/twin.md gives the source of each value)."""

    orbits: tuple[str, ...]  # value of sat:orbit_state per timestep, as the real cube spells it
    n_pre: int  # acquisitions up to and including the last pre-event date
    event: tuple[str, str]  # last pre-event / first post-event acquisition date, YYYYMMDD
    revisit_days: int
    epsg: int  # UTM zone of the region
    origin: tuple[float, float]  # x of the west edge, y of the north edge (metres)
    twin_size: tuple[int, int]  # height, width of the real-scale twin
    # Terrain.
    hurst: float  # terrain roughness: lower is rougher
    corr_m: float  # wavelength beyond which relief stops growing
    rms_slope: float  # RMS of rise/run of the fractal terrain
    base_m: float  # lowest elevation
    cone_slope: float  # regional slope of a volcanic edifice (0: none)
    # Land cover: fractions, and the season's backscatter of the non-forest vegetation (VV, VH dB).
    water: float
    bare: float
    grass: float
    grass_db: tuple[float, float]
    # Radar geometry and acquisition conditions.
    incidence_deg: float  # incidence angle at the scene centre
    look_azimuth_deg: tuple[float, float]  # horizontal look direction (clockwise from north): ascending, descending
    natural: NaturalSpec  # change between acquisitions: moisture and rain cells, wet canopies, harvest
    # Post-event change of a cover outside landslides, dB (VV, VH): storm-wetted soils, stripped canopies.
    post_change_db: dict = field(default_factory=dict)
    # Orbit directions with interferometric pairs (None: every direction). The Hokkaido cube's pairs are
    # all descending: the authors' statistics give one LOS azimuth, -100.44 +- 0.09 deg.
    pair_orbits: tuple[str, ...] | None = None
    vv_db: float = -7.0  # mean pre-event backscatter, dB
    vh_db: float = -13.0
    # Trigger and landslides.
    trigger: str = "earthquake"
    source_length_m: float = 10000.0  # rupture segment (earthquake) at twin size
    decay_m: float = 5000.0  # e-folding distance of shaking from it, or storm correlation length (rainfall)
    affected_fraction: float = 0.3  # share of the scene where the trigger exceeded the failure threshold
    landslide_fraction: float = 0.03  # share of the usable scene covered by landslides
    slope50_deg: float = 25.0  # hillslope angle at which a source is half as likely as on very steep ground
    landslide_length_m: float = 120.0  # median length
    looks: float = LOOKS  # equivalent number of looks of the speckle
    signature: SignatureSpec = SignatureSpec()  # what a landslide does to the backscatter (signature.py)


def _orbits(spec: str) -> tuple[str, ...]:
    return tuple(spec.split(","))


REGION_PRESETS: dict[str, RegionPreset] = {
    # Iburi hills, Hokkaido, September 2018 (Mw 6.6): low, rolling hills of pumice-covered, forested
    # slopes, cropland in the valleys at the end of summer; thousands of small, shallow slides in a
    # dense cluster. Descending view (the authors' statistics: incidence 34.4-37.4 deg, LOS azimuth -100.4).
    "hokkaido": RegionPreset(
        orbits=_orbits("d,d,a,d,d,d,a,d,d,a,d,d,a,d,d,a,d,d,a,d,a,d,d,a,d,d"), n_pre=20,
        event=("20180905", "20180907"), revisit_days=6, epsg=32654, origin=(530000.0, 4760000.0),
        twin_size=(3072, 4352), hurst=0.9, corr_m=2500.0, rms_slope=0.42, base_m=40.0, cone_slope=0.0,
        water=0.003, bare=0.0, grass=0.2, grass_db=(-8.5, -14.5),
        incidence_deg=35.86, look_azimuth_deg=(79.6, 280.44), pair_orbits=("d",),
        # Late summer: showers over cropland and forest; crops (beans, potatoes, beet, rice) harvested
        # field by field from late August to October.
        natural=NaturalSpec(moisture_db=1.0, wet_canopy_db=0.5, wet_share=0.2, regional_db=0.3,
                            harvest=("20180825", "20181020")),
        # Iburi: the pumice-soil mantle slid off whole with its forest, exposing wet pumice and soil.
        signature=SignatureSpec(stripped_mean=0.9),
        vv_db=-7.34, vh_db=-13.21,
        trigger="earthquake", source_length_m=15000.0, decay_m=8000.0, affected_fraction=0.14,
        landslide_fraction=0.039, slope50_deg=22.0, landslide_length_m=120.0),
    # Flank of Mt Talakmau, West Sumatra, February 2022 (Mw 6.1, Pasaman): a tropical forested volcano
    # in the wet season (rain on the canopy changes each acquisition more); fewer, larger slides.
    "talakmau": RegionPreset(
        orbits=_orbits("a,d,a,d,a,d,a,d,a,d,a,d,a,d,a,a,a,a,a,a"), n_pre=8,
        event=("20220225", "20220226"), revisit_days=12, epsg=32647, origin=(600000.0, 25000.0),
        twin_size=(1536, 1536), hurst=0.95, corr_m=4000.0, rms_slope=0.38, base_m=300.0, cone_slope=0.15,
        water=0.0, bare=0.04, grass=0.1, grass_db=(-8.0, -13.5),
        incidence_deg=39.0, look_azimuth_deg=(80.0, 280.0),
        # Wet season: afternoon convective rain cells wet the canopy at many acquisitions.
        natural=NaturalSpec(moisture_db=1.0, wet_canopy_db=1.0, wet_share=0.35, regional_db=0.4),
        # Tall tropical forest: trees at the margins and parts of the canopy often stay.
        signature=SignatureSpec(stripped_mean=0.8),
        vv_db=-6.9, vh_db=-12.6,
        trigger="earthquake", source_length_m=8000.0, decay_m=4000.0, affected_fraction=0.20,
        landslide_fraction=0.0275, slope50_deg=28.0, landslide_length_m=180.0),
    # Seaward Kaikoura Range, New Zealand, November 2016 (Mw 7.8): steep, rough greywacke ranges under
    # tussock, scrub and pasture in spring, bare scree on the heights; the rupture runs through the whole
    # scene; large slides and rock avalanches. Ascending view (incidence about 38.6 deg, LOS azimuth -252.2).
    "kaikoura": RegionPreset(
        orbits=_orbits("ascending,ascending,ascending,ascending,ascending"), n_pre=3,
        event=("20161113", "20161114"), revisit_days=12, epsg=32759, origin=(630000.0, 5305000.0),
        twin_size=(3072, 3072), hurst=0.75, corr_m=3000.0, rms_slope=0.6, base_m=100.0, cone_slope=0.0,
        water=0.0, bare=0.1, grass=0.8, grass_db=(-10.0, -16.0),
        incidence_deg=38.57, look_azimuth_deg=(72.18, 287.8),
        # Spring: tussock and its thatch shield the soil, so moisture changes it less than bare soil.
        natural=NaturalSpec(moisture_db=0.6, wet_canopy_db=0.3, wet_share=0.15, regional_db=0.3),
        # Rock avalanches and slides in greywacke strip the slope to rough, blocky rock (bright in VV, dark in
        # VH); their debris changes the ground below as elsewhere. No published measurement: the first choices
        # of #28 (VH -20.5 and a VH -3 dB deposit were tried only to meet a test bound since dropped).
        signature=SignatureSpec(stripped_mean=0.9, exposed_db=(-8.5, -17.0)),
        vv_db=-9.86, vh_db=-16.05,
        trigger="earthquake", source_length_m=150000.0, decay_m=10000.0, affected_fraction=0.24,
        landslide_fraction=0.038, slope50_deg=32.0, landslide_length_m=220.0),
    # Cordillera Central, Puerto Rico, September 2017 (Hurricane Maria): humid forested mountains and
    # pasture; the storm soaked the soils and stripped the canopies everywhere, and left many small,
    # shallow slides where rainfall was heaviest.
    "puerto_rico": RegionPreset(
        orbits=_orbits("a,d,a,d,a,d,a,d,a,d,a,d,a,d"), n_pre=8,
        event=("20170920", "20170921"), revisit_days=6, epsg=32619, origin=(750000.0, 2020000.0),
        twin_size=(2048, 2048), hurst=0.85, corr_m=2000.0, rms_slope=0.4, base_m=150.0, cone_slope=0.0,
        water=0.01, bare=0.0, grass=0.25, grass_db=(-9.5, -15.5),
        incidence_deg=39.0, look_azimuth_deg=(80.0, 280.0),
        natural=NaturalSpec(moisture_db=1.2, wet_canopy_db=0.8, wet_share=0.3, regional_db=0.3),
        post_change_db={FOREST: (-1.0, -2.0), GRASS: (1.0, 0.5), BARE: (1.5, 1.0)},
        vv_db=-7.2, vh_db=-12.9,
        trigger="rainfall", source_length_m=0.0, decay_m=15000.0, affected_fraction=0.40,
        landslide_fraction=0.05, slope50_deg=25.0, landslide_length_m=100.0),
}


@dataclass
class Scene:
    """The static layers of a cube and its landslides (what the chip store's labels come from)."""

    dem: np.ndarray
    riserun: np.ndarray
    aspect: np.ndarray
    cover: np.ndarray  # land cover before the event
    valid: np.ndarray  # extraction mask
    excess: np.ndarray  # how far the trigger exceeded the failure threshold (0 outside the affected area)
    slides: np.ndarray  # landslides (inside or outside the footprint; the cube keeps those inside)


def _preset(region: str) -> RegionPreset:
    if region not in REGION_PRESETS:
        known = ", ".join(REGION_PRESETS)
        raise InputError(f"synthetic datacube: unknown region {region!r} (known: {known})")
    return REGION_PRESETS[region]


def simulate_scene(region: str, *, height: int, width: int, seed: int) -> Scene:
    """Terrain, land cover, footprint, trigger and landslides of `region`; what `make_datacube` builds on.

    Cheap next to the radar layers, so tests check the landslide statistics of large scenes with it.
    """
    p = _preset(region)
    if height < 32 or width < 32:
        raise InputError(f"synthetic datacube {region}: size {height}x{width} is too small (min 32x32)")
    # Seeding from (seed, region) makes cubes of different regions independent for the same seed.
    rng = np.random.default_rng([seed, zlib.crc32(region.encode())])
    shape = (height, width)
    dem = terrain.make_dem(rng, shape, spacing=SPACING_M, hurst=p.hurst, corr_m=p.corr_m,
                           rms_slope=p.rms_slope, base_m=p.base_m, cone_slope=p.cone_slope)
    riserun = terrain.slope_riserun(dem, SPACING_M)
    slope_deg = np.degrees(np.arctan(riserun))
    aspect = terrain.aspect_degrees(dem, SPACING_M)
    cover = terrain.land_cover(rng, dem, slope_deg, spacing=SPACING_M, water_fraction=p.water,
                               bare_fraction=p.bare, grass_fraction=p.grass)
    valid = terrain.valid_footprint(rng, shape, spacing=SPACING_M)
    # The trigger's footprint scales with the scene (see the module docstring); terrain does not.
    scale = np.sqrt(height * width / (p.twin_size[0] * p.twin_size[1]))
    intensity = terrain.trigger_intensity(rng, shape, spacing=SPACING_M, trigger=p.trigger,
                                          source_length_px=scale * p.source_length_m / SPACING_M,
                                          decay_px=scale * p.decay_m / SPACING_M, dem=dem)
    usable = valid & (cover != WATER)
    excess = terrain.failure_excess(intensity, usable, p.affected_fraction)
    slides = terrain.place_landslides(rng, slope_deg, aspect, cover, spacing=SPACING_M,
                                      target_fraction=p.landslide_fraction, slope50_deg=p.slope50_deg,
                                      median_length_m=p.landslide_length_m, usable=valid, intensity=excess)
    return Scene(dem=dem, riserun=riserun, aspect=aspect, cover=cover, valid=valid, excess=excess,
                 slides=slides)


def make_datacube(region: str, *, height: int, width: int, seed: int,
                  looks: float | None = None) -> xr.Dataset:
    """Build a synthetic datacube of `region`, deterministic in (seed, region, size).

    Static variables are numpy arrays; `vv`, `vh` and the interferometric variables are dask arrays
    computed when written (`write_datacube`) or read.
    """
    p = _preset(region)
    scene = simulate_scene(region, height=height, width=width, seed=seed)
    looks = p.looks if looks is None else looks
    dates = _acquisition_dates(p)
    shape = (height, width)
    radar = _Radar(p, scene, looks, dates, stream=[seed, zlib.crc32(region.encode())])

    token = uuid.uuid4().hex  # task names of this cube only (its values depend on the seeds alone)
    acquisitions = [dask.delayed(radar.acquisition, pure=True)(t, dask_key_name=f"acquisition-{token}-{t}")
                    for t in range(len(p.orbits))]

    def layer(task, k, name):
        part = dask.delayed(_take, pure=True)(task, k, dask_key_name=f"{name}-{token}")
        return da.from_delayed(part, shape, dtype=np.float32)

    vv = da.stack([layer(a, 0, f"vv-{t}") for t, a in enumerate(acquisitions)])
    vh = da.stack([layer(a, 1, f"vh-{t}") for t, a in enumerate(acquisitions)])
    pairs = _same_orbit_pairs(p.orbits, p.pair_orbits)
    pair_tasks = [dask.delayed(radar.pair, pure=True)(k, i, j, acquisitions[i], acquisitions[j],
                                                      dask_key_name=f"pair-{token}-{k}")
                  for k, (i, j) in enumerate(pairs)]
    pair_vars = {name: da.stack([layer(task, v, f"{name}-{k}") for k, task in enumerate(pair_tasks)])
                 for v, name in enumerate(PAIR_VARS)}

    static = {
        "dem": scene.dem,
        "dem_aspect": scene.aspect,
        "dem_curvature": terrain.curvature(scene.dem, SPACING_M),
        "dem_slope_radians": np.arctan(scene.riserun),
        "dem_slope_riserun": scene.riserun,
    }
    data_vars = {
        "vv": (("timestep", "y", "x"), vv),
        "vh": (("timestep", "y", "x"), vh),
        **{k: (("timepair", "y", "x"), v) for k, v in pair_vars.items()},
        **{k: (("y", "x"), v.astype(np.float32)) for k, v in static.items()},
        "landslides": (("y", "x"), (scene.slides & scene.valid).astype(np.uint8)),
        "extraction_mask": (("y", "x"), scene.valid.astype(np.uint8)),
    }
    x = p.origin[0] + (np.arange(width) + 0.5) * SPACING_M
    y = p.origin[1] - (np.arange(height) + 0.5) * SPACING_M
    names = np.array([f"{dates[i]:%Y%m%d}_{dates[j]:%Y%m%d}" for i, j in pairs])
    coords = {
        "timestep": dates.values,
        "sat:orbit_state": ("timestep", np.array(p.orbits)),
        "timepair": names,
        "timepair_start": ("timepair", dates.values[[i for i, _ in pairs]]),
        "timepair_end": ("timepair", dates.values[[j for _, j in pairs]]),
        "y": y,
        "x": x,
    }
    ds = xr.Dataset(data_vars, coords=coords)
    ds.attrs.update(region=region, synthetic=1, seed=seed, looks=float(looks),
                    event_last_pre=p.event[0], event_first_post=p.event[1])
    return ds.rio.write_crs(f"EPSG:{p.epsg}", inplace=True)


PAIR_VARS = ("los_rdr_0", "los_rdr_1", "phsig_cor", "topophase_cor_0", "topophase_cor_1",
             "topophase_flat_imag", "topophase_flat_real")


def _take(stack: np.ndarray, k: int) -> np.ndarray:
    return stack[k]


def _acquisition_dates(p: RegionPreset) -> pd.DatetimeIndex:
    """n_pre dates ending on the last pre-event date, the rest starting on the first post-event date."""
    n_post = len(p.orbits) - p.n_pre
    step = pd.Timedelta(days=p.revisit_days)
    pre = pd.Timestamp(p.event[0]) - step * np.arange(p.n_pre - 1, -1, -1)
    post = pd.Timestamp(p.event[1]) + step * np.arange(n_post)
    return pd.DatetimeIndex(np.concatenate([pre, post])).astype("datetime64[ns]")


def _incidence_deg(p: RegionPreset, orbit: str, width: int) -> np.ndarray:
    """Incidence angle per column: it grows towards far range, east for ascending (looking east) passes."""
    km = (np.arange(width) - (width - 1) / 2.0) * SPACING_M / 1000.0
    towards_far = km if orbit[0] == "a" else -km
    return (p.incidence_deg + INCIDENCE_PER_KM * towards_far).astype(np.float32)


def _look_azimuth(p: RegionPreset, orbit: str) -> float:
    return p.look_azimuth_deg[0] if orbit[0] == "a" else p.look_azimuth_deg[1]


def _cos_local_incidence(p: RegionPreset, dem: np.ndarray, orbit: str) -> np.ndarray:
    """Cosine of the angle between the terrain normal and the direction to the satellite."""
    dzdx, dzdy = terrain.gradients(dem, SPACING_M)
    inc = np.radians(_incidence_deg(p, orbit, dem.shape[1]))[None, :]
    az = np.radians(_look_azimuth(p, orbit))
    # Unit vector from the ground to the sensor: against the beam horizontally, upwards vertically.
    to_e, to_n, up = -np.sin(inc) * np.sin(az), -np.sin(inc) * np.cos(az), np.cos(inc)
    norm = np.sqrt(1.0 + dzdx**2 + dzdy**2)
    return ((-dzdx * to_e - dzdy * to_n + up) / norm).astype(np.float32)


def _cover_levels(p: RegionPreset) -> dict[int, tuple[float, float, float, float]]:
    return {**COVER_DB, GRASS: (*p.grass_db, *GRASS_EXPONENTS)}


def _clean_backscatter_db(p: RegionPreset, cos_loc: np.ndarray, cos_ref: np.ndarray, cover: np.ndarray,
                          pol: int, after: bool = False) -> np.ndarray:
    """Noise-free terrain-corrected backscatter (dB) given the local incidence seen from one orbit's side.

    Slopes facing the sensor (small local incidence) are brighter, slopes facing away darker, and slopes
    steeper than the grazing angle fall in radar shadow, which only the noise floor fills.
    """
    out = np.empty(cos_loc.shape, np.float32)
    ratio_db = 10.0 * np.log10(np.maximum(cos_loc, 0.05) / cos_ref)
    for code, levels in _cover_levels(p).items():
        where = cover == code
        level = levels[pol] + (p.post_change_db.get(code, (0.0, 0.0))[pol] if after else 0.0)
        out[where] = level + levels[2 + pol] * ratio_db[where]
    out[cos_loc <= 0.0] = NOISE_FLOOR_DB
    return out


def _linear(db: np.ndarray) -> np.ndarray:
    return np.power(np.float32(10.0), np.asarray(db, np.float32) * np.float32(0.1))


class _Radar:
    """The time-varying layers of one cube, one acquisition or pair at a time (dask tasks call these)."""

    def __init__(self, p: RegionPreset, scene: Scene, looks: float, dates: pd.DatetimeIndex, stream: list[int]):
        self.p, self.scene, self.looks, self.dates, self.stream = p, scene, float(looks), dates, stream
        self.post_cover = np.where(scene.slides & (scene.cover != WATER), SCAR, scene.cover).astype(np.uint8)
        width = scene.dem.shape[1]
        orbits = sorted(set(p.orbits))
        self.cos_loc = {o: _cos_local_incidence(p, scene.dem, o) for o in orbits}
        self.cos_ref = {o: np.cos(np.radians(_incidence_deg(p, o, width)))[None, :] for o in orbits}
        dzdx, dzdy = terrain.gradients(scene.dem, SPACING_M)
        self.slides = signature.draw_slides(np.random.default_rng([*stream, 4]), scene.slides & (scene.cover != WATER),
                                            scene.dem, p.signature)
        # The slide's share of the radar sample behind each map pixel, from each side (foreshortening, layover).
        self.share = {o: signature.radar_share(self.slides.coverage, signature.range_compression(
            dzdx, dzdy, _incidence_deg(p, o, width)[None, :], _look_azimuth(p, o)), kernel_sigma_px())
            for o in orbits}
        self.natural = NaturalChange(p.natural, scene.dem.shape, SPACING_M, dates, [*stream, 5])
        # Speckle lowers the mean of log backscatter by E[ln G] = digamma(L) - ln(L); include it so the
        # speckled cube, not the clean one, sits at the region's level.
        speckle_db = 10.0 / np.log(10.0) * (digamma(self.looks) - np.log(self.looks))
        self.offsets = {}
        valid = scene.valid
        for pol, target in ((0, p.vv_db), (1, p.vh_db)):
            # Mean over the whole time series: each side as often as it is seen, slides after the event.
            views = {(o, after): self.clean_db(o, after, pol)[valid].mean()
                     for o, after in set(zip(p.orbits, np.arange(len(p.orbits)) >= p.n_pre, strict=True))}
            series = [views[(o, t >= p.n_pre)] for t, o in enumerate(p.orbits)]
            self.offsets[pol] = np.float32(target - float(np.mean(series)) - speckle_db)
        self.deformation = _coseismic_phase(np.random.default_rng([*stream, 3]), scene.dem.shape)

    def clean_db(self, orbit: str, after: bool, pol: int) -> np.ndarray:
        """Noise-free backscatter (dB) seen from one orbit before or after the event, landslides included."""
        p, scene = self.p, self.scene
        cos_loc, cos_ref = self.cos_loc[orbit], self.cos_ref[orbit]
        pre = _clean_backscatter_db(p, cos_loc, cos_ref, scene.cover, pol, after)
        if not after:
            return pre
        spec = p.signature
        ratio_db = 10.0 * np.log10(np.maximum(cos_loc, 0.05) / cos_ref)
        exposed = _linear(spec.exposed_db[pol] + spec.exposed_exponents[pol] * ratio_db)
        post = signature.post_event_linear(_linear(pre), exposed, self.slides, spec, pol, self.share[orbit])
        db = (10.0 * np.log10(post)).astype(np.float32)
        db[cos_loc <= 0.0] = NOISE_FLOOR_DB  # radar shadow shows no change at all
        return db

    def acquisition(self, t: int) -> np.ndarray:
        """(3, y, x): speckled VV and VH and noise-free VV of timestep t (linear; NaN outside the footprint)."""
        p, scene = self.p, self.scene
        rng = np.random.default_rng([*self.stream, 1, t])
        orbit, after = p.orbits[t], t >= p.n_pre
        cover = self.post_cover if after else scene.cover
        # Moisture and rain cells, wet canopies, harvest: the ground changes between acquisitions.
        natural = self.natural.change_db(t, cover)
        shadow = self.cos_loc[orbit] <= 0.0
        out = np.empty((3, *cover.shape), np.float32)
        for pol in (0, 1):
            db = self.clean_db(orbit, after, pol) + self.offsets[pol]
            db += np.where(shadow, np.float32(0.0), natural[pol])
            linear = _linear(db)
            if pol == 0:
                out[2] = linear
            np.multiply(linear, correlated_speckle(rng, cover.shape, self.looks), out=out[pol])
        out[:, ~scene.valid] = np.nan
        return out

    def pair(self, k: int, i: int, j: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """(7, y, x) ISCE-like products of same-orbit pair k = (i, j), in PAIR_VARS order."""
        p, scene = self.p, self.scene
        rng = np.random.default_rng([*self.stream, 2, k])
        shape = scene.dem.shape
        orbit = p.orbits[i]
        days = (self.dates[j] - self.dates[i]).days
        across = i < p.n_pre <= j
        out = np.empty((len(PAIR_VARS), *shape), np.float32)
        out[0] = _incidence_deg(p, orbit, shape[1])[None, :]
        # ISCE's LOS azimuth: the target-to-sensor direction, anticlockwise from north.
        out[1] = -((_look_azimuth(p, orbit) + 180.0) % 360.0)
        gamma = _true_coherence(self.cos_loc[orbit], scene.cover if j < p.n_pre else self.post_cover, days)
        if across:
            # Shaking and surface change decorrelate the whole scene a little, landslides completely.
            gamma *= np.float32(0.75)
            gamma[scene.slides] = 0.05
        out[4] = _estimated_coherence(rng, gamma)
        out[2] = _estimated_coherence(rng, gamma)
        phase = _phase_noise(rng, gamma) + _atmosphere(rng, shape)
        if across:
            phase += self.deformation
        power = np.sqrt(first[0] * second[0])  # speckled VV of both dates
        out[3] = np.float32(AMPLITUDE_DN) * np.sqrt(power)
        magnitude = np.float32(AMPLITUDE_DN**2) * power
        out[6] = magnitude * np.cos(phase)
        out[5] = magnitude * np.sin(phase)
        out[:, ~scene.valid] = np.nan
        return out


def _same_orbit_pairs(orbits: tuple[str, ...], keep: tuple[str, ...] | None = None) -> list[tuple[int, int]]:
    """Consecutive acquisitions of the same orbit direction (interferometry needs the same geometry), of
    the directions in `keep` (None: all)."""
    pairs, last = [], {}
    for t, orbit in enumerate(orbits):
        if keep is not None and orbit[0] not in keep:
            continue
        if orbit in last:
            pairs.append((last[orbit], t))
        last[orbit] = t
    return sorted(pairs)


def _true_coherence(cos_loc, cover, days) -> np.ndarray:
    """Temporal decorrelation by cover; layover and shadow carry (almost) no coherent signal."""
    per_cover = np.zeros(max(COVER_COHERENCE) + 1, np.float32)
    for code, (g0, tau) in COVER_COHERENCE.items():
        per_cover[code] = g0 * np.exp(-days / tau)
    gamma = per_cover[cover]
    gamma[(cos_loc <= 0.1) | (cos_loc >= 0.98)] *= np.float32(0.1)
    return gamma


def _estimated_coherence(rng, gamma: np.ndarray) -> np.ndarray:
    """Sample coherence over IFG_LOOKS pixels: biased upwards at low coherence, and noisy."""
    biased = np.sqrt(gamma**2 + (1.0 - gamma**2) / IFG_LOOKS)
    noise = rng.standard_normal(gamma.shape, dtype=np.float32) * (1.0 - gamma**2) / np.sqrt(2.0 * IFG_LOOKS)
    return np.clip(biased + noise, 0.0, 1.0)


def _phase_noise(rng, gamma: np.ndarray) -> np.ndarray:
    """Interferometric phase noise (Cramer-Rao), uniform where the coherence is too low to keep a phase."""
    g = np.maximum(gamma, np.float32(1e-3))
    sigma = np.sqrt(1.0 - g**2) / (g * np.float32(np.sqrt(2.0 * IFG_LOOKS)))
    gaussian = rng.standard_normal(gamma.shape, dtype=np.float32) * sigma
    uniform = (rng.random(gamma.shape, dtype=np.float32) - np.float32(0.5)) * np.float32(2.0 * np.pi)
    return np.where(gamma > 0.15, gaussian, uniform)


def _atmosphere(rng, shape) -> np.ndarray:
    """Tropospheric phase screen of a couple of radians; smooth, so synthesized coarse and upsampled."""
    coarse = (max(shape[0] // 8, 8), max(shape[1] // 8, 8))
    field = terrain.fractal_field(rng, coarse, 0.9, 3000.0 / (8 * SPACING_M))
    fine = zoom(field.astype(np.float32), (shape[0] / coarse[0], shape[1] / coarse[1]), order=1)
    return 2.0 * fine[: shape[0], : shape[1]]


def _coseismic_phase(rng, shape) -> np.ndarray:
    """Line-of-sight ground displacement of a fault across the scene, a few centimetres, as phase."""
    angle = rng.uniform(0, np.pi)
    rows = np.arange(shape[0], dtype=np.float32)[:, None]
    cols = np.arange(shape[1], dtype=np.float32)[None, :]
    across = rows * np.float32(np.cos(angle)) + cols * np.float32(np.sin(angle))
    dist = across - (shape[0] - 1) / 2.0 * np.cos(angle) - (shape[1] - 1) / 2.0 * np.sin(angle)
    displacement = 0.04 * np.tanh(dist / (0.2 * max(shape)))
    return (4.0 * np.pi / WAVELENGTH_M * displacement).astype(np.float32)


def write_datacube(ds: xr.Dataset, path: str | Path) -> None:
    """Write a cube as zarr (format 2) with the real cubes' chunking: one timestep or timepair, 256 x 256.

    Atomic: written to `<path>.tmp-<pid>` and renamed onto `path`. The lazy layers are computed here,
    a few acquisitions or pairs at a time.
    """
    ds = ds.copy()
    for name, var in ds.data_vars.items():
        var.encoding = {"chunks": tuple(1 if d in ("timestep", "timepair") else min(CHUNK, var.sizes[d])
                                        for d in var.dims)}
        ds[name] = var
    write_zarr_atomic(ds, path)
