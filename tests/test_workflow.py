"""The Snakemake workflow as users meet it: lint, dry-runs of both configs, config errors, and one tiny
end-to-end run of the default DAG on synthetic data."""

import base64
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from landslides.claims import study_claims

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


def snakemake(*args, cwd=ROOT, check=True, env=None):
    result = subprocess.run([*SNAKEMAKE, *args], cwd=cwd, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONWARNINGS="ignore", **(env or {})))
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def planned_jobs(output: str) -> list[tuple[str, str]]:
    """(rule, wildcards) of every job a dry run lists."""
    jobs = []
    for line in output.splitlines():
        match = re.fullmatch(r"(?:local)?rule (\w+):", line.strip())
        if match:
            jobs.append([match[1], ""])
        elif jobs and line.strip().startswith("wildcards: "):
            jobs[-1][1] = line.strip().removeprefix("wildcards: ")
    return [tuple(job) for job in jobs]


def config_errors(result) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if "config error" in line]


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


def test_imagenet_weights_are_copied_once_for_the_jobs_that_load_them(tmp_path):
    """`weights: imagenet` in any study makes the workflow's copy of that encoder's weights an input of exactly
    the training jobs whose model loads them (transfer, ridgei's DeepLabV3+, every refine run), one copy per
    encoder."""
    result = snakemake("-n", "--cores", "2", "--configfile", "config/paper.yaml", "-d", str(tmp_path), "--config",
                       'ridgei={"deeplab": {"weights": "imagenet"}}')
    jobs = []  # (rule, wildcards, inputs)
    for line in result.stdout.splitlines():
        line = line.strip()
        if re.fullmatch(r"(?:local)?rule \w+:", line):
            jobs.append([line.split()[-1].rstrip(":"), "", ""])
        elif jobs and line.startswith(("input: ", "wildcards: ")):
            jobs[-1][1 if line.startswith("wildcards") else 2] = line.split(": ", 1)[1]
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    models, ladder = paper["refine"]["models"], paper["refine"]["ladder"]
    encoders = {"resnet50"} | {model["encoder"] for model in models.values()}
    copied = [wildcards for rule, wildcards, _ in jobs if rule == "imagenet_weights"]
    assert sorted(copied) == sorted(f"encoder={encoder}" for encoder in encoders)

    def copy(encoder):
        return f"resources/weights/{encoder}.imagenet.safetensors"

    def refine_encoder(wildcards):
        return models[ladder[wildcards.split("run=")[1].split(",")[0]]["model"]]["encoder"]

    loading = {"transfer_train": lambda w: "resnet50",
               "ridgei_train": lambda w: "resnet50" if "method=deeplab" in w else None,
               "refine_train": refine_encoder}
    training = [(rule, w, inputs) for rule, w, inputs in jobs if rule in loading]
    assert len(training) > 40
    for rule, wildcards, inputs in training:
        loaded = [encoder for encoder in encoders if copy(encoder) in inputs]
        expected = loading[rule](wildcards)
        assert loaded == ([expected] if expected else []), (rule, wildcards, inputs)


def test_command_line_resources_keep_the_gpu_share_cap(tmp_path):
    """--resources replaces the profile's resources: on a GPU without gpu_share the cap that keeps training
    jobs from overfilling the GPU would be gone, so the run stops before any job and says what to add."""
    result = snakemake("-n", "--config", "device=cuda", "--resources", "mem_mb=1000", "-d", str(tmp_path / "a"),
                       check=False)
    assert result.returncode != 0 and "add gpu_share=100 to --resources" in result.stdout + result.stderr
    snakemake("-n", "--config", "device=cuda", "--resources", "mem_mb=1000", "gpu_share=100",
              "-d", str(tmp_path / "b"))


