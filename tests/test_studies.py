"""The study registry: each registered study has the parts the workflow, the report, the config checks and
the benchmark look up by name, and its plan builds the DAG without the training libraries."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from landslides.errors import InputError
from landslides.studies import STUDIES, study_module
from landslides.workflow_layout import Grid

ROOT = Path(__file__).resolve().parents[1]
PLAN_NAMES = ("DATA", "TABLES", "FIGURES", "COMPARISON", "run_targets", "job_params", "config_problems",
              "path_problems")
# Studies whose table job reads settings of the study block: their plan trims them (report figure pages show them).
TABLE_PARAMS = ("transfer", "pretrain", "refine")


@pytest.mark.parametrize("study", STUDIES)
def test_each_registered_study_has_its_plan_bench_rules_and_schema(study):
    plan = study_module(study, "plan")
    assert all(hasattr(plan, name) for name in PLAN_NAMES), [n for n in PLAN_NAMES if not hasattr(plan, n)]
    assert plan.DATA in ("sar", "scene", "l4s")
    bench = study_module(study, "bench")
    assert callable(bench.setups) and callable(bench.data_sizes)
    for part in ("train", "tables", "figures"):
        assert (ROOT / "landslides" / "studies" / study / f"{part}.py").is_file()
    rules = (ROOT / "workflow" / "rules" / f"{study}.smk").read_text()
    assert f'register_study(\n    "{study}"' in rules and f"{study}_plan" in rules


def test_the_config_schema_lists_exactly_the_registered_studies():
    schema = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert tuple(schema["properties"]["studies"]["items"]["enum"]) == STUDIES
    assert tuple(schema["properties"]["studies"]["default"]) == STUDIES
    assert set(schema["properties"]["gpu_share"]["properties"]) == set(STUDIES)


def test_no_study_imports_another_or_the_report():
    for study in STUDIES:
        for path in (ROOT / "landslides" / "studies" / study).glob("*.py"):
            imports = [line for line in path.read_text().splitlines() if line.lstrip().startswith(("from ", "import "))]
            others = [line for line in imports for other in STUDIES
                      if other != study and f"landslides.studies.{other}" in line]
            assert not others and not any("landslides.report" in line for line in imports), (path, others)


def test_plans_import_no_third_party_library():
    """Snakemake imports every plan to build the DAG: a dry run must not pay for torch, numpy or pandas."""
    code = ("import sys; from landslides.studies import STUDIES, study_module\n"
            "[study_module(s, 'plan') for s in STUDIES]\n"
            "print(sorted(m for m in ('torch', 'numpy', 'pandas', 'xarray', 'h5py', 'yaml') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_grid_files_and_cells_round_trip():
    grid = Grid("results/x/runs", {"features": ["sar", "sar_dem"], "seed": [0, 7]})
    assert grid.pattern == "features~{features}/seed~{seed}"
    assert grid.file("metrics.json") == "results/x/runs/features~{features}/seed~{seed}/metrics.json"
    assert grid.files("m.json") == ["results/x/runs/features~sar/seed~0/m.json",
                                    "results/x/runs/features~sar/seed~7/m.json",
                                    "results/x/runs/features~sar_dem/seed~0/m.json",
                                    "results/x/runs/features~sar_dem/seed~7/m.json"]
    assert grid.files("m.json", seed=7) == ["results/x/runs/features~sar/seed~7/m.json",
                                            "results/x/runs/features~sar_dem/seed~7/m.json"]
    # A job's wildcards are strings; the cell gives back the config's own values (a seed stays an int).
    cell = grid.cell({"features": "sar_dem", "seed": "7"})
    assert cell == {"features": "sar_dem", "seed": 7} and isinstance(cell["seed"], int)
    assert grid.run_dir(cell) == "results/x/runs/features~sar_dem/seed~7"
    with pytest.raises(InputError, match="results/x/runs: seed '3' is not in the config's grid \\(0, 7\\)"):
        grid.cell({"features": "sar", "seed": "3"})


@pytest.mark.parametrize("study", TABLE_PARAMS)
def test_table_jobs_receive_a_few_keys_not_the_study_block(study):
    """Issue #33: the report prints a job's params beside every figure; the table job's are a handful of keys."""
    from landslides.config import validate_config

    config = validate_config(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()))
    block = config[study]
    params = study_module(study, "plan").table_params(block)
    assert set(params) < set(block) and len(params) <= 3, sorted(params)
    rules = (ROOT / "workflow" / "rules" / f"{study}.smk").read_text()
    assert f"study={study}_plan.table_params(" in rules and f"study={study.upper()},\n" not in rules


def test_a_pretrained_stage2_cell_reads_one_stage1_model_file():
    """scripts/pretrain_stage2.py reads `input.stage1` as one path: a list would reach torch.load as a Namedlist."""
    plan = study_module("pretrain", "plan")
    assert plan.stage1_input("hokkaido") == "results/pretrain/stage1/hokkaido/model.pt"
    assert plan.stage1_input("none") == []
