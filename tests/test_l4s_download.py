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
