"""ridgei's setups for landslides.benchmark: the patch classifier, DeepLabV3+ and the denoising U-Net,
built with train.py's own network function; and the patches a scene gives each method."""

from __future__ import annotations

import math
from pathlib import Path

import torch.nn.functional as F

from landslides.anomaly import AddGaussianNoise, reconstruction_loss
from landslides.losses import build_loss
from landslides.models import build_model
from landslides.studies.ridgei.plan import METHODS
from landslides.studies.ridgei.train import network_spec
from landslides.training_setup import Setup, Work, input_size, shrunk

BANDS = 3  # the synthetic scene and the paper's scenes are RGB
TITLES = {"classifier": "torchvision resnet50", "deeplab": "deeplabv3plus {encoder}",
          "anomaly": "denoising unet {encoder}"}


def setups(study: dict, sizes: dict, tiny: bool) -> list[Setup]:
    out = []
    for method in METHODS:
        cfg = study[method]
        training, size = shrunk(cfg["training"], tiny), input_size(cfg["patch_size"], tiny)
        n = sizes.get(f"ridgei/{method}")
        work = [Work(len(study["seeds"]), training["epochs"], n["train"], n["val"], n["predict"])] if n else []
        spec = network_spec(method, cfg, BANDS)
        out.append(Setup(f"ridgei/{method}", "ridgei", TITLES[method].format(encoder=cfg.get("encoder")),
                         lambda spec=spec: build_model(spec), BANDS, size, training, work=work,
                         **method_parts(method, cfg, training)))
    return out


def method_parts(method: str, cfg: dict, training: dict) -> dict:
    """What a method trains on and how: its loss and target, and the denoiser's noise and score."""
    if method == "classifier":
        return {"loss_fn": lambda logits, labels: F.cross_entropy(logits, labels), "target": "patch"}
    if method == "deeplab":
        return {"loss_fn": build_loss(training["loss"]), "target": "mask"}
    return {"loss_fn": reconstruction_loss, "target": "image",
            "augment": lambda std=cfg["noise_std"]: AddGaussianNoise(std), "output": lambda x: x.float().mean(1)}


def data_sizes(config: dict, workdir: Path, open_store) -> dict[str, dict]:
    """Patches of a scene cut in two halves, the train half less its validation strip (synthetic scene or a
    GeoTIFF's size; tile folders need --sizes). Anomaly counts every patch (it keeps the landslide-free ones:
    an upper bound)."""
    study = config["ridgei"]
    scene = study["scene"]
    if scene["source"] == "synthetic":
        height, width = scene["height"], scene["width"]
    elif scene["source"] == "geotiff" and Path(scene["image"]).exists():
        import rasterio

        with rasterio.open(scene["image"]) as raster:
            height, width = raster.height, raster.width
    else:
        return {}
    if scene.get("split_axis", "x") == "y":
        height, width = width, height
    half = width // 2
    val_fraction = scene.get("val_fraction", 0.1)
    train_w, val_w = int(half * (1 - val_fraction)), int(half * val_fraction)

    def count(h, w, patch, stride=None):
        stride = stride or patch
        return 0 if min(h, w) < patch else ((h - patch) // stride + 1) * ((w - patch) // stride + 1)

    out = {}
    for method in METHODS:
        cfg = study[method]
        patch, stride = cfg["patch_size"], cfg.get("train_stride")
        train, val = count(height, train_w, patch, stride), count(height, val_w, patch)
        test = math.ceil(height / patch) * math.ceil(half / patch)  # windows covering the test half
        predict = test + (count(height, train_w, patch) + val if method == "classifier" else 0)
        out[f"ridgei/{method}"] = {"train": train, "val": val, "predict": predict}
    return out
