"""A catalogue of bad inputs (issue #17): what a user might feed the workflow, and the one line they get.

Every case must end its job with exit 1 and a single line naming the file and the problem (an InputError,
which `landslides.jobs.run_job` prints as `error: <message>`), or, where the input is usable but
questionable, one warning naming the file. Nothing half-written may be left where the job writes.
Inputs are small and generated here: copies of the session's 64 x 64 synthetic cube (one chunk per
timestep), GeoTIFF scenes from the scene generator, zips served from a local HTTP server.
"""

import hashlib
import logging
import shutil
import struct
import types
import zipfile

import pytest
import xarray as xr
from conftest import serve_folder
from rasterio.crs import CRS

from landslides.download import fetch_archive
from landslides.errors import InputError
from landslides.jobs import run_job
from landslides.sar.chips import build_chip_store, write_chip_store
from landslides.sar.synthetic import write_datacube
from landslides.sar.validate import open_datacube
from landslides.scene.reader import read_scene
from landslides.scene.synthetic import make_scene, write_scene
from landslides.scene.tiles import split_halves


def chip_job(cube_path, out, event):
    """What the chip-store job does with a local cube: validate it, chip it, write the store."""
    cube = open_datacube(cube_path, event_date=event)
    store = build_chip_store(cube, name="hokkaido", event_date=event, chip_size=32)
    write_chip_store(store, out)


def fails_with(cube_path, out, event, *fragments):
    """Run the chip job on a bad cube: an InputError of one line holding every fragment, and no store."""
    with pytest.raises(InputError) as err:
        chip_job(cube_path, out, event)
    message = str(err.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, message
    assert [p.name for p in out.parent.iterdir()] == [], "the chip job left something behind"
    return message


@pytest.fixture
def work(tmp_path):
    """(folder for input copies, chip store path in an empty output folder)."""
    (tmp_path / "in").mkdir()
    (tmp_path / "out").mkdir()
    return tmp_path / "in", tmp_path / "out" / "hokkaido.zarr"


def copy_cube(tiny_cube_path, folder, name):
    return shutil.copytree(tiny_cube_path, folder / name)


def rewrite_cube(tiny_cube_path, folder, name, change):
    """A copy of the tiny cube with `change(dataset)` applied, written as the project writes cubes."""
    cube = xr.open_zarr(tiny_cube_path).load()
    change(cube)
    write_datacube(cube, folder / name)
    return folder / name


def test_a_bad_input_ends_the_job_with_one_line(tmp_path, capsys):
    """The user points a region at a folder that is not a zarr store (a folder of GeoTIFFs, say). The job
    exits 1 and prints one line naming the folder, with no traceback."""
    folder = tmp_path / "hokkaido_tifs"
    folder.mkdir()
    (folder / "vv_20180101.tif").write_bytes(b"II*\0")
    out = tmp_path / "out" / "hokkaido.zarr"
    out.parent.mkdir()
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        with pytest.raises(SystemExit) as exit_:
            run_job(types.SimpleNamespace(log=[]), lambda _: chip_job(folder, out, ("20180905", "20180906")))
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
    assert exit_.value.code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"error: datacube {folder}: not a zarr store (no .zgroup, .zarray or zarr.json in it)"]
    assert not out.exists()


def test_missing_chunk_file(tiny_cube_path, tiny_cube_event, work):
    """The user copied a cube by hand and one chunk file did not make it (or deleted it). zarr would read
    the chunk as NaN, and the chips there would silently drop out."""
    folder, out = work
    cube = copy_cube(tiny_cube_path, folder, "partial.zarr")
    (cube / "vv" / "3.0.0").unlink()
    fails_with(cube, out, tiny_cube_event, f"datacube {cube}", "1 of 26 chunk files of 'vv' are missing",
               "vv/3.0.0")


@pytest.mark.parametrize(("var", "read_as"), [("landslides", "read as landslides"),
                                              ("extraction_mask", "read as inside the extraction mask")])
def test_labels_other_than_0_and_1(tiny_cube_path, tiny_cube_event, work, var, read_as):
    """The user built a cube from an inventory raster with class codes or a 255 nodata border. Read as
    `> 0`, those values would become landslides (or valid pixels)."""
    folder, out = work

    def codes(cube):
        cube[var].values[0, :3] = [2, 5, 255]

    cube = rewrite_cube(tiny_cube_path, folder, f"codes_{var}.zarr", codes)
    fails_with(cube, out, tiny_cube_event, f"datacube {cube}", f"variable {var!r}", "2, 5, 255 in 3 pixels",
               read_as)


def without_crs(raster):
    """The raster with its grid mapping (CRS) dropped; the transform stays in its x/y coordinates."""
    raster = raster.drop_vars(raster.rio.grid_mapping)
    raster.attrs.pop("grid_mapping", None)
    return raster


def test_scene_without_crs_warns(tmp_path, caplog):
    """The user exported the ridgei scene from an image editor that dropped the CRS. The scene is still
    usable, but its maps will carry a placeholder CRS: one warning says so, naming the file."""
    image, label = make_scene(height=16, width=16, seed=0)
    paths = tmp_path / "no_crs.tif", tmp_path / "no_crs_label.tif"
    write_scene(without_crs(image), without_crs(label), *paths)
    with caplog.at_level(logging.WARNING):
        scene = read_scene(*paths)
    assert scene.crs is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(paths[0]) in warnings[0] and "no CRS" in warnings[0] and "placeholder" in warnings[0]
    # A scene with its CRS reads without a warning.
    caplog.clear()
    write_scene(image, label, tmp_path / "crs.tif", tmp_path / "crs_label.tif")
    with caplog.at_level(logging.WARNING):
        assert read_scene(tmp_path / "crs.tif", tmp_path / "crs_label.tif").crs == CRS.from_epsg(32654)
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_chunk_corrupt_after_the_first(tiny_cube_path, tiny_cube_event, work):
    """The user's copy of a cube was cut short by a full disk: the first chunks are fine, a later one is
    truncated. Decoding would fail only in the middle of the chip job, with a raw blosc error."""
    folder, out = work
    cube = copy_cube(tiny_cube_path, folder, "cut.zarr")
    chunk = cube / "vh" / "5.0.0"
    chunk.write_bytes(chunk.read_bytes()[:40])
    fails_with(cube, out, tiny_cube_event, f"datacube {cube}", "cannot read variable 'vh'",
               "1 of 26 chunks do not decode", "vh/5.0.0")


