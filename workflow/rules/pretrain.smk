# The pretrain study: one stage-1 classifier per pretraining region, then the stage-2 grid
# pretraining x size x seed. A stage-2 job needs the stage-1 model FILE of its region, so each
# stage-1 model is trained once and every stage-2 job of that region waits for it. File names and each
# job's params come from its plan, landslides/studies/pretrain/plan.py.
from landslides.studies.pretrain import plan as pretrain_plan


# Tables and figures are light: on a cluster they run where snakemake runs.
localrules:
    pretrain_table,


PRETRAIN = config["pretrain"]
PRETRAIN_REGIONS = pretrain_plan.regions(PRETRAIN)
pretrain_grid = pretrain_plan.grid(PRETRAIN)
PRETRAIN_STORE = layout.chip_store(PRETRAIN["stage2_region"])


rule pretrain_stage1:
    input:
        store=layout.CHIP_STORE.format(region="{pretrain_region}"),
    output:
        model=pretrain_plan.stage1_file("{pretrain_region}", "model.pt"),
        metrics=pretrain_plan.stage1_file("{pretrain_region}", "metrics.json"),
        history=pretrain_plan.stage1_file("{pretrain_region}", "history.csv"),
    wildcard_constraints:
        pretrain_region="|".join(PRETRAIN_REGIONS) or "^$",
    params:
        # Only what stage 1 reads: stage-2 settings, sizes, seeds or figure options retrain nothing.
        study=pretrain_plan.stage1_params(PRETRAIN),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: PRETRAIN["stage1"]["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("pretrain"),
    log:
        "logs/pretrain/stage1/{pretrain_region}.log",
    benchmark:
        pretrain_plan.stage1_file("{pretrain_region}", "benchmark.tsv")
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/pretrain_stage1.py"


rule pretrain_stage2:
    input:
        store=PRETRAIN_STORE,
        # The stage-1 model a stage-2 cell needs; none for the arm without pretraining.
        stage1=lambda wc: pretrain_plan.stage1_input(wc.pretraining),
    output:
        metrics=pretrain_grid.file("metrics.json"),
        model=pretrain_grid.file("model.pt"),
        history=pretrain_grid.file("history.csv"),
        predictions=pretrain_grid.file("predictions.npz"),
    params:
        cell=lambda wc: pretrain_grid.cell(wc),
        # Only what a stage-2 cell reads; a retrained stage 1 reaches it through its input file.
        study=pretrain_plan.job_params(PRETRAIN),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: PRETRAIN["stage2"]["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("pretrain"),
    log:
        f"logs/pretrain/{pretrain_grid.pattern}.log",
    benchmark:
        pretrain_grid.file("benchmark.tsv")
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/pretrain_stage2.py"


rule pretrain_table:
    input:
        metrics=pretrain_grid.files("metrics.json"),
        predictions=pretrain_grid.files("predictions.npz"),
        stage1=pretrain_plan.stage1_files(PRETRAIN, "metrics.json"),
        # Read by the stage-1 table's sanity flags (landslides.report.check_run).
        stage1_history=pretrain_plan.stage1_files(PRETRAIN, "history.csv"),
        store=PRETRAIN_STORE,
    output:
        csv=pretrain_plan.TABLES[0],
        md=pretrain_plan.TABLES[1],
        stage1_csv=pretrain_plan.STAGE1_TABLE,
        metrics=report(f"{pretrain_plan.FIGURES['metrics']}.png", caption="../report/pretrain_metrics.rst",
                       category="3 Figures", subcategory="pretrain",
                       labels={"study": "pretrain", "figure": "metrics against training size"}),
        metrics_pdf=f"{pretrain_plan.FIGURES['metrics']}.pdf",
        maps=report(f"{pretrain_plan.FIGURES['maps']}.png", caption="../report/pretrain_maps.rst",
                    category="3 Figures", subcategory="pretrain",
                    labels={"study": "pretrain", "figure": "prediction maps"}),
        maps_pdf=f"{pretrain_plan.FIGURES['maps']}.pdf",
        comparison=pretrain_plan.COMPARISON,
    params:
        # Only what the table and figures read: the report shows these params beside every figure.
        study=pretrain_plan.table_params(PRETRAIN),
        source=lambda wc: study_source("pretrain"),  # report.smk
    log:
        "logs/pretrain/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/pretrain_table.py"


register_study(
    "pretrain",
    runs=pretrain_plan.run_targets(PRETRAIN),
    tables=pretrain_plan.TABLES,
    figures=pretrain_plan.FIGURES,
    comparison=pretrain_plan.COMPARISON,
    datasets={
        layout.chip_store(region): region_source(region)
        for region in dict.fromkeys([PRETRAIN["stage2_region"], *PRETRAIN_REGIONS])
    },
)
