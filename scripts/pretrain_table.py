"""Snakemake job: the pretrain study's table (mean ± std over seeds), metric curves and map figure."""

import json
from pathlib import Path

from landslides.aggregate import write_markdown
from landslides.jobs import run_job
from landslides.sar.chips import open_chip_store
from landslides.studies import pretrain


def main(snakemake):
    out, study = snakemake.output, snakemake.params.study
    tidy = pretrain.runs_frame(snakemake.input.metrics)
    table = pretrain.build_table(tidy)
    shown = [c for c in table.columns if not c.endswith(("_mean", "_std"))]
    table.to_csv(out.csv, index=False)
    pretrain.comparison(table).to_csv(out.comparison, index=False)
    stage1 = pretrain.stage1_table(snakemake.input.stage1)
    stage1.to_csv(out.stage1_csv, index=False)
    write_markdown(table[shown], out.md,
                   title="Pretrain: stage-2 test metrics per pretraining and training size",
                   note=pretrain.table_note(study, stage1))
    pretrain.plot_metrics(tidy, out.metrics, out.metrics_pdf)
    runs = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
    pixel_m = pretrain.store_pixel_size(open_chip_store(snakemake.input.store))
    pretrain.plot_maps(snakemake.input.predictions, runs, study["figure_chips"], pixel_m, out.maps,
                       out.maps_pdf)
    print(table[shown].to_string())


run_job(snakemake, main)  # noqa: F821
