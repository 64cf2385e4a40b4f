"""The `transfer` study (Prapas et al.): SAR vs SAR+DEM, with and without SAR augmentation,
trained and validated in one region and tested in another; pixel AUPRC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
import xarray as xr

from landslides.aggregate import format_mean_std, summarize
from landslides.augment import build_sar_augmentation
from landslides.geo import mosaic_chips, pixel_size, write_geotiff
from landslides.losses import build_loss
from landslides.models import build_model, segmentation_spec
from landslides.plots import arm_color, bar_with_errors, chip_panel, plt, save_figure
from landslides.published import TRANSFER_AUPRC
from landslides.runs import RunFiles, read_predictions, save_model, start_job, write_predictions
from landslides.sar.selection import channel_stats, select_chips, to_split
from landslides.train import evaluate, fit, predict


def run_cell(train_store: xr.Dataset, test_store: xr.Dataset, files: RunFiles, probability_map: str, *,
             features: str, augmentation: str, seed: int, study: dict, threads: int,
             device_name: str = "auto", deterministic: bool | None = None) -> dict:
    """Train one grid cell; write the run files and the test-region probability map (GeoTIFF)."""
    job = start_job(threads, device_name, deterministic)
    channels = study["features"][features]
    training = dict(study["training"])

    splits = train_store["split_positive"].values
    train = select_chips(train_store, channels, splits == "train")
    val = select_chips(train_store, channels, splits == "val")
    test = select_chips(test_store, channels, test_store["has_landslide"].values.astype(bool))
    how, invalid = study["normalization"], study["invalid_pixels"]
    stats = channel_stats(train_store, train, channels, how)
    # The authors standardized every cube with its own statistics: the test region with Talakmau's.
    test_stats = channel_stats(test_store, test, channels, how) if how == "whole_cube_per_region" else stats

    torch.manual_seed(seed)  # model initialization depends on the seed only
    spec = segmentation_spec(study["model"], len(channels))
    model = build_model(spec, weights=study["model"].get("weights"))
    augment = None
    if augmentation == "on":
        augment = build_sar_augmentation(study["augment"], train["images"].shape[-1], channels, stats.std)
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


# ---- aggregation: Table 1 and Figure 1 of the paper ----

FEATURE_LABELS = {"sar": "SAR", "sar_dem": "SAR & DEM"}


def arm_label(features: str, augmentation: str) -> str:
    label = FEATURE_LABELS.get(features, features)
    return f"{label} (AUG)" if augmentation == "on" else label


def build_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Table 1: AUPRC on the training region (val) and the test region, mean ± std over seeds."""
    auprc = tidy[tidy.metric == "auprc"]
    summary = summarize(auprc, ["features", "augmentation", "split"])
    rows = []
    for (features, augmentation), group in summary.groupby(["features", "augmentation"], sort=False):
        rows.append(_table_row(arm_label(features, augmentation), group,
                               TRANSFER_AUPRC.get((features, augmentation), {})))
    # The no-skill AUPRC is a property of the data (the positive fraction), the same for every run.
    no_skill = summarize(tidy[tidy.metric == "no_skill"], ["split"]).assign(std=np.nan)
    rows.append(_table_row("no-skill", no_skill, TRANSFER_AUPRC[("no_skill", None)]))
    return pd.DataFrame(rows)


def _table_row(label: str, group: pd.DataFrame, published: dict) -> dict:
    row = {"experiment": label}
    for split, name in (("val", "train region (val)"), ("test", "test region")):
        hit = group[group.split == split]
        mean, std, n = (hit["mean"].iloc[0], hit["std"].iloc[0], int(hit["n"].iloc[0])) if len(hit) else \
            (np.nan, np.nan, 0)
        row[f"{name} AUPRC"] = format_mean_std(mean, std)
        row[f"{name} published"] = published.get(split, np.nan)
        row[f"{split}_mean"], row[f"{split}_std"], row[f"{split}_n"] = mean, std, n
    return row