def test_unknown_config_key_stops_before_any_job(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("transfer:\n  trainig: {epochs: 1}\n")
    result = snakemake("-n", "--cores", "1", "--configfile", str(bad), "-d", str(tmp_path / "w"), check=False)
    assert result.returncode != 0
    lines = [line for line in (result.stdout + result.stderr).splitlines() if "config error" in line]
    assert lines == [f"config error: {bad}, line 2: unknown key 'trainig' under 'transfer' "
                     "(allowed: augment, augmentation, features, figure_chips, invalid_pixels, model, normalization, "
                     "seeds, test_region, train_region, training)"]
    assert not (tmp_path / "w" / "results").exists()


def test_dag_is_planned_without_the_training_libraries(tmp_path):
    """Building the DAG imports no torch, segmentation-models-pytorch, timm, kornia, xarray or h5py: a dry
    run of config/paper.yaml takes seconds, not the ten it took to import them (issue #15)."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "snakemake", "-n", "--cores", "1",
                             "--configfile", "config/paper.yaml", "-d", str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"torch", "segmentation_models_pytorch", "timm", "kornia", "xarray", "h5py"}
    assert imported & heavy == set()
    assert "landslides.workflow_layout" in imported and "refine_train" in result.stdout


def test_command_line_values_are_blamed_on_the_command_line(tmp_path):
    result = snakemake("-n", "--cores", "1", "--config", "device=tpu", "-d", str(tmp_path), check=False)
    assert result.returncode != 0
    assert config_errors(result) == ["config error: --config: key 'device': 'tpu' is not one of "
                                      "['auto', 'cpu', 'cuda']"]


@pytest.fixture
def workflow_copy(tmp_path):
    """The workflow with its own config/ folder (everything else linked), to break the default config."""
    copy = tmp_path / "workflow"
    copy.mkdir()
    for name in ("workflow", "scripts", "envs", "profiles", "Snakefile"):
        (copy / name).symlink_to(ROOT / name)
    (copy / "config").mkdir()
    return copy


@pytest.mark.parametrize("text, message", [
    ("studies: [transfer\n", "line 2: not valid YAML: did not find expected ',' or ']'"),
    ("", "line 1: the config file is empty"),
])
def test_broken_default_config_names_file_and_line(workflow_copy, text, message):
    default = workflow_copy / "config" / "config.yaml"
    default.write_text(text)
    result = snakemake("-n", "--cores", "1", "-s", str(workflow_copy / "Snakefile"), "-d",
                       str(workflow_copy / "w"), check=False)
    assert result.returncode != 0
    errors = config_errors(result)
    assert len(errors) == 1 and errors[0].startswith(f"config error: {default}, {message}"), errors
    assert "Traceback" not in result.stdout + result.stderr


REGIONS_TEXT = """studies: [transfer]
sar:
  regions:
    hokkaido: {event_date: ['20180905', '20180907']}
    talakmau: {event_date: ['20220225', '20220226']}
"""


@pytest.mark.parametrize("text, message", [
    (REGIONS_TEXT.replace("hokkaido: {", "hokkaido: {source: missing.zarr, "),
     "line 4: key 'sar.regions.hokkaido.source': 'missing.zarr' does not exist"),
    (REGIONS_TEXT + "transfer:\n  model: {encoder: resnet17}\n",
     "line 7: key 'transfer.model.encoder': unknown encoder 'resnet17'"),
])
def test_config_problems_stop_before_any_job(tmp_path, text, message):
    """A missing local datacube or an unknown encoder: one line before the DAG, not after data jobs ran."""
    given = tmp_path / "given.yaml"
    given.write_text(text)
    result = snakemake("-n", "--cores", "1", "--configfile", str(given), "-d", str(tmp_path / "w"), check=False)
    assert result.returncode != 0
    errors = config_errors(result)
    assert len(errors) == 1 and errors[0].startswith(f"config error: {given}, {message}"), errors
    assert "MissingInputException" not in result.stdout + result.stderr


# The title of each study's paper-shaped table (the first table of its report page).
PAPER_TABLE_TITLES = {"transfer": "Transfer (Prapas et al., Table 1)", "pretrain": "Pretrain (Boehm et al.)",
                      "ridgei": "Ridge-i (Kimura)", "refine": "Refine: Landslide4Sense"}


def report_results(report_html: Path) -> dict[str, dict]:
    """The entries of a `snakemake --report` file: path -> its data URI, MIME type and producing job's properties."""
    return json.loads(re.search(r"^\s*var results = (\{.*\});\s*$", report_html.read_text(), re.M)[1])


def report_items(report_html: Path) -> tuple[str, dict[str, str]]:
    """The opening page of a `snakemake --report` file, its embedded text items (path -> text) and its figures
    (path -> base64 PNG)."""
    text = report_html.read_text()
    opening = json.loads(re.search(r'^\s*var workflow_desc = (".*");\s*$', text, re.M)[1])
    results = report_results(report_html)
    items = {path: base64.b64decode(entry["data_uri"].split("base64,", 1)[1]).decode()
             for path, entry in results.items() if entry["mime_type"].startswith(("text/", "application/json"))}
    figures = {path: entry["data_uri"].split("base64,", 1)[1] for path, entry in results.items()
               if entry["mime_type"] == "image/png"}
    return opening, items, figures


def assert_report_holds_the_tables(report_html: Path, studies: list[str]):
    """Issue #16: the report opens with config, data sources, code, device and the overview; it holds each
    study's paper-shaped table and tidy table; each figure once; no `nan` anywhere in its pages."""
    opening, items, figures = report_items(report_html)
    for expected in ("SYNTHETIC", "sha256:", "code version", "device: cpu", "total compute", "Published vs reproduced"):
        assert expected in opening, expected
    for study in studies:
        page = items[f"results/report/tables/{study}.html"]
        assert PAPER_TABLE_TITLES[study] in page and f"{study}: every grid cell, split and metric" in page, study
        assert "Data: SYNTHETIC" in page
    assert figures and len(set(figures.values())) == len(figures)  # no figure twice
    # each study's figures where it writes them, and the claims' forest plot beside its report page
    assert all(path.startswith((*(f"results/{study}/figures/" for study in studies), "results/report/claims."))
               for path in figures)
    # Issue #30: each claim with its verdict, a line per study on the opening page, the data source with them
    assert "<h1>Claims</h1>" in opening and "comparisons" in opening
    assert all(f"<tt class=\"docutils literal\">{study}</tt> (" in opening for study in studies)
    claims_page = items["results/report/claims.html"]
    assert "Does the reproduction support each paper" in claims_page and "Data: SYNTHETIC" in claims_page
    for path, text in [("opening page", opening), *items.items()]:
        assert not re.search(r"\bnan\b", text, re.IGNORECASE), path


def assert_report_opens_with_the_data_banner(report_html: Path):
    """Issue #33: after the title, the landing page's first element is the data-source banner (a docutils warning,
    which the page's own style draws as a box), then what was run, then the contents."""
    opening, _, _ = report_items(report_html)
    body = re.sub(r"<style>.*?</style>", "", opening, flags=re.S)
    after_title = body.split('<h1 class="title">', 1)[1].split("</h1>", 1)[1].lstrip()
    assert after_title.startswith('<div class="admonition warning">'), after_title[:200]
    assert "SYNTHETIC" in after_title.split("</div>", 1)[0]
    assert re.findall(r"<h1>(.*?)</h1>", body)[:2] == ["What was run", "Contents"]
    assert "div.admonition.warning" in opening  # the style that makes the warning look like one


def assert_figure_pages_show_no_study_config(report_html: Path, config: dict):
    """Issue #33: the report prints the params of the job behind each figure; none holds a whole study block."""
    for path, entry in report_results(report_html).items():
        if not entry["mime_type"].startswith("image/"):
            continue
        params = entry["job_properties"]["params"]
        for study in config["studies"]:
            keys = [key for key in config[study] if f"'{key}':" in params]
            assert len(keys) <= 1, (path, keys)


def fetched_imagenet_weights(folder: Path, encoder: str) -> dict[str, str]:
    """Stand-in ImageNet weights (a seeded encoder, in the file name and format of the fetched ones) and the
    environment that points the workflow at them."""
    import torch
    from safetensors.torch import save_file

    from landslides.models import build_model, segmentation_spec

    torch.manual_seed(0)
    model = build_model(segmentation_spec({"arch": "unet", "encoder": encoder}, 3))
    folder.mkdir(parents=True)
    save_file({k.removeprefix("encoder."): v.contiguous() for k, v in model.state_dict().items()
               if k.startswith("encoder.")}, folder / f"{encoder}.imagenet.safetensors")
    return {"LANDSLIDES_WEIGHTS_DIR": str(folder)}


@pytest.mark.slow
def test_tiny_end_to_end_run(tmp_path):
    workdir = tmp_path / "run"
    # The tiny config with the paper's `weights: imagenet`: copied once by rule imagenet_weights, read by
    # every training job from that copy.
    tiny = yaml.safe_load((ROOT / "tests" / "data" / "tiny.yaml").read_text())
    tiny["transfer"]["model"]["weights"] = "imagenet"
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(tiny))
    env = fetched_imagenet_weights(tmp_path / "fetched", "resnet18")
    result = snakemake("--cores", "2", "--configfile", str(config), "-d", str(workdir), env=env)
    assert [rule for rule, _ in planned_jobs(result.stdout + result.stderr)].count("imagenet_weights") == 1
    copy = workdir / "resources" / "weights" / "resnet18.imagenet.safetensors"
    assert copy.read_bytes() == (tmp_path / "fetched" / "resnet18.imagenet.safetensors").read_bytes()
    training_logs = sorted((workdir / "logs" / "transfer").glob("features~*/**/*.log"))
    assert len(training_logs) == 4
    for log in training_logs:
        assert f"weights imagenet: loaded from {copy}" in log.read_text(), log
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
    assert "\\toprule" in (results / "tables" / "transfer_runs.tex").read_text()
    # results/tables/<study>.md is the paper-shaped table; the tidy per-run one is <study>_runs.md.
    assert (results / "tables" / "transfer.md").read_text() == table
    assert "every grid cell, split and metric" in (results / "tables" / "transfer_runs.md").read_text()
    assert not (results / "figures").exists()  # each figure is stored once, where its study writes it
    claims = pd.read_csv(results / "tables" / "claims.csv")
    assert claims["claim_id"].tolist() == [claim.id for claim in study_claims("transfer")]  # one seed: no `per`
    assert set(claims["verdict"]) <= {"supported", "contradicted", "inconclusive"}
    assert (claims["data"] == "synthetic").all() and (claims["interval"] == "test samples only (one seed)").all()
    assert "help us train more robust models" in (results / "tables" / "claims.md").read_text()
    assert (results / "report" / "claims.pdf").stat().st_size > 0
    provenance = json.loads((results / "provenance.json").read_text())
    assert len(provenance["runs"]) == 4 and all(r["device"] == "cpu" for r in provenance["runs"])
    snakemake("--configfile", str(config), "-d", str(workdir), "--report", str(workdir / "report.html"))
    assert (workdir / "report.html").stat().st_size > 100_000
    assert_report_holds_the_tables(workdir / "report.html", studies=["transfer"])
    assert_report_opens_with_the_data_banner(workdir / "report.html")
    assert_figure_pages_show_no_study_config(workdir / "report.html", tiny)
    # Nothing left to do: a second run is a no-op.
    again = snakemake("-n", "--cores", "2", "--configfile", str(config), "-d", str(workdir))
    assert "Nothing to be done" in again.stdout + again.stderr
    # A job's params hold only what it reads (the profile reruns on params): another figure option and a new
    # seed plan the new seed's cells and the tables, and retrain none of the existing cells.
    changed = dict(tiny)
    changed["transfer"].update(figure_chips=2, seeds=[0, 1])
    (tmp_path / "changed.yaml").write_text(yaml.safe_dump(changed))
    again = snakemake("-n", "--cores", "2", "--configfile", str(tmp_path / "changed.yaml"), "-d", str(workdir))
    jobs = planned_jobs(again.stdout)
    trained = sorted(wildcards for rule, wildcards in jobs if rule == "transfer_train")
    assert len(trained) == 4 and all(w.endswith("seed=1") for w in trained), trained
    assert ("transfer_table", "") in jobs
