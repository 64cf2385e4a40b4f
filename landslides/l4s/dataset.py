"""Reader for the Landslide4Sense benchmark in its own HDF5 layout.

Layout (Zenodo record 10463239)::

    <root>/TrainData/img/image_N.h5    dataset "img",  (128, 128, 14) float
    <root>/TrainData/mask/mask_N.h5    dataset "mask", (128, 128) 0/1
    <root>/ValidData/...  <root>/TestData/...

Images are returned channels-first float32 (N, 14, H, W) because that is what PyTorch convolutions
expect; masks as uint8 (N, H, W). Every problem with a file is reported as one InputError line naming it.
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from landslides.errors import InputError

log = logging.getLogger(__name__)

SPLIT_DIRS = {"train": "TrainData", "val": "ValidData", "test": "TestData"}

# Sentinel-2 B1..B12 without B8A, then ALOS PALSAR slope and DEM (benchmark band order).
BAND_NAMES = (
    "B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B9", "B10", "B11", "B12", "slope", "dem",
)
N_BANDS = len(BAND_NAMES)
PATCH_SIZE = 128

_IMAGE_RE = re.compile(r"^image_(\d+)\.h5$")
_MASK_RE = re.compile(r"^mask_(\d+)\.h5$")


@dataclass
class L4SSplit:
    """One split in memory: images (N, 14, H, W) float32, masks (N, H, W) uint8 or None, patch ids N."""

    images: np.ndarray
    masks: np.ndarray | None
    ids: list[int]

    def __len__(self) -> int:
        return len(self.ids)


def _numbered_files(folder: Path, pattern: re.Pattern) -> dict[int, Path]:
    """Map patch number -> file for every file in `folder` whose name matches `pattern`."""
    found = {}
    for path in folder.iterdir():
        match = pattern.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def _split_dir(root: Path, split: str) -> Path:
    if split not in SPLIT_DIRS:
        raise InputError(f"unknown Landslide4Sense split {split!r}; valid: {', '.join(SPLIT_DIRS)}")
    return Path(root) / SPLIT_DIRS[split]


def list_patches(root: Path, split: str) -> list[int]:
    """Patch numbers N of `<root>/<SplitDir>/img/image_N.h5`, sorted numerically (not as strings)."""
    img_dir = _split_dir(root, split) / "img"
    if not img_dir.is_dir():
        raise InputError(f"{img_dir}: Landslide4Sense image folder not found")
    return sorted(_numbered_files(img_dir, _IMAGE_RE))


def _read_dataset(path: Path, name: str) -> np.ndarray:
    """Read one whole HDF5 dataset; unreadable files and missing datasets become one-line InputErrors."""
    try:
        with h5py.File(path, "r") as h5:
            if name not in h5:
                raise InputError(f"{path}: missing dataset {name!r} (found {sorted(h5.keys())})")
            return h5[name][()]
    except OSError as err:
        # h5py raises OSError for truncated or non-HDF5 files; keep only its first line.
        first_line = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{path}: unreadable HDF5 file ({first_line})") from err


def read_image(path: Path, size: int = PATCH_SIZE) -> np.ndarray:
    """One image patch as float32 (14, size, size), validated for shape, dtype and NaN/inf."""
    data = _read_dataset(path, "img")
    if data.shape != (size, size, N_BANDS):
        raise InputError(f"{path}: image shape {data.shape}, expected ({size}, {size}, {N_BANDS})")
    if not np.issubdtype(data.dtype, np.floating):
        raise InputError(f"{path}: image dtype {data.dtype}, expected a float type")
    if not np.isfinite(data).all():
        raise InputError(f"{path}: image contains NaN or infinite values")
    return np.ascontiguousarray(data.transpose(2, 0, 1), dtype=np.float32)


def read_mask(path: Path, size: int = PATCH_SIZE) -> np.ndarray:
    """One mask patch as uint8 (size, size) with values 0/1."""
    data = _read_dataset(path, "mask")
    if data.shape != (size, size):
        raise InputError(f"{path}: mask shape {data.shape}, expected ({size}, {size})")
    if not (np.issubdtype(data.dtype, np.integer) or np.issubdtype(data.dtype, np.floating)):
        raise InputError(f"{path}: mask dtype {data.dtype}, expected integers 0/1")
    if not np.isin(data, (0, 1)).all():
        raise InputError(f"{path}: mask has values other than 0 and 1 ({np.unique(data)[:5]} ...)")
    return data.astype(np.uint8)


def _read_images(paths: list[Path], size: int) -> np.ndarray:
    # Preallocate so peak memory is the output plus one patch (the train split is ~3.5 GB in float32).
    images = np.empty((len(paths), N_BANDS, size, size), dtype=np.float32)
    for i, path in enumerate(paths):
        images[i] = read_image(path, size)
    return images


def read_split(root: Path, split: str, *, require_masks: bool, size: int = PATCH_SIZE) -> L4SSplit:
    """Read a whole split. Without masks: InputError if `require_masks`, else masks=None and a warning."""
    split_dir = _split_dir(root, split)
    ids = list_patches(root, split)
    if not ids:
        raise InputError(f"{split_dir / 'img'}: no image_N.h5 files")
    images = _read_images([split_dir / "img" / f"image_{n}.h5" for n in ids], size)

    mask_dir = split_dir / "mask"
    mask_files = _numbered_files(mask_dir, _MASK_RE) if mask_dir.is_dir() else {}
    if not mask_files:
        if require_masks:
            raise InputError(f"{split_dir}: split {split!r} has no masks (no mask/mask_N.h5 files)")
        log.warning("%s: split %r has no masks; returning images only", split_dir, split)
        return L4SSplit(images=images, masks=None, ids=ids)

    missing = [n for n in ids if n not in mask_files]
    if missing:
        shown = ", ".join(f"mask_{n}.h5" for n in missing[:3])
        raise InputError(f"{mask_dir}: {len(missing)} image(s) have no mask (e.g. {shown})")
    masks = np.empty((len(ids), size, size), dtype=np.uint8)
    for i, n in enumerate(ids):
        masks[i] = read_mask(mask_files[n], size)
    return L4SSplit(images=images, masks=masks, ids=ids)


def read_folder(path: Path, size: int = PATCH_SIZE) -> L4SSplit:
    """Read a flat folder of image_N.h5 files (like the real sample patches); masks are None."""
    folder = Path(path)
    if not folder.is_dir():
        raise InputError(f"{folder}: folder not found")
    files = _numbered_files(folder, _IMAGE_RE)
    if not files:
        raise InputError(f"{folder}: no image_N.h5 files")
    ids = sorted(files)
    return L4SSplit(images=_read_images([files[n] for n in ids], size), masks=None, ids=ids)
