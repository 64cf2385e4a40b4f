"""Synthetic datacubes: determinism, schema, and the physics the studies rely on."""

import time
from pathlib import Path

import numpy as np
import pytest

from landslides.errors import InputError
from landslides.sar.synthetic import REGION_PRESETS, make_datacube, write_datacube
from landslides.sar.validate import TIMEPAIR_VARS, validate_datacube


def store_bytes(path: Path) -> dict[str, bytes]:
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_different_seed_differs(tmp_path):
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_datacube(make_datacube("talakmau", height=48, width=64, seed=seed), tmp_path / f"{name}.zarr")
    first, second, other = (store_bytes(tmp_path / f"{n}.zarr") for n in "abc")
    assert first == second
    assert first["vv/0.0.0"] != other["vv/0.0.0"]
    assert not list(tmp_path.glob("*.tmp-*"))


@pytest.mark.parametrize("region", sorted(REGION_PRESETS))
def test_schema_matches_the_real_cubes(region):
    preset = REGION_PRESETS[region]
    ds = make_datacube(region, height=40, width=48, seed=0)
    assert validate_datacube(ds, region, preset.event) == []
    assert ds.sizes["timestep"] == len(preset.orbits)
    assert ds["sat:orbit_state"].values.tolist() == list(preset.orbits)
    assert all(ds[v].dims == ("timepair", "y", "x") and ds[v].dtype == np.float32 for v in TIMEPAIR_VARS)
    assert ds["vv"].dtype == np.float32 and ds.sizes["y"] == 40 and ds.sizes["x"] == 48
    assert ds.rio.crs.to_epsg() == preset.epsg
    # vv/vh are NaN exactly outside the extraction mask.
    outside = ds["extraction_mask"].values == 0
    assert outside.any()
    assert np.isnan(ds["vv"].values[:, outside]).all() and np.isfinite(ds["vv"].values[:, ~outside]).all()


def test_unknown_region():
    with pytest.raises(InputError, match="mars"):
        make_datacube("mars", height=64, width=64, seed=0)


CUBES = {}


def cube(region):
    """One 256x256 cube per region for the physics tests (built once)."""
    if region not in CUBES:
        CUBES[region] = make_datacube(region, height=256, width=256, seed=7)
    return CUBES[region]


@pytest.mark.parametrize("region", ["hokkaido", "talakmau", "kaikoura"])
def test_landslides_cover_a_few_percent_of_steep_ground(region):
    ds = cube(region)
    slides = ds["landslides"].values > 0
    valid = ds["extraction_mask"].values > 0
    assert 0.015 <= slides[valid].mean() <= 0.06  # the scene share; within chips with landslides more
    slope = ds["dem_slope_radians"].values
    assert slope[slides].mean() > slope[valid & ~slides].mean() + np.radians(1.0)


@pytest.mark.parametrize("region", ["hokkaido", "talakmau", "kaikoura"])
def test_event_lowers_vh_inside_landslides(region):
    ds, preset = cube(region), REGION_PRESETS[region]
    slides = ds["landslides"].values > 0
    background = (ds["extraction_mask"].values > 0) & ~slides
    vh = ds["vh"].values
    change_db = 10 * np.log10(vh[preset.n_pre:].mean(axis=0) / vh[:preset.n_pre].mean(axis=0))
    # At least 1 dB below the scene's own change: forest scars are calibrated on Sentinel-1's measured
    # clear-cut change (VH -2.3 dB), which partial stripping, deposits and edges dilute (docs/twin.md).
    assert -8.0 < change_db[slides].mean() < change_db[background].mean() - 1.0
    assert abs(change_db[background].mean()) < 1.0


# Not Talakmau: 12-day pairs over tropical forest keep too little coherence at C band for a drop to show,
# as in the real data.
@pytest.mark.parametrize("region", ["hokkaido", "kaikoura"])
def test_event_lowers_coherence_inside_landslides(region):
    ds, preset = cube(region), REGION_PRESETS[region]
    slides = ds["landslides"].values > 0
    background = (ds["extraction_mask"].values > 0) & ~slides
    starts, ends = ds["timepair_start"].values, ds["timepair_end"].values
    cut = np.datetime64(f"{preset.event[0][:4]}-{preset.event[0][4:6]}-{preset.event[0][6:]}")
    across = (starts <= cut) & (ends > cut)
    before = ends <= cut
    assert across.any() and before.any()
    coherence = ds["phsig_cor"].values
    inside_across = coherence[across][:, slides].mean()
    assert inside_across < coherence[before][:, slides].mean() - 0.05
    assert inside_across < coherence[across][:, background].mean()


def test_orbit_sides_see_terrain_differently():
    ds = cube("hokkaido")
    states = ds["sat:orbit_state"].values
    pre = np.arange(ds.sizes["timestep"]) < REGION_PRESETS["hokkaido"].n_pre
    valid = ds["extraction_mask"].values > 0
    desc = np.log(ds["vv"].values[(states == "d") & pre].mean(axis=0))[valid]
    asc = np.log(ds["vv"].values[(states == "a") & pre].mean(axis=0))[valid]
    # Slopes facing one satellite face away from the other: the two views disagree more than speckle does.
    assert np.corrcoef(desc, asc)[0, 1] < 0.9


def test_write_removes_stale_temporary_of_a_dead_writer(tmp_path):
    stale = tmp_path / "cube.zarr.tmp-999999999"
    stale.mkdir()
    write_datacube(make_datacube("kaikoura", height=32, width=32, seed=0), tmp_path / "cube.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube.zarr"]


def test_landslides_cluster_around_the_epicentre_leaving_landslide_free_chips():
    """Shaking decays with distance from the rupture, so a large cube has chips without landslides."""
    from landslides.sar.synthetic import make_datacube

    labels = make_datacube("hokkaido", height=1024, width=1024, seed=1)["landslides"].values > 0
    per_chip = labels.reshape(8, 128, 8, 128).mean(axis=(1, 3))
    assert 0.2 < (per_chip == 0).mean() < 0.8
    in_positive = labels.reshape(8, 128, 8, 128).transpose(0, 2, 1, 3)[per_chip > 0]
    assert 0.06 < in_positive.mean() < 0.12  # about 9 % inside chips with landslides, as in the real cube


def test_landslide_placement_stops_when_the_shaken_area_is_full(caplog):
    """A target the shaken area cannot hold ends with a warning instead of an endless loop."""
    from landslides.sar import terrain

    shape = (256, 256)
    intensity = np.zeros(shape)
    intensity[100:140, 100:140] = 1.0  # only a small patch shook
    started = time.perf_counter()
    mask = terrain.place_landslides(
        np.random.default_rng(0), np.full(shape, 35.0), np.zeros(shape), np.full(shape, 1, np.uint8),
        spacing=10.0, target_fraction=0.5, slope50_deg=22.0, median_length_m=60.0,
        usable=np.ones(shape, bool), intensity=intensity)
    assert time.perf_counter() - started < 60
    assert 0.01 < mask.mean() < 0.5
    assert not mask[:60].any() and not mask[200:].any()  # nothing far from where the ground shook
    assert "instead of 50.0%" in caplog.text
