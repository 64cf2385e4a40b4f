"""Snakemake job: the report's opening page (config, data sources with checksums, code version, device, compute,
flagged runs, and the published-vs-reproduced overview)."""

import json
from pathlib import Path

import pandas as pd

from landslides.claims_table import introduction_section
from landslides.files import write_text
from landslides.jobs import run_job
from landslides.report import introduction_rst, overview


def main(snakemake):
    provenance = json.loads(Path(snakemake.input.provenance).read_text())
    table = overview([pd.read_csv(snakemake.input.overview)])
    checks = pd.read_csv(snakemake.input.checks, keep_default_na=False)
    claims = introduction_section(pd.read_csv(snakemake.input.claims, keep_default_na=False))
    write_text(introduction_rst(provenance, table, checks, list(snakemake.params.configfiles), claims=claims),
               snakemake.output[0])
    print(f"{snakemake.output[0]}: {len(table)} overview rows, {len(checks)} flagged problems")


run_job(snakemake, main)  # noqa: F821
