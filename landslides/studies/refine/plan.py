"""refine's plan: the ablation ladder (round 0) and the pseudo-label rounds on Landslide4Sense, one job per
ladder entry and round; the benchmark's folders, the file names and the params each job reads. Standard
library only (landslides.workflow_layout): Snakemake imports it to build the DAG (it must not import h5py)."""

from __future__ import annotations

from pathlib import Path, PurePath

from landslides.config_checks import Problems, encoder_problems, weights_problems
from landslides.errors import InputError
from landslides.workflow_layout import canonical, imagenet_weights

DATA = "l4s"  # what it reads: Landslide4Sense patches (landslides.report.describe_dataset)

# The benchmark's split folders (Landslide4Sense layout); landslides.l4s.dataset.SPLIT_DIRS is the same
# mapping (tests/test_config.py checks that), kept here so that building the DAG does not import h5py.
SPLIT_DIRS = {"train": "TrainData", "val": "ValidData", "test": "TestData"}
# The target domain's splits: scored in every run, pseudo-labelled from round 1 on.
TARGET_SPLITS = ("val", "test")

# The benchmark as the workflow makes or downloads it (refine.source synthetic or zenodo).
L4S_ROOT = "resources/l4s/{source}"
# One downloaded split folder (rule refine_download).
ZENODO_SPLIT = "resources/l4s/zenodo/{split_dir}"
RUN = "results/refine/runs/round{round}/{run}"
ROUND = "results/refine/rounds/round{round}"
TABLES = ["results/refine/table.csv", "results/refine/table.md"]
FIGURES = {
    "f1_rounds": "results/refine/figures/f1_rounds",
    "predictions": "results/refine/figures/predictions",
    "sample_maps": "results/refine/figures/sample_maps",
    "pseudo_labels": "results/refine/figures/pseudo_labels",
    "class_ratio": "results/refine/figures/class_ratio",
    "band_statistics": "results/refine/figures/band_statistics",
}
COMPARISON = "results/refine/comparison.csv"


def l4s_root(study: dict) -> str:
    """Where the benchmark is read from: resources/l4s/<source> for synthetic and zenodo, else the path."""
    if study["source"] in ("synthetic", "zenodo"):
        return L4S_ROOT.format(source=study["source"])
    return study["source"]


def l4s_inputs(study: dict) -> list[str]:
    """The data a job depends on: one folder per downloaded split, else the benchmark root."""
    if study["source"] == "zenodo":
        return [f"{l4s_root(study)}/{folder}" for folder in SPLIT_DIRS.values()]
    return [l4s_root(study)]


def data_root_of(inputs: list[str]) -> str:
    """The benchmark root from a job's data inputs (a root, or split folders inside one)."""
    first = PurePath(inputs[0])
    return str(first.parent) if first.name in SPLIT_DIRS.values() else str(first)


def rounds(study: dict) -> list[int]:
    """Round 0 (the ladder) and every pseudo-label round."""
    return list(range(study["rounds"] + 1))


def run_file(round_index, name, file: str) -> str:
    return f"{RUN.format(round=round_index, run=name)}/{file}"


def round_file(round_index, file: str) -> str:
    return f"{ROUND.format(round=round_index)}/{file}"


def round_files(study: dict, file: str) -> list[str]:
    return [round_file(round_index, file) for round_index in rounds(study)]


def run_targets(study: dict) -> list[str]:
    """Every training run's metrics: the whole ladder in round 0, the ensemble members in later rounds."""
    runs = [run_file(0, name, "metrics.json") for name in study["ladder"]]
    for round_index in rounds(study)[1:]:
        runs += [run_file(round_index, name, "metrics.json") for name in study["ensemble"]]
    return runs


def train_inputs(study: dict, name: str, round_index: int) -> dict:
    """The data and the model's ImageNet weights (if any); round r > 0 also needs round r-1's ensemble, whose
    pseudo-labels it trains on."""
    run = study["ladder"].get(name)  # not in the ladder: job_params, the rule's params, says so
    inputs = {"data": l4s_inputs(study), "weights": imagenet_weights(study["models"][run["model"]]) if run else []}
    if round_index > 0:
        inputs["previous"] = round_file(round_index - 1, "ensemble.npz")
    return inputs


def job_params(study: dict, name: str, round_index: int | None = None) -> dict:
    """train.run_training for ladder entry `name`: its entry and model, the shared training settings, and
    the pseudo-label settings only from round 1 on (round_index None keeps them).

    Adding a round, a ladder entry, an ensemble member or a figure option retrains nothing that exists.
    """
    if name not in study["ladder"]:
        raise InputError(f"refine run '{name}' is not in refine.ladder")
    run = study["ladder"][name]
    loss = run["loss"] or study["training"]["loss"]
    trimmed = {key: study[key] for key in ("training", "augment", "steps", "seed", "sample_patches")}
    trimmed["ladder"] = {name: run}
    trimmed["models"] = {run["model"]: study["models"][run["model"]]}
    trimmed["loss_params"] = {loss: study["loss_params"][loss]} if loss in study["loss_params"] else {}
    if round_index is None or round_index > 0:
        trimmed["pseudo"] = study["pseudo"]
    return canonical(trimmed)


def table_params(study: dict) -> dict:
    """scripts/refine_table.py: the figure options and the pseudo-label settings its pseudo-label figure
    recomputes, only (the runs reach it as input files), so the report's figure pages show the figure, not the
    study's config."""
    return canonical({key: study[key] for key in ("figure_patches", "sample_patches", "pseudo")})


def config_problems(config: dict, study: dict) -> Problems:
    """What one key of the refine block says about another (landslides.config.check_config)."""
    for name, model in study["models"].items():
        yield from encoder_problems(("refine", "models", name, "encoder"), model["encoder"])
    for name, run in study["ladder"].items():
        if run["model"] not in study["models"]:
            yield ("refine", "ladder", name, "model"), f"'{run['model']}' is not in refine.models"
    for index, name in enumerate(study["ensemble"]):
        if name not in study["ladder"]:
            yield ("refine", "ensemble", index), f"'{name}' is not in refine.ladder"
    pseudo = study["pseudo"]
    if pseudo["background_threshold"] is not None and pseudo["background_threshold"] >= pseudo["threshold"]:
        yield ("refine", "pseudo", "background_threshold"), (
            f"{pseudo['background_threshold']} must be below threshold ({pseudo['threshold']})")


def path_problems(config: dict, study: dict) -> Problems:
    """A local Landslide4Sense copy, and local weights, that are not there."""
    source = study["source"]
    if source not in ("synthetic", "zenodo") and not Path(source).is_dir():
        yield ("refine", "source"), (f"'{source}' is not a folder (a local Landslide4Sense copy with TrainData, "
                                     "ValidData, TestData; or synthetic, zenodo)")
    for name, model in study["models"].items():
        yield from weights_problems(("refine", "models", name, "weights"), model["weights"])