def test_cube_without_landslides(tiny_cube_path, tiny_cube_event, work):
    """The user prepared a cube of a region whose inventory is empty (or the labels were lost on the way).
    The chip store would build, and training would then fail on normalization statistics."""
    folder, out = work

    def erase(cube):
        cube["landslides"].values[:] = 0

    cube = rewrite_cube(tiny_cube_path, folder, "empty_inventory.zarr", erase)
    message = fails_with(cube, out, tiny_cube_event, f"datacube {cube}",
                         "no landslide pixel inside the extraction mask", "the studies need chips with landslides")
    assert message.startswith("chip store hokkaido: ")


def test_one_pixel_scene(tmp_path):
    """The user gave ridgei a 1 x 1 raster (a wrong crop, a thumbnail). It cannot be cut into a train and a
    test half."""
    image, label = make_scene(height=16, width=16, seed=0)
    paths = tmp_path / "dot.tif", tmp_path / "dot_label.tif"
    write_scene(image[:, :1, :1], label[:1, :1], *paths)
    with pytest.raises(InputError) as err:
        split_halves(read_scene(*paths), axis="x")
    assert str(err.value) == (f"{paths[0]}: scene of 1 pixel(s) along x is too small to split at 0.5 "
                              "(both parts need at least one pixel)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dot.tif", "dot_label.tif"]


@pytest.fixture
def served(tmp_path, tiny_cube_path):
    """(base URL, folder) of a local server with two zips of the tiny cube: corrupt.zip, whose member
    vv/0.0.0 has garbage deflate data, and no_vv.zip, without the folder of 'vv'."""
    folder = tmp_path / "served"
    folder.mkdir()
    shutil.make_archive(str(folder / "cube"), "zip", root_dir=tiny_cube_path.parent, base_dir=tiny_cube_path.name)
    data = bytearray((folder / "cube.zip").read_bytes())
    with zipfile.ZipFile(folder / "cube.zip") as zf:
        info = zf.getinfo(f"{tiny_cube_path.name}/vv/0.0.0")
    # The member's compressed data follow its 30-byte local header, whose bytes 26-29 hold the lengths
    # of the file name and the extra field that come next.
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    data[start:start + 64] = b"\xff" * 64  # deflate block type 3 does not exist: zlib.error
    (folder / "corrupt.zip").write_bytes(bytes(data))
    no_vv = shutil.copytree(tiny_cube_path, tmp_path / "no_vv" / tiny_cube_path.name)
    shutil.rmtree(no_vv / "vv")
    shutil.make_archive(str(folder / "no_vv"), "zip", root_dir=no_vv.parent, base_dir=no_vv.name)
    with serve_folder(folder) as base:
        yield base, folder


def sha256(path):
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_zip_with_corrupt_member(served, tmp_path):
    """The archive on the server was damaged before its checksum was published (or the user pinned the
    damaged file's checksum): the zip directory is fine but a member's deflate data is garbage."""
    base, folder = served
    dest = tmp_path / "resources" / "hokkaido.zarr"
    with pytest.raises(InputError) as err:
        fetch_archive(f"{base}/corrupt.zip", dest, checksum=sha256(folder / "corrupt.zip"), retries=1,
                      validate=open_datacube, backoff=0)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"download {base}/corrupt.zip: archive member 'hokkaido.zarr/vv/0.0.0' is corrupt (")
    assert list(dest.parent.iterdir()) == []


def test_download_validation_names_the_archive(served, tmp_path):
    """A downloaded cube fails validation (here: the archive lost the folder of 'vv', which the store's
    consolidated metadata still lists, so zarr alone would read it as all NaN). The message names the
    archive and the store inside it, not the temporary folder it was unpacked into, which is gone by the
    time the user reads it."""
    base, folder = served
    dest = tmp_path / "resources" / "hokkaido.zarr"
    with pytest.raises(InputError) as err:
        fetch_archive(f"{base}/no_vv.zip", dest, checksum=sha256(folder / "no_vv.zip"), retries=1,
                      validate=open_datacube, backoff=0)
    assert str(err.value) == (f"download {base}/no_vv.zip: datacube no_vv.zip/hokkaido.zarr: "
                              "truncated store, the folder of 'vv' is missing")
    assert list(dest.parent.iterdir()) == []


def test_region_too_small_for_a_validation_split_is_one_line():
    """A user shrinks a region until the validation split holds no landslide chip: one line naming the
    chip store and the split, not an IndexError deep inside training."""
    import numpy as np
    import xarray as xr

    from landslides.sar.selection import require_chips

    store = xr.Dataset(attrs={"region": "hokkaido"})
    chips = {"train": {"chip": np.arange(3)}, "val": {"chip": np.arange(0)}}
    with pytest.raises(InputError, match=r"chip store hokkaido: no chips with landslides in the val split "
                                         r"\(train 3, val 0\)"):
        require_chips(store, chips)
