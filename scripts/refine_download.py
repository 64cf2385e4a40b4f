"""Snakemake job: download one Landslide4Sense split from Zenodo record 10463239, checked and validated."""

from pathlib import Path

from landslides.download import fetch_archive
from landslides.jobs import run_job
from landslides.l4s.dataset import SPLIT_DIRS
from landslides.l4s.download import archive_url, split_validator


def main(snakemake):
    split = {folder: name for name, folder in SPLIT_DIRS.items()}[snakemake.wildcards.split_dir]
    zenodo = snakemake.params.zenodo
    # The split folder itself is the destination: fetch_archive moves the archive's TrainData/ (etc.)
    # entry onto it, after the reader has validated every patch.
    dest = Path(snakemake.output[0])
    fetch_archive(archive_url(split, zenodo["archives"][split]), dest, checksum=zenodo["checksums"][split],
                  retries=zenodo["retries"], validate=split_validator(split), member=SPLIT_DIRS[split])
    print(f"{dest}: {split} split downloaded and validated")


run_job(snakemake, main)  # noqa: F821
