"""Snakemake job: the refine study's Tables 1 and 2, the F1-per-round plot, the prediction maps, the pseudo-label
statistics per round and the data statistics of the run's splits (Zhao et al. Fig. 1b and Fig. 2)."""

from landslides.jobs import run_job
from landslides.studies.refine import figures, tables


def main(snakemake):
    out, study, source = snakemake.output, snakemake.params.study, snakemake.params.source
    runs = tables.read_results(snakemake.input.runs)
    ensembles = tables.read_results(snakemake.input.ensembles)
    ensemble_npz = list(snakemake.input.ensemble_npz)
    table1, table2 = tables.ladder_table(runs, ensembles), tables.rounds_table(ensembles)
    tables.write_tables(table1, table2, out.csv, out.md, tables.table_note(source))
    tables.comparison(table1, table2).to_csv(out.comparison, index=False)
    figures.plot_f1_rounds(runs, ensembles, out.f1_rounds, out.f1_rounds_pdf, source)
    figures.plot_predictions(ensemble_npz, snakemake.params.data_root, study["figure_patches"], out.predictions,
                            out.predictions_pdf, source)
    figures.plot_sample_maps(ensemble_npz, study["sample_patches"], out.samples, out.samples_pdf, source)
    figures.plot_pseudo_labels(runs, ensemble_npz, study["pseudo"], out.pseudo_labels, out.pseudo_labels_pdf, source)
    stats = figures.split_statistics(snakemake.params.data_root)
    figures.plot_class_ratio(stats, out.class_ratio, out.class_ratio_pdf, source)
    figures.plot_band_statistics(stats, out.band_statistics, out.band_statistics_pdf, source)
    print(table1.to_string())
    print(table2.to_string())


run_job(snakemake, main)  # noqa: F821
