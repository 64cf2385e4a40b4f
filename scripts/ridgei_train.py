"""Snakemake job: train and evaluate one ridgei method (classifier, deeplab or anomaly) for one seed."""

from pathlib import Path

from landslides.jobs import run_job
from landslides.runs import RunFiles
from landslides.studies.ridgei.data import SPLIT_KEYS, MapFiles, load_parts
from landslides.studies.ridgei.train import run_method


def main(snakemake):
    cell, study, given, out = snakemake.params.cell, snakemake.params.study, snakemake.input, snakemake.output
    # The split keys come with the job's params; where the trimmed scene block lacks them, from the config.
    configured = snakemake.config["ridgei"]["scene"]
    scene = {**{key: configured.get(key, default) for key, default in SPLIT_KEYS.items()}, **study["scene"]}
    parts = load_parts(scene, image=given.get("image"), label=given.get("label"), tiles=given.get("tiles"))
    metrics = run_method(parts, cell["method"], study, int(cell["seed"]), RunFiles.from_outputs(out),
                         MapFiles(Path(out.score), Path(out.map)), threads=snakemake.threads,
                         device_name=snakemake.params.device, deterministic=snakemake.params.deterministic)
    print({key: metrics["test"].get(key) for key in ("accuracy", "f1", "miou", "iou")})


run_job(snakemake, main)  # noqa: F821
