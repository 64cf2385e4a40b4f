"""Snakemake job: the qualitative panel (test-half image, truth, three maps) and the maps as GeoTIFF."""

from landslides.jobs import run_job
from landslides.report import run_flags
from landslides.studies.ridgei import data, figures, plan, tables


def main(snakemake):
    given, out = snakemake.input, snakemake.output
    parts = data.load_parts(snakemake.params.scene, image=given.get("image"), label=given.get("label"),
                              tiles=given.get("tiles"))
    maps = dict(zip(plan.METHODS, given.maps, strict=True))
    # The shown runs the sanity checks flag are marked on their panel, as in the tables.
    flagged = tables.flagged_methods(run_flags(given.metrics, snakemake.config))
    figures.plot_qualitative(parts, maps, out.png, out.pdf, snakemake.params.get("source", ""), flagged)
    figures.copy_maps(maps, {method: out[method] for method in plan.METHODS})


run_job(snakemake, main)  # noqa: F821
