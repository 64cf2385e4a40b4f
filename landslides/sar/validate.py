"""Open a SAR datacube (real or synthetic) lazily and check it has what the chip pipeline reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from landslides.errors import InputError

# Variables the pipeline reads, with their dimensions. The interferometric timepair variables exist in
# the real cubes too, but nothing downstream reads them, so a cube without them is still usable.
REQUIRED_VARS: dict[str, tuple[str, ...]] = {
    "vv": ("timestep", "y", "x"),
    "vh": ("timestep", "y", "x"),
    "dem": ("y", "x"),
    "dem_aspect": ("y", "x"),
    "dem_curvature": ("y", "x"),
    "dem_slope_radians": ("y", "x"),
    "dem_slope_riserun": ("y", "x"),
    "landslides": ("y", "x"),
    "extraction_mask": ("y", "x"),
}
REQUIRED_COORDS = ("timestep", "sat:orbit_state", "x", "y")
TIMEPAIR_VARS = ("los_rdr_0", "los_rdr_1", "phsig_cor", "topophase_cor_0", "topophase_cor_1",
                 "topophase_flat_imag", "topophase_flat_real")


def open_datacube(path: str | Path, event_date: tuple[str, str] | None = None) -> xr.Dataset:
    """Open the zarr cube at `path` lazily (dask, the store's chunks) and validate it.

    Raises InputError with one line naming the cube for a missing path, an unreadable or truncated store,
    and every problem `validate_datacube` finds.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"datacube {path}: path does not exist")
    missing_meta = _missing_metadata(path)
    if missing_meta:
        raise InputError(f"datacube {path}: truncated store, no zarr metadata for {', '.join(missing_meta)}")
    try:
        ds = xr.open_zarr(path, chunks={})
    except Exception as err:  # zarr raises many kinds; all mean the same to the user
        raise InputError(f"datacube {path}: not a readable zarr store ({_one_line(err)})") from err
    problems = validate_datacube(ds, str(path), event_date)
    if not problems:
        problems = _read_first_chunks(ds, str(path))
    if problems:
        raise InputError("; ".join(problems))
    return ds


def validate_datacube(ds: xr.Dataset, name: str, event_date: tuple[str, str] | None = None) -> list[str]:
    """Every schema problem of `ds`, one message each naming the cube; empty when the cube is usable."""
    problems = []
    for var, dims in REQUIRED_VARS.items():
        if var not in ds.variables:
            problems.append(f"datacube {name}: missing variable {var!r}")
        elif tuple(ds[var].dims) != dims:
            found = tuple(ds[var].dims)
            problems.append(f"datacube {name}: variable {var!r} has dims {found}, expected {dims}")
    for coord in REQUIRED_COORDS:
        if coord not in ds.coords:
            problems.append(f"datacube {name}: missing coordinate {coord!r}")
    for var in ("vv", "vh"):
        if var in ds.variables and not np.issubdtype(ds[var].dtype, np.floating):
            problems.append(f"datacube {name}: variable {var!r} has dtype {ds[var].dtype}, expected floating")
    if "timestep" in ds.coords:
        if not np.issubdtype(ds["timestep"].dtype, np.datetime64):
            problems.append(f"datacube {name}: coordinate 'timestep' has dtype {ds['timestep'].dtype}, "
                            "expected datetime64")
        elif event_date is not None:
            problems.extend(_event_problems(ds, name, event_date))
    return problems


def _event_problems(ds: xr.Dataset, name: str, event_date: tuple[str, str]) -> list[str]:
    """The event must fall strictly inside the acquisitions: some before and some after it."""
    try:
        pre, post = (pd.Timestamp(str(d)) for d in event_date)
    except ValueError:
        return [f"datacube {name}: event date {event_date!r} is not two YYYYMMDD dates"]
    times = pd.DatetimeIndex(ds["timestep"].values)
    first, last = times.min(), times.max()
    span = f"{first:%Y%m%d}..{last:%Y%m%d}"
    if pre >= post:
        return [f"datacube {name}: last pre-event date {pre:%Y%m%d} is not before "
                f"the first post-event date {post:%Y%m%d}"]
    if pre < first or pre > last:
        return [f"datacube {name}: last pre-event date {pre:%Y%m%d} outside the timesteps {span}"]
    if post > last or post < first:
        return [f"datacube {name}: first post-event date {post:%Y%m%d} outside the timesteps {span}"]
    return []


def _missing_metadata(path: Path) -> list[str]:
    """Arrays of a local zarr directory whose metadata file is gone (consolidated metadata would hide it)."""
    if not path.is_dir():
        return []
    if not any((path / f).exists() for f in (".zgroup", "zarr.json")):
        return ["the root group"]
    return [var for var in REQUIRED_VARS
            if (path / var).is_dir() and not any((path / var / f).exists() for f in (".zarray", "zarr.json"))]


def _read_first_chunks(ds: xr.Dataset, name: str) -> list[str]:
    """Decode the first chunk of each required variable: cheap, and catches corrupt or truncated chunks."""
    problems = []
    for var in REQUIRED_VARS:
        first = {d: slice(0, 1) for d in ds[var].dims}
        try:
            ds[var].isel(first).load()
        except Exception as err:  # codec and store errors vary by zarr version
            problems.append(f"datacube {name}: cannot read variable {var!r} ({_one_line(err)})")
    return problems


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:200]}"
