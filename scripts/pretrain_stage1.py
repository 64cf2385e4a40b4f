"""Snakemake job: train the stage-1 chip classifier of one pretraining region."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.sar.chips import open_chip_store
from landslides.studies.pretrain import train_stage1


def main(snakemake):
    metrics = train_stage1(
        open_chip_store(snakemake.input.store),
        snakemake.params.study,
        Path(snakemake.output.model).parent,
        threads=snakemake.threads,
        device_name=snakemake.params.device,
        deterministic=snakemake.params.deterministic,
    )
    print({"chips": metrics["chips"], "test": metrics["test"]})


run_job(snakemake, main)  # noqa: F821
