"""Atomic writes (landslides/files.py): an output appears whole or not at all, file or folder."""

import os

import pytest

from landslides.files import atomic_dir, atomic_path, replace_path, write_json


def test_failed_file_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    write_json({"a": 1}, target)
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_folder_replaces_the_old_one_only_when_complete(tmp_path):
    target = tmp_path / "store.zarr"
    with atomic_dir(target) as tmp:
        (tmp / "old").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "new").write_text("2")
        raise RuntimeError("killed mid-write")
    assert [p.name for p in target.iterdir()] == ["old"]
    with atomic_dir(target) as tmp:
        (tmp / "new").write_text("2")
    assert [p.name for p in target.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["store.zarr"]


def test_folder_temporaries_of_dead_writers_are_removed(tmp_path):
    target = tmp_path / "store.zarr"
    dead = tmp_path / "store.zarr.tmp-999999999"  # no such process
    live = tmp_path / f"store.zarr.tmp-{os.getppid()}"  # a running process's temporary stays
    dead.mkdir()
    live.mkdir()
    with atomic_dir(target) as tmp:
        (tmp / "chunk").write_text("x")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["store.zarr", live.name])


def test_replace_path_takes_the_place_of_a_file_or_a_link(tmp_path):
    """A download's kept entry replaces whatever stood there before: an older file, or a symlink to elsewhere."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("not ours to delete")
    for old in ("file", "link"):
        dest, new = tmp_path / f"cube-{old}", tmp_path / f"new-{old}"
        if old == "file":
            dest.write_text("old")
        else:
            dest.symlink_to(elsewhere)
        new.mkdir()
        (new / "chunk").write_text("x")
        replace_path(new, dest)
        assert dest.is_dir() and not dest.is_symlink() and [p.name for p in dest.iterdir()] == ["chunk"]
    assert (elsewhere / "keep").read_text() == "not ours to delete"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cube-file", "cube-link", "elsewhere"]
