"""Snakemake job: write the synthetic Landslide4Sense benchmark (TrainData/ValidData/TestData)."""

from landslides.jobs import run_job
from landslides.l4s.synthetic import write_synthetic_l4s


def main(snakemake):
    cfg = snakemake.params.synthetic
    fractions = write_synthetic_l4s(snakemake.output[0], n_train=cfg["n_train"], n_val=cfg["n_val"],
                                    n_test=cfg["n_test"], seed=cfg["seed"])
    print("landslide pixel fraction per split:", {k: round(v, 4) for k, v in fractions.items()})


run_job(snakemake, main)  # noqa: F821
