"""Snakemake job: the claims table (CSV, Markdown, LaTeX, HTML page) and its forest plot."""

from pathlib import Path

from landslides.claims_table import claims_frame, load_runs, write_claims
from landslides.jobs import run_job


def main(snakemake):
    runs = {study: load_runs(paths) for study, paths in snakemake.params.runs.items()}
    frame = claims_frame(runs, dict(snakemake.params.data_kinds))
    out = snakemake.output
    write_claims(frame, dict(snakemake.params.data_lines), Path(out.csv).with_suffix(""), out.png, out.pdf, out.html)
    print(frame[["study", "claim_id", "comparison", "reproduced", "ci_low", "ci_high", "verdict"]].to_string())


run_job(snakemake, main)  # noqa: F821
