"""Snakemake job: the qualitative panel (test-half image, truth, three maps) and the maps as GeoTIFF."""

from landslides.jobs import run_job
from landslides.studies import ridgei


def main(snakemake):
    given, out = snakemake.input, snakemake.output
    parts = ridgei.load_parts(snakemake.params.scene, image=given.get("image"), label=given.get("label"),
                              tiles=given.get("tiles"))
    maps = dict(zip(ridgei.METHODS, given.maps, strict=True))
    ridgei.plot_qualitative(parts, maps, out.png, out.pdf, snakemake.params.get("source", ""))
    ridgei.copy_maps(maps, {method: out[method] for method in ridgei.METHODS})


run_job(snakemake, main)  # noqa: F821
