"""From a validated SAR datacube to a self-describing chip store.

The store holds every candidate channel of every chip (raw values, NaN -> 0), the label, a validity mask,
where each chip sits in the cube (pixel offsets, affine transform, CRS), its landslide fraction and its
split membership, and the whole-region statistics used for the authors' normalization. Training then
selects channels and chips from memory and never reads the cube again.

Only 2-D results are ever loaded: the before/after time means are computed chunk-wise by dask.
"""

from __future__ import annotations

import logging
from pathlib import Path

import dask
import numpy as np
import pandas as pd
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr

from landslides.errors import InputError
from landslides.sar import coverage
from landslides.sar.validate import label_problems, timestep_problems
from landslides.sar.zarr_io import write_zarr_atomic

log = logging.getLogger(__name__)

SAR_CHANNELS = ("vv_before", "vv_after", "vh_before", "vh_after")
STATIC_CHANNELS = ("dem", "dem_aspect", "dem_slope_radians", "dem_curvature", "dem_slope_riserun")
ALL_CHANNELS = SAR_CHANNELS + STATIC_CHANNELS
# Prapas et al.: SAR before/after plus aspect, slope and curvature; elevation left out because it
# differs too much between regions.
DEFAULT_CHANNELS = ("vv_before", "vv_after", "vh_before", "vh_after", "dem_aspect", "dem_slope_radians",
                    "dem_curvature")
CHIP_BATCH = 64  # chips per zarr chunk of the store
SPLITS = ("train", "val", "test")


def build_chip_store(cube: xr.Dataset, *, name: str, event_date: tuple[str, str],
                     orbit: str | list[str] | None = "d", keep_orbit: str = "d", n_looks_before: int = 3,
                     n_looks_after: int = 3, skip_last_pre: bool = False,
                     channels: list[str] | tuple[str, ...] = DEFAULT_CHANNELS, chip_size: int = 128,
                     split_fractions: tuple[float, float, float] = (0.7, 0.2, 0.1),
                     split_seed: int = 42) -> xr.Dataset:
    """Chip a cube (as returned by `open_datacube`) into an in-memory chip store.

    `orbit`: a letter ('d'/'a') keeps the timesteps whose `sat:orbit_state` starts with it; a list is the
    per-timestep orbit sequence, overriding the coordinate, of which the `keep_orbit` entries are kept;
    None keeps all timesteps. `skip_last_pre` reproduces the authors' slice `isel(range(-1-L, -1))`, which
    leaves out the last pre-event acquisition.
    """
    channels = list(channels)
    unknown = [c for c in channels if c not in ALL_CHANNELS]
    if unknown or not channels:
        raise InputError(f"chip store {name}: unknown channels {unknown} (known: {', '.join(ALL_CHANNELS)})")
    source = _cube_name(cube, name)
    problems = label_problems(cube, source) + timestep_problems(cube, source)
    if problems:
        raise InputError(f"chip store {name}: " + "; ".join(problems))
    cube, orbit = _in_time_order(cube, source, orbit)
    inside = cube["extraction_mask"].values > 0
    if not inside.any():
        raise InputError(f"chip store {name}: datacube {source}: variable 'extraction_mask' marks no pixel "
                         "(it holds no 1), so no chip has a valid pixel")
    kept = _orbit_selection(cube, name, orbit, keep_orbit)
    before, after = _before_after(cube, name, kept, event_date, n_looks_before, n_looks_after, skip_last_pre)
    layers = _channel_layers(cube, channels, before, after, inside, f"chip store {name}: datacube {source}")
    stack = np.stack([layers[c] for c in channels])  # (channel, y, x), float32
    finite = np.isfinite(stack)
    valid = inside & finite.all(axis=0)
    whole_mean, whole_std = _whole_stats(stack, valid)
    stack[~finite] = 0.0
    label = np.nan_to_num(cube["landslides"].values.astype(np.float32)) > 0

    origins = _chip_origins(valid, chip_size)
    if not origins:
        raise InputError(f"chip store {name}: datacube {source}: "
                         + _no_valid_chip(channels, finite, inside, chip_size))
    _check_variation(channels, whole_std, f"chip store {name}: datacube {source}")
    image = np.stack([stack[:, r:r + chip_size, c:c + chip_size] for r, c in origins])
    labels = np.stack([label[r:r + chip_size, c:c + chip_size] for r, c in origins]).astype(np.uint8)
    valids = np.stack([valid[r:r + chip_size, c:c + chip_size] for r, c in origins]).astype(np.uint8)
    fraction = labels.reshape(len(origins), -1).mean(axis=1)
    positive = fraction > 0
    if not positive.any():
        raise InputError(_no_landslide_message(cube, name, label, chip_size))
    rows, cols = np.array([o[0] for o in origins]), np.array([o[1] for o in origins])

    ds = xr.Dataset(
        {
            "image": (("chip", "channel", "y", "x"), image),
            "label": (("chip", "y", "x"), labels),
            "valid": (("chip", "y", "x"), valids),
            "whole_mean": (("channel",), whole_mean),
            "whole_std": (("channel",), whole_std),
        },
        coords={
            "chip": np.arange(len(origins)),
            "channel": np.array(channels),
            "row": ("chip", rows),
            "col": ("chip", cols),
            "landslide_fraction": ("chip", fraction),
            "has_landslide": ("chip", positive),
            "split_positive": ("chip", _split_names(positive, split_fractions, split_seed)),
            "split_all": ("chip", _split_names(np.ones_like(positive), split_fractions, split_seed)),
            "transform": (("chip", "affine"), _chip_transforms(cube, rows, cols)),
        },
    )
    ds.attrs.update(
        name=name, region=str(cube.attrs.get("region", name)), crs=_crs_wkt(cube),
        event_date="/".join(event_date), n_looks_before=n_looks_before, n_looks_after=n_looks_after,
        skip_last_pre=int(skip_last_pre), orbit=_orbit_label(orbit, keep_orbit), chip_size=chip_size,
        dates_before=[_day(cube, t) for t in before], dates_after=[_day(cube, t) for t in after],
        split_fractions=list(split_fractions), split_seed=split_seed,
    )
    return ds


