"""Warnings a job writes to its log reach the terminal: the summary printed at the end of a run."""

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from landslides.sar.synthetic import make_datacube, write_datacube
from landslides.warnings_summary import SHOWN, format_summary, run_warnings

ROOT = Path(__file__).resolve().parents[1]


def write_log(path: Path, *lines: str, mtime: float | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def test_only_this_runs_logs_and_only_warning_lines(tmp_path):
    """WARNING lines in the logging format of landslides.jobs.run_job, from logs written since the run
    started; a log left by an earlier run, INFO lines, tracebacks and other files are not listed."""
    started = time.time()
    old = write_log(tmp_path / "logs" / "ridgei" / "old.log", "2026-01-01 10:00:00,000 WARNING old news",
                    mtime=started - 60)
    new = write_log(tmp_path / "logs" / "ridgei" / "scene_a.log",
                    "2026-01-01 10:00:00,000 INFO reading",
                    "2026-01-01 10:00:01,000 WARNING a.tif: scene has no CRS",
                    "2026-01-01 10:00:02,000 WARNING a.tif: scene has no CRS",
                    "UserWarning: WARNING in the middle of a line is not a logged warning")
    write_log(tmp_path / "logs" / "chip_store" / "h.benchmark.tsv", "2026-01-01 10:00:00,000 WARNING not a log")
    assert old.exists()
    assert run_warnings(tmp_path / "logs", started) == [(new, "a.tif: scene has no CRS")]
    assert run_warnings(tmp_path / "nowhere", started) == []


def test_summary_names_the_log_of_each_warning(tmp_path):
    warnings = [(tmp_path / "logs" / "a.log", "first"), (tmp_path / "logs" / "b" / "c.log", "second")]
    assert format_summary(warnings, tmp_path) == ("2 warning(s) from this run's jobs (log: message):\n"
                                                  "  logs/a.log: first\n  logs/b/c.log: second")
    assert format_summary([], tmp_path) == ""
    repeated = [(tmp_path / "logs" / f"seed~{i}.log", "scene.tif: scene has no CRS") for i in range(3)]
    assert format_summary(repeated, tmp_path).splitlines()[1:] == [
        "  logs/seed~0.log (and 2 other log(s)): scene.tif: scene has no CRS"]
    many = format_summary([(tmp_path / "x.log", f"w{i}") for i in range(SHOWN + 5)], tmp_path)
    assert many.splitlines()[-1] == "  ... and 5 more in the logs"


def test_a_job_warning_reaches_the_terminal(tmp_path):
    """The real entry point: `snakemake --configfile` on a copy of tests/data/tiny.yaml whose Hokkaido cube
    is a local cube with unsorted timesteps. The chip-store job logs a warning; snakemake's own output ends
    with it and the log that holds it. Run again, with nothing to do, the old warning is not repeated."""
    cube = make_datacube("hokkaido", height=128, width=128, seed=1)
    order = np.random.default_rng(0).permutation(cube.sizes["timestep"])
    write_datacube(cube.isel(timestep=order), tmp_path / "shuffled.zarr")
    config = yaml.safe_load((ROOT / "tests" / "data" / "tiny.yaml").read_text())
    config["sar"]["regions"]["hokkaido"] = {"source": str(tmp_path / "shuffled.zarr"),
                                            "event_date": ["20180905", "20180907"]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(tmp_path / "config.yaml"),
               "-d", str(tmp_path / "work"), "resources/chips/hokkaido.zarr"]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    first = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    assert (f"1 warning(s) from this run's jobs (log: message):\n  logs/chip_store/hokkaido.log: datacube "
            f"{tmp_path / 'shuffled.zarr'}: timesteps are not in time order") in first.stderr
    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    assert again.returncode == 0 and "warning(s) from this run's jobs" not in again.stderr


def test_warnings_are_summarized_when_a_job_fails(tmp_path):
    """onerror prints the summary too: the unsorted cube's warning, then the job's own error line."""
    cube = make_datacube("hokkaido", height=128, width=128, seed=1).load()
    cube["landslides"].values[:] = 0
    write_datacube(cube.isel(timestep=np.arange(cube.sizes["timestep"])[::-1]), tmp_path / "empty.zarr")
    config = yaml.safe_load((ROOT / "tests" / "data" / "tiny.yaml").read_text())
    config["sar"]["regions"]["hokkaido"] = {"source": str(tmp_path / "empty.zarr"),
                                            "event_date": ["20180905", "20180907"]}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "1", "--configfile",
                             str(tmp_path / "config.yaml"), "-d", str(tmp_path / "work"),
                             "resources/chips/hokkaido.zarr"],
                            cwd=ROOT, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 1
    assert "error: chip store hokkaido: datacube" in result.stderr and "no landslide pixel" in result.stderr
    assert "  logs/chip_store/hokkaido.log: datacube" in result.stderr and "not in time order" in result.stderr
