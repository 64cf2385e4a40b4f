"""Atomic zarr writes: a store is either complete at its path or absent, never half-written."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import xarray as xr


def write_zarr_atomic(ds: xr.Dataset, path: str | Path) -> None:
    """Write `ds` to a temporary sibling `<path>.tmp-<pid>`, then move it onto `path`.

    zarr format 2: the real cubes use it, and fixed-width unicode coordinates (orbit states, split names)
    have no stable zarr-v3 encoding in zarr-python 3.1. Chunking comes from each variable's encoding.
    """
    path = Path(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)  # a stale leftover of an earlier, killed run of this pid
    try:
        ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
        replace_dir(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_dir(src: Path, dest: Path) -> None:
    """Move directory `src` to `dest`, replacing whatever `dest` was; `dest` is never half-written."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        old = dest.with_name(f"{dest.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(dest, old)
        os.replace(src, dest)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(src, dest)
