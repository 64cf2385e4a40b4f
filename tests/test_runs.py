"""The job runner's file contracts: model.pt rebuilds every network, predictions.npz round-trips, a
finished job leaves no checkpoint, and `landslides.predict` applies a model file to new data."""

import json

import numpy as np
import pytest
import rioxarray
import torch

from landslides.errors import InputError
from landslides.l4s.synthetic import write_synthetic_l4s
from landslides.models import build_model, patch_classifier_spec, segmentation_spec
from landslides.normalization import ChannelStats
from landslides.predict import apply_model
from landslides.runs import RunFiles, load_model, read_predictions, save_model, start_job, write_predictions
from landslides.sar.chips import build_chip_store, write_chip_store
from landslides.sar.validate import open_datacube
from landslides.scene.synthetic import make_scene, write_scene
from landslides.train import predict

TINY_UNET = {"arch": "unet", "encoder": "resnet18", "encoder_depth": 3, "decoder_channels": [8, 8, 8]}
CHIP = {"kind": "chip_classifier", "pair_channels": 2, "width": 4, "embedding_channels": 4}
SPECS = {
    "segmentation": segmentation_spec(TINY_UNET, 4),
    "scaled": segmentation_spec(TINY_UNET, 4, scale=1.5),
    "patch_classifier": patch_classifier_spec(4),
    "chip_classifier": CHIP,
    "sparse_segmenter": {"kind": "sparse_segmenter", "in_channels": 4, "width": 4, "stage1": CHIP},
    "sparse_segmenter_authors": {"kind": "sparse_segmenter", "in_channels": 4, "width": 4, "network": "authors",
                                 "stage1": dict(CHIP, network="authors")},
}


def _stats(channels):
    return {"mode": "train_split", **ChannelStats(channels, np.zeros(len(channels)), np.ones(len(channels))).to_dict()}


@pytest.mark.parametrize("name", list(SPECS))
def test_model_file_rebuilds_the_same_network(name, tmp_path):
    torch.manual_seed(0)
    model = build_model(SPECS[name]).eval()
    channels = ["vv_before", "vv_after", "vh_before", "vh_after"]
    save_model(tmp_path / "model.pt", model, study="test", spec=SPECS[name], channels=channels,
               normalization=_stats(channels), config={"any": 1}, extra={"threshold": 0.5})
    torch.manual_seed(1)  # a different initialization: equal outputs must come from the stored weights
    loaded, saved = load_model(tmp_path / "model.pt")
    x = torch.randn(2, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert saved["channels"] == channels and saved["extra"]["threshold"] == 0.5 and saved["study"] == "test"
    assert len(saved["config_hash"]) == 16


def test_foreign_or_broken_model_file_is_one_line(tmp_path):
    torch.save({"model": {}}, tmp_path / "old.pt")
    with pytest.raises(InputError, match="old.pt: not a model file of this workflow"):
        load_model(tmp_path / "old.pt")
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError, match="cut.pt: cannot read model file"):
        load_model(tmp_path / "cut.pt")


def test_predictions_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    splits = {"val": {"prob": rng.random((2, 4, 4)), "id": np.array([3, 7]), "label": rng.random((2, 4, 4)) > 0.5,
                      "valid": np.ones((2, 4, 4), bool), "has_landslide": np.array([True, False])},
              "samples": {"prob": rng.random((1, 4, 4)), "id": np.array([31]), "label": None}}
    write_predictions(tmp_path / "p.npz", splits)
    back = read_predictions(tmp_path / "p.npz")
    assert set(back) == {"val", "samples"} and set(back["samples"]) == {"prob", "id"}
    assert back["val"]["prob"].dtype == np.float32 and back["val"]["label"].dtype == np.uint8
    np.testing.assert_array_equal(back["val"]["prob"], splits["val"]["prob"].astype(np.float32))
    np.testing.assert_array_equal(back["val"]["has_landslide"], [True, False])
    assert not list(tmp_path.glob(".*tmp*"))


