"""Snakemake job: validate a datacube and turn it into the region's chip store."""

from landslides.jobs import run_job
from landslides.sar.chips import build_chip_store, write_chip_store
from landslides.sar.validate import open_datacube


def main(snakemake):
    spec, chips = snakemake.params.region, snakemake.params.chips
    cube = open_datacube(snakemake.input.cube, event_date=tuple(spec["event_date"]))
    store = build_chip_store(
        cube,
        name=snakemake.wildcards.region,
        event_date=tuple(spec["event_date"]),
        orbit=spec["orbit"],
        n_looks_before=chips["n_looks_before"],
        n_looks_after=chips["n_looks_after"],
        skip_last_pre=chips["skip_last_pre"],
        channels=chips["channels"],
        chip_size=chips["size"],
        split_fractions=tuple(chips["split_fractions"]),
        split_seed=chips["split_seed"],
    )
    write_chip_store(store, snakemake.output[0])
    n_pos = int(store["has_landslide"].sum())
    print(f"{snakemake.output[0]}: {store.sizes['chip']} chips, {n_pos} with landslides")


run_job(snakemake, main)  # noqa: F821
