"""The ridgei study: patch labels, label-free anomaly training and threshold, and the three methods end to end
on a tiny synthetic scene and on tiny folders of PNG tiles (row-major tiles, and independent crops named by
class); tile splits, their checks and the errors that name a tile and a config key."""

import copy
import inspect
import json
import logging
import math

import numpy as np
import pytest
import rasterio
import rioxarray
import yaml
from affine import Affine
from PIL import Image

from landslides import anomaly, plots
from landslides.config import validate_config
from landslides.errors import InputError
from landslides.metrics import classification_metrics
from landslides.normalization import ChannelStats
from landslides.predict import covering_starts
from landslides.runs import RunFiles, start_job
from landslides.scene.synthetic import make_scene, write_scene
from landslides.scene.tiles import patch_labels
from landslides.studies.ridgei import data as ridgei_data
from landslides.studies.ridgei import figures as ridgei_figures
from landslides.studies.ridgei import plan as ridgei_plan
from landslides.studies.ridgei import tables as ridgei_tables
from landslides.studies.ridgei import train as ridgei_train

TINY_TRAINING = {"epochs": 1, "batch_size": 4, "eval_batch_size": 8, "scheduler": "none", "threads": 1}


def tiny_study(**scene) -> dict:
    """The schema's defaults with tiny patches and one epoch, validated like a real config."""
    config = {
        "studies": ["ridgei"],
        "sar": {"regions": {"hokkaido": {"event_date": ["20180905", "20180907"]}}},
        "ridgei": {
            "scene": scene,
            "classifier": {"patch_size": 32, "training": {**TINY_TRAINING, "selection_metric": "f1"}},
            "deeplab": {"patch_size": 32, "train_stride": 16,
                        "training": {**TINY_TRAINING, "selection_metric": "miou"}},
            "anomaly": {"patch_size": 32, "train_stride": 16, "decoder_channels": [16, 8, 8],
                        "training": dict(TINY_TRAINING)},
        },
    }
    return validate_config(config)["ridgei"]


def _fixed_landslides(height: int = 128, width: int = 256) -> np.ndarray:
    """Ellipses (10 x 16 px) in one of every four 32-px blocks: landslides in the train part, the validation
    strip and the test half, 8 of the 32 32-px tiles and 13 of the 18 crops of _write_crops."""
    yy, xx = np.mgrid[:height, :width]
    label = np.zeros((height, width), np.uint8)
    for r in range(height // 32):
        for c in range(width // 32):
            if (r + 2 * c) % 4 == 0:
                cy, cx = r * 32 + 10 + (c % 3) * 5, c * 32 + 12 + (r % 2) * 6
                label[((yy - cy) / 5.0) ** 2 + ((xx - cx) / 8.0) ** 2 <= 1] = 1
    return label


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    """The tiny synthetic scene's image with fixed landslide labels (_fixed_landslides), so that the parts,
    tiles and crops the tests cut hold both classes whatever the scene generator draws."""
    folder = tmp_path_factory.mktemp("ridgei_scene")
    image, label = make_scene(height=128, width=256, seed=3)
    label = label.copy(data=_fixed_landslides().astype(label.dtype))
    write_scene(image, label, folder / "image.tif", folder / "label.tif")
    return folder / "image.tif", folder / "label.tif"


@pytest.fixture(scope="module")
def scene_parts(scene_files):
    return ridgei_data.load_parts(tiny_study()["scene"], *scene_files)


def _identity_stats(bands: int = 3) -> ChannelStats:
    return ChannelStats([f"b{i}" for i in range(bands)], np.zeros(bands), np.ones(bands))


def _hand_area() -> ridgei_data.Area:
    """8x16 pixels, two 8x8 patches: 2 landslide pixels (3%) in the first, 16 (25%) in the second."""
    label = np.zeros((8, 16), np.uint8)
    label[0, :2] = 1
    label[:2, 8:16] = 1
    return ridgei_data.Area(np.zeros((3, 8, 16), np.uint8), label, Affine.identity())


def test_parts_are_spatially_separate(scene_parts):
    train, val, test = scene_parts.train[0], scene_parts.val[0], scene_parts.test[0]
    # Train (west), the validation strip (next to the test half) and test (east) follow without overlap.
    assert train.transform.c + train.label.shape[1] * 0.5 == val.transform.c
    assert val.transform.c + val.label.shape[1] * 0.5 == test.transform.c
    assert train.label.shape[1] + val.label.shape[1] == test.label.shape[1] == 128


def test_classifier_patch_labels_follow_min_fraction():
    patches = ridgei_data.cut_patches([_hand_area()], _identity_stats(), 8)
    assert patches.cols.tolist() == [0, 8]
    assert patch_labels(patches.labels, 0.0).tolist() == [1, 1]
    assert patch_labels(patches.labels, 0.05).tolist() == [0, 1]
    assert patch_labels(patches.labels, 0.3).tolist() == [0, 0]


def test_classification_metrics_by_hand():
    metrics = classification_metrics(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 0, 1, 0]), unit="patches")
    assert metrics["accuracy"] == 0.5 and metrics["precision"] == 0.5 and metrics["recall"] == 0.5
    assert metrics["patches"] == 4 and metrics["positive_patches"] == 2


