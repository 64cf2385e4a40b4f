# The transfer study: features x augmentation x seeds, one training job per grid cell.

# Tables and figures are light: on a cluster they run where snakemake runs.
localrules:
    transfer_table,


TRANSFER = config["transfer"]
transfer_grid = grid(
    {
        "features": list(TRANSFER["features"]),
        "augmentation": TRANSFER["augmentation"],
        "seed": TRANSFER["seeds"],
    }
)


rule transfer_train:
    input:
        train_store=f"resources/chips/{TRANSFER['train_region']}.zarr",
        test_store=f"resources/chips/{TRANSFER['test_region']}.zarr",
        weights=layout.imagenet_weights(TRANSFER["model"]),
    output:
        metrics=f"results/transfer/runs/{transfer_grid.wildcard_pattern}/metrics.json",
        model=f"results/transfer/runs/{transfer_grid.wildcard_pattern}/model.pt",
        history=f"results/transfer/runs/{transfer_grid.wildcard_pattern}/history.csv",
        predictions=f"results/transfer/runs/{transfer_grid.wildcard_pattern}/predictions.npz",
        probability_map=f"results/transfer/runs/{transfer_grid.wildcard_pattern}/test_probability.tif",
    params:
        cell=lambda wc: transfer_grid.instance(wc),
        # Only what this cell reads: another seed, cell or figure option retrains nothing.
        study=lambda wc: layout.transfer_job_study(TRANSFER, transfer_grid.instance(wc)),
        device=config["device"],
        deterministic=config["deterministic"],
    threads: TRANSFER["training"]["threads"]
    resources:
        gpu=1 if config["device"] == "cuda" else 0,
        # Percent of a GPU to reserve (common.smk::gpu_share).
        gpu_share=lambda wc: gpu_share("transfer"),
    log:
        f"logs/transfer/{transfer_grid.wildcard_pattern}.log",
    benchmark:
        f"results/transfer/runs/{transfer_grid.wildcard_pattern}/benchmark.tsv"
    conda:
        "../../envs/train.yaml"
    script:
        "../../scripts/transfer_train.py"


rule transfer_table:
    input:
        metrics=expand("results/transfer/runs/{cell}/metrics.json", cell=transfer_grid.instance_patterns),
        predictions=expand("results/transfer/runs/{cell}/predictions.npz", cell=transfer_grid.instance_patterns),
        train_store=f"resources/chips/{TRANSFER['train_region']}.zarr",
        test_store=f"resources/chips/{TRANSFER['test_region']}.zarr",
    output:
        csv="results/transfer/table.csv",
        md="results/transfer/table.md",
        predictions=report("results/transfer/figures/predictions.png", caption="../report/transfer_predictions.rst",
                           category="3 Figures", subcategory="transfer",
                           labels={"study": "transfer", "figure": "predictions (Fig. 1)"}),
        predictions_pdf="results/transfer/figures/predictions.pdf",
        auprc=report("results/transfer/figures/auprc.png", caption="../report/transfer_auprc.rst",
                     category="3 Figures", subcategory="transfer",
                     labels={"study": "transfer", "figure": "AUPRC (Table 1)"}),
        auprc_pdf="results/transfer/figures/auprc.pdf",
        chip_auprc=report("results/transfer/figures/chip_auprc.png", caption="../report/transfer_chip_auprc.rst",
                          category="3 Figures", subcategory="transfer",
                          labels={"study": "transfer", "figure": "per-chip AUPRC"}),
        chip_auprc_pdf="results/transfer/figures/chip_auprc.pdf",
        comparison="results/transfer/comparison.csv",
    params:
        study=TRANSFER,
        source=lambda wc: study_source("transfer"),  # report.smk
    log:
        "logs/transfer/table.log",
    conda:
        "../../envs/report.yaml"
    script:
        "../../scripts/transfer_table.py"


register_study(
    "transfer",
    runs=expand("results/transfer/runs/{cell}/metrics.json", cell=transfer_grid.instance_patterns),
    tables=["results/transfer/table.csv", "results/transfer/table.md"],
    figures={
        "predictions": "results/transfer/figures/predictions",
        "auprc": "results/transfer/figures/auprc",
        "chip_auprc": "results/transfer/figures/chip_auprc",
    },
    comparison="results/transfer/comparison.csv",
    datasets={
        f"resources/chips/{region}.zarr": region_source(region)
        for region in (TRANSFER["train_region"], TRANSFER["test_region"])
    },
)
