"""pretrain's plan: one stage-1 classifier per pretraining region, then the stage-2 grid
pretraining x size x seed; its file names and the params each job reads. Standard library only
(landslides.workflow_layout): Snakemake imports it to build the DAG."""

from __future__ import annotations

from landslides.config_checks import Problems, channel_problems, cube_problems, region_problems
from landslides.workflow_layout import Grid, canonical

DATA = "sar"  # what it reads: SAR datacubes (landslides.report.describe_dataset)

RUNS = "results/pretrain/runs"
STAGE1 = "results/pretrain/stage1/{region}"
STAGE1_TABLE = "results/pretrain/stage1.csv"
TABLES = ["results/pretrain/table.csv", "results/pretrain/table.md", STAGE1_TABLE]
FIGURES = {"metrics": "results/pretrain/figures/metrics", "maps": "results/pretrain/figures/maps"}
COMPARISON = "results/pretrain/comparison.csv"


def regions(study: dict) -> list[str]:
    """The regions a stage-1 classifier is trained on: every pretraining arm but `none`."""
    return [arm for arm in study["pretraining"] if arm != "none"]


def grid(study: dict) -> Grid:
    return Grid(RUNS, {"pretraining": study["pretraining"], "size": [str(size) for size in study["sizes"]],
                       "seed": study["seeds"]})


def run_targets(study: dict) -> list[str]:
    return grid(study).files("metrics.json")


def stage1_file(region: str, name: str) -> str:
    return f"{STAGE1.format(region=region)}/{name}"


def stage1_files(study: dict, name: str) -> list[str]:
    return [stage1_file(region, name) for region in regions(study)]


def stage1_input(pretraining: str) -> str | list:
    """The stage-1 model a stage-2 cell needs: one file (the job reads `input.stage1` as a path), and none
    for the arm without pretraining."""
    return [] if pretraining == "none" else stage1_file(pretraining, "model.pt")


def stage1_params(study: dict) -> dict:
    """train.train_stage1: the stage-1 block and the channel pairs."""
    return canonical({"pre": study["pre"], "post": study["post"], "stage1": study["stage1"]})


def job_params(study: dict) -> dict:
    """train.train_stage2: the stage-2 block, the channel pairs, the fixed test set and the epoch size.

    The stage-1 model is an input file: a retrained stage 1 reruns its stage-2 cells through that file.
    """
    return canonical({"pre": study["pre"], "post": study["post"], "test_chips": study["test_chips"],
                      "min_epoch_chips": study["min_epoch_chips"], "invalid_pixels": study["invalid_pixels"],
                      "stage2": study["stage2"]})


def table_params(study: dict) -> dict:
    """scripts/pretrain_table.py: the stage-2 region and seeds its note names and the figure option, only (the
    runs reach it as input files), so the report's figure pages show the figure, not the study's config."""
    return canonical({"stage2_region": study["stage2_region"], "seeds": study["seeds"],
                      "figure_chips": study["figure_chips"]})


def config_problems(config: dict, study: dict) -> Problems:
    """What one key of the pretrain block says about another (landslides.config.check_config)."""
    for index, region in enumerate(study["pretraining"]):
        if region != "none":
            yield from region_problems(config, ("pretrain", "pretraining", index), region)
    yield from region_problems(config, ("pretrain", "stage2_region"), study["stage2_region"])
    if len(study["pre"]) != len(study["post"]):
        yield ("pretrain", "post"), (f"{len(study['post'])} post-event channels for {len(study['pre'])} "
                                     "pre-event ones (pretrain.pre): one per pre-event channel")
    for key in ("pre", "post"):
        yield from channel_problems(config, ("pretrain", key), study[key])


def path_problems(config: dict, study: dict) -> Problems:
    """Local datacubes its jobs will read that are not there."""
    yield from cube_problems(config, [study["stage2_region"], *regions(study)])
