"""The conda specs in envs/ and the pip pins (requirements.lock, pyproject.toml) name the same versions."""

import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
# conda-forge name -> PyPI name, where they differ beyond case and -/_/. spelling.
CONDA_TO_PIP = {"pytorch": "torch"}
# Conda-only packages: the interpreter, and CUDA's metapackage (checked against cuda-toolkit below).
CONDA_ONLY = {"python", "pip", "cuda-version"}


def normalize(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def conda_pins(path):
    """{pip name: version} of one env spec; entries are `name=version` or `name=version=build`."""
    spec = yaml.safe_load(path.read_text())
    pins = {}
    for entry in spec["dependencies"]:
        assert isinstance(entry, str), f"{path.name}: no pip section expected (landslides comes from the workflow)"
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)=([^=\s]+)(=\S+)?", entry.strip())
        assert match, f"{path.name}: {entry!r} is not pinned as name=version"
        name = normalize(match.group(1))
        pins[normalize(CONDA_TO_PIP.get(name, name))] = match.group(2)
    return spec, pins


def lock_pins():
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            name, _, version = line.partition("==")
            name = name.split("[")[0]  # cuda-toolkit[cublas,...]
            pins[normalize(name)] = version.split(";")[0].split()[0].rstrip("\\")
    return pins


def pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {normalize(dep.split("==")[0]): dep.split("==")[1] for dep in project["dependencies"]}


def test_there_is_one_spec_per_rule_family():
    assert {path.stem for path in ENVS} >= {"data", "train", "report"}


@pytest.mark.parametrize("path", ENVS, ids=lambda path: path.name)
def test_conda_spec_pins_the_pip_versions(path):
    spec, pins = conda_pins(path)
    assert spec["channels"][0] == "conda-forge" and "defaults" not in spec["channels"], spec["channels"]
    lock, pyproject = lock_pins(), pyproject_pins()
    python = pins.pop("python")
    assert python == "3.11", f"{path.name}: python={python}, the pip path is Python 3.11 (README)"
    for name, version in pins.items():
        if name in CONDA_ONLY:
            continue
        assert name in lock, f"{path.name}: {name} is not in requirements.lock"
        assert version == lock[name], f"{path.name}: {name}={version} but requirements.lock has {lock[name]}"
        if name in pyproject:
            assert version == pyproject[name], f"{path.name}: {name}={version} but pyproject.toml has {pyproject[name]}"


def test_training_env_is_the_cuda_build_of_the_locked_cuda():
    spec, pins = conda_pins(ROOT / "envs" / "train.yaml")
    assert "pytorch=2.14.1=cuda*" in spec["dependencies"] or any(
        re.fullmatch(r"pytorch=[^=]+=cuda\*", entry) for entry in spec["dependencies"])
    # pip's torch wheels bring CUDA through cuda-toolkit; the conda env must ask for the same major.minor.
    toolkit = lock_pins()["cuda-toolkit"]
    assert pins["cuda-version"] == ".".join(toolkit.split(".")[:2]), (pins["cuda-version"], toolkit)


def test_every_pyproject_pin_is_in_the_lock():
    lock = lock_pins()
    for name, version in pyproject_pins().items():
        assert lock.get(name) == version, f"pyproject.toml {name}=={version}, requirements.lock {lock.get(name)}"