def test_anomaly_training_data_hold_no_landslide_pixel(scene_parts, tmp_path, monkeypatch):
    seen = {}
    real_fit = ridgei_train.fit

    def spy_fit(model, train, val, cfg, **kwargs):
        seen["train"], seen["val"] = train.images.numpy().copy(), val.images.numpy().copy()
        return real_fit(model, train, val, cfg, **kwargs)

    monkeypatch.setattr(ridgei_train, "fit", spy_fit)
    study = tiny_study()
    ridgei_train.run_anomaly(scene_parts, study["anomaly"], 0, RunFiles.in_folder(tmp_path), _maps(tmp_path),
                       start_job(1, "cpu"))
    stats = ridgei_data.band_stats(scene_parts.train)
    for name, areas, stride in (("train", scene_parts.train, 16), ("val", scene_parts.val, None)):
        every = ridgei_data.cut_patches(areas, stats, 32, stride)
        clean = every.labels.reshape(len(every.labels), -1).max(axis=1) == 0
        assert 0 < clean.sum() < len(clean)  # the scene has landslides there, and they were left out
        assert np.array_equal(seen[name], every.images[clean])


def test_threshold_sees_only_landslide_free_validation_errors(scene_parts, tmp_path, monkeypatch):
    assert list(inspect.signature(anomaly.choose_threshold).parameters) == ["normal_errors", "percentile"]
    calls = []
    real_choose = ridgei_train.choose_threshold

    def spy_choose(normal_errors, percentile):
        calls.append(normal_errors.shape)
        return real_choose(normal_errors, percentile)

    monkeypatch.setattr(ridgei_train, "choose_threshold", spy_choose)
    study = tiny_study()
    first = ridgei_train.run_anomaly(scene_parts, study["anomaly"], 0, RunFiles.in_folder(tmp_path / "a"),
                               _maps(tmp_path / "a"), start_job(1, "cpu"))
    # Erasing every test label changes the test metrics but not the threshold.
    unlabelled = copy.copy(scene_parts)
    unlabelled.test = [ridgei_data.Area(a.image, np.zeros_like(a.label), a.transform) for a in scene_parts.test]
    second = ridgei_train.run_anomaly(unlabelled, study["anomaly"], 0, RunFiles.in_folder(tmp_path / "b"),
                                _maps(tmp_path / "b"), start_job(1, "cpu"))
    assert first["threshold"] == second["threshold"]
    n_val_clean = first["patches"]["val_landslide_free"]
    # The errors are the pixels of the validation maps inside its landslide-free patches, nothing else.
    assert calls == [(n_val_clean * 32 * 32,)] * 2


def test_choose_threshold_is_a_percentile():
    assert anomaly.choose_threshold(np.arange(101.0), 90) == pytest.approx(90.0)
    with pytest.raises(ValueError):
        anomaly.choose_threshold(np.empty(0), 99)


def test_covering_windows_reach_every_pixel():
    assert covering_starts(100, 32) == [0, 32, 64, 68]
    assert covering_starts(64, 32) == [0, 32]


def _maps(folder):
    return ridgei_data.MapFiles(folder / "test_score.tif", folder / "test_map.tif")


