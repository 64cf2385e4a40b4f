# The transfer study: features x augmentation x seeds, one training job per grid cell. File names and each
# job's params come from its plan, landslides/studies/transfer/plan.py.
from landslides.studies.transfer import plan as transfer_plan


# Tables and figures are light: on a cluster they run where snakemake runs.
localrules:
    transfer_table,


TRANSFER = config["transfer"]
transfer_grid = transfer_plan.grid(TRANSFER)


rule transfer_train:
    input:
        **transfer_plan.train_inputs(TRANSFER),
    output:
        metrics=transfer_grid.file("metrics.json"),
        model=transfer_grid.file("model.pt"),
        history=transfer_grid.file("history.csv"),
        predictions=transfer_grid.file("predictions.npz"),
        probability_map=transfer_grid.file("test_probability.tif"),
    params:
        cell=lambda wc: transfer_grid.cell(wc),
        # Only what this cell reads: another seed, cell or figure option retrains nothing.
        study=lambda wc: transfer_plan.job_params(TRANSFER, transfer_grid.cell(wc)),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: TRANSFER["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("transfer"),
    log:
        f"logs/transfer/{transfer_grid.pattern}.log",
    benchmark:
        transfer_grid.file("benchmark.tsv")
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/transfer_train.py"


rule transfer_table:
    input:
        metrics=transfer_grid.files("metrics.json"),
        predictions=transfer_grid.files("predictions.npz"),
        train_store=transfer_plan.train_inputs(TRANSFER)["train_store"],
        test_store=transfer_plan.train_inputs(TRANSFER)["test_store"],
    output:
        csv=transfer_plan.TABLES[0],
        md=transfer_plan.TABLES[1],
        predictions=report(f"{transfer_plan.FIGURES['predictions']}.png", caption="../report/transfer_predictions.rst",
                           category="3 Figures", subcategory="transfer",
                           labels={"study": "transfer", "figure": "predictions (Fig. 1)"}),
        predictions_pdf=f"{transfer_plan.FIGURES['predictions']}.pdf",
        auprc=report(f"{transfer_plan.FIGURES['auprc']}.png", caption="../report/transfer_auprc.rst",
                     category="3 Figures", subcategory="transfer",
                     labels={"study": "transfer", "figure": "AUPRC (Table 1)"}),
        auprc_pdf=f"{transfer_plan.FIGURES['auprc']}.pdf",
        chip_auprc=report(f"{transfer_plan.FIGURES['chip_auprc']}.png", caption="../report/transfer_chip_auprc.rst",
                          category="3 Figures", subcategory="transfer",
                          labels={"study": "transfer", "figure": "per-chip AUPRC"}),
        chip_auprc_pdf=f"{transfer_plan.FIGURES['chip_auprc']}.pdf",
        comparison=transfer_plan.COMPARISON,
    params:
        # Only what the table and figures read: the report shows these params beside every figure.
        study=transfer_plan.table_params(TRANSFER),
        source=lambda wc: study_source("transfer"),  # report.smk
    log:
        "logs/transfer/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/transfer_table.py"


register_study(
    "transfer",
    runs=transfer_plan.run_targets(TRANSFER),
    tables=transfer_plan.TABLES,
    figures=transfer_plan.FIGURES,
    comparison=transfer_plan.COMPARISON,
    datasets={
        layout.chip_store(region): region_source(region)
        for region in (TRANSFER["train_region"], TRANSFER["test_region"])
    },
)
