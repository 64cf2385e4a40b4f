"""Download of the Landslide4Sense benchmark from Zenodo record 10463239 (all splits with masks).

The generic download/checksum/extract logic lives in landslides.download.fetch_archive; this module only
knows the record's file names and how to check that an extracted split is a valid benchmark split.
"""

from collections.abc import Callable
from pathlib import Path

from landslides.errors import InputError
from landslides.l4s.dataset import SPLIT_DIRS, list_patches, read_split

ZENODO_RECORD = "10463239"
ZENODO_URL = f"https://zenodo.org/records/{ZENODO_RECORD}/files"

# Archive names per split. These are the plausible names of the record's files, not verified from here
# (Zenodo is unreachable from the build machines): the config can rename them. A checksum pinned in the
# config is checked; where none is pinned the one the record API publishes is used.
ARCHIVES = {"train": "TrainData.zip", "val": "ValidData.zip", "test": "TestData.zip"}

# Patch counts of the released splits (docs/sources.md): a complete extraction has exactly these many images.
EXPECTED_PATCHES = {"train": 3799, "val": 245, "test": 800}


def archive_url(split: str, archive: str | None = None, base_url: str = ZENODO_URL) -> str:
    """Download URL of a split's archive (`archive` overrides the default file name)."""
    if split not in ARCHIVES:
        raise InputError(f"unknown Landslide4Sense split {split!r}; valid: {', '.join(ARCHIVES)}")
    return f"{base_url}/{archive or ARCHIVES[split]}?download=1"


def _root_of(path: Path, split: str) -> Path:
    """Benchmark root from a path that is either the root or the split folder itself."""
    path = Path(path)
    if (path / SPLIT_DIRS[split]).is_dir():
        return path
    if path.name == SPLIT_DIRS[split]:
        return path.parent
    raise InputError(f"{path}: no {SPLIT_DIRS[split]} folder after extraction")


def split_validator(split: str, *, expected: int | None = None) -> Callable[[Path], None]:
    """A `validate` callback for fetch_archive: the extracted split must read cleanly, with masks.

    Reads every patch (shape, dtype, NaN checks in the reader), so a truncated member is caught once,
    right after the download, instead of in the middle of training.
    """
    want = EXPECTED_PATCHES[split] if expected is None else expected

    def validate(path: Path) -> None:
        root = _root_of(path, split)
        ids = list_patches(root, split)
        if want and len(ids) != want:
            raise InputError(f"{root / SPLIT_DIRS[split]}: {len(ids)} patches, expected {want}")
        read_split(root, split, require_masks=True)

    return validate


def fetch_l4s(root: Path, split: str, *, checksum: str | None, archive: str | None = None, retries: int = 3,
              expected: int | None = None, base_url: str = ZENODO_URL) -> Path:
    """Download and extract one split to root/<SplitDir> (img/, mask/), validated by the reader.

    `checksum` ("md5:<hex>" or "sha256:<hex>") comes from the config; None takes the one Zenodo's record
    API publishes. `expected` overrides the patch count. Returns the split folder.
    """
    # Imported here so the reader and the synthetic writer work even where the downloader is not built.
    from landslides.download import fetch_archive, zenodo_checksum

    archive = archive or ARCHIVES[split]
    if checksum is None:
        checksum = zenodo_checksum(int(ZENODO_RECORD), archive)
        print(f"{archive}: no checksum pinned; verifying against the record's {checksum}")
    dest = Path(root) / SPLIT_DIRS[split]
    # fetch_archive moves the archive's split folder onto dest only after the validator has read it.
    fetch_archive(archive_url(split, archive, base_url), dest, checksum=checksum, retries=retries,
                  validate=split_validator(split, expected=expected), member=SPLIT_DIRS[split])
    return dest
