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

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from conftest import serve_folder
from rasterio.crs import CRS

from landslides.download import fetch_archive
from landslides.errors import InputError
from landslides.jobs import run_job
from landslides.sar.chips import build_chip_store, open_chip_store, write_chip_store
from landslides.sar.synthetic import write_datacube
from landslides.sar.validate import open_datacube
from landslides.scene.reader import read_scene
from landslides.scene.synthetic import make_scene, write_scene
from landslides.scene.tiles import split_halves


def chip_job(cube_path, out, event):
    """What the chip-store job does with a local cube: validate it, chip it, write the store (returned)."""
    cube = open_datacube(cube_path, event_date=event)
    store = build_chip_store(cube, name="hokkaido", event_date=event, chip_size=32)
    write_chip_store(store, out)
    return store


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


def timestep_index(cube_path, day):
    """Position of the acquisition on `day` (YYYYMMDD) in a cube's stored order."""
    return int(np.flatnonzero(xr.open_zarr(cube_path)["timestep"].dt.strftime("%Y%m%d").values == day)[0])


def test_lost_chunk_of_an_averaged_acquisition(tiny_cube_path, tiny_cube_event, work):
    """The user copied a cube by hand and the chunk file of vv at the first post-event acquisition did not
    make it. zarr reads it as NaN (an absent chunk is the fill value), so the chips would silently lose the
    pixels; the acquisition has no backscatter inside the extraction mask, and the message says which."""
    folder, out = work
    cube = copy_cube(tiny_cube_path, folder, "partial.zarr")
    (cube / "vv" / f"{timestep_index(cube, '20180913')}.0.0").unlink()
    fails_with(cube, out, tiny_cube_event, f"datacube {cube}", "no backscatter inside the extraction mask",
               "'vv' at 20180913 (after the event)")


def test_absent_chunk_of_an_unused_acquisition_is_accepted(tiny_cube_path, tiny_cube_event, work):
    """An absent chunk file is not damage in itself (zarr reads it as the fill value): a cube whose vv is
    NaN at an acquisition the chips do not average gives the same chip store as the complete cube."""
    folder, out = work
    cube = copy_cube(tiny_cube_path, folder, "gap.zarr")
    (cube / "vv" / f"{timestep_index(cube, '20180520')}.0.0").unlink()
    chip_job(cube, out, tiny_cube_event)
    chip_job(tiny_cube_path, out.with_name("complete.zarr"), tiny_cube_event)
    assert xr.open_zarr(out).identical(xr.open_zarr(out.with_name("complete.zarr")))


def write_like_zarr_default(cube, path, side=32):
    """A cube written as zarr writes it by default: write_empty_chunks=False leaves out every chunk that
    holds only the fill value (NaN backscatter, no landslide); 32 x 32 chunks, so some are left out."""
    cube = cube.copy()
    for name, var in cube.data_vars.items():
        var.encoding = {"chunks": tuple(1 if d in ("timestep", "timepair") else side for d in var.dims)}
        cube[name] = var
    cube.to_zarr(path, mode="w", zarr_format=2, consolidated=True)
    return path


def test_cube_with_chunks_left_out_by_zarr_is_accepted(tiny_cube_path, tiny_cube_event, work, caplog):
    """A real cube written with zarr's default write_empty_chunks=False: a quarter without landslides and
    a quarter where vv is NaN outside the extraction mask have no chunk files. Valid under the zarr
    specification: accepted, with no warning, and chipped as the complete cube is."""
    folder, out = work
    cube = xr.open_zarr(tiny_cube_path).load()
    cube["landslides"].values[:32, 32:] = 0
    outside = cube["extraction_mask"].values == 0
    cube["extraction_mask"].values[32:, 32:] = 0
    cube["vv"].values[:, 32:, 32:] = np.nan
    cube["vv"].values[:, outside] = np.nan
    sparse = write_like_zarr_default(cube, folder / "sparse.zarr")
    assert not (sparse / "landslides" / "0.1").exists() and not (sparse / "vv" / "0.1.1").exists()
    write_datacube(cube, folder / "dense.zarr")
    with caplog.at_level(logging.WARNING):
        chip_job(sparse, out, tiny_cube_event)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    chip_job(folder / "dense.zarr", out.with_name("dense.zarr"), tiny_cube_event)
    sparse_store, dense_store = xr.open_zarr(out), xr.open_zarr(out.with_name("dense.zarr"))
    assert sparse_store["image"].equals(dense_store["image"]) and sparse_store["label"].equals(dense_store["label"])


