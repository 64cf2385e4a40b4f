"""Load and validate the workflow config against the JSON schema, filling defaults.

Snakemake's own `validate` reports every schema error with the whole instance printed; users of
this workflow get one line naming the key and what is wrong instead, before any job starts.
"""

from __future__ import annotations

import copy
from pathlib import Path

import jsonschema
import yaml

from landslides.errors import InputError

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


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
        schema = yaml.safe_load(f)
    for study_file in sorted((path.parent / "studies").glob("*.schema.yaml")):
        with open(study_file) as f:
            part = yaml.safe_load(f)
        schema["properties"].update(part.get("properties", {}))
        schema["$defs"].update(part.get("$defs", {}))
    return schema


def _key_path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def describe_error(error: jsonschema.ValidationError) -> str:
    """One line: the dotted key and the problem, in words a user can act on."""
    key = _key_path(error)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        allowed = ", ".join(sorted(error.schema.get("properties", {})))
        where = "" if key == "<top level>" else f" under '{key}'"
        return f"unknown key '{extra[0]}'{where} (allowed: {allowed})"
    if error.validator == "required":
        return f"missing key under '{key}': {error.message}"
    return f"key '{key}': {error.message}"


def validate_config(config: dict, schema: dict | None = None, source: str = "config") -> dict:
    """Validate `config` in place (defaults filled) and return it; raise InputError with one line."""
    schema = load_schema() if schema is None else schema
    validator = DefaultFillingValidator(schema)
    # Defaults are filled during iteration; collect all errors, then report the most specific one.
    errors = sorted(validator.iter_errors(config), key=lambda e: (-len(e.absolute_path), e.path))
    if errors:
        raise InputError(f"{source}: {describe_error(errors[0])}")
    _check_cross_references(config, source)
    return config


def _check_cross_references(config: dict, source: str) -> None:
    """Checks that JSON schema cannot express: names that must refer to other parts of the config."""
    regions = config.get("sar", {}).get("regions", {})
    studies = config.get("studies", [])
    transfer = config.get("transfer", {}) if "transfer" in studies else {}
    for key in ("train_region", "test_region"):
        if key in transfer and transfer[key] not in regions:
            raise InputError(f"{source}: key 'transfer.{key}': region '{transfer[key]}' is not in sar.regions")
    pretrain = config.get("pretrain", {}) if "pretrain" in studies else {}
    for region in pretrain.get("pretraining", []):
        if region != "none" and region not in regions:
            raise InputError(f"{source}: key 'pretrain.pretraining': region '{region}' is not in sar.regions")
    if "stage2_region" in pretrain and pretrain["stage2_region"] not in regions:
        raise InputError(f"{source}: key 'pretrain.stage2_region': region '{pretrain['stage2_region']}' "
                         "is not in sar.regions")
    channels = set(config.get("sar", {}).get("chips", {}).get("channels", []))
    for name, selected in transfer.get("features", {}).items():
        missing = sorted(set(selected) - channels)
        if missing:
            raise InputError(f"{source}: key 'transfer.features.{name}': channels {missing} are not in "
                             "sar.chips.channels")
    for region, spec in regions.items():
        if spec.get("source") == "zenodo" and not spec.get("zenodo_file"):
            raise InputError(f"{source}: key 'sar.regions.{region}.zenodo_file': required when source is zenodo")


def load_config(path: str | Path) -> dict:
    with open(path) as f:
        config = yaml.safe_load(f) or {}
    return validate_config(config, source=str(path))
