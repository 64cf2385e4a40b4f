# The ridgei study: one scene (synthetic, a GeoTIFF pair or a tile folder) split train:test 0.5:0.5;
# three methods (patch classifier, DeepLabV3+, denoising-U-Net anomaly detection) x seeds, one job each.
# File names and each job's params come from its plan, landslides/studies/ridgei/plan.py.
from landslides.studies.ridgei import plan as ridgei_plan


# Tables and figures are light: on a cluster they run where snakemake runs.
localrules:
    ridgei_table,
    ridgei_figure,


RIDGEI = config["ridgei"]
RIDGEI_SCENE = RIDGEI["scene"]
ridgei_grid = ridgei_plan.grid(RIDGEI)


rule ridgei_scene:
    output:
        **ridgei_plan.SCENE_FILES,
    params:
        # What the generator reads: a new split or validation strip regenerates no scene.
        scene=ridgei_plan.scene_params(RIDGEI_SCENE),
    log:
        "logs/ridgei/scene_{name}.log",
    conda:
        # The generator draws landslide outlines with Pillow, which this env has (through matplotlib).
        "../../envs/report.yaml"
    script:
        "../../scripts/ridgei_scene.py"


rule ridgei_train:
    input:
        unpack(lambda wc: ridgei_plan.train_inputs(RIDGEI, wc.method)),
    output:
        metrics=ridgei_grid.file("metrics.json"),
        model=ridgei_grid.file("model.pt"),
        history=ridgei_grid.file("history.csv"),
        score=ridgei_grid.file("test_score.tif"),
        map=ridgei_grid.file("test_map.tif"),
    params:
        cell=lambda wc: ridgei_grid.cell(wc),
        # Only the method's own block and the scene split: another method's settings retrain nothing.
        study=lambda wc: ridgei_plan.job_params(RIDGEI, ridgei_grid.cell(wc)),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: lambda wc: RIDGEI[wc.method]["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("ridgei"),
    wildcard_constraints:
        method="|".join(ridgei_plan.METHODS),
    log:
        f"logs/ridgei/{ridgei_grid.pattern}.log",
    benchmark:
        ridgei_grid.file("benchmark.tsv")
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/ridgei_train.py"


rule ridgei_table:
    input:
        metrics=ridgei_grid.files("metrics.json"),
        # Read by the table's sanity flags (landslides.report.check_run).
        histories=ridgei_grid.files("history.csv"),
    output:
        csv=ridgei_plan.TABLES[0],
        md=ridgei_plan.TABLES[1],
        comparison=ridgei_plan.COMPARISON,
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
        unpack(lambda wc: ridgei_plan.scene_files(RIDGEI_SCENE)),
        maps=ridgei_plan.figure_maps(RIDGEI),
        # Read by the panel's sanity flags (landslides.report.check_run) of the shown runs.
        metrics=ridgei_plan.figure_runs(RIDGEI, "metrics.json"),
        histories=ridgei_plan.figure_runs(RIDGEI, "history.csv"),
    output:
        png=report(f"{ridgei_plan.FIGURES['qualitative']}.png", caption="../report/ridgei_qualitative.rst",
                   category="3 Figures", subcategory="ridgei",
                   labels={"study": "ridgei", "figure": "qualitative panel"}),
        pdf=f"{ridgei_plan.FIGURES['qualitative']}.pdf",
        **ridgei_plan.FIGURE_MAPS,
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
    runs=ridgei_plan.run_targets(RIDGEI),
    tables=ridgei_plan.TABLES,
    figures=ridgei_plan.FIGURES,
    comparison=ridgei_plan.COMPARISON,
    datasets={path: dict(RIDGEI_SCENE) for path in ridgei_plan.scene_files(RIDGEI_SCENE).values()},
)
