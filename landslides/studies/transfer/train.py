"""transfer: one grid cell's training run (Prapas et al.): train and validate in one region, test in another."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from landslides.augment import build_sar_augmentation
from landslides.geo import mosaic_chips, write_geotiff
from landslides.losses import build_loss
from landslides.models import build_model, segmentation_spec
from landslides.runs import RunFiles, save_model, start_job, write_predictions
from landslides.sar.selection import channel_stats, require_chips, select_chips, to_split
from landslides.studies.transfer.plan import augments
from landslides.train import evaluate, fit, predict


def run_cell(train_store: xr.Dataset, test_store: xr.Dataset, files: RunFiles, probability_map: str, *,
             features: str, augmentation: str, seed: int, study: dict, threads: int,
             device_name: str = "auto", deterministic: bool | None = None) -> dict:
    """Train one grid cell; write the run files and the test-region probability map (GeoTIFF)."""
    job = start_job(threads, device_name, deterministic, files)
    channels = study["features"][features]
    training = dict(study["training"])

    splits = train_store["split_positive"].values
    train = select_chips(train_store, channels, splits == "train")
    val = select_chips(train_store, channels, splits == "val")
    test = select_chips(test_store, channels, test_store["has_landslide"].values.astype(bool))
    require_chips(train_store, {"train": train, "val": val})
    require_chips(test_store, {"test": test})
    how, invalid = study["normalization"], study["invalid_pixels"]
    stats = channel_stats(train_store, train, channels, how)
    # The authors standardized every cube with its own statistics: the test region with Talakmau's.
    test_stats = channel_stats(test_store, test, channels, how) if how == "whole_cube_per_region" else stats

    torch.manual_seed(seed)  # model initialization depends on the seed only
    spec = network_spec(study, channels)
    model = build_model(spec, weights=study["model"].get("weights"))
    augment = sar_augmentation(study, augmentation, train["images"].shape[-1], channels, stats.std)
    result = fit(model, to_split(train, stats, invalid), to_split(val, stats, invalid), training,
                 checkpoint=files.checkpoint,
                 history_path=files.history, seed=seed, loss_fn=build_loss(training["loss"]),
                 device=job.device, augment=augment,
                 run_id={"features": features, "augmentation": augmentation, "model": study["model"],
                         "augment": study["augment"] if augment else None,
                         "normalization": how, "invalid_pixels": invalid})

    test_split = to_split(test, test_stats, invalid)
    test_metrics = evaluate(model, test_split, training["eval_batch_size"], job.device)
    val_prob = predict(model, to_split(val, stats, invalid).images, training["eval_batch_size"], job.device).numpy()
    test_prob = predict(model, test_split.images, training["eval_batch_size"], job.device).numpy()

    save_model(files.model, model, study="transfer", spec=spec, channels=channels,
               normalization={"mode": study["normalization"], **stats.to_dict()}, config=study)
    mosaic, transform = mosaic_chips(np.where(test["valid"], test_prob, np.nan), test["transform"])
    write_geotiff(mosaic, transform, test_store.attrs["crs"], probability_map)
    write_predictions(files.predictions, {
        split: {"prob": prob, "id": chips["chip"], "label": chips["label"], "valid": chips["valid"]}
        for split, prob, chips in (("val", val_prob, val), ("test", test_prob, test))})
    metrics = {
        "params": {"features": features, "augmentation": augmentation, "seed": seed},
        "train_region": train_store.attrs.get("region"), "test_region": test_store.attrs.get("region"),
        "chips": {"train": len(train["chip"]), "val": len(val["chip"]), "test": len(test["chip"])},
        "best_epoch": result.best_epoch, "val": result.best_val_metrics, "test": test_metrics,
    }
    return job.finish(metrics, files)


def network_spec(study: dict, channels: list[str]) -> dict:
    """The cell's segmentation network: the study's model block with one input per channel."""
    return segmentation_spec(study["model"], len(channels))


def sar_augmentation(study: dict, augmentation: str, size: int, channels: list[str], std):
    """The SAR augmentation of a cell whose augmentation is on (plan.augments), else None."""
    if not augments(augmentation):
        return None
    return build_sar_augmentation(study["augment"], size, channels, std)
