"""transfer's plan: the grid (features x augmentation x seeds), its file names and the params each job
reads. Standard library only (landslides.workflow_layout): Snakemake imports it to build the DAG."""

from __future__ import annotations

from landslides.config_checks import (
    Problems,
    channel_problems,
    cube_problems,
    encoder_problems,
    region_problems,
    weights_problems,
)
from landslides.workflow_layout import Grid, canonical, chip_store, imagenet_weights

DATA = "sar"  # what it reads: SAR datacubes (landslides.report.describe_dataset)

RUNS = "results/transfer/runs"
TABLES = ["results/transfer/table.csv", "results/transfer/table.md"]
FIGURES = {
    "predictions": "results/transfer/figures/predictions",
    "auprc": "results/transfer/figures/auprc",
    "chip_auprc": "results/transfer/figures/chip_auprc",
}
COMPARISON = "results/transfer/comparison.csv"


def grid(study: dict) -> Grid:
    return Grid(RUNS, {"features": list(study["features"]), "augmentation": study["augmentation"],
                       "seed": study["seeds"]})


def run_targets(study: dict) -> list[str]:
    return grid(study).files("metrics.json")


def augments(augmentation: str) -> bool:
    """Whether a cell's augmentation value turns the SAR augmentation on: decided here only."""
    return augmentation == "on"


def train_inputs(study: dict) -> dict:
    """The two regions' chip stores and the model's ImageNet weights (if any)."""
    return {"train_store": chip_store(study["train_region"]), "test_store": chip_store(study["test_region"]),
            "weights": imagenet_weights(study["model"])}


def job_params(study: dict, cell: dict) -> dict:
    """train.run_cell: the cell's channel set, model, training, normalization and invalid-pixel handling;
    augment only when the cell's augmentation is on."""
    features = cell["features"]
    trimmed = {"features": {features: study["features"][features]}, "normalization": study["normalization"],
               "invalid_pixels": study["invalid_pixels"], "model": study["model"], "training": study["training"]}
    if augments(cell["augmentation"]):
        trimmed["augment"] = study["augment"]
    return canonical(trimmed)


def table_params(study: dict) -> dict:
    """scripts/transfer_table.py: only the figure option it reads (the runs reach it as input files), so the
    report's figure pages show the figure, not the study's config."""
    return {"figure_chips": study["figure_chips"]}


def config_problems(config: dict, study: dict) -> Problems:
    """What one key of the transfer block says about another (landslides.config.check_config)."""
    for key in ("train_region", "test_region"):
        yield from region_problems(config, ("transfer", key), study[key])
    for name, selected in study["features"].items():
        yield from channel_problems(config, ("transfer", "features", name), selected)
    yield from encoder_problems(("transfer", "model", "encoder"), study["model"]["encoder"])


def path_problems(config: dict, study: dict) -> Problems:
    """Local data and weights its jobs will read that are not there."""
    yield from cube_problems(config, [study["train_region"], study["test_region"]])
    yield from weights_problems(("transfer", "model", "weights"), study["model"]["weights"])
