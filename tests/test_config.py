"""The config: the schema accepts exactly what the code implements, every cross-field check names its key,
errors name where the value came from, and each training job's params hold only what the job reads."""

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from landslides import workflow_layout as layout
from landslides.config import (
    ConfigSources,
    encoder_names,
    installed_encoder_names,
    load_schema,
    read_config_file,
    validate_config,
)
from landslides.errors import InputError
from landslides.studies.pretrain import plan as pretrain_plan
from landslides.studies.refine import plan as refine_plan
from landslides.studies.ridgei import plan as ridgei_plan
from landslides.studies.transfer import plan as transfer_plan

ROOT = Path(__file__).resolve().parents[1]
REGIONS = {"hokkaido": {"event_date": ["20180905", "20180907"]},
           "talakmau": {"event_date": ["20220225", "20220226"]},
           "kaikoura": {"event_date": ["20161113", "20161114"]}}


def base(**top) -> dict:
    """Every study on, synthetic everything: valid as it is."""
    return {"studies": ["transfer", "pretrain", "ridgei", "refine"], "sar": {"regions": copy.deepcopy(REGIONS)},
            **top}


def setting(config: dict, dotted: str, value) -> dict:
    """`config` with the value at a dotted key set (creating mappings on the way)."""
    config = copy.deepcopy(config)
    *parents, last = dotted.split(".")
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return config


def error_of(config: dict, **kwargs) -> str:
    with pytest.raises(InputError) as err:
        validate_config(config, **kwargs)
    message = str(err.value)
    assert "\n" not in message
    return message


# ---- the schema accepts what the code implements ----

