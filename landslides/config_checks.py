"""The cross-key checks a study's plan runs on its config block (plan.config_problems, plan.path_problems):
each yields (key path, problem) pairs, which landslides.config turns into one line naming the file and line.

Standard library only: this runs while Snakemake builds the DAG.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ENCODERS_PATH = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "encoders.txt"

Problems = Iterator[tuple[tuple, str]]


def region_problems(config: dict, path: tuple, region: str) -> Problems:
    if region not in config["sar"]["regions"]:
        yield path, f"region '{region}' is not in sar.regions"


def channel_problems(config: dict, path: tuple, selected: list[str]) -> Problems:
    missing = [c for c in selected if c not in config["sar"]["chips"]["channels"]]
    if missing:
        yield path, f"channels {missing} are not in sar.chips.channels"


@cache
def encoder_names() -> frozenset[str]:
    """The encoder names segmentation-models-pytorch builds (workflow/schemas/encoders.txt)."""
    lines = ENCODERS_PATH.read_text().splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def encoder_problems(path: tuple, name: str) -> Problems:
    known = encoder_names()
    if name in known or (name.startswith("tu-") and name.split(".", 1)[0] in known):
        return
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    hint = f"; close: {', '.join(close)}" if close else ""
    yield path, (f"unknown encoder '{name}' (segmentation-models-pytorch names such as resnet18, efficientnet-b0, "
                 f"mit_b0, or tu-<timm model>{hint})")


def cube_problems(config: dict, regions: list[str]) -> Problems:
    """A region read from a local datacube that is not there."""
    for region in regions:
        source = config["sar"]["regions"][region]["source"]
        if source not in ("synthetic", "zenodo") and not Path(source).exists():
            yield ("sar", "regions", region, "source"), (f"'{source}' does not exist (a local .zarr datacube; "
                                                        "or synthetic, zenodo)")


def weights_problems(path: tuple, file: str | None) -> Problems:
    """A local weights file that is not there (`imagenet` is fetched by rule imagenet_weights)."""
    if file and file != "imagenet" and not Path(file).is_file():
        yield path, f"weights file '{file}' does not exist"
