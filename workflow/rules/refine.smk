# The refine study (Zhao et al.): the ablation ladder (round 0) and progressive pseudo-label rounds on
# Landslide4Sense. Every round is its own file targets, so a rerun resumes after the last finished round.
# The file layout and each job's params come from landslides.workflow_layout (`layout`, common.smk).


localrules:
    refine_table,


REFINE = config["refine"]
REFINE_ROUNDS = list(range(REFINE["rounds"] + 1))


rule refine_synthetic_data:
    output:
        directory("resources/l4s/synthetic"),
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
        directory("resources/l4s/zenodo/{split_dir}"),
    wildcard_constraints:
        split_dir="TrainData|ValidData|TestData",
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
        unpack(lambda wc: layout.train_inputs(REFINE, wc.run, int(wc.round))),
    output:
        metrics="results/refine/runs/round{round}/{run}/metrics.json",
        predictions="results/refine/runs/round{round}/{run}/predictions.npz",
        model="results/refine/runs/round{round}/{run}/model.pt",
        history="results/refine/runs/round{round}/{run}/history.csv",
    wildcard_constraints:
        round=r"\d+",
        run=r"[a-z0-9_]+",
    params:
        # Only what this run reads: a new round, ladder entry or figure option retrains nothing.
        study=lambda wc: layout.job_study(REFINE, wc.run, int(wc.round)),
        data_root=lambda wc, input: layout.data_root_of(input.data),
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
        "results/refine/runs/round{round}/{run}/benchmark.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/refine_train.py"


rule refine_ensemble:
    input:
        members=lambda wc: expand(
            "results/refine/runs/round{round}/{run}/predictions.npz", round=wc.round, run=REFINE["ensemble"]
        ),
    output:
        npz="results/refine/rounds/round{round}/ensemble.npz",
        metrics="results/refine/rounds/round{round}/metrics.json",
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
        runs=layout.run_targets(REFINE),
        ensembles=expand("results/refine/rounds/round{round}/metrics.json", round=REFINE_ROUNDS),
        ensemble_npz=expand("results/refine/rounds/round{round}/ensemble.npz", round=REFINE_ROUNDS),
        data=layout.l4s_inputs(REFINE),
    output:
        csv="results/refine/table.csv",
        md="results/refine/table.md",
        f1_rounds=report("results/refine/figures/f1_rounds.png", caption="../report/refine_f1_rounds.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "F1 per round (Table 2)"}),
        f1_rounds_pdf="results/refine/figures/f1_rounds.pdf",
        predictions=report("results/refine/figures/predictions.png", caption="../report/refine_predictions.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "prediction maps"}),
        predictions_pdf="results/refine/figures/predictions.pdf",
        samples=report("results/refine/figures/sample_maps.png", caption="../report/refine_sample_maps.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "real sample patches"}),
        samples_pdf="results/refine/figures/sample_maps.pdf",
        pseudo_labels=report("results/refine/figures/pseudo_labels.png", caption="../report/refine_pseudo_labels.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "pseudo-labels per round"}),
        pseudo_labels_pdf="results/refine/figures/pseudo_labels.pdf",
        class_ratio=report("results/refine/figures/class_ratio.png", caption="../report/refine_class_ratio.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "class ratio per split (Fig. 1b)"}),
        class_ratio_pdf="results/refine/figures/class_ratio.pdf",
        band_statistics=report("results/refine/figures/band_statistics.png", caption="../report/refine_band_statistics.rst",
            category="3 Figures", subcategory="refine",
            labels={"study": "refine", "figure": "band statistics per split (Fig. 2)"}),
        band_statistics_pdf="results/refine/figures/band_statistics.pdf",
        comparison="results/refine/comparison.csv",
    params:
        study=REFINE,
        data_root=lambda wc, input: layout.data_root_of(input.data),
        source=lambda wc: study_source("refine"),  # report.smk
    log:
        "logs/refine/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/refine_table.py"


register_study(
    "refine",
    runs=layout.run_targets(REFINE),
    tables=["results/refine/table.csv", "results/refine/table.md"],
    figures={
        "f1_rounds": "results/refine/figures/f1_rounds",
        "predictions": "results/refine/figures/predictions",
        "sample_maps": "results/refine/figures/sample_maps",
        "pseudo_labels": "results/refine/figures/pseudo_labels",
        "class_ratio": "results/refine/figures/class_ratio",
        "band_statistics": "results/refine/figures/band_statistics",
    },
    comparison="results/refine/comparison.csv",
    datasets={path: {"source": REFINE["source"], **(REFINE["synthetic"] if REFINE["source"] == "synthetic" else {})}
              for path in layout.l4s_inputs(REFINE)},
)
