"""Snakemake job: one study's report page: its paper-shaped tables, its tidy table and every table file."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.report import tables_page


def main(snakemake):
    study = snakemake.wildcards.study
    page = tables_page(study, list(snakemake.input.markdown), list(snakemake.input.downloads))
    Path(snakemake.output[0]).write_text(page)
    print(f"{study}: {len(snakemake.input.markdown)} tables, {len(snakemake.input.downloads)} files")


run_job(snakemake, main)  # noqa: F821
