# Config validation and the helpers the rule modules share.
import sys

import pandas as pd
from snakemake.utils import Paramspace

from landslides.config import validate_config
from landslides.errors import InputError

try:
    validate_config(config, source=" + ".join(map(str, workflow.configfiles)) or "config")
except InputError as err:
    # One line naming the key and the problem, before any job starts.
    sys.exit(f"config error: {err}")


def cube_path(region):
    """Where the region's datacube is read from: a local path as given, else resources/."""
    source = config["sar"]["regions"][region]["source"]
    if source in ("synthetic", "zenodo"):
        return f"resources/datacubes/{region}.zarr"
    return source


def grid(factors):
    """A Paramspace over the cartesian product of the factors (dict name -> list of values)."""
    frame = pd.DataFrame([{}])
    for name, values in factors.items():
        frame = frame.merge(pd.DataFrame({name: list(values)}), how="cross")
    return Paramspace(frame)


def study_targets(study):
    return {
        "transfer": [
            "results/transfer/table.csv",
            "results/transfer/table.md",
            "results/transfer/figures/predictions.png",
            "results/transfer/figures/auprc.png",
        ],
    }[study]


def all_targets():
    return [target for study in config["studies"] for target in study_targets(study)]
