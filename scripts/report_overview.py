"""Snakemake job: every published number beside the reproduced one, for every study that ran."""

from pathlib import Path

import pandas as pd

from landslides.jobs import run_job
from landslides.report import overview, write_tables


def main(snakemake):
    table = overview([pd.read_csv(path) for path in snakemake.input.comparisons])
    write_tables(table, Path(snakemake.output.csv).with_suffix(""), title="Published vs reproduced",
                 note="difference = reproduced - published; reproduced: mean over seeds (std, n seeds). "
                      "The default config runs on synthetic data, so differences say nothing about the papers.")
    print(table.to_string())


run_job(snakemake, main)  # noqa: F821
