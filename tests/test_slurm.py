"""The SLURM profile: its structure (always), the sbatch calls the plugin builds from it (always, no cluster
needed) and one real run of the tiny config on a single-node SLURM (`.ci/slurm-setup.sh`), compared with a
local run.

The real run uses a copy of profiles/slurm/config.yaml that differs only where a test cluster must: the
partitions (cpu, gpu), no account, 1 CPU and 1 GB per job, no retries and, when this cluster has no
accounting database, job status from squeue instead of sacct."""

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "profiles" / "slurm" / "config.yaml"
CPU_PARTITION, GPU_PARTITION = "cpu", "gpu"  # what .ci/slurm-setup.sh creates


def load_profile():
    return yaml.safe_load(PROFILE.read_text())


def workflow_rules():
    """{rule name: whether its `resources:` declare a `gpu`} from workflow/rules/*.smk (gpu: the training rules)."""
    rules = {}
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        rule = None
        for line in smk.read_text().splitlines():
            match = re.match(r"rule (\w+):", line)
            if match:
                rule = match.group(1)
                rules[rule] = False
            elif rule and re.match(r"\s+gpu\s*=", line):
                rules[rule] = True
    return rules


def gpu_rules_in_workflow():
    return {rule for rule, gpu in workflow_rules().items() if gpu}


def test_profile_asks_a_gpu_for_every_training_rule_and_nothing_else():
    profile = load_profile()
    assert profile["executor"] == "slurm"
    defaults = profile["default-resources"]
    assert {"slurm_partition", "slurm_account", "mem_mb", "runtime"} <= set(defaults)
    assert "tasks" not in defaults and "gpu" not in defaults and "slurm_extra" not in defaults
    for key in ("jobs", "latency-wait", "retries", "rerun-incomplete"):
        assert profile[key], key
    set_resources = profile["set-resources"]
    rules = workflow_rules()
    training = gpu_rules_in_workflow()
    assert "transfer_train" in training
    missing = training - set(set_resources)
    assert not missing, f"training rules without GPU resources in {PROFILE}: {sorted(missing)}"
    for rule, resources in set_resources.items():
        extra = str(resources.get("slurm_extra", ""))
        assert not re.search(r"gres|gpus|gpu", extra), f"{rule}: GPU flags belong in gpu/gpu_model, not slurm_extra"
        assert "tasks" not in resources, rule
        if rule in training or (resources.get("gpu") and rule not in rules):  # or a study not landed yet
            assert resources["gpu"] == 1 and resources["cpus_per_gpu"] >= 1, rule
            assert resources["slurm_partition"] != defaults["slurm_partition"], rule
        else:
            assert not resources.get("gpu"), f"{rule} is not a training rule but asks for a GPU"
    # Memory and runtime grow with the attempt, so `retries` resubmits with more.
    for resources in [defaults, *set_resources.values()]:
        assert "attempt" in str(resources.get("mem_mb", "attempt")) and "attempt" in str(
            resources.get("runtime", "attempt"))


class FakeResources(dict):
    __getattr__ = dict.__getitem__


def sbatch_call(resources, threads):
    """The sbatch command line the plugin builds for a job with these resources (no cluster needed)."""
    submit_string = pytest.importorskip("snakemake_executor_plugin_slurm.submit_string")
    utils = pytest.importorskip("snakemake_executor_plugin_slurm.utils")
    job = SimpleNamespace(resources=FakeResources(resources), threads=threads)
    params = {"run_uuid": "run", "slurm_logfile": "log", "comment_str": "rule", "account": "-A acc",
              "partition": f"-p {resources['slurm_partition']}", "workdir": "/w"}
    return submit_string.get_submit_command(job, params) + utils.set_gres_string(job)


def evaluated(resources):
    """Profile resources with `attempt` = 1, as Snakemake evaluates them for a first attempt."""
    return {key: eval(value, {"attempt": 1}) if isinstance(value, str) and "attempt" in value else value
            for key, value in resources.items()}


def test_plugin_builds_gpu_requests_only_for_training_jobs():
    profile = load_profile()
    defaults = evaluated(profile["default-resources"])
    train = sbatch_call({**defaults, **evaluated(profile["set-resources"]["transfer_train"])}, threads=8)
    assert " --gpus=1" in train and "--cpus-per-gpu=8" in train and "-p gpu" in train, train
    assert "--mem 32000" in train and "-t 240" in train and "--ntasks" not in train, train
    chips = sbatch_call({**defaults, **evaluated(profile["set-resources"]["chip_store"])}, threads=1)
    assert "gpu" not in chips.replace("-p cpu", "") and "--cpus-per-task=1" in chips and "--ntasks=1" in chips, chips
    # Retries: the second attempt asks for twice the memory and time.
    second = {key: eval(value, {"attempt": 2}) if isinstance(value, str) and "attempt" in value else value
              for key, value in profile["set-resources"]["transfer_train"].items()}
    assert second["mem_mb"] == 64000 and second["runtime"] == 480


# ---------------------------------------------------------------------------------------------------------
# A real single-node cluster.


