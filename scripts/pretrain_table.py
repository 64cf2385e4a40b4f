"""Snakemake job: the pretrain study's table (mean ± std over seeds), metric curves and map figure."""

import json
from pathlib import Path

from landslides.aggregate import write_markdown
from landslides.jobs import run_job
from landslides.report import run_flags
from landslides.sar.chips import open_chip_store
from landslides.studies.pretrain import figures, tables


def main(snakemake):
    out, study, source = snakemake.output, snakemake.params.study, snakemake.params.source
    tidy = tables.runs_frame(snakemake.input.metrics)
    table = tables.build_table(tidy)
    table.to_csv(out.csv, index=False)
    tables.comparison(table).to_csv(out.comparison, index=False)
    stage1 = tables.stage1_table(snakemake.input.stage1, run_flags(snakemake.input.stage1, snakemake.config))
    stage1.to_csv(out.stage1_csv, index=False)
    printed = tables.printed_table(table)
    write_markdown(printed, out.md,
                   title="Pretrain (Boehm et al.): stage-2 test metrics per pretraining and training size",
                   note=tables.table_note(study, stage1, source, table))
    flagged = tuple(stage1.loc[stage1["check"] != "ok", "pretraining region"]) if len(stage1) else ()
    figures.plot_metrics(tidy, out.metrics, out.metrics_pdf, source, flagged)
    runs = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
    pixel_m = figures.store_pixel_size(open_chip_store(snakemake.input.store))
    figures.plot_maps(snakemake.input.predictions, runs, study["figure_chips"], pixel_m, out.maps,
                       out.maps_pdf, source, flagged)
    print(printed.to_string())
    print(stage1.to_string())


run_job(snakemake, main)  # noqa: F821