def _run(parts, method, study, folder):
    return ridgei_train.run_method(parts, method, study, 0, RunFiles.in_folder(folder), _maps(folder), threads=1,
                             device_name="cpu")


def _assert_run(run_dir, method):
    metrics = json.loads((run_dir / "metrics.json").read_text())
    for name in ("model.pt", "history.csv", "test_score.tif", "test_map.tif"):
        assert (run_dir / name).is_file(), name
    classifier_keys = ("accuracy", "f1", "precision", "recall")
    keys = classifier_keys if method == "classifier" else ("miou", "iou", "accuracy")
    for key in keys:
        value = metrics["test"][key]
        assert math.isnan(value) and key == "precision" or 0.0 <= value <= 1.0, (method, key, value)
    if method == "classifier":
        assert 0.0 <= metrics["train"]["accuracy"] <= 1.0
    else:
        assert not math.isnan(metrics["test"]["miou"])
    return metrics


def test_three_methods_on_a_tiny_scene(scene_parts, tmp_path):
    study = tiny_study()
    runs = []
    for method in ridgei_plan.METHODS:
        _run(scene_parts, method, study, tmp_path / method)
        runs.append(tmp_path / method / "metrics.json")
        _assert_run(tmp_path / method, method)
    from landslides.aggregate import load_runs

    table = ridgei_tables.build_table(load_runs(runs))
    assert len(table) == 12 + 3 * 7 and table["published"].notna().sum() == 10
    markdown = ridgei_tables.table_markdown(table)
    assert "ResNet50 (test)" in markdown
    # Table 3: every metric of every method beside no skill, none of them missing (issue #32).
    table3 = table[table["table"] == "Table 3"]
    assert set(table3.metric) == {"auprc", "f1", "precision", "recall", "iou", "miou", "no_skill"}
    assert table3[table3.metric.isin(["auprc", "iou", "miou", "no_skill"])]["mean"].notna().all()
    assert markdown.count("| no skill (") == 3
    assert len(ridgei_tables.comparison(table)) == 10
    # A flagged run is marked wherever its numbers appear: its table row, its overview rows, its map panel.
    flags = {"results/ridgei/runs/method~deeplab/seed~0": "selected epoch 0"}
    assert ridgei_tables.flagged_methods(flags) == {"deeplab": "selected epoch 0"}
    assert "| DeepLabv3+ (flagged: selected epoch 0) |" in ridgei_tables.table_markdown(table, flags=flags)
    compared = ridgei_tables.comparison(table, flags)
    assert set(compared.loc[compared["flag"] != "", "experiment"]) == {"DeepLabv3+"}
    maps = {method: str(tmp_path / method / "test_map.tif") for method in ridgei_plan.METHODS}
    ridgei_figures.plot_qualitative(scene_parts, maps, tmp_path / "q.png", tmp_path / "q.pdf",
                                    flagged=ridgei_tables.flagged_methods(flags))
    assert (tmp_path / "q.png").stat().st_size > 0


def _write_tiles(folder, scene_files, size=64):
    """Cut the tiny scene into row-major size x size PNG tiles, masks saved as 0/255."""
    parts = ridgei_data.load_parts(tiny_study()["scene"], *scene_files)
    image = np.concatenate([a.image for a in parts.train + parts.val + parts.test], axis=2)
    label = np.concatenate([a.label for a in parts.train + parts.val + parts.test], axis=1)
    (folder / "images").mkdir(parents=True)
    (folder / "masks").mkdir()
    index = 0
    for row in range(0, image.shape[1], size):
        for col in range(0, image.shape[2], size):
            index += 1
            tile = image[:, row : row + size, col : col + size].transpose(1, 2, 0)
            Image.fromarray(np.ascontiguousarray(tile)).save(folder / "images" / f"tile_{index}.png")
            mask = (label[row : row + size, col : col + size] * 255).astype(np.uint8)
            Image.fromarray(mask).save(folder / "masks" / f"tile_{index}.png")


def test_three_methods_on_a_tiny_tile_folder(scene_files, tmp_path):
    _write_tiles(tmp_path / "tiles", scene_files, size=32)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"))
    parts = ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    assert len(parts.train) + len(parts.val) + len(parts.test) == 32 and len(parts.test) >= 12
    for areas in (parts.train, parts.val, parts.test):
        assert {bool(a.label.any()) for a in areas} == {True, False}
    for method in ridgei_plan.METHODS:
        _run(parts, method, study, tmp_path / method)
        _assert_run(tmp_path / method, method)


