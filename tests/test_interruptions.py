"""Interruptions as users meet them: snakemake killed (SIGKILL: an OOM kill, a closed terminal) or stopped
(SIGTERM) while a training job runs. Running the same command again must work, without --unlock, and
give the same metrics as an uninterrupted run (CPU runs are bit-identical)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from landslides import runlock

ROOT = Path(__file__).resolve().parents[1]
RUN = "results/transfer/runs/features~sar_dem/augmentation~off/seed~0"


def _config(tmp_path) -> Path:
    config = yaml.safe_load((ROOT / "tests" / "data" / "tiny.yaml").read_text())
    config["transfer"]["training"]["epochs"] = 6  # long enough to be killed in the middle
    config["transfer"]["augmentation"] = ["off"]
    path = tmp_path / "interrupt.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _command(config: Path, workdir: Path) -> list[str]:
    return [sys.executable, "-m", "snakemake", "--cores", "1", "--configfile", str(config), "-d", str(workdir),
            f"{RUN}/metrics.json"]


def _run(config, workdir):
    result = subprocess.run(_command(config, workdir), cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _metrics(workdir):
    metrics = json.loads((workdir / RUN / "metrics.json").read_text())
    return {key: metrics[key] for key in ("best_epoch", "val", "test")}


def _start_and_interrupt(config, workdir, sig):
    """Start the workflow, wait until the training job has a checkpoint, then signal snakemake alone."""
    process = subprocess.Popen(_command(config, workdir), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not (workdir / RUN / "state.pt").exists():
        assert process.poll() is None, "the workflow ended before the training job wrote a checkpoint"
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.kill(process.pid, sig)
    process.wait()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_interrupted_snakemake_then_same_command_gives_same_results(tmp_path, sig):
    config = _config(tmp_path)
    _run(config, tmp_path / "uninterrupted")
    interrupted = tmp_path / "interrupted"
    _start_and_interrupt(config, interrupted, sig)
    again = _run(config, interrupted)  # the same command, no --unlock
    if sig == signal.SIGKILL:
        assert "cleared a stale Snakemake lock" in again.stderr
    assert _metrics(interrupted) == _metrics(tmp_path / "uninterrupted")
    assert not (interrupted / RUN / "state.pt").exists() and not (interrupted / RUN / "run.lock").exists()


def test_lock_of_a_dead_process_is_cleared_and_a_live_workflow_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "run"
    folder.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (folder / runlock.LOCK_NAME).write_text(dead.stdout)
    lock = runlock.acquire(folder)  # the holder is gone: taken over
    assert lock.read_text().strip() == str(os.getpid())
    runlock.release(lock)
    assert not lock.exists()

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (folder / runlock.LOCK_NAME).write_text(f"{sleeper.pid}\n")
        monkeypatch.setattr(runlock, "under_snakemake", lambda pid: True)
        with pytest.raises(runlock.InputError, match=f"process {sleeper.pid} of another running workflow"):
            runlock.acquire(folder)
        monkeypatch.setattr(runlock, "under_snakemake", lambda pid: False)  # an orphan: stopped, taken over
        lock = runlock.acquire(folder)
        assert sleeper.wait(timeout=10) == -signal.SIGTERM and lock.read_text().strip() == str(os.getpid())
    finally:
        sleeper.kill()


@pytest.mark.parametrize("failure", ["raise ValueError('a bug')", "sys.exit(1)"])
def test_a_failed_job_gives_its_run_lock_back(tmp_path, failure):
    """A training job that fails (a traceback, or run_job's exit 1 on bad input) left run.lock behind in
    its run folder; it is released on the way out."""
    folder = tmp_path / "run"
    script = (f"import sys; from pathlib import Path; from landslides import runlock; "
              f"runlock.acquire(Path({str(folder)!r})); {failure}")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 1
    assert folder.is_dir() and not (folder / runlock.LOCK_NAME).exists()


def test_stale_workflow_locks_are_cleared_only_without_a_live_snakemake(tmp_path):
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("x")
    assert runlock.clear_stale_workflow_locks(tmp_path) == [locks / "0.input.lock"]
    assert not list(locks.iterdir())
    # A job script's command line mentions .snakemake/ but is not snakemake itself.
    job = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", ".snakemake/scripts/x.py"],
                           cwd=tmp_path)
    try:
        assert not runlock.is_snakemake(job.pid)
    finally:
        job.kill()