def plot_auprc(tidy: pd.DataFrame, png: str, pdf: str) -> None:
    summary = summarize(tidy[tidy.metric == "auprc"], ["features", "augmentation", "split"])
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), sharey=True)
    for ax, (split, title) in zip(axes, (("val", "training region (validation)"), ("test", "test region")),
                                  strict=True):
        part = summary[summary.split == split]
        labels = [arm_label(f, a) for f, a in zip(part.features, part.augmentation, strict=True)]
        bar_with_errors(ax, labels, part["mean"], part["std"], part["n"], "pixel AUPRC")
        baseline = tidy[(tidy.metric == "no_skill") & (tidy.split == split)]["value"].mean()
        ax.axhline(baseline, color=arm_color("no-skill"), linestyle="--", label=f"no-skill ({baseline:.3f})")
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=7)
    fig.suptitle("Pixel AUPRC per arm; bars: mean over seeds, error bars: ±1 std", fontsize=9)
    save_figure(fig, png, pdf)


def plot_predictions(prediction_files: list[str], runs: list[dict], train_store: xr.Dataset,
                     test_store: xr.Dataset, n_chips: int, png: str, pdf: str) -> None:
    """Figure 1: predicted probability with the true landslide outline, chips of both regions, for the
    first seed's run of each arm (rows) and the chips with the most landslide pixels (columns)."""
    first_seed = min(r["params"]["seed"] for r in runs)
    chosen = [(f, r) for f, r in zip(prediction_files, runs, strict=True) if r["params"]["seed"] == first_seed]
    data = [read_predictions(f) for f, _ in chosen]
    columns = []
    for split, store in (("val", train_store), ("test", test_store)):
        labels = data[0][split]["label"]
        order = np.argsort(-labels.reshape(len(labels), -1).sum(1))[:n_chips]
        columns += [(split, i, pixel_size(store["transform"].values[0])) for i in order]
    fig, axes = plt.subplots(len(chosen), len(columns), figsize=(1.6 * len(columns), 1.7 * len(chosen)),
                             squeeze=False)
    for row, ((_, run), arrays) in enumerate(zip(chosen, data, strict=True)):
        for col, (split, i, pixel_m) in enumerate(columns):
            region = run["train_region"] if split == "val" else run["test_region"]
            part = arrays[split]
            im = chip_panel(axes[row, col], part["prob"][i], part["label"][i], part["valid"][i],
                            f"{region} chip {part['id'][i]}", pixel_m)
            if col == 0:
                p = run["params"]
                axes[row, col].set_ylabel(arm_label(p["features"], p["augmentation"]), fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.6, label="landslide probability (cyan: true outline)")
    save_figure(fig, png, pdf)


PUBLISHED_TEST_CHIPS = 61  # Prapas et al.: Talakmau chips with landslides, the test set


def table_note(runs: list[dict]) -> str:
    """What the numbers are, and the chip counts beside the paper's."""
    if not runs:
        return "Mean ± sample std over seeds; published: Prapas et al., Table 1."
    chips, first = runs[0]["chips"], runs[0]
    return (f"Mean ± sample std over seeds; published: Prapas et al., Table 1. Chips with landslides: "
            f"{chips['train']} train / {chips['val']} val ({first['train_region']}), {chips['test']} test "
            f"({first['test_region']}; the paper's Talakmau test set has {PUBLISHED_TEST_CHIPS}). "
            "Deviations from the paper: docs/deviations.md.")


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Tidy published-vs-reproduced rows of Table 1 for the overview."""
    rows = []
    for _, row in table.iterrows():
        for split, name in (("val", "train region (val)"), ("test", "test region")):
            rows.append({"study": "transfer", "experiment": row["experiment"], "split": split, "metric": "auprc",
                         "published": row[f"{name} published"], "reproduced": row[f"{split}_mean"],
                         "std": row[f"{split}_std"], "n": row[f"{split}_n"]})
    return pd.DataFrame(rows)
