"""Snakemake job: copy an encoder's ImageNet weights from where they were fetched into resources/weights/."""

from landslides.jobs import run_job
from landslides.models import copy_imagenet_weights


def main(snakemake):
    source = copy_imagenet_weights(snakemake.wildcards.encoder, snakemake.output[0])
    print(f"{snakemake.output[0]}: copied from {source}")


run_job(snakemake, main)  # noqa: F821
