"""Snakemake job: the transfer study's Table 1, the AUPRC plots and the prediction figure."""

import json
from pathlib import Path

from landslides.aggregate import load_runs, write_markdown
from landslides.jobs import run_job
from landslides.sar.chips import open_chip_store
from landslides.studies.transfer import figures, tables


def main(snakemake):
    out, source = snakemake.output, snakemake.params.source
    tidy = load_runs(snakemake.input.metrics)
    runs = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
    table = tables.build_table(tidy)
    table.to_csv(out.csv, index=False)
    tables.comparison(table).to_csv(out.comparison, index=False)
    printed = tables.printed_table(table)
    write_markdown(printed, out.md, title="Transfer (Prapas et al., Table 1): pixel AUPRC, train region (validation) "
                                          "and test region",
                   note=tables.table_note(runs, source))
    figures.plot_auprc(tidy, out.auprc, out.auprc_pdf, source)
    figures.plot_chip_auprc(snakemake.input.predictions, runs, out.chip_auprc, out.chip_auprc_pdf, source)
    figures.plot_predictions(snakemake.input.predictions, runs, open_chip_store(snakemake.input.train_store),
                              open_chip_store(snakemake.input.test_store), snakemake.params.study["figure_chips"],
                              out.predictions, out.predictions_pdf, source)
    print(printed.to_string())


run_job(snakemake, main)  # noqa: F821
