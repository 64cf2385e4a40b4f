"""Snakemake job: train and evaluate one cell of the transfer grid."""

from landslides.jobs import run_job
from landslides.runs import RunFiles
from landslides.sar.chips import open_chip_store
from landslides.studies.transfer.train import run_cell


def main(snakemake):
    cell = snakemake.params.cell
    metrics = run_cell(
        open_chip_store(snakemake.input.train_store),
        open_chip_store(snakemake.input.test_store),
        RunFiles.from_outputs(snakemake.output),
        snakemake.output.probability_map,
        features=cell["features"],
        augmentation=cell["augmentation"],
        seed=int(cell["seed"]),
        study=snakemake.params.study,
        threads=snakemake.threads,
        device_name=snakemake.params.device,
        deterministic=snakemake.params.deterministic,
    )
    print({k: metrics[k]["auprc"] for k in ("val", "test")})


run_job(snakemake, main)  # noqa: F821
