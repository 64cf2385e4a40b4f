"""Snakemake job: average one round's member probabilities into the ensemble and score it."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.studies.refine.train import run_ensemble


def main(snakemake):
    result = run_ensemble(list(snakemake.input.members), int(snakemake.wildcards.round),
                          list(snakemake.params.members), Path(snakemake.output.npz),
                          Path(snakemake.output.metrics))
    print({split: result.get(split, {}).get("f1") for split in ("val", "test")})


run_job(snakemake, main)  # noqa: F821
