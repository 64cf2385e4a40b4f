"""Synthetic Landslide4Sense writer: layout, determinism, spectral signature."""

import numpy as np
import pytest

from landslides.errors import InputError
from landslides.l4s.dataset import SPLIT_DIRS, read_split
from landslides.l4s.synthetic import write_synthetic_l4s

COUNTS = {"n_train": 12, "n_val": 4, "n_test": 4}


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("l4s") / "synthetic"
    fractions = write_synthetic_l4s(root, seed=3, **COUNTS)
    return root, fractions


def test_layout_readable_with_masks(synthetic_root):
    root, _ = synthetic_root
    for split, count in zip(SPLIT_DIRS, COUNTS.values(), strict=True):
        data = read_split(root, split, require_masks=True)
        assert data.ids == list(range(1, count + 1))
        assert data.images.shape == (count, 14, 128, 128)
        assert data.masks.shape == (count, 128, 128)
        assert set(np.unique(data.masks)) <= {0, 1}
    assert [p.name for p in root.parent.iterdir()] == ["synthetic"]  # no temporary folder left beside it


def test_landslide_fraction_plausible(synthetic_root):
    _, fractions = synthetic_root
    total = sum(fractions[s] * n for s, n in zip(SPLIT_DIRS, COUNTS.values(), strict=True))
    assert 0.01 < total / sum(COUNTS.values()) < 0.06


def test_spectral_signature_bare_landslides(synthetic_root):
    root, _ = synthetic_root
    data = read_split(root, "train", require_masks=True)
    pixels = data.images.transpose(0, 2, 3, 1)
    slide = data.masks.astype(bool)
    b4, b8, slope = 3, 7, 12
    assert pixels[slide][:, b4].mean() > pixels[~slide][:, b4].mean()  # bright red
    assert pixels[slide][:, b8].mean() < pixels[~slide][:, b8].mean()  # low NIR
    assert pixels[slide][:, slope].mean() > pixels[~slide][:, slope].mean()  # steep ground


def test_same_seed_same_bytes(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for root, seed in ((a, 5), (b, 5), (c, 6)):
        write_synthetic_l4s(root, n_train=2, n_val=1, n_test=1, seed=seed, size=32)
    files = sorted(p.relative_to(a) for p in a.rglob("*.h5"))
    assert len(files) == 8
    assert all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
    assert any((a / f).read_bytes() != (c / f).read_bytes() for f in files)
    assert read_split(a, "val", require_masks=True, size=32).images.shape == (1, 14, 32, 32)


def test_refuses_non_empty_output(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    with pytest.raises(InputError, match="not empty"):
        write_synthetic_l4s(tmp_path / "out", n_train=1, n_val=1, n_test=1, seed=0)
