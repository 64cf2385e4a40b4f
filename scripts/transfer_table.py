"""Snakemake job: the transfer study's Table 1, the AUPRC plot and the prediction figure."""

import json
from pathlib import Path

from landslides.aggregate import load_runs, write_markdown
from landslides.jobs import run_job
from landslides.sar.chips import open_chip_store
from landslides.studies import transfer


def main(snakemake):
    out = snakemake.output
    tidy = load_runs(snakemake.input.metrics)
    runs = [json.loads(Path(p).read_text()) for p in snakemake.input.metrics]
    table = transfer.build_table(tidy)
    shown = [c for c in table.columns if not c.endswith(("_mean", "_std", "_n"))]
    table.to_csv(out.csv, index=False)
    transfer.comparison(table).to_csv(out.comparison, index=False)
    write_markdown(table[shown], out.md, title="Transfer: pixel AUPRC, train region (validation) and test region",
                   note=transfer.table_note(runs))
    transfer.plot_auprc(tidy, out.auprc, out.auprc_pdf)
    transfer.plot_predictions(snakemake.input.predictions, runs, open_chip_store(snakemake.input.train_store),
                              open_chip_store(snakemake.input.test_store), snakemake.params.study["figure_chips"],
                              out.predictions, out.predictions_pdf)
    print(table[shown].to_string())


run_job(snakemake, main)  # noqa: F821
