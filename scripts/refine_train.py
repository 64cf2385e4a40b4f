"""Snakemake job: one training run of the refine study (a ladder entry in round 0, a member later)."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.runs import RunFiles
from landslides.studies.refine.train import run_training


def main(snakemake):
    previous = snakemake.input.get("previous")
    metrics = run_training(
        snakemake.params.data_root,
        snakemake.wildcards.run,
        snakemake.params.study,
        RunFiles.from_outputs(snakemake.output),
        round_index=int(snakemake.wildcards.round),
        previous=Path(previous) if previous else None,
        threads=snakemake.threads,
        device_name=snakemake.params.device,
        deterministic=snakemake.params.deterministic,
    )
    print({split: metrics[split].get("f1") for split in ("val", "test")})


run_job(snakemake, main)  # noqa: F821
