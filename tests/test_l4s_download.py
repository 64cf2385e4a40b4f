"""Zenodo constants and the post-download validator (fetch_archive itself is tested elsewhere)."""

import pytest

from landslides.errors import InputError
from landslides.l4s.download import ARCHIVES, archive_url, split_validator
from landslides.l4s.synthetic import write_synthetic_l4s


def test_archive_urls_point_at_the_record():
    assert archive_url("train") == "https://zenodo.org/records/10463239/files/TrainData.zip?download=1"
    assert set(ARCHIVES) == {"train", "val", "test"}
    with pytest.raises(InputError, match="unknown"):
        archive_url("holdout")


def test_validator_accepts_root_or_split_folder_and_checks_count(tmp_path):
    root = tmp_path / "l4s"
    write_synthetic_l4s(root, n_train=2, n_val=1, n_test=1, seed=0)
    split_validator("train", expected=2)(root)
    split_validator("train", expected=2)(root / "TrainData")
    with pytest.raises(InputError, match="2 patches, expected 3799"):
        split_validator("train")(root)
    (root / "ValidData" / "mask" / "mask_1.h5").unlink()
    with pytest.raises(InputError, match="has no masks"):
        split_validator("val", expected=1)(root)


@pytest.fixture
def served_l4s(tmp_path):
    """A local HTTP server whose folder holds TrainData.zip (2 synthetic patches) and a truncated copy."""
    import shutil

    from conftest import serve_folder

    source, folder = tmp_path / "source", tmp_path / "served"
    write_synthetic_l4s(source, n_train=2, n_val=1, n_test=1, seed=0)
    folder.mkdir()
    shutil.make_archive(str(folder / "TrainData"), "zip", root_dir=source, base_dir="TrainData")
    (folder / "Truncated.zip").write_bytes((folder / "TrainData.zip").read_bytes()[:-200])
    with serve_folder(folder) as base:
        yield base, folder


def test_fetch_l4s_writes_the_split_folder_in_the_real_layout(served_l4s, tmp_path):
    import hashlib

    from landslides.l4s.dataset import read_split
    from landslides.l4s.download import fetch_l4s

    base, folder = served_l4s
    checksum = "md5:" + hashlib.md5((folder / "TrainData.zip").read_bytes()).hexdigest()
    root = tmp_path / "resources"
    dest = fetch_l4s(root, "train", checksum=checksum, expected=2, base_url=base, retries=1)
    assert dest == root / "TrainData" and sorted(p.name for p in dest.iterdir()) == ["img", "mask"]
    split = read_split(root, "train", require_masks=True)
    assert split.images.shape == (2, 14, 128, 128)
    # A corrupted archive fails the checksum and leaves nothing behind.
    with pytest.raises(InputError, match="checksum"):
        fetch_l4s(tmp_path / "other", "train", checksum=checksum, archive="Truncated.zip", expected=2,
                  base_url=base, retries=1)
    assert not (tmp_path / "other" / "TrainData").exists()
