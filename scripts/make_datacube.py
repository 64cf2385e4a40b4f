"""Snakemake job: write a region's datacube from the synthetic generator or from Zenodo."""

from pathlib import Path

from landslides.download import fetch_archive, zenodo_checksum, zenodo_url
from landslides.jobs import run_job
from landslides.sar.synthetic import make_datacube, write_datacube
from landslides.sar.validate import open_datacube


def main(snakemake):
    region, spec, out = snakemake.wildcards.region, snakemake.params.region, Path(snakemake.output[0])
    if spec["source"] == "synthetic":
        cube = make_datacube(region, height=spec["height"], width=spec["width"], seed=spec["seed"],
                             looks=spec["looks"])
        write_datacube(cube, out)
    elif spec["source"] == "zenodo":
        url = zenodo_url(snakemake.params.record, spec["zenodo_file"])
        # An unpinned checksum is taken from the record itself, so every download is still verified.
        checksum = spec["checksum"] or zenodo_checksum(snakemake.params.record, spec["zenodo_file"])
        print(f"{url}: expecting {checksum}")
        fetch_archive(url, out, checksum=checksum, retries=snakemake.params.retries,
                      validate=lambda path: open_datacube(path, event_date=tuple(spec["event_date"])))
    else:
        raise ValueError(f"rule datacube does not handle local sources ({spec['source']}); they are read in place")
    print(f"wrote {out}")


run_job(snakemake, main)  # noqa: F821 (snakemake is injected by the script directive)
