"""The ridgei study: patch labels, label-free anomaly training and threshold, and the three methods end to end
on a tiny synthetic scene and on a tiny folder of PNG tiles."""

import copy
import inspect
import json
import math

import numpy as np
import pytest
import yaml
from affine import Affine
from PIL import Image

from landslides import anomaly
from landslides.config import validate_config
from landslides.errors import InputError
from landslides.metrics import classification_metrics
from landslides.normalization import ChannelStats
from landslides.runs import RunFiles, start_job
from landslides.scene.synthetic import make_scene, write_scene
from landslides.scene.tiles import patch_labels
from landslides.studies import ridgei

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


@pytest.fixture(scope="module")
def scene_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ridgei_scene")
    image, label = make_scene(height=128, width=256, seed=3)
    write_scene(image, label, folder / "image.tif", folder / "label.tif")
    return folder / "image.tif", folder / "label.tif"


@pytest.fixture(scope="module")
def scene_parts(scene_files):
    return ridgei.load_parts(tiny_study()["scene"], *scene_files)


def _identity_stats(bands: int = 3) -> ChannelStats:
    return ChannelStats([f"b{i}" for i in range(bands)], np.zeros(bands), np.ones(bands))


def _hand_area() -> ridgei.Area:
    """8x16 pixels, two 8x8 patches: 2 landslide pixels (3%) in the first, 16 (25%) in the second."""
    label = np.zeros((8, 16), np.uint8)
    label[0, :2] = 1
    label[:2, 8:16] = 1
    return ridgei.Area(np.zeros((3, 8, 16), np.uint8), label, Affine.identity())


def test_parts_are_spatially_separate(scene_parts):
    train, val, test = scene_parts.train[0], scene_parts.val[0], scene_parts.test[0]
    # Train (west), the validation strip (next to the test half) and test (east) follow without overlap.
    assert train.transform.c + train.label.shape[1] * 0.5 == val.transform.c
    assert val.transform.c + val.label.shape[1] * 0.5 == test.transform.c
    assert train.label.shape[1] + val.label.shape[1] == test.label.shape[1] == 128


def test_classifier_patch_labels_follow_min_fraction():
    patches = ridgei.cut_patches([_hand_area()], _identity_stats(), 8)
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
    real_fit = ridgei.fit

    def spy_fit(model, train, val, cfg, **kwargs):
        seen["train"], seen["val"] = train.images.numpy().copy(), val.images.numpy().copy()
        return real_fit(model, train, val, cfg, **kwargs)

    monkeypatch.setattr(ridgei, "fit", spy_fit)
    study = tiny_study()
    ridgei.run_anomaly(scene_parts, study["anomaly"], 0, RunFiles.in_folder(tmp_path), _maps(tmp_path),
                       start_job(1, "cpu"))
    stats = ridgei.band_stats(scene_parts.train)
    for name, areas, stride in (("train", scene_parts.train, 16), ("val", scene_parts.val, None)):
        every = ridgei.cut_patches(areas, stats, 32, stride)
        clean = every.labels.reshape(len(every.labels), -1).max(axis=1) == 0
        assert 0 < clean.sum() < len(clean)  # the scene has landslides there, and they were left out
        assert np.array_equal(seen[name], every.images[clean])


def test_threshold_sees_only_landslide_free_validation_errors(scene_parts, tmp_path, monkeypatch):
    assert list(inspect.signature(anomaly.choose_threshold).parameters) == ["normal_errors", "percentile"]
    calls = []
    real_choose = ridgei.choose_threshold

    def spy_choose(normal_errors, percentile):
        calls.append(normal_errors.shape)
        return real_choose(normal_errors, percentile)

    monkeypatch.setattr(ridgei, "choose_threshold", spy_choose)
    study = tiny_study()
    first = ridgei.run_anomaly(scene_parts, study["anomaly"], 0, RunFiles.in_folder(tmp_path / "a"),
                               _maps(tmp_path / "a"), start_job(1, "cpu"))
    # Erasing every test label changes the test metrics but not the threshold.
    unlabelled = copy.copy(scene_parts)
    unlabelled.test = [ridgei.Area(a.image, np.zeros_like(a.label), a.transform) for a in scene_parts.test]
    second = ridgei.run_anomaly(unlabelled, study["anomaly"], 0, RunFiles.in_folder(tmp_path / "b"),
                                _maps(tmp_path / "b"), start_job(1, "cpu"))
    assert first["threshold"] == second["threshold"]
    n_val_clean = first["patches"]["val_landslide_free"]
    assert calls == [(n_val_clean, 32, 32)] * 2


def test_choose_threshold_is_a_percentile():
    assert anomaly.choose_threshold(np.arange(101.0), 90) == pytest.approx(90.0)
    with pytest.raises(ValueError):
        anomaly.choose_threshold(np.empty(0), 99)


def test_covering_windows_reach_every_pixel():
    assert ridgei.covering_starts(100, 32) == [0, 32, 64, 68]
    assert ridgei.covering_starts(64, 32) == [0, 32]


def _maps(folder):
    return ridgei.MapFiles(folder / "test_score.tif", folder / "test_map.tif")


def _run(parts, method, study, folder):
    return ridgei.run_method(parts, method, study, 0, RunFiles.in_folder(folder), _maps(folder), threads=1,
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
    for method in ridgei.METHODS:
        _run(scene_parts, method, study, tmp_path / method)
        runs.append(tmp_path / method / "metrics.json")
        _assert_run(tmp_path / method, method)
    from landslides.aggregate import load_runs

    table = ridgei.build_table(load_runs(runs))
    assert len(table) == 12 and table["published"].notna().sum() == 10
    assert "ResNet50 (test)" in ridgei.table_markdown(table)
    assert len(ridgei.comparison(table)) == 10
    maps = {method: str(tmp_path / method / "test_map.tif") for method in ridgei.METHODS}
    ridgei.plot_qualitative(scene_parts, maps, tmp_path / "q.png", tmp_path / "q.pdf")
    assert (tmp_path / "q.png").stat().st_size > 0


def _write_tiles(folder, scene_files, size=64):
    """Cut the tiny scene into row-major 64x64 PNG tiles, masks saved as 0/255."""
    parts = ridgei.load_parts(tiny_study()["scene"], *scene_files)
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
    _write_tiles(tmp_path / "tiles", scene_files)
    study = tiny_study(source="tiles", tiles=str(tmp_path / "tiles"))
    parts = ridgei.load_parts(study["scene"], tiles=study["scene"]["tiles"])
    assert (len(parts.train), len(parts.val), len(parts.test)) == (3, 1, 4)
    for method in ridgei.METHODS:
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
