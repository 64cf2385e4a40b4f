"""Atomic writes: every output, file or folder, appears whole or not at all.

Each writer writes a temporary file (or folder) beside the target (same folder, so the rename stays on
one filesystem) and renames it over the target at the end; an interrupted or failed write leaves the
target untouched and removes its temporary.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path to write instead of `path`; renamed onto `path` when the block succeeds.

    The temporary name keeps the suffix, because some writers (numpy's savez, GDAL) choose the format
    by it or append their own.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """An empty temporary folder `<path>.tmp-<pid>` to fill instead of `path`; it replaces `path` (and
    whatever `path` held) when the block succeeds. Temporaries left by writers that died are removed first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)  # this process's own earlier temporary included
    tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
    tmp.mkdir()
    try:
        yield tmp
        replace_path(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def replace_path(src: Path, dest: Path) -> None:
    """Rename `src` (a file or folder) onto `dest`, replacing whatever `dest` was (a file, a folder or a link)
    only once `src` is complete: `dest` is never half-written."""
    if not dest.exists() and not dest.is_symlink():
        os.replace(src, dest)
        return
    old = dest.with_name(f"{dest.name}.old-{os.getpid()}")
    _remove(old)
    os.replace(dest, old)
    os.replace(src, dest)
    _remove(old)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


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


def write_text(text: str, path: str | Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(obj, path: str | Path, default=float) -> None:
    """Indented JSON; values JSON cannot hold go through `default` (float: numpy scalars as numbers)."""
    write_text(json.dumps(obj, indent=2, default=default) + "\n", path)


def save_npz(path: str | Path, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        np.savez_compressed(tmp, **arrays)


def save_torch(obj, path: str | Path) -> None:
    import torch  # imported here: the report and data jobs that write JSON need no torch

    with atomic_path(path) as tmp:
        torch.save(obj, tmp)
