"""The `transfer` study (Prapas et al.): SAR vs SAR+DEM, with and without SAR augmentation,
trained and validated in one region and tested in another; pixel AUPRC."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
import xarray as xr

from landslides.augment import build_sar_augmentation
from landslides.geo import mosaic_chips, write_geotiff
from landslides.losses import build_loss
from landslides.models import build_from_config
from landslides.normalization import ChannelStats, fit_channel_stats, normalize
from landslides.train import IGNORE_INDEX, Split, configure_torch, evaluate, fit, predict, select_device


def select_chips(store: xr.Dataset, channels: list[str], mask: np.ndarray) -> dict[str, np.ndarray]:
    """The chosen chips of a chip store as numpy arrays (images, label, valid, chip ids, transforms)."""
    index = np.flatnonzero(mask)
    subset = store.isel(chip=index)
    return {
        "images": subset["image"].sel(channel=channels).values.astype(np.float32),
        "label": subset["label"].values.astype(np.uint8),
        "valid": subset["valid"].values.astype(bool),
        "chip": subset["chip"].values,
        "transform": subset["transform"].values,
    }


def to_split(chips: dict, stats: ChannelStats) -> Split:
    """Normalize and encode invalid pixels as IGNORE_INDEX so no loss or metric counts them."""
    target = chips["label"].astype(np.int64)
    target[~chips["valid"]] = IGNORE_INDEX
    images = normalize(chips["images"], stats, chips["valid"])
    return Split(torch.from_numpy(images), torch.from_numpy(target))


def channel_stats(store: xr.Dataset, train: dict, channels: list[str], how: str) -> ChannelStats:
    if how == "whole_cube":  # the original code's one mean/std per variable over the whole cube
        return ChannelStats(channels, store["whole_mean"].sel(channel=channels).values.astype(np.float64),
                            store["whole_std"].sel(channel=channels).values.astype(np.float64))
    return fit_channel_stats(train["images"], channels, train["valid"])


def run_cell(train_store: xr.Dataset, test_store: xr.Dataset, *, features: str, augmentation: str, seed: int,
             study: dict, run_dir: Path, threads: int, device_name: str = "auto",
             deterministic: bool = True) -> dict:
    """Train one grid cell and write metrics.json, model.pt, history.csv and the test probability map."""
    started = time.perf_counter()
    channels = study["features"][features]
    training = dict(study["training"])
    device = select_device(device_name)
    configure_torch(threads, device, deterministic)

    splits = train_store["split_positive"].values
    train = select_chips(train_store, channels, splits == "train")
    val = select_chips(train_store, channels, splits == "val")
    test = select_chips(test_store, channels, test_store["has_landslide"].values.astype(bool))
    stats = channel_stats(train_store, train, channels, study["normalization"])

    torch.manual_seed(seed)  # model initialization depends on the seed only
    model = build_from_config(study["model"], in_channels=len(channels))
    augment = None
    if augmentation == "on":
        augment = build_sar_augmentation(study["augment"], train["images"].shape[-1], channels, stats.std)
    result = fit(model, to_split(train, stats), to_split(val, stats), training, run_dir, seed=seed,
                 loss_fn=build_loss(training["loss"]), device=device, augment=augment,
                 run_id={"features": features, "augmentation": augmentation, "model": study["model"],
                         "augment": study["augment"] if augment else None,
                         "normalization": study["normalization"]})

    test_split = to_split(test, stats)
    test_metrics = evaluate(model, test_split, training["eval_batch_size"], device)
    val_split = to_split(val, stats)
    val_prob = predict(model, val_split.images, training["eval_batch_size"], device).numpy()
    test_prob = predict(model, test_split.images, training["eval_batch_size"], device).numpy()

    torch.save({"model": model.state_dict(), "normalization": stats.to_dict(), "model_config": study["model"],
                "channels": channels}, run_dir / "model.pt")
    mosaic, transform = mosaic_chips(np.where(test["valid"], test_prob, np.nan), test["transform"])
    write_geotiff(mosaic, transform, test_store.attrs["crs"], run_dir / "test_probability.tif")
    np.savez_compressed(run_dir / "predictions.npz", val_prob=val_prob.astype(np.float16), val_label=val["label"],
                        val_valid=val["valid"], val_chip=val["chip"], test_prob=test_prob.astype(np.float16),
                        test_label=test["label"], test_valid=test["valid"], test_chip=test["chip"])
    metrics = {
        "params": {"features": features, "augmentation": augmentation, "seed": seed},
        "train_region": train_store.attrs.get("region"), "test_region": test_store.attrs.get("region"),
        "chips": {"train": len(train["chip"]), "val": len(val["chip"]), "test": len(test["chip"])},
        "best_epoch": result.best_epoch, "val": result.best_val_metrics, "test": test_metrics,
        "device": str(device), "wall_seconds": round(time.perf_counter() - started, 2),
    }
    write_json(metrics, run_dir / "metrics.json")
    return metrics


def write_json(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=float))
    tmp.replace(path)
