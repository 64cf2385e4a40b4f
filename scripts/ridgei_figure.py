"""Snakemake job: the qualitative panel (test-half image, truth, three maps) and the maps as GeoTIFF."""

from landslides.jobs import run_job
from landslides.studies.ridgei import data, figures, plan


def main(snakemake):
    given, out = snakemake.input, snakemake.output
    parts = data.load_parts(snakemake.params.scene, image=given.get("image"), label=given.get("label"),
                              tiles=given.get("tiles"))
    maps = dict(zip(plan.METHODS, given.maps, strict=True))
    figures.plot_qualitative(parts, maps, out.png, out.pdf, snakemake.params.get("source", ""))
    figures.copy_maps(maps, {method: out[method] for method in plan.METHODS})


run_job(snakemake, main)  # noqa: F821
