"""Snakemake job: the ridgei study's Tables 1 and 2, ours beside the published numbers."""

from pathlib import Path

from landslides.aggregate import load_runs
from landslides.jobs import run_job
from landslides.report import run_flags
from landslides.studies.ridgei import tables


def main(snakemake):
    table = tables.build_table(load_runs(snakemake.input.metrics))
    table.to_csv(snakemake.output.csv, index=False)
    flags = run_flags(snakemake.input.metrics, snakemake.config)
    tables.comparison(table, flags).to_csv(snakemake.output.comparison, index=False)
    Path(snakemake.output.md).write_text(tables.table_markdown(table, snakemake.params.source, flags))
    print(table.to_string())


run_job(snakemake, main)  # noqa: F821