def cluster_problem():
    """Why the SLURM run cannot happen here, or None."""
    if shutil.which("sbatch") is None:
        return "sbatch not found: run .ci/slurm-setup.sh (as root) to install and start a single-node SLURM"
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        return "snakemake-executor-plugin-slurm is not installed (pip install -r requirements.lock)"
    try:
        out = subprocess.run(["sinfo", "-h", "-o", "%P %T"], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "sinfo timed out: slurmctld is not running (start it with .ci/slurm-setup.sh)"
    if out.returncode != 0:
        return f"SLURM is installed but not up (sinfo: {out.stderr.strip()}): run .ci/slurm-setup.sh"
    partitions = {line.split()[0].rstrip("*"): line.split()[1] for line in out.stdout.splitlines() if line.strip()}
    for name in (CPU_PARTITION, GPU_PARTITION):
        if partitions.get(name) not in ("idle", "mixed", "allocated"):
            return f"partition {name!r} is missing or has no usable node (sinfo: {partitions}): run .ci/slurm-setup.sh"
    gres = subprocess.run(["sinfo", "-h", "-p", GPU_PARTITION, "-o", "%G"], capture_output=True, text=True).stdout
    if "gpu" not in gres:
        return f"partition {GPU_PARTITION!r} has no node with a GPU GRES (sinfo %G: {gres.strip()!r})"
    return None


def sacct_works():
    result = subprocess.run(["sacct", "-n", "-X", "-o", "JobID"], capture_output=True, text=True)
    return result.returncode == 0


def slurm_test_profile(tmp_path):
    """profiles/slurm/config.yaml with the test cluster's partitions and a 1-CPU, 1-GB node budget."""
    profile = load_profile()
    profile["default-resources"].update(slurm_partition=CPU_PARTITION, mem_mb="1000 * attempt")
    del profile["default-resources"]["slurm_account"]
    profile["slurm-no-account"] = True
    profile["retries"] = 0
    profile["slurm-init-seconds-before-status-checks"] = 2
    if not sacct_works():  # no slurmdbd: sacct cannot see jobs, squeue can (MinJobAge is 2 h)
        profile["slurm-status-command"] = "squeue"
    set_resources = {}
    for rule, resources in profile["set-resources"].items():
        resources = dict(resources, mem_mb="1000 * attempt")
        if resources.get("gpu"):
            resources.update(slurm_partition=GPU_PARTITION, cpus_per_gpu=1)
        set_resources[rule] = resources
    profile["set-resources"] = set_resources
    directory = tmp_path / "profile"
    directory.mkdir()
    (directory / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return directory


def run(args, cwd=ROOT, timeout=1500):
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert result.returncode == 0, f"snakemake {' '.join(args)}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def slurm_jobs(workdir):
    """Every SLURM job whose working directory is workdir: scontrol's key=value fields, by job id."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], capture_output=True, text=True, check=True).stdout
    jobs = {}
    for line in out.splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        if fields.get("WorkDir") == str(workdir):
            jobs[fields["JobId"]] = fields
    return jobs


def metrics_by_run(workdir):
    out = {}
    for path in sorted((workdir / "results").rglob("metrics.json")):
        metrics = json.loads(path.read_text())
        metrics.pop("wall_seconds", None)
        metrics.pop("device", None)
        out[str(path.relative_to(workdir))] = metrics
    return out


@pytest.mark.slow
def test_tiny_run_on_slurm_matches_a_local_run(tmp_path):
    problem = cluster_problem()
    if problem:
        pytest.skip(problem)
    # The controller remembers finished jobs for hours, and pytest reuses its folder names once its old ones
    # are deleted: a name of its own keeps another run's jobs out of slurm_jobs(cluster).
    local, cluster = tmp_path / "local", tmp_path / f"slurm-{uuid.uuid4().hex[:12]}"
    run(["--cores", "2", "--configfile", "tests/data/tiny.yaml", "-d", str(local)])
    result = run(["--executor", "slurm", "--profile", str(slurm_test_profile(tmp_path)), "--configfile",
                  "tests/data/tiny.yaml", "-d", str(cluster)])
    log = result.stdout + result.stderr

    jobs = slurm_jobs(cluster)
    assert jobs, f"no SLURM job with WorkDir={cluster} in scontrol:\n{log[-3000:]}"
    by_rule = {}
    for job in jobs.values():
        rule = re.match(r"rule_([a-z0-9_]+?)(_wildcards_.*)?$", job["Comment"]).group(1)
        by_rule.setdefault(rule, []).append(job)
    training = gpu_rules_in_workflow()
    assert len(by_rule.get("transfer_train", [])) == 4, sorted(by_rule)
    assert {"datacube", "chip_store"} <= set(by_rule), sorted(by_rule)
    for rule, rule_jobs in by_rule.items():
        for job in rule_jobs:
            assert job["JobState"] == "COMPLETED", (rule, job)
            asks_gpu = "gpu" in job.get("TresPerJob", "") + job.get("TresPerNode", "")
            if rule in training:
                assert asks_gpu and job["Partition"] == GPU_PARTITION, (rule, job)
            else:
                assert not asks_gpu and job["Partition"] == CPU_PARTITION, (rule, job)

    local_metrics, cluster_metrics = metrics_by_run(local), metrics_by_run(cluster)
    assert len(local_metrics) == 4 and local_metrics.keys() == cluster_metrics.keys()
    for run_path, metrics in local_metrics.items():
        assert cluster_metrics[run_path] == metrics, run_path
