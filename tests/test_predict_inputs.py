"""predict on the inputs users have (issue #32): PNG and JPEG tiles, without georeferencing, RGBA; the help
names every input kind and what each model family writes."""

import logging
import warnings

import numpy as np
import pytest
import rioxarray
import torch
from PIL import Image
from rasterio.errors import NotGeoreferencedWarning

from landslides import predict as predict_module
from landslides.models import build_model, patch_classifier_spec
from landslides.normalization import ChannelStats
from landslides.runs import save_model


def _classifier(tmp_path, study="ridgei"):
    torch.manual_seed(0)
    spec = patch_classifier_spec(3)
    channels = ["band1", "band2", "band3"]
    stats = ChannelStats(channels, np.full(3, 100.0), np.full(3, 50.0), 1).to_dict()
    save_model(tmp_path / "model.pt", build_model(spec), study=study, spec=spec, channels=channels,
               normalization={"mode": "train_bands", **stats}, config={},
               extra={"method": "classifier", "patch_size": 16, "threshold": 0.5})
    return tmp_path / "model.pt"


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_plain_image_gives_our_line_not_rasterios_warning(tmp_path, caplog, suffix):
    rgb = np.random.default_rng(0).integers(0, 256, (40, 36, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / f"tile{suffix}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotGeoreferencedWarning)  # rasterio's warning would fail the test
        with caplog.at_level(logging.WARNING, logger="landslides.predict"):
            kind = predict_module.apply_model(_classifier(tmp_path), tmp_path / f"tile{suffix}",
                                              tmp_path / "out.tif", device_name="cpu")
    assert kind == "raster"
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == 1 and "no georeferencing" in lines[0] and f"tile{suffix}" in lines[0]
    with rioxarray.open_rasterio(tmp_path / "out.tif") as out:
        assert out.shape == (1, 40, 36) and np.isfinite(out.values).all()


def test_rgba_png_loses_its_alpha_for_a_ridgei_model(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(tmp_path / "rgb.png")
    Image.fromarray(np.dstack([rgb, np.full((32, 32), 255, np.uint8)])).save(tmp_path / "rgba.png")
    model = _classifier(tmp_path)
    predict_module.apply_model(model, tmp_path / "rgb.png", tmp_path / "rgb.tif", device_name="cpu")
    predict_module.apply_model(model, tmp_path / "rgba.png", tmp_path / "rgba.tif", device_name="cpu")
    with rioxarray.open_rasterio(tmp_path / "rgb.tif") as a, rioxarray.open_rasterio(tmp_path / "rgba.tif") as b:
        np.testing.assert_array_equal(a.values, b.values)


def test_help_names_every_input_kind_and_what_each_family_writes(capsys):
    with pytest.raises(SystemExit):
        predict_module.main(["--help"])
    text = capsys.readouterr().out
    for word in ("PNG", "JPEG", "GeoTIFF", ".zarr", "image_N.h5", "probability per pixel", "per window",
                 "anomaly score", "No model writes labels", "threshold"):
        assert word in text, word


def test_last_line_says_what_was_written(tmp_path, capsys):
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(tmp_path / "t.png")
    predict_module.main([str(_classifier(tmp_path)), str(tmp_path / "t.png"), str(tmp_path / "o.tif"),
                         "--device", "cpu"])
    assert "landslide probability per window" in capsys.readouterr().out
