"""Snakemake job: train and evaluate one stage-2 cell (pretraining x size x seed)."""

from landslides.jobs import run_job
from landslides.runs import RunFiles
from landslides.sar.chips import open_chip_store
from landslides.studies.pretrain.train import train_stage2


def main(snakemake):
    cell = snakemake.params.cell
    metrics = train_stage2(
        open_chip_store(snakemake.input.store),
        snakemake.input.stage1 or None,  # empty for the arm without pretraining
        RunFiles.from_outputs(snakemake.output),
        pretraining=cell["pretraining"],
        size=cell["size"],
        seed=int(cell["seed"]),
        study=snakemake.params.study,
        threads=snakemake.threads,
        device_name=snakemake.params.device,
        deterministic=snakemake.params.deterministic,
    )
    print({"chips": metrics["chips"], "test": metrics["test"]})


run_job(snakemake, main)  # noqa: F821
