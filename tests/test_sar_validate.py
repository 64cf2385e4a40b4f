"""Datacube validation: every problem is reported on one line that names the cube."""

import shutil

import numpy as np
import pytest

from landslides.errors import InputError
from landslides.sar.validate import open_datacube, validate_datacube

EVENT = ("20200104", "20200105")


def test_hand_cube_is_valid(hand_cube):
    assert validate_datacube(hand_cube, "hand", EVENT) == []


def test_missing_variable_and_coordinate(hand_cube):
    problems = validate_datacube(hand_cube.drop_vars(["vh", "sat:orbit_state"]), "cubeX", EVENT)
    assert any("cubeX" in p and "'vh'" in p for p in problems)
    assert any("cubeX" in p and "'sat:orbit_state'" in p for p in problems)


def test_wrong_dims_and_dtype(hand_cube):
    vv = hand_cube["vv"].fillna(0)  # a finite array: the cast itself is not what is tested
    cube = hand_cube.assign(dem=hand_cube["dem"].transpose("x", "y"), vv=vv.astype("int16"))
    problems = validate_datacube(cube, "cubeX", EVENT)
    assert any("cubeX" in p and "'dem'" in p and "dims" in p for p in problems)
    assert any("cubeX" in p and "'vv'" in p and "floating" in p for p in problems)


def test_event_outside_timesteps(hand_cube):
    (problem,) = validate_datacube(hand_cube, "cubeX", ("20200104", "20200301"))
    assert "cubeX" in problem and "20200301" in problem and "outside" in problem
    (problem,) = validate_datacube(hand_cube, "cubeX", ("20191201", "20200105"))
    assert "20191201" in problem


def test_open_valid_store_is_lazy(tiny_cube_path, tiny_cube_event):
    ds = open_datacube(tiny_cube_path, event_date=tiny_cube_event)
    assert ds["vv"].chunks is not None  # dask-backed, nothing loaded


def test_open_reports_missing_and_bad_stores(tmp_path, tiny_cube_path, tiny_cube_event):
    with pytest.raises(InputError, match="nowhere.zarr: path does not exist"):
        open_datacube(tmp_path / "nowhere.zarr")
    (tmp_path / "empty.zarr").mkdir()
    with pytest.raises(InputError, match="empty.zarr"):
        open_datacube(tmp_path / "empty.zarr")
    with pytest.raises(InputError, match="hokkaido.zarr.*20300101"):
        open_datacube(tiny_cube_path, event_date=("20180905", "20300101"))


def corrupt_copy(tmp_path, source, name):
    target = tmp_path / name
    shutil.copytree(source, target)
    return target


def test_truncated_chunk(tmp_path, tiny_cube_path):
    cube = corrupt_copy(tmp_path, tiny_cube_path, "cut_chunk.zarr")
    chunk = cube / "vh" / "0.0.0"
    chunk.write_bytes(chunk.read_bytes()[:20])
    with pytest.raises(InputError, match=r"cut_chunk.zarr.*'vh'") as err:
        open_datacube(cube)
    assert "\n" not in str(err.value)


def test_deleted_metadata(tmp_path, tiny_cube_path):
    cube = corrupt_copy(tmp_path, tiny_cube_path, "no_meta.zarr")
    (cube / "dem" / ".zarray").unlink()
    with pytest.raises(InputError, match=r"no_meta.zarr.*dem"):
        open_datacube(cube)
    (cube / ".zgroup").unlink()
    with pytest.raises(InputError, match=r"no_meta.zarr"):
        open_datacube(cube)


def test_repeated_and_missing_timesteps(hand_cube):
    """Each acquisition needs a date of its own; unsorted dates are valid (the chip store sorts them)."""
    times = hand_cube["timestep"].values.copy()
    times[[3, 6]] = times[[2, 5]]
    (problem,) = validate_datacube(hand_cube.assign_coords(timestep=times), "cubeX", EVENT)
    assert problem == ("datacube cubeX: coordinate 'timestep' repeats 2020-01-03 00:00:00, 2020-01-06 00:00:00; "
                       "each acquisition needs a date of its own (remove the duplicate acquisitions)")
    times = hand_cube["timestep"].values.copy()
    times[1] = np.datetime64("NaT")
    (problem,) = validate_datacube(hand_cube.assign_coords(timestep=times), "cubeX", EVENT)
    assert "cubeX" in problem and "no date (NaT) at position(s) 1" in problem
    assert validate_datacube(hand_cube.isel(timestep=[4, 0, 7, 1, 2, 3, 5, 6]), "cubeX", EVENT) == []


def test_absent_chunk_files_are_fill_values(tmp_path, tiny_cube_path, tiny_cube_event):
    """Under the zarr specification an absent chunk file holds the fill value, and zarr's default writer
    leaves out chunks that hold only that: a cube without some chunk files opens (what the backscatter must
    hold is the chip store's check), a chunk file that is there but does not decode is refused."""
    cube = corrupt_copy(tmp_path, tiny_cube_path, "sparse.zarr")
    (cube / "vv" / "0.0.0").unlink()
    (cube / "landslides" / "0.0").unlink()
    ds = open_datacube(cube, event_date=tiny_cube_event)
    assert np.isnan(ds["vv"].isel(timestep=0).values).all()