def _walk(node, path=()):
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from _walk(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _walk(value, path + (index,))


def test_schema_loss_names_are_the_losses_module():
    from landslides.losses import LOSSES

    schema = load_schema()
    assert schema["$defs"]["loss"]["enum"] == list(LOSSES)
    # Every other place that names losses refers to that one list.
    others = [path for path, node in _walk(schema)
              if "ce" in node.get("enum", []) and path != ("$defs", "loss")]
    assert others == []


def test_selection_metrics_are_metrics_the_code_computes():
    from landslides.metrics import SegmentationMetrics, classification_metrics

    rng = np.random.default_rng(0)
    prob, label = rng.random(64).astype(np.float32), rng.random(64) < 0.3
    pixel = SegmentationMetrics()
    pixel.update(prob, label)
    defs = load_schema()["$defs"]
    assert set(defs["pixel_metric"]["enum"]) <= set(pixel.compute())
    assert "auroc" not in pixel.compute() and "auroc" not in defs["pixel_metric"]["enum"]
    assert set(defs["classifier_metric"]["enum"]) <= set(classification_metrics(prob, label))


@pytest.mark.parametrize("key, value, fragment", [
    # Segmentation training: the loss names of landslides/losses.py, pixel metrics (no auroc).
    ("transfer.training.loss", "bce", "'transfer.training.loss': 'bce' is not one of"),
    ("transfer.training.selection_metric", "auroc", "'transfer.training.selection_metric': 'auroc'"),
    ("refine.training.loss", "bce", "'refine.training.loss'"),
    ("refine.training.selection_metric", "auroc", "'refine.training.selection_metric'"),
    ("ridgei.deeplab.training.selection_metric", "auroc", "'ridgei.deeplab.training.selection_metric'"),
    ("pretrain.stage2.loss", "bce", "'pretrain.stage2.loss'"),
    ("pretrain.stage2.training.selection_metric", "auroc", "'pretrain.stage2.training.selection_metric'"),
    # Sections whose loss is set elsewhere have no loss key; the anomaly U-Net selects on its own error.
    ("pretrain.stage1.training.loss", "bce", "unknown key 'loss' under 'pretrain.stage1.training'"),
    ("pretrain.stage2.training.loss", "dice", "unknown key 'loss' under 'pretrain.stage2.training'"),
    ("ridgei.classifier.training.loss", "ce", "unknown key 'loss' under 'ridgei.classifier.training'"),
    ("ridgei.anomaly.training.loss", "ce", "unknown key 'loss' under 'ridgei.anomaly.training'"),
    ("ridgei.anomaly.training.selection_metric", "f1", "unknown key 'selection_metric' under 'ridgei.anomaly"),
    # Stage 1 selects on chip metrics; its loss has its own names.
    ("pretrain.stage1.training.selection_metric", "fpr", "'pretrain.stage1.training.selection_metric'"),
    ("pretrain.stage1.loss", "ce", "'pretrain.stage1.loss': 'ce' is not one of ['bce', 'batch_softmax_ce']"),
    ("sar.chips.split_fractions", [0.9, 0.1, 0.0], "'sar.chips.split_fractions.2': 0.0 is less than or equal"),
])
def test_each_training_section_accepts_only_what_its_job_reads(key, value, fragment):
    assert fragment in error_of(setting(base(), key, value))


@pytest.mark.parametrize("settings", [
    {"pretrain.stage1.training.selection_metric": "auroc", "pretrain.stage1.loss": "batch_softmax_ce"},
    {"ridgei.classifier.training.selection_metric": "auroc"},
    {"refine.ladder": {"a": {"loss": "lovasz_hinge"}}, "refine.ensemble": ["a"]},
    {"sar.chips.split_fractions": [0.6, 0.3, 0.1]},  # 0.6 + 0.3 + 0.1 is not exactly 1.0 in floating point
    {"transfer.training": {"scheduler": "plateau_train_loss", "selection": "last"},
     "transfer.normalization": "whole_cube_per_region", "transfer.invalid_pixels": "score",
     "transfer.model.weights": "imagenet"},  # resolved (and reported if absent) by rule imagenet_weights
    {"pretrain.stage2.training.early_stopping": 300, "refine.pseudo.background_threshold": None},
])
def test_valid_values_pass(settings):
    config = base()
    for key, value in settings.items():
        config = setting(config, key, value)
    validate_config(config)


# ---- checks across keys: each one, and the key it names ----

@pytest.mark.parametrize("key, value, fragment", [
    ("transfer.train_region", "puerto_rico", "key 'transfer.train_region': region 'puerto_rico' is not in sar.regions"),
    ("transfer.features", {"x": ["vv_before", "dem"]},
     "key 'transfer.features.x': channels ['dem'] are not in sar.chips.channels"),
    ("pretrain.pretraining", ["none", "puerto_rico"], "key 'pretrain.pretraining.1': region 'puerto_rico'"),
    ("pretrain.stage2_region", "puerto_rico", "key 'pretrain.stage2_region'"),
    ("pretrain.post", ["vh_after"], "key 'pretrain.post': 1 post-event channels for 2 pre-event ones"),
    ("pretrain.pre", ["vh_before", "dem"], "key 'pretrain.pre': channels ['dem'] are not in sar.chips.channels"),
    ("sar.chips.split_fractions", [0.9, 0.9, 0.1], "key 'sar.chips.split_fractions': train, val and test "
                                                   "fractions sum to 1.9, not 1"),
    ("sar.regions.kaikoura", {"source": "zenodo", "event_date": ["20161113", "20161114"]},
     "key 'sar.regions.kaikoura.zenodo_file': required when source is zenodo"),
    ("refine.ladder", {"a": {"model": "nope"}}, "key 'refine.ladder.a.model': 'nope' is not in refine.models"),
    ("refine.ensemble", ["sn", "nope"], "key 'refine.ensemble.1': 'nope' is not in refine.ladder"),
    ("refine.pseudo", {"threshold": 0.5, "background_threshold": 0.6},
     "key 'refine.pseudo.background_threshold': 0.6 must be below threshold (0.5)"),
    ("ridgei.deeplab.training", {"early_stopping": 5, "selection": "last"},
     "key 'ridgei.deeplab.training.early_stopping': stops on the best validation score, but selection is last"),
    ("transfer.model.encoder", "resnet17", "key 'transfer.model.encoder': unknown encoder 'resnet17'"),
    ("ridgei.deeplab.encoder", "resnet_50", "key 'ridgei.deeplab.encoder': unknown encoder 'resnet_50'"),
    ("ridgei.anomaly.encoder", "tu-no_such_model", "key 'ridgei.anomaly.encoder'"),
    ("refine.models", {"resnet": {"encoder": "efficientnet-b9"}}, "key 'refine.models.resnet.encoder'"),
])
def test_cross_field_checks_name_the_key(key, value, fragment):
    assert fragment in error_of(setting(base(), key, value))


def test_checks_skip_studies_that_are_not_run():
    config = setting(setting(base(), "refine.ensemble", ["nope"]), "transfer.model.encoder", "resnet17")
    validate_config(setting(config, "studies", ["pretrain", "ridgei"]))


def test_encoder_names_with_timm_tags_and_the_paper_models_pass():
    config = setting(base(), "transfer.model.encoder", "tu-convnext_tiny.fb_in1k")
    validate_config(config)
    validate_config(yaml.safe_load((ROOT / "config" / "paper.yaml").read_text()), check_paths=False)


def test_encoder_list_matches_the_installed_libraries():
    """workflow/schemas/encoders.txt is what segmentation-models-pytorch and timm build (regenerate with
    landslides.config.write_encoder_names after upgrading either)."""
    assert encoder_names() == set(installed_encoder_names())


def test_split_dirs_match_the_reader():
    from landslides.l4s.dataset import SPLIT_DIRS

    assert refine_plan.SPLIT_DIRS == SPLIT_DIRS


# ---- local paths must exist before any job ----

@pytest.mark.parametrize("key, value, fragment", [
    ("sar.regions.hokkaido.source", "missing/hokkaido.zarr",
     "key 'sar.regions.hokkaido.source': 'missing/hokkaido.zarr' does not exist"),
    ("ridgei.scene", {"source": "geotiff", "image": "missing.tif", "label": "missing_label.tif"},
     "key 'ridgei.scene.image': 'missing.tif' does not exist"),
    ("ridgei.scene", {"source": "tiles", "tiles": "missing_tiles"}, "key 'ridgei.scene.tiles'"),
    ("refine.source", "missing_l4s", "key 'refine.source': 'missing_l4s' is not a folder"),
    ("transfer.model.weights", "missing.pt", "key 'transfer.model.weights': weights file 'missing.pt' does not"),
])
def test_missing_local_paths_are_named(key, value, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = setting(base(), key, value)
    assert fragment in error_of(config)
    validate_config(copy.deepcopy(config), check_paths=False)


def test_existing_local_paths_pass(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in ("cube.zarr", "l4s", "tiles"):
        (tmp_path / folder).mkdir()
    config = setting(base(), "sar.regions.hokkaido.source", "cube.zarr")
    config = setting(setting(config, "refine.source", "l4s"), "ridgei.scene", {"source": "tiles", "tiles": "tiles"})
    validate_config(config)


# ---- where a bad value came from ----

def test_errors_name_the_file_and_line_or_the_command_line(tmp_path):
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text("studies: [transfer]\ndevice: cpu\ntransfer:\n  seeds: [0]\n  training:\n    loss: bce\n")
    second.write_text("# overrides\ntransfer:\n  training:\n    loss: lovasz\n")
    regions = {"sar": {"regions": copy.deepcopy(REGIONS)}}

    def located(config, overrides=None, files=(first,)):
        return error_of({**regions, **config}, source=ConfigSources(files, overrides))

    assert located(yaml.safe_load(first.read_text())).startswith(f"{first}, line 6: key 'transfer.training.loss'")
    # A later file overrides an earlier one; --config overrides both.
    merged = setting(yaml.safe_load(first.read_text()), "transfer.training.loss", "nope")
    assert located(merged, files=(first, second)).startswith(f"{second}, line 4: key 'transfer.training.loss'")
    tpu = setting(yaml.safe_load(first.read_text()), "device", "tpu")
    tpu["transfer"]["training"]["loss"] = "ce"
    assert located(tpu, {"device": "tpu"}).startswith("--config: key 'device': 'tpu' is not one of")
    # A key the file does not hold: the line of its nearest block, else the file alone.
    default = {"studies": ["transfer"], "transfer": {"train_region": "puerto_rico"}}
    assert located(default, files=(second,)).startswith(f"{second}, line 2: key 'transfer.train_region'")
    assert located({"studies": ["transfer"], "device": "tpu"}, files=(second,)).startswith(f"{second}: key 'device'")


@pytest.mark.parametrize("text, fragment", [
    ("studies: [transfer\ndevice: cpu\n", "line 2: not valid YAML: did not find expected ',' or ']'"),
    ("studies: [ridgei]\ndevice: cpu\n  foo: 1\n", "line 3: not valid YAML: mapping values are not allowed"),
    ("", "line 1: the config file is empty"),
    ("# only a comment\n", "line 1: the config file is empty"),
    ("- transfer\n", "line 1: expected config keys (a mapping), found a list"),
])
def test_broken_config_files_name_the_file_and_line(text, fragment, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as err:
        read_config_file(path)
    assert str(err.value).startswith(f"{path}, ") and fragment in str(err.value)


def test_config_check_command(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("studies: [transfer]\nsar:\n  chips:\n    split_fractions: [0.9, 0.9, 0.1]\n")
    result = subprocess.run([sys.executable, "-m", "landslides.config", "config/paper.yaml"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    result = subprocess.run([sys.executable, "-m", "landslides.config", str(bad)], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (f"config error: {bad}, line 4: key 'sar.chips.split_fractions': train, val "
                                     "and test fractions sum to 1.9, not 1")


# ---- each training job's params: only what the job reads ----

def job_params(config: dict) -> dict:
    """Every training job's `study` param as the rules compute it, keyed by (study, job...), as Snakemake
    compares params: by repr, so key order counts."""
    config = validate_config(copy.deepcopy(config), check_paths=False)
    transfer, pretrain, ridgei, refine = (config[s] for s in ("transfer", "pretrain", "ridgei", "refine"))
    params = {}
    for features in transfer["features"]:
        for augmentation in transfer["augmentation"]:
            cell = {"features": features, "augmentation": augmentation, "seed": "0"}
            params[("transfer", features, augmentation)] = transfer_plan.job_params(transfer, cell)
    params[("pretrain", "stage1")] = pretrain_plan.stage1_params(pretrain)
    params[("pretrain", "stage2")] = pretrain_plan.job_params(pretrain)
    for method in ("classifier", "deeplab", "anomaly"):
        params[("ridgei", method)] = ridgei_plan.job_params(ridgei, {"method": method, "seed": "0"})
    for name in refine["ladder"]:
        for round_index in range(refine["rounds"] + 1):
            params[("refine", name, round_index)] = refine_plan.job_params(refine, name, round_index)
    return params


def data_params(config: dict) -> dict:
    """The dict params of the data jobs whose outputs every training job depends on."""
    config = validate_config(copy.deepcopy(config), check_paths=False)
    params = {("ridgei_scene",): ridgei_plan.scene_params(config["ridgei"]["scene"]),
              ("chips",): layout.canonical(config["sar"]["chips"])}
    for region, spec in config["sar"]["regions"].items():
        params[("datacube", region)] = layout.datacube_region(spec)
        params[("chip_store", region)] = layout.chip_store_region(spec)
    return params


def reprs(params: dict) -> dict:
    return {job: repr(value) for job, value in params.items()}


def reordered(value):
    """The same config with the keys of every mapping in reverse order."""
    if isinstance(value, dict):
        return {key: reordered(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [reordered(item) for item in value]
    return value


def default_config() -> dict:
    return yaml.safe_load((ROOT / "config" / "config.yaml").read_text())


@pytest.mark.parametrize("key, value", [
    ("transfer.seeds", [0, 1, 2]),
    ("transfer.figure_chips", 5),
    ("transfer.test_region", "kaikoura"),  # an input file, not a param
    ("pretrain.figure_chips", 5),
    ("pretrain.seeds", [0, 7]),
    ("pretrain.sizes", [2, "all"]),
    ("ridgei.seeds", [0, 1]),
    ("ridgei.scene.seed", 5),  # the generated scene is an input file
    ("refine.figure_patches", 9),
    ("refine.rounds", 5),
    ("refine.ensemble", ["sn", "sn_slo"]),
    ("refine.synthetic.seed", 3),  # the data is an input folder
    ("device", "cpu"),
])
def test_unrelated_keys_leave_every_training_job_unchanged(key, value):
    before, after = reprs(job_params(default_config())), reprs(job_params(setting(default_config(), key, value)))
    assert {job: after[job] for job in before} == before


def test_key_order_changes_no_params():
    """Snakemake compares params by repr: a config with its keys in another order reruns nothing."""
    for params in (job_params, data_params):
        assert reprs(params(reordered(default_config()))) == reprs(params(default_config()))


@pytest.mark.parametrize("key, value, reads", [
    ("sar.regions.hokkaido.orbit", "a", lambda job: job == ("chip_store", "hokkaido")),
    ("sar.regions.hokkaido.height", 512, lambda job: job == ("datacube", "hokkaido")),
    ("sar.download_retries", 5, lambda job: False),  # read only for zenodo sources
    ("sar.chips.size", 64, lambda job: job == ("chips",)),
    ("ridgei.scene.split_axis", "y", lambda job: False),
    ("ridgei.scene.height", 512, lambda job: job == ("ridgei_scene",)),
])
def test_data_jobs_rerun_only_for_what_they_read(key, value, reads):
    before, after = reprs(data_params(default_config())), reprs(data_params(setting(default_config(), key, value)))
    assert {job for job in before if before[job] != after[job]} == {job for job in before if reads(job)}


SAR_DEM = ["vv_before", "vv_after", "vh_before", "vh_after", "dem_aspect", "dem_slope_radians", "dem_curvature"]


def _refine_later_rounds(job):
    return job[0] == "refine" and job[2] > 0


@pytest.mark.parametrize("key, value, reads", [
    ("transfer.training.epochs", 2, lambda job: job[0] == "transfer"),
    ("transfer.augment.gaussian_noise.std", 0.1, lambda job: job[0] == "transfer" and job[2] == "on"),
    ("transfer.features", {"sar": ["vv_before", "vv_after"], "sar_dem": SAR_DEM},
     lambda job: job[:2] == ("transfer", "sar")),
    ("pretrain.stage1.width", 4, lambda job: job == ("pretrain", "stage1")),
    ("pretrain.stage2.width", 4, lambda job: job == ("pretrain", "stage2")),
    ("pretrain.pre", ["vv_before", "vh_before"], lambda job: job[0] == "pretrain"),
    ("ridgei.anomaly.noise_std", 0.2, lambda job: job == ("ridgei", "anomaly")),
    ("ridgei.scene.split_axis", "y", lambda job: job[0] == "ridgei"),
    ("refine.ladder.sn.scale", 2, lambda job: job[:2] == ("refine", "sn")),
    ("refine.pseudo.threshold", 0.8, _refine_later_rounds),  # round 0 trains on labels only
])
def test_keys_a_job_reads_change_exactly_its_params(key, value, reads):
    before, after = reprs(job_params(default_config())), reprs(job_params(setting(default_config(), key, value)))
    assert {job for job in before if before[job] != after[job]} == {job for job in before if reads(job)}


def test_job_params_keep_the_study_structure():
    """A trimmed study is the study block with keys left out: same nesting, same values."""
    config = validate_config(default_config(), check_paths=False)

    def subset(part, whole):
        if isinstance(part, dict):
            return isinstance(whole, dict) and all(k in whole and subset(v, whole[k]) for k, v in part.items())
        return part == whole

    for job, study in job_params(default_config()).items():
        assert subset(study, config[job[0]]), job


def test_relative_data_paths_follow_the_output_folder(tmp_path, monkeypatch):
    """output_dir moves Snakemake's working directory: relative data paths are rewritten to point at the
    same files from there."""
    from landslides.config import relocate_paths

    monkeypatch.chdir(tmp_path)
    config = {"refine": {"source": "my/l4s", "sample_patches": "data/samples", "models": {}},
              "sar": {"regions": {"hokkaido": {"source": "/abs/cube.zarr"}, "talakmau": {"source": "synthetic"}}},
              "ridgei": {"scene": {"tiles": "tiles"}, "deeplab": {"weights": "imagenet"}}}
    relocate_paths(config, "runs/paper")
    assert config["refine"]["source"] == "../../my/l4s" and config["refine"]["sample_patches"] == "../../data/samples"
    assert config["ridgei"]["scene"]["tiles"] == "../../tiles"
    assert config["sar"]["regions"]["hokkaido"]["source"] == "/abs/cube.zarr"
    assert config["sar"]["regions"]["talakmau"]["source"] == "synthetic"
    assert config["ridgei"]["deeplab"]["weights"] == "imagenet"


def test_paper_config_plans_in_its_own_folder(tmp_path):
    """A paper dry run in a checkout with default results never plans to touch them."""
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-s", str(ROOT / "Snakefile"),
                             "--configfile", str(ROOT / "config" / "paper.yaml")], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "runs" / "paper").is_dir()
    assert not (tmp_path / "results").exists() and not (tmp_path / "resources").exists()
