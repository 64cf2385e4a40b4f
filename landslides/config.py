"""Load and validate the workflow config: the JSON schema (with defaults), then every cross-field check.

Snakemake's own `validate` reports every schema error with the whole instance printed; users of this
workflow get one line naming where the value came from (config file and line, or --config), the dotted
key and what is wrong, before any job starts. All checks of the config live here:

- the schema (workflow/schemas/): types, ranges, allowed names; each training section accepts exactly
  the keys its kind of job reads (`training`, `training_fixed_loss`, `training_chips`, `training_anomaly`);
- `check_config` below: what one key says about another (regions, channels, ladder and ensemble names,
  thresholds, split fractions, encoder names) and local paths that must exist.

Nothing here imports torch: this runs while Snakemake builds the DAG.
"""

from __future__ import annotations

import copy
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import jsonschema
import yaml

from landslides.config_checks import ENCODERS_PATH, encoder_names
from landslides.errors import InputError
from landslides.studies import STUDIES, study_module

SCHEMA_DIR = Path(__file__).resolve().parents[1] / "workflow" / "schemas"
SCHEMA_PATH = SCHEMA_DIR / "config.schema.yaml"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _with_defaults(validator_class):
    """A validator class that writes each property's `default` into the instance as it validates."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema and name not in instance:
                    instance[name] = copy.deepcopy(subschema["default"])
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


DefaultFillingValidator = _with_defaults(jsonschema.Draft202012Validator)


def load_schema(path: Path = SCHEMA_PATH) -> dict:
    """The main schema plus one file per study in schemas/studies/, each adding its top-level key."""
    with open(path) as f:
        schema = yaml.load(f, Loader=_Loader)
    for study_file in sorted((path.parent / "studies").glob("*.schema.yaml")):
        with open(study_file) as f:
            part = yaml.load(f, Loader=_Loader)
        schema["properties"].update(part.get("properties", {}))
        schema["$defs"].update(part.get("$defs", {}))
    return schema


# ---- where a value came from ----

class ConfigSources:
    """The config files in the order Snakemake merged them, and the --config values applied last.

    `describe(path)` names the source that set the key at `path` (a tuple of keys and list indices): the
    file and line of the deepest part of the path it holds, or --config; defaults are named by the files.
    """

    def __init__(self, files: Sequence[str | Path] = (), overrides: dict | None = None) -> None:
        self.files = [str(f) for f in files]
        self.overrides = dict(overrides or {})

    def __str__(self) -> str:
        return " + ".join(self.files) or ("--config" if self.overrides else "config")

    def describe(self, path: Sequence) -> str:
        best, best_depth = str(self), 0
        for file in self.files:  # later files override earlier ones: on a tie the later one wins
            depth, line = _yaml_depth(file, path)
            if depth and depth >= best_depth:
                best, best_depth = f"{file}, line {line}", depth
        if path and _dict_depth(self.overrides, path) >= max(best_depth, 1):
            return "--config"
        return best


def _yaml_depth(file: str, path: Sequence) -> tuple[int, int | None]:
    """How many leading parts of `path` the YAML file holds, and the line of the deepest one."""
    try:
        with open(file) as f:
            node = yaml.compose(f, Loader=_Loader)
    except (OSError, yaml.YAMLError):
        return 0, None
    depth, line = 0, None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            hit = [(k, v) for k, v in node.value if k.value == str(part)]
            if not hit:
                break
            key, node = hit[-1]
            line = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
        depth += 1
    return depth, line


def _dict_depth(data, path: Sequence) -> int:
    depth = 0
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            break
        depth += 1
    return depth


def _where(source: str | ConfigSources, path: Sequence) -> str:
    return source.describe(path) if isinstance(source, ConfigSources) else str(source)


# ---- the schema ----

def _dotted(path: Sequence) -> str:
    return ".".join(str(p) for p in path) or "<top level>"


def describe_error(error: jsonschema.ValidationError) -> tuple[tuple, str]:
    """The path of the offending key and one line on the problem, in words a user can act on."""
    path = tuple(error.absolute_path)
    key = _dotted(path)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        where = "" if key == "<top level>" else f" under '{key}'"
        return path + (extra[0],), f"unknown key '{extra[0]}'{where} (allowed: {allowed})"
    if error.validator == "required":
        return path, f"missing key under '{key}': {error.message}"
    return path, f"key '{key}': {error.message}"


def validate_config(config: dict, schema: dict | None = None, source: str | ConfigSources = "config",
                    *, check_paths: bool = True) -> dict:
    """Validate `config` in place (defaults filled) and return it; raise InputError with one line.

    source: a name, or the ConfigSources the config was merged from (then the line names the file and line,
    or --config, that set the key). check_paths: local data paths and weights files must exist.
    """
    schema = load_schema() if schema is None else schema
    validator = DefaultFillingValidator(schema)
    # Defaults are filled during iteration; collect all errors, then report the most specific one.
    errors = sorted(validator.iter_errors(config), key=lambda e: (-len(e.absolute_path), [str(p) for p in e.path]))
    if errors:
        path, message = describe_error(errors[0])
        raise InputError(f"{_where(source, path)}: {message}")
    for path, message in check_config(config, check_paths=check_paths):
        raise InputError(f"{_where(source, path)}: key '{_dotted(path)}': {message}")
    return config


# ---- checks across keys ----

def check_config(config: dict, *, check_paths: bool = True) -> Iterator[tuple[tuple, str]]:
    """(key path, problem) for everything the schema cannot express, in config order. Only the studies in
    `studies` are checked: the others build no job."""
    plans = {study: study_module(study, "plan") for study in STUDIES if study in config["studies"]}
    yield from _check_sar(config)
    for study, plan in plans.items():
        yield from plan.config_problems(config, config[study])
        yield from _check_training(config[study], (study,))
    if check_paths:
        # Local data and weights the jobs will read: missing ones are named now, not after other jobs ran.
        # A region read twice (by two studies, or as one study's train and test region) is named once.
        yield from dict.fromkeys(problem for study, plan in plans.items()
                                 for problem in plan.path_problems(config, config[study]))


def _check_sar(config: dict) -> Iterator[tuple[tuple, str]]:
    for region, spec in config["sar"]["regions"].items():
        if spec["source"] == "zenodo" and not spec.get("zenodo_file"):
            yield ("sar", "regions", region, "zenodo_file"), "required when source is zenodo"
    fractions = config["sar"]["chips"]["split_fractions"]
    if not math.isclose(sum(fractions), 1.0, rel_tol=0, abs_tol=1e-6):
        yield ("sar", "chips", "split_fractions"), f"train, val and test fractions sum to {sum(fractions):g}, not 1"


def _check_training(node, path: tuple) -> Iterator[tuple[tuple, str]]:
    """Every training section of a study: early stopping needs the best epoch to be kept."""
    if isinstance(node, dict):
        if path[-1] == "training" and node.get("early_stopping") and node.get("selection") == "last":
            yield path + ("early_stopping",), "stops on the best validation score, but selection is last"
        for key, value in node.items():
            yield from _check_training(value, path + (key,))


ENCODERS_HEADER = """\
# Encoder names the config's `encoder` keys accept: segmentation-models-pytorch {smp}'s own encoders,
# then every timm {timm} model as tu-<name> (a tu- name may add a pretrained tag, tu-<name>.<tag>).
# landslides/config.py checks names against this list while Snakemake builds the DAG, without importing torch.
# tests/test_config.py fails when it differs from the installed libraries; regenerate it with:
#   python -c "import landslides.config as c; c.write_encoder_names()"
"""


def installed_encoder_names() -> list[str]:
    """The names the installed segmentation-models-pytorch builds (imports torch: tests and regeneration)."""
    import segmentation_models_pytorch as smp
    import timm

    return sorted(smp.encoders.get_encoder_names()) + sorted(f"tu-{name}" for name in timm.list_models())


def write_encoder_names(path: Path = ENCODERS_PATH) -> None:
    """Regenerate encoders.txt from the installed segmentation-models-pytorch and timm."""
    import segmentation_models_pytorch as smp
    import timm

    header = ENCODERS_HEADER.format(smp=smp.__version__, timm=timm.__version__)
    Path(path).write_text(header + "\n".join(installed_encoder_names()) + "\n")
    encoder_names.cache_clear()


# ---- output folder ----

def path_keys(config: dict) -> Iterator[tuple[dict, str]]:
    """(mapping, key) of every config value that is a local file or folder path."""
    for spec in config.get("sar", {}).get("regions", {}).values():
        if spec.get("source") not in (None, "synthetic", "zenodo"):
            yield spec, "source"
    refine = config.get("refine", {})
    if refine.get("source") not in (None, "synthetic", "zenodo"):
        yield refine, "source"
    if refine.get("sample_patches"):
        yield refine, "sample_patches"
    scene = config.get("ridgei", {}).get("scene", {})
    for key in ("image", "label", "tiles"):
        if scene.get(key):
            yield scene, key
    weighted = [config.get("transfer", {}).get("model", {}), config.get("ridgei", {}).get("deeplab", {}),
                *refine.get("models", {}).values()]
    for block in weighted:
        if block.get("weights") and block["weights"] != "imagenet":
            yield block, "weights"


def relocate_paths(config: dict, output_dir: str | Path) -> None:
    """Rewrite relative paths in `config` (relative to the current directory) so that they stay right
    once Snakemake works in `output_dir`: relative to it, so that the checkout can still move as a whole."""
    target = Path(output_dir).resolve()
    for mapping, key in path_keys(config):
        value = Path(mapping[key])
        if not value.is_absolute():
            mapping[key] = os.path.relpath(value.resolve(), target)


# ---- config files ----

def read_config_file(path: str | Path) -> dict:
    """A config file's top-level mapping; InputError naming the file (and the line) when it is missing,
    empty, not YAML or not a mapping."""
    try:
        text = Path(path).read_text()
    except FileNotFoundError:
        raise InputError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"{path}: cannot read the config file ({err})") from None
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = f", line {mark.line + 1}" if mark else ""
        problem = f"{err.problem} ({err.context})" if err.context else str(err.problem)
        raise InputError(f"{path}{line}: not valid YAML: {problem}") from None
    except yaml.YAMLError as err:
        raise InputError(f"{path}: not valid YAML: {err}") from None
    if data is None:
        raise InputError(f"{path}, line 1: the config file is empty (expected keys such as studies, sar, transfer)")
    if not isinstance(data, dict):
        raise InputError(f"{path}, line 1: expected config keys (a mapping), found a {type(data).__name__}")
    return data


def load_config(path: str | Path) -> dict:
    return validate_config(read_config_file(path), source=ConfigSources([path]))


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m landslides.config FILE...`: check config files as the workflow would merge them (later files
    override earlier ones); one line naming the file and line of the first problem, exit status 1."""
    import sys

    files = list(sys.argv[1:] if argv is None else argv) or ["config/config.yaml"]
    try:
        merged: dict = {}
        for file in files:
            _merge(merged, read_config_file(file))
        validate_config(merged, source=ConfigSources(files))
    except InputError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 1
    print(f"{' + '.join(files)}: valid")
    return 0


def _merge(config: dict, update: dict) -> None:
    """Snakemake's merge of config files: nested mappings key by key, everything else replaced."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            _merge(config[key], value)
        else:
            config[key] = value


if __name__ == "__main__":
    raise SystemExit(main())
