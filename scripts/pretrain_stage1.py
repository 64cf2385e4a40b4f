"""Snakemake job: train the stage-1 chip classifier of one pretraining region."""

from landslides.jobs import run_job
from landslides.runs import RunFiles
from landslides.sar.chips import open_chip_store
from landslides.studies.pretrain.train import train_stage1


def main(snakemake):
    metrics = train_stage1(
        open_chip_store(snakemake.input.store),
        snakemake.params.study,
        RunFiles.from_outputs(snakemake.output),
        threads=snakemake.threads,
        device_name=snakemake.params.device,
        deterministic=snakemake.params.deterministic,
    )
    print({"chips": metrics["chips"], "test": metrics["test"]})


run_job(snakemake, main)  # noqa: F821
