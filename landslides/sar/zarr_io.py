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
    remove_stale_temporaries(path)
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
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


def remove_stale_temporaries(path: Path) -> None:
    """Delete `<path>.tmp-<pid>` leftovers of writers that died; a live writer's temporary is left alone."""
    for tmp in path.parent.glob(f"{path.name}.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and (int(pid) == os.getpid() or not _alive(int(pid))):
            shutil.rmtree(tmp, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
