"""Snakemake job: download one Landslide4Sense split from Zenodo record 10463239, checked and validated."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.l4s.dataset import SPLIT_DIRS
from landslides.l4s.download import fetch_l4s


def main(snakemake):
    split = {folder: name for name, folder in SPLIT_DIRS.items()}[snakemake.wildcards.split_dir]
    zenodo = snakemake.params.zenodo
    dest = fetch_l4s(Path(snakemake.output[0]).parent, split, checksum=zenodo["checksums"][split],
                     archive=zenodo["archives"][split], retries=zenodo["retries"])
    print(f"{dest}: {split} split downloaded and validated")


run_job(snakemake, main)  # noqa: F821
