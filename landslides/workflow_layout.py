"""What the Snakemake rules need to build the DAG: file layouts and each training job's params.

Imported while Snakemake plans the workflow, so it uses the standard library only (and landslides.errors):
a dry run must not pay for torch, segmentation-models-pytorch or xarray (`snakemake -n` of config/paper.yaml
in about a second; tests/test_workflow.py checks that none of them is imported).

Each training rule passes `params: study=<its function below>` (refine: `job_study`): the study block
trimmed to the keys that job reads, with the same nesting as `config[<study>]`. Snakemake reruns a job
whose params changed (profiles/default: rerun-triggers include params), so a new seed, another figure
option or another cell's setting retrains nothing that already exists. Snakemake compares params by repr,
so they are also key-sorted (`canonical`). The job scripts read `snakemake.params.study` as before; a
study function that starts reading another top-level key needs it added here (the job then fails with a
KeyError naming it; tests/test_config.py checks which jobs each key reaches).
"""

from __future__ import annotations

from pathlib import Path, PurePath

from landslides.errors import InputError

# The benchmark's split folders (Landslide4Sense layout); landslides.l4s.dataset.SPLIT_DIRS is the same
# mapping (tests/test_config.py checks that), kept here so that building the DAG does not import h5py.
SPLIT_DIRS = {"train": "TrainData", "val": "ValidData", "test": "TestData"}


# Device files of a loaded GPU driver (NVIDIA, AMD ROCm): a GPU is there without importing torch.
GPU_DRIVER_FILES = ("/dev/nvidiactl", "/dev/kfd")


def gpu_driver_present() -> bool:
    return any(Path(name).exists() for name in GPU_DRIVER_FILES)


# ---- ImageNet encoder weights ----

def imagenet_weights(model: dict) -> list[str]:
    """A training job's ImageNet weights input: the workflow's copy (rule imagenet_weights) for a model block
    with `weights: imagenet`, none for a local weights path (read where it is) or no weights.

    Copied once, by a local job, before any training job that needs it is submitted: a missing file fails
    that job with the command that fetches it (and none of those training jobs starts), and a compute node
    needs no Hugging Face cache.
    """
    if model.get("weights") == "imagenet":
        return [f"resources/weights/{model['encoder']}.imagenet.safetensors"]
    return []


# ---- refine: Landslide4Sense file layout ----

def l4s_root(study: dict) -> str:
    """Where the benchmark is read from: resources/l4s/<source> for synthetic and zenodo, else the path."""
    if study["source"] in ("synthetic", "zenodo"):
        return f"resources/l4s/{study['source']}"
    return study["source"]


def l4s_inputs(study: dict) -> list[str]:
    """The data a job depends on: one folder per downloaded split, else the benchmark root."""
    if study["source"] == "zenodo":
        return [f"{l4s_root(study)}/{folder}" for folder in SPLIT_DIRS.values()]
    return [l4s_root(study)]


def data_root_of(inputs: list[str]) -> str:
    """The benchmark root from a job's data inputs (a root, or split folders inside one)."""
    first = PurePath(inputs[0])
    return str(first.parent) if first.name in SPLIT_DIRS.values() else str(first)


def train_inputs(study: dict, name: str, round_index: int) -> dict:
    """The data and the model's ImageNet weights (if any); round r > 0 also needs round r-1's ensemble, whose
    pseudo-labels it trains on."""
    run = study["ladder"].get(name)  # not in the ladder: job_study, the rule's params, says so
    inputs = {"data": l4s_inputs(study), "weights": imagenet_weights(study["models"][run["model"]]) if run else []}
    if round_index > 0:
        inputs["previous"] = f"results/refine/rounds/round{round_index - 1}/ensemble.npz"
    return inputs


def run_targets(study: dict) -> list[str]:
    """Every training run's metrics: the whole ladder in round 0, the ensemble members in later rounds."""
    runs = [f"results/refine/runs/round0/{name}/metrics.json" for name in study["ladder"]]
    for round_index in range(1, study["rounds"] + 1):
        runs += [f"results/refine/runs/round{round_index}/{name}/metrics.json" for name in study["ensemble"]]
    return runs


# ---- params: canonical, and for training jobs trimmed to what the job reads ----

