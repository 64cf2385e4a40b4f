"""Snakemake job: one study's tidy table (one row per grid cell, split and metric) as CSV, Markdown, LaTeX."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.report import printed_tidy, tidy_note, tidy_study_table, write_tables


def main(snakemake):
    study = snakemake.wildcards.study
    table = tidy_study_table(snakemake.input.runs)
    write_tables(printed_tidy(table), Path(snakemake.output.csv).with_suffix(""),
                 title=f"{study}: every grid cell, split and metric",
                 note=tidy_note(table, snakemake.params.source), raw=table)
    print(f"{study}: {len(table)} rows")


run_job(snakemake, main)  # noqa: F821
