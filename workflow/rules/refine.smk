# The refine study (Zhao et al.): the ablation ladder (round 0) and progressive pseudo-label rounds on
# Landslide4Sense. Every round is its own file targets, so a rerun resumes after the last finished round.
# File names and each job's params come from its plan, landslides/studies/refine/plan.py.
from landslides.studies.refine import plan as refine_plan


localrules:
    refine_table,


REFINE = config["refine"]


rule refine_synthetic_data:
    output:
        directory(refine_plan.L4S_ROOT.format(source="synthetic")),
    params:
        synthetic=layout.canonical(REFINE["synthetic"]),
    log:
        "logs/refine/synthetic_data.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/refine_synthetic.py"


rule refine_download:
    output:
        directory(refine_plan.ZENODO_SPLIT),
    wildcard_constraints:
        split_dir="|".join(refine_plan.SPLIT_DIRS.values()),
    params:
        zenodo=layout.canonical(REFINE["zenodo"]),
    log:
        "logs/refine/download_{split_dir}.log",
    conda:
        "../../envs/data.yaml"
    script:
        "../../scripts/refine_download.py"


rule refine_train:
    input:
        unpack(lambda wc: refine_plan.train_inputs(REFINE, wc.run, int(wc.round))),
    output:
        metrics=f"{refine_plan.RUN}/metrics.json",
        predictions=f"{refine_plan.RUN}/predictions.npz",
        model=f"{refine_plan.RUN}/model.pt",
        history=f"{refine_plan.RUN}/history.csv",
    wildcard_constraints:
        round=r"\d+",
        run=r"[a-z0-9_]+",
    params:
        # Only what this run reads: a new round, ladder entry or figure option retrains nothing.
        study=lambda wc: refine_plan.job_params(REFINE, wc.run, int(wc.round)),
        data_root=lambda wc, input: refine_plan.data_root_of(input.data),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: REFINE["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("refine"),
    log:
        "logs/refine/round{round}/{run}.log",
    benchmark:
        f"{refine_plan.RUN}/benchmark.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/refine_train.py"


rule refine_ensemble:
    input:
        members=lambda wc: [refine_plan.run_file(wc.round, name, "predictions.npz") for name in REFINE["ensemble"]],
    output:
        npz=f"{refine_plan.ROUND}/ensemble.npz",
        metrics=f"{refine_plan.ROUND}/metrics.json",
    wildcard_constraints:
        round=r"\d+",
    params:
        members=REFINE["ensemble"],
    log:
        "logs/refine/ensemble_round{round}.log",
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/refine_ensemble.py"


rule refine_table:
    input:
        runs=refine_plan.run_targets(REFINE),
        ensembles=refine_plan.round_files(REFINE, "metrics.json"),
        ensemble_npz=refine_plan.round_files(REFINE, "ensemble.npz"),
        data=refine_plan.l4s_inputs(REFINE),
    output:
        csv=refine_plan.TABLES[0],
        md=refine_plan.TABLES[1],
        f1_rounds=report(f"{refine_plan.FIGURES['f1_rounds']}.png", caption="../report/refine_f1_rounds.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "F1 per round (Table 2)"}),
        f1_rounds_pdf=f"{refine_plan.FIGURES['f1_rounds']}.pdf",
        predictions=report(f"{refine_plan.FIGURES['predictions']}.png", caption="../report/refine_predictions.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "prediction maps"}),
        predictions_pdf=f"{refine_plan.FIGURES['predictions']}.pdf",
        samples=report(f"{refine_plan.FIGURES['sample_maps']}.png", caption="../report/refine_sample_maps.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "real sample patches"}),
        samples_pdf=f"{refine_plan.FIGURES['sample_maps']}.pdf",
        pseudo_labels=report(f"{refine_plan.FIGURES['pseudo_labels']}.png", caption="../report/refine_pseudo_labels.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "pseudo-labels per round"}),
        pseudo_labels_pdf=f"{refine_plan.FIGURES['pseudo_labels']}.pdf",
        class_ratio=report(f"{refine_plan.FIGURES['class_ratio']}.png", caption="../report/refine_class_ratio.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "class ratio per split (Fig. 1b)"}),
        class_ratio_pdf=f"{refine_plan.FIGURES['class_ratio']}.pdf",
        band_statistics=report(f"{refine_plan.FIGURES['band_statistics']}.png", caption="../report/refine_band_statistics.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "band statistics per split (Fig. 2)"}),
        band_statistics_pdf=f"{refine_plan.FIGURES['band_statistics']}.pdf",
        comparison=refine_plan.COMPARISON,
    params:
        # Only what the table and figures read: the report shows these params beside every figure.
        study=refine_plan.table_params(REFINE),
        data_root=lambda wc, input: refine_plan.data_root_of(input.data),
        source=lambda wc: study_source("refine"),  # report.smk
    log:
        "logs/refine/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/refine_table.py"


register_study(
    "refine",
    runs=refine_plan.run_targets(REFINE),
    tables=refine_plan.TABLES,
    figures=refine_plan.FIGURES,
    comparison=refine_plan.COMPARISON,
    datasets={path: {"source": REFINE["source"], **(REFINE["synthetic"] if REFINE["source"] == "synthetic" else {})}
              for path in refine_plan.l4s_inputs(REFINE)},
)
