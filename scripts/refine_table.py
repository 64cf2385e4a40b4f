"""Snakemake job: the refine study's Tables 1 and 2, the F1-per-round plot and the prediction maps."""

from landslides.jobs import run_job
from landslides.studies import refine


def main(snakemake):
    out, study = snakemake.output, snakemake.params.study
    runs = refine.read_results(snakemake.input.runs)
    ensembles = refine.read_results(snakemake.input.ensembles)
    table1, table2 = refine.ladder_table(runs, ensembles), refine.rounds_table(ensembles)
    note = ("Ours: pixel counts summed over each split, threshold 0.5; published: Zhao et al. Table 1 "
            "(validation leaderboard) and Table 2 (test leaderboard), real Landslide4Sense data. "
            f"Data source: {study['source']}. Deviations from the paper: docs/deviations.md.")
    refine.write_tables(table1, table2, out.csv, out.md, note)
    refine.comparison(table1, table2).to_csv(out.comparison, index=False)
    refine.plot_f1_rounds(runs, ensembles, out.f1_rounds, out.f1_rounds_pdf)
    refine.plot_predictions(list(snakemake.input.ensemble_npz), snakemake.params.data_root,
                            study["figure_patches"], out.predictions, out.predictions_pdf)
    refine.plot_sample_maps(list(snakemake.input.ensemble_npz), study["sample_patches"], out.samples,
                            out.samples_pdf)
    print(table1.to_string())
    print(table2.to_string())


run_job(snakemake, main)  # noqa: F821
