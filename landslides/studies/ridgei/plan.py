"""ridgei's plan: method x seed on one scene, the scene's files, and the params each job reads. Standard
library only (landslides.workflow_layout): Snakemake imports it to build the DAG."""

from __future__ import annotations

from pathlib import Path

from landslides.config_checks import Problems, encoder_problems, weights_problems
from landslides.workflow_layout import Grid, canonical, imagenet_weights

DATA = "scene"  # what it reads: an optical scene (landslides.report.describe_dataset)

METHODS = ("classifier", "deeplab", "anomaly")
RUNS = "results/ridgei/runs"
SCENE_FILES = {"image": "resources/scenes/{name}_image.tif", "label": "resources/scenes/{name}_label.tif"}
TABLES = ["results/ridgei/table.csv", "results/ridgei/table.md"]
FIGURES = {"qualitative": "results/ridgei/figures/qualitative"}
FIGURE_MAPS = {method: f"results/ridgei/figures/{method}_map.tif" for method in METHODS}
COMPARISON = "results/ridgei/comparison.csv"


def grid(study: dict) -> Grid:
    return Grid(RUNS, {"method": list(METHODS), "seed": study["seeds"]})


def run_targets(study: dict) -> list[str]:
    return grid(study).files("metrics.json")


def figure_maps(study: dict) -> list[str]:
    """The qualitative panel's maps: each method's run with the smallest seed."""
    return figure_runs(study, "test_map.tif")


def figure_runs(study: dict, name: str) -> list[str]:
    """File `name` of the runs whose maps the qualitative panel shows (each method's smallest seed): their
    metrics.json and history.csv tell the panel which of them the sanity checks flag."""
    return grid(study).files(name, seed=min(study["seeds"]))


def scene_files(scene: dict) -> dict:
    """The files a ridgei job reads: the generated or given scene pair, or the tile folder."""
    if scene["source"] == "tiles":
        return {"tiles": scene["tiles"]}
    if scene["source"] == "geotiff":
        return {"image": scene["image"], "label": scene["label"]}
    return {key: pattern.format(name=scene["name"]) for key, pattern in SCENE_FILES.items()}


def train_inputs(study: dict, method: str) -> dict:
    """The scene's files, and DeepLabV3+'s ImageNet weights (if any)."""
    weights = imagenet_weights(study["deeplab"]) if method == "deeplab" else []
    return {**scene_files(study["scene"]), "weights": weights}


def scene_params(scene: dict) -> dict:
    """ridgei_scene: the synthetic scene's size, seed and pixel size (not how the scene is split)."""
    return canonical({key: scene[key] for key in ("height", "width", "seed", "resolution_m")})


def job_params(study: dict, cell: dict) -> dict:
    """train.run_method and data.load_parts: the method's own block and the scene keys that split the scene.

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


def config_problems(config: dict, study: dict) -> Problems:
    """What one key of the ridgei block says about another (landslides.config.check_config)."""
    for method in ("deeplab", "anomaly"):
        yield from encoder_problems(("ridgei", method, "encoder"), study[method]["encoder"])


def path_problems(config: dict, study: dict) -> Problems:
    """A given scene or tile folder, and local weights, that are not there."""
    scene = study["scene"]
    for key in {"geotiff": ("image", "label"), "tiles": ("tiles",)}.get(scene["source"], ()):
        if not Path(scene[key]).exists():
            yield ("ridgei", "scene", key), f"'{scene[key]}' does not exist"
    yield from weights_problems(("ridgei", "deeplab", "weights"), study["deeplab"]["weights"])
