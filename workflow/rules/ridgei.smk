# The ridgei study: one scene (synthetic, a GeoTIFF pair or a tile folder) split train:test 0.5:0.5;
# three methods (patch classifier, DeepLabV3+, denoising-U-Net anomaly detection) x seeds, one job each.

# Tables and figures are light: on a cluster they run where snakemake runs.
localrules:
    ridgei_table,
    ridgei_figure,


RIDGEI = config["ridgei"]
RIDGEI_SCENE = RIDGEI["scene"]
ridgei_grid = grid({"method": ["classifier", "deeplab", "anomaly"], "seed": RIDGEI["seeds"]})


rule ridgei_scene:
    output:
        image="resources/scenes/{name}_image.tif",
        label="resources/scenes/{name}_label.tif",
    params:
        # What the generator reads: a new split or validation strip regenerates no scene.
        scene=layout.ridgei_scene_generator(RIDGEI_SCENE),
    log:
        "logs/ridgei/scene_{name}.log",
    conda:
        # The generator draws landslide outlines with Pillow, which this env has (through matplotlib).
        "../../envs/report.yaml"
    script:
        "../../scripts/ridgei_scene.py"


rule ridgei_train:
    input:
        unpack(lambda wc: ridgei_scene_input(RIDGEI_SCENE)),
        weights=lambda wc: layout.imagenet_weights(RIDGEI["deeplab"]) if wc.method == "deeplab" else [],
    output:
        metrics=f"results/ridgei/runs/{ridgei_grid.wildcard_pattern}/metrics.json",
        model=f"results/ridgei/runs/{ridgei_grid.wildcard_pattern}/model.pt",
        history=f"results/ridgei/runs/{ridgei_grid.wildcard_pattern}/history.csv",
        score=f"results/ridgei/runs/{ridgei_grid.wildcard_pattern}/test_score.tif",
        map=f"results/ridgei/runs/{ridgei_grid.wildcard_pattern}/test_map.tif",
    params:
        cell=lambda wc: ridgei_grid.instance(wc),
        # Only the method's own block and the scene split: another method's settings retrain nothing.
        study=lambda wc: layout.ridgei_job_study(RIDGEI, ridgei_grid.instance(wc)),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: lambda wc: RIDGEI[wc.method]["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("ridgei"),
    wildcard_constraints:
        method="classifier|deeplab|anomaly",
    log:
        f"logs/ridgei/{ridgei_grid.wildcard_pattern}.log",
    benchmark:
        f"results/ridgei/runs/{ridgei_grid.wildcard_pattern}/benchmark.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/ridgei_train.py"


rule ridgei_table:
    input:
        metrics=expand("results/ridgei/runs/{cell}/metrics.json", cell=ridgei_grid.instance_patterns),
        # Read by the table's sanity flags (landslides.report.check_run).
        histories=expand("results/ridgei/runs/{cell}/history.csv", cell=ridgei_grid.instance_patterns),
    output:
        csv="results/ridgei/table.csv",
        md="results/ridgei/table.md",
        comparison="results/ridgei/comparison.csv",
    params:
        source=lambda wc: study_source("ridgei"),  # report.smk
    log:
        "logs/ridgei/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/ridgei_table.py"


rule ridgei_figure:
    input:
        unpack(lambda wc: ridgei_scene_input(RIDGEI_SCENE)),
        maps=expand(
            "results/ridgei/runs/method~{method}/seed~{seed}/test_map.tif",
            method=["classifier", "deeplab", "anomaly"],
            seed=min(RIDGEI["seeds"]),
        ),
    output:
        png=report("results/ridgei/figures/qualitative.png", caption="../report/ridgei_qualitative.rst",
                   category="3 Figures", subcategory="ridgei",
                   labels={"study": "ridgei", "figure": "qualitative panel"}),
        pdf="results/ridgei/figures/qualitative.pdf",
        classifier="results/ridgei/figures/classifier_map.tif",
        deeplab="results/ridgei/figures/deeplab_map.tif",
        anomaly="results/ridgei/figures/anomaly_map.tif",
    params:
        scene=layout.canonical(RIDGEI_SCENE),
        source=lambda wc: study_source("ridgei"),  # report.smk; named in the figure's caption
    log:
        "logs/ridgei/figure.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/ridgei_figure.py"


register_study(
    "ridgei",
    runs=expand("results/ridgei/runs/{cell}/metrics.json", cell=ridgei_grid.instance_patterns),
    tables=["results/ridgei/table.csv", "results/ridgei/table.md"],
    figures={"qualitative": "results/ridgei/figures/qualitative"},
    comparison="results/ridgei/comparison.csv",
    datasets={path: dict(RIDGEI_SCENE) for path in ridgei_scene_input(RIDGEI_SCENE).values()},
)
