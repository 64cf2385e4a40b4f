# The pretrain study: one stage-1 classifier per pretraining region, then the stage-2 grid
# pretraining x size x seed. A stage-2 job needs the stage-1 model FILE of its region, so each
# stage-1 model is trained once and every stage-2 job of that region waits for it.

# Tables and figures are light: on a cluster they run where snakemake runs.
localrules:
    pretrain_table,


PRETRAIN = config["pretrain"]
PRETRAIN_REGIONS = [arm for arm in PRETRAIN["pretraining"] if arm != "none"]
pretrain_grid = grid(
    {
        "pretraining": PRETRAIN["pretraining"],
        "size": [str(size) for size in PRETRAIN["sizes"]],
        "seed": PRETRAIN["seeds"],
    }
)


rule pretrain_stage1:
    input:
        store="resources/chips/{pretrain_region}.zarr",
    output:
        model="results/pretrain/stage1/{pretrain_region}/model.pt",
        metrics="results/pretrain/stage1/{pretrain_region}/metrics.json",
        history="results/pretrain/stage1/{pretrain_region}/history.csv",
    wildcard_constraints:
        pretrain_region="|".join(PRETRAIN_REGIONS) or "^$",
    params:
        # Only what stage 1 reads: stage-2 settings, sizes, seeds or figure options retrain nothing.
        study=layout.pretrain_stage1_study(PRETRAIN),
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
        "results/pretrain/stage1/{pretrain_region}/benchmark.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/pretrain_stage1.py"


rule pretrain_stage2:
    input:
        store=f"resources/chips/{PRETRAIN['stage2_region']}.zarr",
        # The stage-1 model a stage-2 cell needs; none for the arm without pretraining.
        stage1=lambda wc: [] if wc.pretraining == "none" else f"results/pretrain/stage1/{wc.pretraining}/model.pt",
    output:
        metrics=f"results/pretrain/runs/{pretrain_grid.wildcard_pattern}/metrics.json",
        model=f"results/pretrain/runs/{pretrain_grid.wildcard_pattern}/model.pt",
        history=f"results/pretrain/runs/{pretrain_grid.wildcard_pattern}/history.csv",
        predictions=f"results/pretrain/runs/{pretrain_grid.wildcard_pattern}/predictions.npz",
    params:
        cell=lambda wc: pretrain_grid.instance(wc),
        # Only what a stage-2 cell reads; a retrained stage 1 reaches it through its input file.
        study=layout.pretrain_stage2_study(PRETRAIN),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: PRETRAIN["stage2"]["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("pretrain"),
    log:
        f"logs/pretrain/{pretrain_grid.wildcard_pattern}.log",
    benchmark:
        f"results/pretrain/runs/{pretrain_grid.wildcard_pattern}/benchmark.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/pretrain_stage2.py"


rule pretrain_table:
    input:
        metrics=expand("results/pretrain/runs/{cell}/metrics.json", cell=pretrain_grid.instance_patterns),
        predictions=expand("results/pretrain/runs/{cell}/predictions.npz", cell=pretrain_grid.instance_patterns),
        stage1=expand("results/pretrain/stage1/{region}/metrics.json", region=PRETRAIN_REGIONS),
        # Read by the stage-1 table's sanity flags (landslides.report.check_run).
        stage1_history=expand("results/pretrain/stage1/{region}/history.csv", region=PRETRAIN_REGIONS),
        store=f"resources/chips/{PRETRAIN['stage2_region']}.zarr",
    output:
        csv="results/pretrain/table.csv",
        md="results/pretrain/table.md",
        stage1_csv="results/pretrain/stage1.csv",
        metrics=report("results/pretrain/figures/metrics.png", caption="../report/pretrain_metrics.rst",
                       category="3 Figures", subcategory="pretrain",
                       labels={"study": "pretrain", "figure": "metrics against training size"}),
        metrics_pdf="results/pretrain/figures/metrics.pdf",
        maps=report("results/pretrain/figures/maps.png", caption="../report/pretrain_maps.rst",
                    category="3 Figures", subcategory="pretrain",
                    labels={"study": "pretrain", "figure": "prediction maps"}),
        maps_pdf="results/pretrain/figures/maps.pdf",
        comparison="results/pretrain/comparison.csv",
    params:
        study=PRETRAIN,
        source=lambda wc: study_source("pretrain"),  # report.smk
    log:
        "logs/pretrain/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/pretrain_table.py"


register_study(
    "pretrain",
    runs=expand("results/pretrain/runs/{cell}/metrics.json", cell=pretrain_grid.instance_patterns),
    tables=["results/pretrain/table.csv", "results/pretrain/table.md", "results/pretrain/stage1.csv"],
    figures={
        "metrics": "results/pretrain/figures/metrics",
        "maps": "results/pretrain/figures/maps",
    },
    comparison="results/pretrain/comparison.csv",
    datasets={
        f"resources/chips/{region}.zarr": region_source(region)
        for region in dict.fromkeys([PRETRAIN["stage2_region"], *PRETRAIN_REGIONS])
    },
)
