"""Snakemake job: every published number beside the reproduced one, for every study that ran."""

from pathlib import Path

import pandas as pd

from landslides.jobs import run_job
from landslides.report import html_page, markdown_to_html, overview, overview_note, printed_overview, write_tables


def main(snakemake):
    out = snakemake.output
    table = overview([pd.read_csv(path) for path in snakemake.input.comparisons])
    title = "Published vs reproduced"
    note = overview_note(snakemake.params.synthetic, table)
    write_tables(printed_overview(table), Path(out.csv).with_suffix(""), title=title, note=note, raw=table)
    Path(out.html).write_text(html_page(title, markdown_to_html(Path(out.md).read_text())))
    print(printed_overview(table).to_string())


run_job(snakemake, main)  # noqa: F821