def test_stored_probabilities_keep_their_side_of_a_threshold(tmp_path):
    """Ensembles and pseudo-labels threshold stored probabilities: just below 0.5 or 0.7 stays below."""
    below = np.array([[[0.49995, 0.69995]]], np.float32)
    write_predictions(tmp_path / "p.npz", {"val": {"prob": below, "id": np.array([0])}})
    back = read_predictions(tmp_path / "p.npz")["val"]["prob"]
    assert back[0, 0, 0] < 0.5 and back[0, 0, 1] < 0.7


def test_finish_writes_metrics_last_and_drops_the_checkpoint(tmp_path):
    files = RunFiles.in_folder(tmp_path / "run")
    files.checkpoint.write_bytes(b"state")
    job = start_job(1, "cpu")
    metrics = job.finish({"params": {"seed": 0}, "test": {"auprc": 0.5}}, files)
    assert json.loads(files.metrics.read_text()) == metrics and metrics["device"] == "cpu"
    assert not files.checkpoint.exists()


def _save_random(tmp_path, spec, channels, extra=None, mode="train_split"):
    torch.manual_seed(0)
    model = build_model(spec)
    stats = {**_stats(channels), "mode": mode}
    save_model(tmp_path / "model.pt", model, study="test", spec=spec, channels=channels, normalization=stats,
               config={}, extra=extra)
    return model.eval(), tmp_path / "model.pt"


def test_predict_chip_store_writes_a_georeferenced_mosaic(tiny_cube_path, tiny_cube_event, tmp_path):
    cube = open_datacube(tiny_cube_path, event_date=tiny_cube_event)
    store = build_chip_store(cube, name="hokkaido", event_date=tiny_cube_event, chip_size=32)
    write_chip_store(store, tmp_path / "chips.zarr")
    channels = ["vv_before", "vv_after", "vh_before", "vh_after"]
    model, path = _save_random(tmp_path, segmentation_spec(TINY_UNET, 4), channels)
    assert apply_model(path, tmp_path / "chips.zarr", tmp_path / "map.tif", device_name="cpu") == "chip store"
    with rioxarray.open_rasterio(tmp_path / "map.tif") as out:
        assert "UTM zone 54N" in out.rio.crs.to_wkt() and out.shape[1:] == (64, 64)
        values = out.values[0]
    images = torch.from_numpy(store["image"].sel(channel=channels).values[:1].astype(np.float32))
    first_chip = predict(model, images, 4, torch.device("cpu")).numpy()[0]
    valid = store["valid"].values[0].astype(bool)
    np.testing.assert_allclose(values[:32, :32][valid], first_chip[valid], rtol=1e-5)
    assert np.isnan(values[:32, :32][~valid]).all()


def test_predict_l4s_folder_and_raster(tmp_path):
    write_synthetic_l4s(tmp_path / "l4s", n_train=2, n_val=1, n_test=1, seed=0)
    bands = [f"band{i}" for i in range(1, 15)]
    _, path = _save_random(tmp_path, segmentation_spec(TINY_UNET, 14), bands, mode="separated")
    kind = apply_model(path, tmp_path / "l4s" / "TrainData", tmp_path / "maps", device_name="cpu")
    assert kind == "Landslide4Sense folder" and len(list((tmp_path / "maps").glob("image_*_probability.tif"))) == 2

    image, label = make_scene(height=96, width=80, seed=0, resolution_m=0.5)
    write_scene(image, label, tmp_path / "scene.tif", tmp_path / "label.tif")
    extra = {"patch_size": 32, "threshold": 0.5}
    _, path = _save_random(tmp_path, patch_classifier_spec(image.shape[0]),
                           [f"band{i + 1}" for i in range(image.shape[0])], extra=extra)
    assert apply_model(path, tmp_path / "scene.tif", tmp_path / "scene_map.tif", device_name="cpu") == "raster"
    with rioxarray.open_rasterio(tmp_path / "scene_map.tif") as out:
        assert out.shape[1:] == (96, 80) and np.isfinite(out.values).all()

    with pytest.raises(InputError, match="bands, the model was trained on"):
        _, path = _save_random(tmp_path, patch_classifier_spec(2), ["a", "b"], extra=extra)
        apply_model(path, tmp_path / "scene.tif", tmp_path / "bad.tif", device_name="cpu")
    assert not (tmp_path / "bad.tif").exists()

    # A transfer model (4 SAR channels) on the 14-band Landslide4Sense folder: one line, not a broadcasting
    # error from the normalization, and no maps.
    _, path = _save_random(tmp_path, segmentation_spec(TINY_UNET, 4), ["vv_before", "vv_after", "vh_before",
                                                                         "vh_after"])
    with pytest.raises(InputError) as err:
        apply_model(path, tmp_path / "l4s" / "TrainData", tmp_path / "sar_maps", device_name="cpu")
    assert str(err.value) == (f"{tmp_path / 'l4s' / 'TrainData' / 'img'}: Landslide4Sense patches have 14 bands, "
                              "the model was trained on 4 (vv_before, vv_after, vh_before, vh_after)")
    assert not (tmp_path / "sar_maps").exists()