def test_patch_larger_than_the_scene_names_the_key(scene_parts, tmp_path):
    study = tiny_study()
    study["deeplab"]["patch_size"] = 512
    with pytest.raises(InputError, match="patch_size 512"):
        _run(scene_parts, "deeplab", study, tmp_path)


def test_config_needs_paths_for_its_source():
    with pytest.raises(InputError, match="ridgei.scene.image"):
        tiny_study(source="geotiff")
    with pytest.raises(InputError, match="ridgei.scene.tiles"):
        tiny_study(source="tiles")
    assert yaml.safe_dump(tiny_study())  # defaults are plain data


# ---- tile folders of independent crops (issue #18) ----

def _save_tile(folder, name, rgb, mask):
    """One PNG image/mask pair; rgb (H, W, 3) uint8, mask (H, W) 0/1 saved as 0/255."""
    (folder / "images").mkdir(parents=True, exist_ok=True)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.ascontiguousarray(rgb)).save(folder / "images" / f"{name}.png")
    Image.fromarray((mask * 255).astype(np.uint8)).save(folder / "masks" / f"{name}.png")


def _write_crops(folder, scene_files):
    """Crops of the tiny scene in 18 sizes (32 to 56 px a side), named by class: those with landslides
    a_01.., those without b_01.. (name order is class order, as in the issue's folder); returns the counts."""
    parts = ridgei_data.load_parts(tiny_study()["scene"], *scene_files)
    image = np.concatenate([a.image for a in parts.train + parts.val + parts.test], axis=2)
    label = np.concatenate([a.label for a in parts.train + parts.val + parts.test], axis=1)
    crops, top = [], 0
    for height in (40, 48, 40):
        left = 0
        for width in (32, 40, 48, 56, 36, 44):
            window = (slice(top, top + height), slice(left, left + width))
            crops.append((image[:, window[0], window[1]].transpose(1, 2, 0), label[window]))
            left += width
        top += height
    counts = {True: 0, False: 0}
    for rgb, mask in crops:
        has = bool(mask.any())
        counts[has] += 1
        _save_tile(folder, f"{'a' if has else 'b'}_{counts[has]:02d}", rgb, mask)
    return counts


def test_class_grouped_crops_of_different_sizes_run_end_to_end(scene_files, tmp_path, monkeypatch):
    """The issue's folder: names grouped by class, tiles of different sizes. The default (stratified) split
    gives every part both classes; the composition is in metrics.json; the figure is a grid of tiles
    without scale bar or north arrow."""
    counts = _write_crops(tmp_path / "tiles", scene_files)
    assert counts[True] >= 3 and counts[False] >= 3, counts
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"))
    # 5 landslide-free train patches: one batch of 8 (at batch 4, train.train_one_epoch's merge of a
    # one-sample last batch into the previous one fails when there are exactly two batches).
    study["anomaly"]["training"]["batch_size"] = 8
    parts = ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    assert parts.tiles and not parts.georeferenced
    for method in ridgei_plan.METHODS:
        _run(parts, method, study, tmp_path / method)
        split = _assert_run(tmp_path / method, method)["split"]
        assert split["strategy"] == "stratified" and split["seed"] == 0
        for name in ("train", "val", "test"):
            part = split[name]
            assert part["landslide_pixels"] > 0 and part["landslide_free_tiles"] > 0, (name, part)
            assert {tile[0] for tile in part["names"]} == {"a", "b"}
            assert part["pixels"] == sum(a.label.size for a in getattr(parts, name))
        assert sorted(split["train"]["names"] + split["val"]["names"] + split["test"]["names"]) == \
            sorted(p.stem for p in (tmp_path / "tiles" / "masks").iterdir())
        fractions = [split[name]["landslide_fraction"] for name in ("train", "val", "test")]
        assert max(fractions) / min(fractions) <= 3.0
    # The test maps hold the test tiles on a compact grid, not one long row.
    with rioxarray.open_rasterio(tmp_path / "deeplab" / "test_map.tif") as data:
        height, width = data.shape[1:]
    assert max(height, width) / min(height, width) < 3
    assert height * width < 2 * sum(a.label.size for a in parts.test)  # little empty space
    scale_bars = []
    monkeypatch.setattr(plots, "add_scale_bar", lambda *args: scale_bars.append(args))
    maps = {method: str(tmp_path / method / "test_map.tif") for method in ridgei_plan.METHODS}
    ridgei_figures.plot_qualitative(parts, maps, tmp_path / "q.png", tmp_path / "q.pdf")
    with Image.open(tmp_path / "q.png") as figure:
        assert max(figure.size) / min(figure.size) < 3
    assert scale_bars == []  # independent crops: no scale bar, no north arrow