def _in_time_order(cube: xr.Dataset, source: str, orbit) -> tuple[xr.Dataset, object]:
    """The cube with its timesteps sorted by date (lazily), and an orbit sequence given per timestep
    permuted with them.

    Before and after are chosen by position, so an unsorted cube would average the wrong acquisitions.
    Nothing in zarr or CF asks a coordinate to be sorted, and each acquisition carries its own date, so
    sorting changes no data: the cube is used sorted, with a warning, rather than refused (a real cube is
    several GB to rewrite). The orbit sequence in the config is read in the cube's stored order.
    """
    times = pd.DatetimeIndex(cube["timestep"].values)
    if times.is_monotonic_increasing:
        return cube, orbit
    order = np.argsort(times.values, kind="stable")
    first = int(np.flatnonzero(np.diff(times.values) < np.timedelta64(0))[0])
    log.warning("datacube %s: timesteps are not in time order (%s at position %d comes before %s); the chips "
                "use them sorted by date", source, f"{times[first]:%Y%m%d}", first, f"{times[first + 1]:%Y%m%d}")
    if orbit is not None and not isinstance(orbit, str) and len(orbit) == len(times):
        orbit = [orbit[i] for i in order]
    return cube.isel(timestep=order), orbit


def _orbit_selection(cube: xr.Dataset, name: str, orbit, keep_orbit: str) -> np.ndarray:
    """Indices of the timesteps whose orbit direction is kept."""
    n = cube.sizes["timestep"]
    if orbit is None:
        return np.arange(n)
    if isinstance(orbit, str):
        states, keep = cube["sat:orbit_state"].values, orbit
    else:
        if len(orbit) != n:
            raise InputError(f"chip store {name}: orbit sequence has {len(orbit)} entries, "
                             f"the cube has {n} timesteps")
        states, keep = orbit, keep_orbit
    letter = keep.strip().lower()[:1]
    return np.array([t for t in range(n) if str(states[t]).strip().lower().startswith(letter)], dtype=int)


