"""Snakemake job: the sanity pass over every run (a validation metric that never moved, epoch 0 selected, a
constant prediction); each problem goes to the job log, the Snakemake console and the report."""

import sys
from pathlib import Path

from landslides.jobs import run_job
from landslides.report import checks_markdown, html_page, markdown_to_html, sanity_checks


def main(snakemake):
    checks = sanity_checks(list(snakemake.input.runs), snakemake.config)
    checks.to_csv(snakemake.output.csv, index=False)
    text = checks_markdown(checks)
    Path(snakemake.output.html).write_text(html_page("Sanity checks", markdown_to_html(text)))
    for _, row in checks.iterrows():
        line = f"SANITY CHECK: {row['run']}: {row['detail']}"
        print(line)
        print(line, file=sys.__stderr__)  # also on the console, not only in the job log
    print(f"{len(snakemake.input.runs)} runs checked, {checks['run'].nunique()} flagged")


run_job(snakemake, main)  # noqa: F821
