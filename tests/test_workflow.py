"""The Snakemake workflow as users meet it: lint, dry-runs of both configs, config errors, and one tiny
end-to-end run of the default DAG on synthetic data."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, cwd=ROOT, check=True):
    result = subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONWARNINGS="ignore"))
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def test_ruff_clean():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_snakemake_lint_clean():
    result = snakemake("--lint", check=False)
    assert result.returncode == 0 and "Lints for" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize("configfile", ["config/config.yaml", "config/paper.yaml"])
def test_dry_run_builds_the_dag(configfile, tmp_path):
    result = snakemake("-n", "--cores", "2", "--configfile", configfile, "-d", str(tmp_path))
    for rule in ("transfer_train", "pretrain_stage1", "pretrain_stage2", "ridgei_train", "refine_train",
                 "refine_ensemble", "overview_table", "provenance"):
        assert rule in result.stdout, rule


def test_user_tile_folder_needs_only_a_config_change(tmp_path):
    """ridgei on a folder of image/mask PNG tiles: the same rules, no scene generation."""
    from PIL import Image

    rng = np.random.default_rng(0)
    for folder in ("images", "masks"):
        (tmp_path / "tiles" / folder).mkdir(parents=True)
    for index in range(8):
        Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(
            tmp_path / "tiles" / "images" / f"tile_{index}.png")
        Image.fromarray((rng.random((64, 64)) < 0.1).astype(np.uint8) * 255).save(
            tmp_path / "tiles" / "masks" / f"tile_{index}.png")
    config = tmp_path / "tiles.yaml"
    config.write_text(f"studies: [ridgei]\nridgei:\n  scene: {{source: tiles, tiles: {tmp_path / 'tiles'}}}\n")
    result = snakemake("-n", "--cores", "2", "--configfile", str(config), "-d", str(tmp_path / "w"))
    assert "ridgei_train" in result.stdout and "ridgei_scene" not in result.stdout


def test_configfile_replaces_the_default_instead_of_merging(tmp_path):
    """A file given with --configfile inherits nothing from config/config.yaml (here: no SAR regions)."""
    given = tmp_path / "only_transfer.yaml"
    given.write_text("studies: [transfer]\n")
    result = snakemake("-n", "--cores", "1", "--configfile", str(given), check=False)
    assert result.returncode != 0
    assert "key 'transfer.train_region': region 'hokkaido' is not in sar.regions" in result.stdout + result.stderr


def test_unknown_config_key_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("transfer:\n  trainig: {epochs: 1}\n")
    result = snakemake("-n", "--cores", "1", "--configfile", str(bad), "-d", str(tmp_path / "w"), check=False)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "config error" in line]
    assert lines == [f"config error: {bad}: unknown key 'trainig' under 'transfer' "
                     "(allowed: augment, augmentation, features, figure_chips, model, normalization, seeds, "
                     "test_region, train_region, training)"]
    assert not (tmp_path / "w" / "results").exists()


@pytest.mark.slow
def test_tiny_end_to_end_run(tmp_path):
    workdir = tmp_path / "run"
    snakemake("--cores", "2", "--configfile", "tests/data/tiny.yaml", "-d", str(workdir))
    results = workdir / "results"
    for name in ("transfer/table.csv", "transfer/table.md", "transfer/figures/predictions.png",
                 "transfer/figures/auprc.pdf"):
        assert (results / name).stat().st_size > 0, name
    runs = sorted((results / "transfer" / "runs").rglob("metrics.json"))
    assert len(runs) == 4  # features {sar, sar_dem} x augmentation {off, on} x one seed
    for run in runs:
        metrics = json.loads(run.read_text())
        assert 0 <= metrics["test"]["auprc"] <= 1 and metrics["val"]["no_skill"] > 0
        assert (run.parent / "test_probability.tif").exists() and (run.parent / "history.csv").exists()
    table = (results / "transfer" / "table.md").read_text()
    assert "SAR & DEM (AUG)" in table and "0.421" in table  # ours beside the published numbers
    # The report rules: tidy tables, the overview, figures, provenance and the HTML report.
    overview = (results / "tables" / "overview.md").read_text()
    assert "transfer" in overview and "difference" in overview
    assert "\\toprule" in (results / "tables" / "transfer.tex").read_text()
    assert (results / "figures" / "transfer" / "auprc.pdf").stat().st_size > 0
    provenance = json.loads((results / "provenance.json").read_text())
    assert len(provenance["runs"]) == 4 and all(r["device"] == "cpu" for r in provenance["runs"])
    snakemake("--configfile", "tests/data/tiny.yaml", "-d", str(workdir), "--report", str(workdir / "report.html"))
    assert (workdir / "report.html").stat().st_size > 100_000
    # Nothing left to do: a second run is a no-op.
    again = snakemake("-n", "--cores", "2", "--configfile", "tests/data/tiny.yaml", "-d", str(workdir))
    assert "Nothing to be done" in again.stdout + again.stderr