@pytest.mark.parametrize("mode", ["train_split", "separated"])
def test_raster_predicted_in_parts_gives_the_map_of_one_pass(tmp_path, monkeypatch, mode):
    """A raster is read from disk a band of rows at a time and scored in parts, so that one larger than
    memory can be predicted. The map is the one a single pass over the whole image gives, including the
    anomaly U-Net's inference noise, which is seeded by each batch's position in the whole sequence."""
    import landslides.predict as predict_module
    from landslides.anomaly import anomaly_map
    from landslides.normalization import band_stats, normalize

    image, label = make_scene(height=96, width=80, seed=0, resolution_m=0.5)
    write_scene(image, label, tmp_path / "scene.tif", tmp_path / "label.tif")
    bands = [f"band{i + 1}" for i in range(image.shape[0])]
    extra = {"patch_size": 32, "noise_std": 0.5, "noisy_inference": True, "smooth_px": 1.0, "threshold": 0.5}
    spec = segmentation_spec(TINY_UNET, len(bands), classes=len(bands))  # the denoising U-Net's shape
    _save_random(tmp_path, spec, bands, extra=extra, mode=mode)
    monkeypatch.setattr(predict_module, "RASTER_CALL_BYTES", 1)  # the smallest parts: one batch each
    apply_model(tmp_path / "model.pt", tmp_path / "scene.tif", tmp_path / "map.tif", device_name="cpu", batch_size=2)

    model, saved = load_model(tmp_path / "model.pt")
    with rioxarray.open_rasterio(tmp_path / "scene.tif") as raster:
        pixels = raster.values.astype(np.float32)[None]
    stats = band_stats(pixels, bands) if mode == "separated" else ChannelStats.from_dict(saved["normalization"])
    whole = normalize(pixels, stats)[0]
    expected = anomaly_map(model, whole, 32, noise_std=0.5, noisy=True, smooth_px=1.0, batch_size=2,
                           device=torch.device("cpu"))
    with rioxarray.open_rasterio(tmp_path / "map.tif") as out:
        np.testing.assert_allclose(out.values[0], expected, rtol=1e-5, atol=1e-6)
        assert out.rio.crs == rioxarray.open_rasterio(tmp_path / "scene.tif").rio.crs


def test_nan_in_a_raster_part_leaves_no_map(tmp_path, monkeypatch):
    """A NaN met in a late part fails with one line naming the file and rows; no map is written."""
    import landslides.predict as predict_module

    monkeypatch.setattr(predict_module, "RASTER_CALL_BYTES", 1)
    image, label = make_scene(height=96, width=80, seed=0, resolution_m=0.5)
    image = image.astype(np.float32)
    image[:, 90, 5] = np.nan  # in the last band of rows
    write_scene(image, label, tmp_path / "scene.tif", tmp_path / "label.tif")
    bands = [f"band{i + 1}" for i in range(image.shape[0])]
    _save_random(tmp_path, patch_classifier_spec(len(bands)), bands, extra={"patch_size": 32, "threshold": 0.5})
    with pytest.raises(InputError, match=r"scene.tif: NaN or infinite pixel values \(rows \d+-96\)"):
        apply_model(tmp_path / "model.pt", tmp_path / "scene.tif", tmp_path / "map.tif", device_name="cpu",
                    batch_size=2)
    assert not (tmp_path / "map.tif").exists()