def _before_after(cube, name, kept, event_date, n_before, n_after, skip_last_pre):
    """Timestep indices averaged into 'before' and 'after'."""
    times = pd.DatetimeIndex(cube["timestep"].values)[kept]
    last_pre, first_post = (pd.Timestamp(str(d)) for d in event_date)
    # Whole days, as xarray's 'YYYYMMDD' slicing does: an acquisition at 21:00 on the last pre-event day
    # is still pre-event.
    pre = kept[times < last_pre + pd.Timedelta(days=1)]
    post = kept[times >= first_post]
    if skip_last_pre:
        before = pre[-1 - n_before:-1] if len(pre) >= n_before + 1 else pre[:0]
    else:
        before = pre[-n_before:] if n_before > 0 else pre[:0]
    after = post[:n_after]
    if n_before < 1 or n_after < 1 or len(before) < n_before or len(after) < n_after:
        need = n_before + (1 if skip_last_pre else 0)
        raise InputError(f"chip store {name}: need {need} pre-event and {n_after} post-event acquisitions "
                         f"of the kept orbit, the cube has {len(pre)} and {len(post)}")
    return before, after


def _channel_layers(cube: xr.Dataset, channels, before, after, inside: np.ndarray, where: str
                    ) -> dict[str, np.ndarray]:
    """The requested channels as 2-D float32 arrays; SAR means of log backscatter computed lazily, in the
    same pass as the check that the backscatter is there inside the mask (`coverage`, messages start with
    `where`)."""
    lazy, counts, groups = {}, [], []
    for pol in ("vv", "vh"):
        used, averaged = [], []
        for when, idx in (("before", before), ("after", after)):
            if f"{pol}_{when}" in channels:
                logs = np.log(cube[pol].isel(timestep=list(idx)))
                lazy[f"{pol}_{when}"] = logs.mean("timestep").astype(np.float32)
                used += [(t, when) for t in idx]
                averaged.append(logs)
        if used:
            counts.append(coverage.lazy_counts(averaged, cube["extraction_mask"] > 0))
            groups.append(coverage.Group(pol, [_day(cube, t) for t, _ in used], [w for _, w in used]))
    computed, counts = dask.compute(lazy, counts)
    coverage.check(where, groups, counts, int(inside.sum()))
    layers = {k: np.asarray(v.values if hasattr(v, "values") else v) for k, v in computed.items()}
    for c in channels:
        if c in STATIC_CHANNELS:
            layers[c] = cube[c].values.astype(np.float32)
    return layers