def test_georeferenced_tiles_split_by_position_keep_their_grid(scene_files, tmp_path, monkeypatch):
    """GeoTIFF tiles of one area: `split: spatial` cuts them by position, maps keep the tiles' CRS and the
    figure (a grid of tiles) has its scale bars."""
    parts = ridgei_data.load_parts(tiny_study()["scene"], *scene_files)
    image = np.concatenate([a.image for a in parts.train + parts.val + parts.test], axis=2)
    label = np.concatenate([a.label for a in parts.train + parts.val + parts.test], axis=1)
    origin = parts.train[0].transform
    for folder in ("images", "masks"):
        (tmp_path / "tiles" / folder).mkdir(parents=True)
    for row in range(0, 128, 32):
        for col in range(0, 256, 32):
            transform = origin @ Affine.translation(col, row)
            for folder, data in (("images", image[:, row : row + 32, col : col + 32]),
                                 ("masks", label[None, row : row + 32, col : col + 32])):
                with rasterio.open(tmp_path / "tiles" / folder / f"r{row}_c{col}.tif", "w", driver="GTiff",
                                   width=32, height=32, count=data.shape[0], dtype="uint8", crs=parts.crs,
                                   transform=transform) as out:
                    out.write(data)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"), split="spatial")
    tiles = ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    assert tiles.georeferenced and tiles.crs == parts.crs and tiles.resolution_m == 0.5
    east = {name: [a.transform.c for a in getattr(tiles, name)] for name in ("train", "val", "test")}
    gap = 16.0  # the median tile side, 32 px of 0.5 m
    assert max(east["train"]) + 16 + gap <= min(east["val"]) and max(east["val"]) + 16 + gap <= min(east["test"])
    assert tiles.split["dropped"]  # the tiles in the gaps
    maps = ridgei_data.MapFiles(tmp_path / "score.tif", tmp_path / "map.tif")
    ridgei_data.write_maps([a.label.astype(np.float32) for a in tiles.test], [a.label for a in tiles.test], tiles, maps)
    with rioxarray.open_rasterio(maps.detection) as data:
        assert data.rio.crs == parts.crs and data.rio.transform().c == min(east["test"])
    scale_bars = []
    monkeypatch.setattr(plots, "add_scale_bar", lambda *args: scale_bars.append(args))
    paths = {method: str(maps.detection) for method in ridgei_plan.METHODS}
    ridgei_figures.plot_qualitative(tiles, paths, tmp_path / "q.png", tmp_path / "q.pdf")
    assert len(scale_bars) == min(len(tiles.test), ridgei_figures.FIGURE_TILES)


def _blob_tiles(folder, landslide: int, free: int, size: int = 40):
    """`landslide` tiles with a square landslide (a_*), then `free` landslide-free tiles (b_*)."""
    rng = np.random.default_rng(1)
    for index in range(landslide + free):
        mask = np.zeros((size, size), np.uint8)
        if index < landslide:
            mask[4 : 4 + 6 + index, 4:14] = 1
        name = f"a_{index:02d}" if index < landslide else f"b_{index:02d}"
        _save_tile(folder, name, rng.integers(0, 255, (size, size, 3), dtype=np.uint8), mask)


