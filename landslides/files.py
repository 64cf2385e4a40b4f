"""Atomic file writes: every output appears whole or not at all.

Each writer writes a temporary file beside the target (same folder, so the rename stays on one
filesystem) and renames it over the target at the end; an interrupted or failed write leaves the
target untouched and removes its temporary file.
"""

from __future__ import annotations

import contextlib
import json
import os
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