def canonical(value):
    """`value` with the keys of every mapping sorted. Snakemake compares params by their repr, so without
    this a config whose keys are merely in another order (another editor, a YAML dump) reruns every job."""
    if isinstance(value, dict):
        return {key: canonical(value[key]) for key in sorted(value, key=str)}
    if isinstance(value, list):
        return [canonical(item) for item in value]
    return value


def datacube_region(spec: dict) -> dict:
    """make_datacube: the generator's settings, or the archive to fetch and check (a local cube has no job)."""
    keys = {"synthetic": ("source", "height", "width", "seed", "looks"),
            "zenodo": ("source", "zenodo_file", "checksum", "event_date")}.get(spec["source"], ("source",))
    return canonical({key: spec[key] for key in keys})


def chip_store_region(spec: dict) -> dict:
    """build_chip_store: the event date and the orbit filter (the cube itself is the job's input)."""
    return canonical({key: spec[key] for key in ("event_date", "orbit")})


def ridgei_scene_generator(scene: dict) -> dict:
    """ridgei_scene: the synthetic scene's size, seed and pixel size (not how the scene is split)."""
    return canonical({key: scene[key] for key in ("height", "width", "seed", "resolution_m")})


def transfer_job_study(study: dict, cell: dict) -> dict:
    """transfer.run_cell: the cell's channel set, model, training, normalization and invalid-pixel handling;
    augment only when the cell's augmentation is on."""
    features = cell["features"]
    trimmed = {"features": {features: study["features"][features]}, "normalization": study["normalization"],
               "invalid_pixels": study["invalid_pixels"], "model": study["model"], "training": study["training"]}
    if cell["augmentation"] == "on":
        trimmed["augment"] = study["augment"]
    return canonical(trimmed)


def pretrain_stage1_study(study: dict) -> dict:
    """pretrain.train_stage1: the stage-1 block and the channel pairs."""
    return canonical({"pre": study["pre"], "post": study["post"], "stage1": study["stage1"]})


def pretrain_stage2_study(study: dict) -> dict:
    """pretrain.train_stage2: the stage-2 block, the channel pairs, the fixed test set and the epoch size.

    The stage-1 model is an input file: a retrained stage 1 reruns its stage-2 cells through that file.
    """
    return canonical({"pre": study["pre"], "post": study["post"], "test_chips": study["test_chips"],
                      "min_epoch_chips": study["min_epoch_chips"], "invalid_pixels": study["invalid_pixels"],
                      "stage2": study["stage2"]})


def ridgei_job_study(study: dict, cell: dict) -> dict:
    """ridgei.run_method and load_parts: the method's own block and the scene keys that split the scene.

    The scene's pixels are input files: the generator's keys (name, size, seed) and the given paths are left
    out, and so is the pixel size except for tiles (they carry none). Every other scene key (split_axis,
    val_fraction, the tile-split keys) is kept: load_parts falls back to defaults for missing ones.
    """
    method, scene = cell["method"], study["scene"]
    unread = {"name", "height", "width", "seed", "image", "label", "tiles"}
    if scene["source"] != "tiles":
        unread.add("resolution_m")
    return canonical({"scene": {key: value for key, value in scene.items() if key not in unread},
                      method: study[method]})


def job_study(study: dict, name: str, round_index: int | None = None) -> dict:
    """refine.run_training for ladder entry `name`: its entry and model, the shared training settings, and
    the pseudo-label settings only from round 1 on (round_index None keeps them).

    Adding a round, a ladder entry, an ensemble member or a figure option retrains nothing that exists.
    """
    if name not in study["ladder"]:
        raise InputError(f"refine run '{name}' is not in refine.ladder")
    run = study["ladder"][name]
    loss = run["loss"] or study["training"]["loss"]
    trimmed = {key: study[key] for key in ("training", "augment", "steps", "seed", "sample_patches")}
    trimmed["ladder"] = {name: run}
    trimmed["models"] = {run["model"]: study["models"][run["model"]]}
    trimmed["loss_params"] = {loss: study["loss_params"][loss]} if loss in study["loss_params"] else {}
    if round_index is None or round_index > 0:
        trimmed["pseudo"] = study["pseudo"]
    return canonical(trimmed)
