"""The real Landslide4Sense sample patches shipped in data/landslide4sense-samples are intact."""

import hashlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "landslide4sense-samples"


def _listed() -> dict[str, str]:
    sums = {}
    for line in (SAMPLES / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name] = digest
    return sums


def test_every_listed_file_matches_its_sha256():
    sums = _listed()
    assert sums, "SHA256SUMS is empty"
    for name, digest in sums.items():
        assert hashlib.sha256((SAMPLES / name).read_bytes()).hexdigest() == digest, name


def test_every_patch_is_listed_and_documented():
    patches = sorted(f"img/{p.name}" for p in (SAMPLES / "img").iterdir())
    assert patches == sorted(_listed())
    readme = (SAMPLES / "README.md").read_text()
    for name in patches:
        assert Path(name).name in readme, name


def test_refine_default_points_at_the_samples():
    """The schema default, relative to the working directory (the repository root), is this folder."""
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "studies" / "refine.schema.yaml").read_text())

    def find(node):
        if isinstance(node, dict):
            if "sample_patches" in node:
                return node["sample_patches"]["default"]
            for value in node.values():
                found = find(value)
                if found is not None:
                    return found
        return None

    default = find(schema)
    assert (ROOT / default).resolve() == SAMPLES