def _whole_stats(stack: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std over the valid pixels of the whole region."""
    if not valid.any():
        return np.full(len(stack), np.nan), np.full(len(stack), np.nan)
    values = stack[:, valid].astype(np.float64)
    return values.mean(axis=1), values.std(axis=1)


def _chip_origins(valid: np.ndarray, size: int) -> list[tuple[int, int]]:
    """Top-left pixels of non-overlapping chips from the top-left corner that hold a valid pixel.

    In the authors' order: xbatcher's BatchGenerator(ds, {'x': 128, 'y': 128}) walks x in the outer loop
    (column by column, each column top to bottom), and the seeded random_split permutes that list, so
    the order decides which chips land in train, val and test.
    """
    h, w = valid.shape
    origins = [(r, c) for c in range(0, w - size + 1, size) for r in range(0, h - size + 1, size)
               if valid[r:r + size, c:c + size].any()]
    return origins


def _no_valid_chip(channels, finite: np.ndarray, inside: np.ndarray, size: int) -> str:
    """Why no chip holds a valid pixel: the channels without a value inside the extraction mask, or none
    of its pixels with a value in every channel."""
    h, w = inside.shape
    empty = [c for c, ok in zip(channels, finite, strict=True) if not ok[inside].any()]
    why = (f"no value inside the extraction mask in {', '.join(empty)}" if empty
           else "no pixel inside the extraction mask has a value in every channel")
    return f"no {size}x{size} chip with valid pixels in the {h}x{w} cube ({why})"


def _check_variation(channels, whole_std: np.ndarray, where: str) -> None:
    """Warn about channels that hold one value over the valid pixels. A single one (a flat DEM derivative)
    is usable, normalization leaves it unscaled; a store where all are is refused when training opens it
    (`open_chip_store`), which is where it stops being usable."""
    constant = [c for c, s in zip(channels, whole_std, strict=True) if not s > 0]
    if constant:
        log.warning("%s: channel(s) %s hold a single value over the valid pixels%s", where, ", ".join(constant),
                    "; training will refuse this store" if len(constant) == len(channels) else "")


def _no_landslide_message(cube: xr.Dataset, name: str, label: np.ndarray, chip_size: int) -> str:
    """Why a cube gives no chip with landslides, naming the cube."""
    inside = int((label & (cube["extraction_mask"].values > 0)).sum())
    where = (f"its {inside} landslide pixels inside the extraction mask fall in no {chip_size}x{chip_size} "
             "chip" if inside else "no landslide pixel inside the extraction mask")
    return (f"chip store {name}: datacube {_cube_name(cube, name)}: {where}; the studies need chips with "
            "landslides (transfer and pretrain train, select and test their models on them)")


def _cube_name(cube: xr.Dataset, name: str) -> str:
    """The cube's path when it was opened from one, else the store's name."""
    return str(cube.encoding.get("source", name))


def _split_names(members: np.ndarray, fractions, seed: int) -> np.ndarray:
    """'train'/'val'/'test' for the member chips, '' for the others.

    As the authors' torch `random_split` with a seeded generator: a random permutation of the members, cut
    into consecutive parts of int(f x n) for all but the last part, which takes the rest (their 309
    positive Hokkaido chips -> 216/61/32).
    """
    # torch only for its permutation, so that on the real cubes the membership is the authors' own;
    # imported here because it is heavy and nothing else in this module needs it.
    import torch

    index = np.flatnonzero(members)
    n = len(index)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).numpy()
    sizes = [int(f * n) for f in fractions[:-1]]
    sizes.append(n - sum(sizes))
    names = np.full(len(members), "", dtype="<U5")
    start = 0
    for split, size in zip(SPLITS, sizes, strict=True):
        names[index[order[start:start + size]]] = split
        start += size
    return names


def _chip_transforms(cube: xr.Dataset, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """GDAL-order affine (x0, dx, 0, y0, 0, dy) of each chip; x0/y0: outer corner of its first pixel."""
    x, y = cube["x"].values.astype(np.float64), cube["y"].values.astype(np.float64)
    dx, dy = x[1] - x[0], y[1] - y[0]
    out = np.zeros((len(rows), 6))
    out[:, 0] = x[cols] - dx / 2.0
    out[:, 1] = dx
    out[:, 3] = y[rows] - dy / 2.0
    out[:, 5] = dy
    return out


def _crs_wkt(cube: xr.Dataset) -> str:
    """The cube's CRS as WKT ('' when it has none): rioxarray's reading, else the CF grid-mapping variable."""
    try:
        crs = cube.rio.crs
    except Exception:  # a cube without a usable grid mapping still chips; it just has no CRS
        crs = None
    if crs is not None:
        return crs.to_wkt()
    for var in ("spatial_ref", "crs"):
        if var in cube.variables and "crs_wkt" in cube[var].attrs:
            return str(cube[var].attrs["crs_wkt"])
    return ""


def _orbit_label(orbit, keep_orbit: str) -> str:
    if orbit is None:
        return "all"
    if isinstance(orbit, str):
        return orbit
    return f"{keep_orbit} of {','.join(orbit)}"


def _day(cube: xr.Dataset, t: int) -> str:
    return f"{pd.Timestamp(cube['timestep'].values[t]):%Y%m%d}"


def chip_table(ds: xr.Dataset) -> pd.DataFrame:
    """One row per chip: id, row, col, landslide_fraction, has_landslide, split_positive, split_all."""
    return pd.DataFrame({
        "id": ds["chip"].values,
        "row": ds["row"].values,
        "col": ds["col"].values,
        "landslide_fraction": ds["landslide_fraction"].values,
        "has_landslide": ds["has_landslide"].values.astype(bool),
        "split_positive": ds["split_positive"].values.astype(str),
        "split_all": ds["split_all"].values.astype(str),
    })


def write_chip_store(ds: xr.Dataset, path: str | Path) -> None:
    """Write the chip store as zarr, CHIP_BATCH chips per chunk; atomic."""
    ds = ds.copy()
    for var_name, var in ds.data_vars.items():
        if "chip" in var.dims:
            var.encoding = {"chunks": tuple(min(CHIP_BATCH, var.sizes[d]) if d == "chip" else var.sizes[d]
                                            for d in var.dims)}
            ds[var_name] = var
    write_zarr_atomic(ds, path)


STORE_SCHEMA = {
    "image": ("chip", "channel", "y", "x"),
    "label": ("chip", "y", "x"),
    "valid": ("chip", "y", "x"),
    "whole_mean": ("channel",),
    "whole_std": ("channel",),
}
STORE_COORDS = ("chip", "channel", "row", "col", "landslide_fraction", "has_landslide", "split_positive",
                "split_all", "transform")


def open_chip_store(path: str | Path) -> xr.Dataset:
    """Open a chip store lazily and check its schema; InputError naming the store on any problem."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"chip store {path}: path does not exist")
    try:
        ds = xr.open_zarr(path, chunks={})
    except Exception as err:  # zarr raises many kinds; all mean the same to the user
        raise InputError(f"chip store {path}: not a readable zarr store ({_one_line(err)})") from err
    problems = []
    for var, dims in STORE_SCHEMA.items():
        if var not in ds.variables:
            problems.append(f"missing variable {var!r}")
        elif tuple(ds[var].dims) != dims:
            problems.append(f"variable {var!r} has dims {tuple(ds[var].dims)}, expected {dims}")
    problems += [f"missing coordinate {c!r}" for c in STORE_COORDS if c not in ds.coords]
    if not problems:
        for var in STORE_SCHEMA:
            try:
                ds[var].isel({d: slice(0, 1) for d in ds[var].dims}).load()
            except Exception as err:  # codec and store errors vary by zarr version
                problems.append(f"cannot read variable {var!r} ({_one_line(err)})")
    if not problems:
        problems = _signal_problems(ds)
    if problems:
        raise InputError(f"chip store {path}: " + "; ".join(problems))
    return ds


def _signal_problems(ds: xr.Dataset) -> list[str]:
    """A store must hold a valid pixel and a channel that varies over the valid pixels, or training has
    nothing to learn from; its whole-region statistics (a few numbers) tell without reading the chips."""
    std = ds["whole_std"].values
    if np.isnan(std).all():
        return ["no valid pixel in any chip (whole_std is NaN)"]
    if not (std > 0).any():
        return [f"every channel ({', '.join(map(str, ds['channel'].values))}) holds a single value over the "
                "valid pixels (whole_std is 0); there is nothing to learn from"]
    return []


def _one_line(err: Exception) -> str:
    return f"{type(err).__name__}: {' '.join(str(err).split())[:200]}"