def test_patch_larger_than_a_tile_names_the_tile_and_the_key(tmp_path):
    rng = np.random.default_rng(0)
    for index in range(1, 13):
        size = 61 if index == 12 else 80
        mask = np.zeros((size, size), np.uint8)
        mask[: 8 + index, :20] = index % 2
        _save_tile(tmp_path / "tiles", f"t_{index:03d}", rng.integers(0, 255, (size, size, 3), dtype=np.uint8), mask)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"))
    study["deeplab"]["patch_size"] = 64
    parts = ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    with pytest.raises(InputError) as err:
        _run(parts, "deeplab", study, tmp_path / "run")
    assert str(err.value) == (f"ridgei.deeplab.patch_size 64 is larger than tile {tmp_path}/tiles/masks/t_012.png "
                              "(61x61); lower it or drop the tile")
    assert not (tmp_path / "run" / "metrics.json").exists()


def test_random_split_without_a_class_says_to_stratify(tmp_path):
    _blob_tiles(tmp_path / "tiles", landslide=5, free=1)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"), split="random")
    with pytest.raises(InputError, match=rf"^{tmp_path}/tiles: ridgei.scene.split random gave a (train|val|test) "
                                         r"part without landslide-free tiles \(\d+ tile\(s\), \d+ px\); use "
                                         r"ridgei.scene.split: stratified$"):
        ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])


def test_stratified_split_that_cannot_give_every_part_both_classes(tmp_path):
    _blob_tiles(tmp_path / "tiles", landslide=5, free=1)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"))
    with pytest.raises(InputError, match=r"ridgei.scene.split stratified gave a (train|val|test) part without "
                                         r"landslide-free tiles .*; the folder has 5 tile\(s\) with landslides "
                                         r"and 1 without: add tiles, or name each tile's split with "
                                         r"ridgei.scene.split: file$"):
        ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])


def test_landslide_fractions_too_far_apart(tmp_path):
    _blob_tiles(tmp_path / "tiles", landslide=6, free=6)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"), max_fraction_ratio=1.0)
    with pytest.raises(InputError, match=r"ridgei.scene.split stratified: landslide fraction [\d.]+% in \w+ vs "
                                         r"[\d.]+% in \w+, more than ridgei.scene.max_fraction_ratio 1 apart; add "
                                         r"tiles, raise ridgei.scene.max_fraction_ratio, or name each tile's split "
                                         r"with ridgei.scene.split: file$"):
        ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    study["scene"]["max_fraction_ratio"] = 3.0
    assert ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"]).split["strategy"] == "stratified"


def test_split_file_is_taken_as_written_with_warnings(tmp_path, caplog):
    """`split: file` is exactly what the user asked for: a val part without landslides is a warning."""
    _blob_tiles(tmp_path / "tiles", landslide=4, free=4)
    rows = ["a_00,train", "a_01,train", "a_02,test", "a_03,test", "b_04,val", "b_05,train", "b_06,test",
            "b_07,drop"]
    (tmp_path / "mine.csv").write_text("name,split\n" + "\n".join(rows) + "\n")
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"), split="file",
                       split_file=str(tmp_path / "mine.csv"))
    with caplog.at_level(logging.INFO, logger="landslides.studies.ridgei"):
        parts = ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    assert [a.name for a in parts.val] == ["b_04"] and parts.split["dropped"] == ["b_07"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [f"{tmp_path}/tiles: ridgei.scene.split file gave a val part without landslide pixels "
                        "(1 tile(s), 1600 px); edit the split file"]
    assert any("val: 1 tile(s), 1600 px, landslide fraction 0.00%" in r.getMessage() for r in caplog.records)


def test_unused_split_csv_warns(tmp_path, caplog):
    _blob_tiles(tmp_path / "tiles", landslide=6, free=6)
    (tmp_path / "tiles" / "split.csv").write_text("name,split\n")
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"))
    with caplog.at_level(logging.WARNING, logger="landslides.studies.ridgei"):
        ridgei_data.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path}/tiles: split.csv is not used (ridgei.scene.split is stratified); set ridgei.scene.split: "
        "file to use it"]


def test_tile_split_options_on_a_scene_are_refused(scene_files):
    with pytest.raises(InputError, match=r"^config: ridgei.scene.split random applies to tile folders; a GeoTIFF "
                                         r"or synthetic scene is always cut into spatial halves"):
        ridgei_data.load_parts(tiny_study(split="random")["scene"], *scene_files)
    parts = ridgei_data.load_parts(tiny_study(split="spatial")["scene"], *scene_files)
    assert parts.split["strategy"] == "spatial halves" and parts.split["test"]["pixels"] == 128 * 128
