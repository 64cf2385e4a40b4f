"""What every study's plan shares while Snakemake builds the DAG: the grid of run folders, the SAR data
layout, ImageNet weights inputs and canonical params.

Each study's own plan (landslides/studies/<study>/plan.py: its grid, file names and the params each job
reads) builds on this module. Both are imported while Snakemake plans the workflow, so they use the
standard library only (and landslides.errors): a dry run must not pay for torch, segmentation-models-pytorch
or xarray (`snakemake -n` of config/paper.yaml in about a second; tests/test_workflow.py checks that none of
them is imported).

Each training rule passes `params: study=<plan>.job_params(...)`: the study block trimmed to the keys that
job reads, with the same nesting as `config[<study>]`. Snakemake reruns a job whose params changed
(profiles/default: rerun-triggers include params), so a new seed, another figure option or another cell's
setting retrains nothing that already exists. Snakemake compares params by repr, so they are also
key-sorted (`canonical`). A run function that starts reading another key of its study needs it added to its
plan's job_params (the job then fails with a KeyError naming it; tests/test_config.py checks which jobs each
key reaches).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from landslides.errors import InputError

# Device files of a loaded GPU driver (NVIDIA, AMD ROCm): a GPU is there without importing torch.
GPU_DRIVER_FILES = ("/dev/nvidiactl", "/dev/kfd")


def gpu_driver_present() -> bool:
    return any(Path(name).exists() for name in GPU_DRIVER_FILES)


# ---- ImageNet encoder weights ----

def imagenet_weights(model: dict) -> list[str]:
    """A training job's ImageNet weights input: the workflow's copy (rule imagenet_weights) for a model block
    with `weights: imagenet`, none for a local weights path (read where it is) or no weights.

    Copied once, by a local job, before any training job that needs it is submitted: a missing file fails
    that job with the command that fetches it (and none of those training jobs starts), and a compute node
    needs no Hugging Face cache.
    """
    if model.get("weights") == "imagenet":
        return [f"resources/weights/{model['encoder']}.imagenet.safetensors"]
    return []


# ---- params: canonical, and for training jobs trimmed to what the job reads ----

def canonical(value):
    """`value` with the keys of every mapping sorted. Snakemake compares params by their repr, so without
    this a config whose keys are merely in another order (another editor, a YAML dump) reruns every job."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def datacube_region(spec: dict) -> dict:
    """make_datacube: the generator's settings, or the archive to fetch and check (a local cube has no job)."""
    keys = {"synthetic": ("source", "height", "width", "seed", "looks"),
            "zenodo": ("source", "zenodo_file", "checksum", "event_date")}.get(spec["source"], ("source",))
    return canonical({key: spec[key] for key in keys})


def chip_store_region(spec: dict) -> dict:
    """build_chip_store: the event date and the orbit filter (the cube itself is the job's input)."""
    return canonical({key: spec[key] for key in ("event_date", "orbit")})


# ---- SAR data ----

# A region's datacube as the workflow makes or downloads it (rule datacube), and its chip store (rule
# chip_store): what transfer and pretrain train on.
DATACUBE = "resources/datacubes/{region}.zarr"
CHIP_STORE = "resources/chips/{region}.zarr"


def chip_store(region: str) -> str:
    return CHIP_STORE.format(region=region)


# ---- a study's grid of run folders ----

@dataclass(frozen=True)
class Grid:
    """The cartesian product of a study's factors, one run folder per cell:
    `<root>/<factor>~<value>/.../<factor>~<value>/` (the layout of Snakemake's Paramspace).

    Rules take their file patterns from it (`file`: with wildcards), rule all and the tables every cell's
    file (`files`), and a job its cell back from the wildcards (`cell`), with the config's own values.
    """

    root: str
    factors: dict[str, list]

    @property
    def pattern(self) -> str:
        """The cell part of a run folder with one Snakemake wildcard per factor."""
        return "/".join(f"{name}~{{{name}}}" for name in self.factors)

    def file(self, name: str) -> str:
        """A run file's pattern, for a rule's output."""
        return f"{self.root}/{self.pattern}/{name}"

    def cells(self) -> list[dict]:
        return [dict(zip(self.factors, values, strict=True)) for values in itertools.product(*self.factors.values())]

    def run_dir(self, cell: dict) -> str:
        return f"{self.root}/" + "/".join(f"{name}~{cell[name]}" for name in self.factors)

    def files(self, name: str, **fixed) -> list[str]:
        """That file of every cell (of the cells whose factors equal `fixed`)."""
        return [f"{self.run_dir(cell)}/{name}" for cell in self.cells()
                if all(cell[key] == value for key, value in fixed.items())]

    def cell(self, wildcards) -> dict:
        """The cell a job's wildcards name, with each factor's value as the config gives it (a seed stays an int).
        A value outside the config's grid (a target asked for by hand) is named, with the grid's values."""
        cell = {}
        for name, values in self.factors.items():
            given = str(wildcards[name])
            matching = [value for value in values if str(value) == given]
            if not matching:
                raise InputError(f"{self.root}: {name} '{given}' is not in the config's grid "
                                 f"({', '.join(map(str, values))})")
            cell[name] = matching[0]
        return cell