def test_backscatter_partly_missing_after_the_event_warns(tiny_cube_path, tiny_cube_event, work, caplog):
    """vv is NaN inside the extraction mask in one 32 x 32 block after the event (zarr left the chunks
    out, or they were lost). The cube is usable, but those pixels drop out of the chips: one warning names
    the variable and the dates."""
    folder, out = work
    cube = xr.open_zarr(tiny_cube_path).load()
    after = cube["timestep"].values >= np.datetime64("2018-09-07")
    cube["vv"].values[after, :32, :32] = np.nan
    sparse = write_like_zarr_default(cube, folder / "holes.zarr")
    with caplog.at_level(logging.WARNING):
        chip_job(sparse, out, tiny_cube_event)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"datacube {sparse}" in warning
    assert "'vv' has no backscatter at 20180913, 20180919, 20181001 (after the event)" in warning
    assert "leave those pixels out" in warning
    assert out.exists()


def test_backscatter_missing_after_the_event(tiny_cube_path, tiny_cube_event, work):
    """vv is NaN everywhere after the event (a failed export): with zarr's default writer none of those
    chunk files exist. Refused before any chip is cut, naming vv and the dates (it used to say only that
    no chip had valid pixels)."""
    folder, out = work
    cube = xr.open_zarr(tiny_cube_path).load()
    cube["vv"].values[cube["timestep"].values >= np.datetime64("2018-09-07")] = np.nan
    sparse = write_like_zarr_default(cube, folder / "no_post.zarr")
    fails_with(sparse, out, tiny_cube_event, f"datacube {sparse}", "no backscatter inside the extraction mask",
               "'vv' at 20180913, 20180919, 20181001 (after the event)")


def test_unsorted_timesteps_are_used_in_time_order(tiny_cube_path, tiny_cube_event, work, caplog):
    """The user assembled a cube from acquisitions in download order. Before and after are chosen by
    position, so the chips used to average the wrong acquisitions. The cube is sorted by date, with one
    warning naming it; the chip store equals the sorted cube's, orbit sequence given per timestep included."""
    folder, out = work
    cube = xr.open_zarr(tiny_cube_path).load()
    order = np.random.default_rng(0).permutation(cube.sizes["timestep"])
    shuffled = rewrite_cube(tiny_cube_path, folder, "shuffled.zarr", lambda c: None)
    write_datacube(cube.isel(timestep=order), shuffled)
    with caplog.at_level(logging.WARNING):
        store = chip_job(shuffled, out, tiny_cube_event)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"datacube {shuffled}" in warning and "not in time order" in warning
    reference = chip_job(tiny_cube_path, out.with_name("sorted.zarr"), tiny_cube_event)
    assert store.attrs["dates_before"] == reference.attrs["dates_before"] == ["20180818", "20180824", "20180905"]
    assert store.attrs["dates_after"] == reference.attrs["dates_after"]
    assert store["image"].equals(reference["image"])
    # The orbit sequence of config/paper.yaml is given in the cube's stored order and follows the sort.
    orbits = list(cube["sat:orbit_state"].values)
    with_list = build_chip_store(open_datacube(shuffled, tiny_cube_event), name="hokkaido",
                                 event_date=tiny_cube_event, chip_size=32, orbit=[orbits[i] for i in order])
    assert with_list["image"].equals(reference["image"])


def test_repeated_timestep(tiny_cube_path, tiny_cube_event, work):
    """Two acquisitions carry the same date (one downloaded twice, or a date typed by hand): which one is
    meant cannot be told. Refused, naming the coordinate and the date."""
    folder, out = work

    def repeat(cube):
        times = cube["timestep"].values.copy()
        times[5] = times[4]
        cube["timestep"] = times

    cube = rewrite_cube(tiny_cube_path, folder, "twice.zarr", repeat)
    day = f"{pd.Timestamp(xr.open_zarr(tiny_cube_path)['timestep'].values[4]):%Y-%m-%d}"
    fails_with(cube, out, tiny_cube_event, f"datacube {cube}", "coordinate 'timestep' repeats", day)


def test_extraction_mask_without_a_pixel(tiny_cube_path, tiny_cube_event, work):
    """The extraction mask is all 0 (a mask exported inverted, or its chunk files lost and read as 0)."""
    folder, out = work

    def clear(cube):
        cube["extraction_mask"].values[:] = 0

    cube = rewrite_cube(tiny_cube_path, folder, "no_mask.zarr", clear)
    fails_with(cube, out, tiny_cube_event, f"datacube {cube}", "variable 'extraction_mask' marks no pixel")


def test_static_variable_without_values(tiny_cube_path, tiny_cube_event, work):
    """dem_aspect is NaN everywhere (its chunk files lost, or never computed): no chip has a valid pixel,
    and the message names the channel instead of only saying so."""
    folder, out = work

    def erase(cube):
        cube["dem_aspect"].values[:] = np.nan

    cube = rewrite_cube(tiny_cube_path, folder, "no_aspect.zarr", erase)
    fails_with(cube, out, tiny_cube_event, f"chip store hokkaido: datacube {cube}: no 32x32 chip with valid "
               "pixels in the 64x64 cube (no value inside the extraction mask in dem_aspect)")


