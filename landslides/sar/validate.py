"""Open a SAR datacube (real or synthetic) lazily and check it has what the chip pipeline reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from landslides.errors import InputError
from landslides.sar.zarr_io import undecodable_chunks

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
# 0/1 variables; the chip store reads them as `> 0`.
LABEL_VARS = {"landslides": "landslides", "extraction_mask": "inside the extraction mask"}
ZARR_METADATA = (".zgroup", ".zarray", ".zmetadata", "zarr.json")
TIMEPAIR_VARS = ("los_rdr_0", "los_rdr_1", "phsig_cor", "topophase_cor_0", "topophase_cor_1",
                 "topophase_flat_imag", "topophase_flat_real")


def open_datacube(path: str | Path, event_date: tuple[str, str] | None = None) -> xr.Dataset:
    """Open the zarr cube at `path` lazily (dask, the store's chunks) and validate it.

    Raises InputError with one line naming the cube for a missing path, a folder that is not a zarr
    store, a truncated store (metadata or an array's folder missing), a chunk file that does not decode,
    labels other than 0/1, and every problem `validate_datacube` finds. An absent chunk file is not a
    problem: zarr reads it as the fill value, and leaves out chunks holding only that by default (what the
    backscatter must hold is checked where the chips are built). Every chunk file of the variables and
    coordinates the pipeline reads is decoded, one at a time (0.2 s for a 1024 px cube
    of 26 timesteps, 2 s for a 3072 px one: docs/benchmarks.md), so a damaged store fails here, before
    any output is written, and not in the middle of a job.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"datacube {path}: path does not exist")
    if path.is_file():
        hint = ", unzip it first" if path.suffix.lower() == ".zip" else ""
        raise InputError(f"datacube {path}: not a zarr store (a file; a zarr store is a folder{hint})")
    if not _looks_like_zarr(path):
        raise InputError(f"datacube {path}: not a zarr store (no .zgroup, .zarray or zarr.json in it)")
    missing_meta = _missing_metadata(path)
    if missing_meta:
        raise InputError(f"datacube {path}: truncated store, no zarr metadata for {', '.join(missing_meta)}")
    try:
        ds = xr.open_zarr(path, chunks={})
    except Exception as err:  # zarr raises many kinds; all mean the same to the user
        raise InputError(f"datacube {path}: not a readable zarr store ({_one_line(err)})") from err
    problems = validate_datacube(ds, str(path), event_date)
    if not problems:
        problems = _chunk_problems(ds, path, str(path))
    if not problems:
        problems = label_problems(ds, str(path))
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
        else:
            dates = timestep_problems(ds, name)
            problems.extend(dates)
            if event_date is not None and not dates:  # NaT would make the time range NaT too
                problems.extend(_event_problems(ds, name, event_date))
    return problems


def timestep_problems(ds: xr.Dataset, name: str) -> list[str]:
    """Every acquisition needs a date of its own: a missing (NaT) or repeated timestep leaves no way to
    tell which image is meant. Unsorted timesteps are fine here; the chip store sorts them."""
    times = pd.DatetimeIndex(ds["timestep"].values)
    if times.hasnans:
        where = np.flatnonzero(times.isna())
        return [f"datacube {name}: coordinate 'timestep' has no date (NaT) at position(s) "
                f"{_listed(where.tolist())}; every acquisition needs one"]
    repeated = times[times.duplicated()].unique()
    if len(repeated):
        days = [f"{t:%Y-%m-%d %H:%M:%S}" for t in repeated]
        return [f"datacube {name}: coordinate 'timestep' repeats {_listed(days)}; each acquisition needs a "
                "date of its own (remove the duplicate acquisitions)"]
    return []


def _listed(items: list, shown: int = 4) -> str:
    return ", ".join(str(i) for i in items[:shown]) + (f", ... ({len(items)} in all)" if len(items) > shown else "")


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


def _looks_like_zarr(path: Path) -> bool:
    """A zarr metadata file at the top of the folder or one level down (a store missing only its root
    group file is truncated, not something else)."""
    return any((path / f).exists() or any(path.glob(f"*/{f}")) for f in ZARR_METADATA)


def _missing_metadata(path: Path) -> list[str]:
    """Arrays of a local zarr directory whose metadata file is gone (consolidated metadata would hide it)."""
    if not path.is_dir():
        return []
    if not any((path / f).exists() for f in (".zgroup", "zarr.json")):
        return ["the root group"]
    return [var for var in (*REQUIRED_VARS, *REQUIRED_COORDS)
            if (path / var).is_dir() and not any((path / var / f).exists() for f in (".zarray", "zarr.json"))]


def _chunk_problems(ds: xr.Dataset, path: Path, name: str) -> list[str]:
    """Every array the pipeline reads must have its folder, and every chunk file in it must decode.

    A chunk file that is absent is not checked: under the zarr specification it holds the fill value,
    and zarr's default writer leaves such chunks out. Decoding each file, one at a time, catches a store
    truncated after its first chunks (a cut download, a full disk).
    """
    arrays = [a for a in (*REQUIRED_VARS, *REQUIRED_COORDS) if a in ds.variables]
    # Consolidated metadata can list an array whose folder (and its .zarray) is gone: not an array any
    # more under the specification, though zarr would read it as all fill values.
    problems = [f"datacube {name}: truncated store, the folder of {a!r} is missing" for a in arrays
                if not (path / a).is_dir()]
    if problems:
        return problems
    for array in arrays:
        bad, total = undecodable_chunks(path, array)
        if bad:
            key, err = bad[0]
            problems.append(f"datacube {name}: cannot read variable {array!r}, {len(bad)} of {total} "
                            f"chunk files do not decode (first {array}/{key}: {_one_line(err)})")
    return problems


def label_problems(ds: xr.Dataset, name: str) -> list[str]:
    """`landslides` and `extraction_mask` must hold 0/1 (NaN allowed: no landslide, outside the mask).

    Read as the chip store reads them (`> 0`), a 2, a 5 or a 255 nodata value would become a landslide
    or a valid pixel. The 2-D variables are loaded, as the chip store does anyway.
    """
    problems = []
    for var in LABEL_VARS:
        if var not in ds.variables:
            continue  # reported by validate_datacube
        try:
            values = ds[var].values
        except Exception as err:  # a cube that open_datacube did not check: codec errors surface here
            problems.append(f"datacube {name}: cannot read variable {var!r} ({_one_line(err)})")
            continue
        if values.dtype == bool:
            continue
        if np.issubdtype(values.dtype, np.floating):
            values = values[~np.isnan(values)]
        if values.dtype == np.uint8:
            found = np.flatnonzero(np.bincount(values.ravel(), minlength=256))  # faster than np.unique
        else:
            found = np.unique(values)
        other = found[~np.isin(found, (0, 1))]
        if other.size:
            shown = ", ".join(f"{v:g}" for v in other[:6].tolist()) + (", ..." if other.size > 6 else "")
            problems.append(f"datacube {name}: variable {var!r} holds values other than 0 and 1 ({shown} in "
                            f"{int(np.isin(values, other).sum())} pixels), which would be read as "
                            f"{LABEL_VARS[var]}; it must hold 0/1 (NaN for no data)")
    return problems


def _one_line(err: Exception) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:200]}"