def test_cube_without_variation(tiny_cube_path, tiny_cube_event, work, caplog):
    """Every input variable holds one value (a placeholder cube): the chip store is written with a warning
    naming the channels, and training refuses it when it opens the store, with one line."""
    folder, out = work

    def flatten(cube):
        for var in ("vv", "vh", "dem", "dem_aspect", "dem_curvature", "dem_slope_radians", "dem_slope_riserun"):
            cube[var].values[:] = 1.0

    cube = rewrite_cube(tiny_cube_path, folder, "flat.zarr", flatten)
    with caplog.at_level(logging.WARNING):
        chip_job(cube, out, tiny_cube_event)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert f"datacube {cube}" in warning and "training will refuse this store" in warning
    with pytest.raises(InputError) as err:
        open_chip_store(out)
    assert str(err.value) == (f"chip store {out}: every channel (vv_before, vv_after, vh_before, vh_after, "
                              "dem_aspect, dem_slope_radians, dem_curvature) holds a single value over the valid "
                              "pixels (whole_std is 0); there is nothing to learn from")


def test_chip_store_with_one_constant_channel_is_accepted(tiny_cube_path, tiny_cube_event, work, caplog):
    """A flat DEM derivative is one constant channel among varying ones: a warning, and training may use
    the store."""
    folder, out = work

    def flat_curvature(cube):
        cube["dem_curvature"].values[:] = 0.0

    cube = rewrite_cube(tiny_cube_path, folder, "flat_curvature.zarr", flat_curvature)
    with caplog.at_level(logging.WARNING):
        chip_job(cube, out, tiny_cube_event)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "channel(s) dem_curvature hold a single value" in warning and "refuse" not in warning
    assert open_chip_store(out).sizes["channel"] == 7


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
               "1 of 26 chunk files do not decode", "vh/5.0.0")


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


@pytest.mark.parametrize(("fill", "said"), [(0, "holds the value 0 at every pixel"),
                                            ((12, 40, 7), "holds one value per band (12, 40, 7) at every pixel")])
def test_blank_scene(tmp_path, fill, said):
    """The ridgei scene is all zeros (an export that wrote no data) or one colour: every study would train
    on it and write every output, with a validation precision of NaN. Refused when read, before training."""
    image, label = make_scene(height=16, width=16, seed=0)
    blank = image.copy(data=np.broadcast_to(np.array(fill, np.uint8).reshape(-1, 1, 1), image.shape).copy())
    paths = tmp_path / "blank.tif", tmp_path / "blank_label.tif"
    write_scene(blank, label, *paths)
    with pytest.raises(InputError) as err:
        read_scene(*paths)
    assert str(err.value).startswith(f"{paths[0]}: image {said}; there is nothing to learn from")
    # One dark band in a scene that varies is data, not a blank image.
    dark = image.copy(data=image.values.copy())
    dark.values[2] = 0
    write_scene(dark, label, tmp_path / "dark.tif", tmp_path / "dark_label.tif")
    assert read_scene(tmp_path / "dark.tif", tmp_path / "dark_label.tif").image.shape == (3, 16, 16)


def write_tile(folder, name, rgb, mask):
    from PIL import Image

    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb).save(folder / "images" / f"{name}.png")
    Image.fromarray(mask).save(folder / "masks" / f"{name}.png")


def test_blank_tiles(tmp_path, caplog):
    """A tile folder whose every image is blank is refused, naming the folder; a folder with some blank
    tiles among real ones (padding) is read, with one warning naming them."""
    from landslides.scene.reader import read_tile_folder

    mask = np.zeros((8, 8), np.uint8)
    mask[:2] = 255
    for name in ("a", "b"):
        write_tile(tmp_path / "blank", name, np.zeros((8, 8, 3), np.uint8), mask)
    with pytest.raises(InputError) as err:
        read_tile_folder(tmp_path / "blank")
    assert str(err.value) == (f"{tmp_path / 'blank' / 'images'}: every one of the 2 tile images holds a single "
                              "value at every pixel (blank); there is nothing to learn from")
    write_tile(tmp_path / "mixed", "a", np.zeros((8, 8, 3), np.uint8), mask)
    write_tile(tmp_path / "mixed", "b", np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8), mask)
    with caplog.at_level(logging.WARNING):
        assert len(read_tile_folder(tmp_path / "mixed")) == 2
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert "1 of 2 tile images are blank" in warning and str(tmp_path / "mixed" / "images" / "a.png") in warning
