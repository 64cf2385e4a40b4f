"""GPU throughput (issue #14): the benchmark harness covers every study's training setup and projects a grid;
the gpu_share resource lets training jobs share a GPU without entering any job's params."""

import copy
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import yaml
from torch import nn

from landslides import benchmark
from landslides import workflow_layout as layout
from landslides.config import load_config, validate_config
from landslides.studies.pretrain import plan as pretrain_plan
from landslides.studies.refine import plan as refine_plan
from landslides.studies.ridgei import plan as ridgei_plan
from landslides.studies.transfer import plan as transfer_plan
from landslides.train import Split, select_device
from landslides.training_setup import Work

ROOT = Path(__file__).resolve().parents[1]


def paper():
    return load_config(ROOT / "config" / "paper.yaml")


def test_every_training_setup_of_the_paper_config_is_benchmarked():
    config = paper()
    names = {s.name for s in benchmark.setups(config)}
    for features in config["transfer"]["features"]:
        assert {f"transfer/{features}/aug-on", f"transfer/{features}/aug-off"} <= names
    assert {"pretrain/stage1", "pretrain/stage2/pretrained", "pretrain/stage2/none"} <= names
    assert {"ridgei/classifier", "ridgei/deeplab", "ridgei/anomaly"} <= names
    ladder = config["refine"]["ladder"].values()
    assert {f"refine/{run['model']}/x{float(run['scale']):g}" for run in ladder} <= names
    assert {"refine/efficientnet/x4", "refine/segformer/x4", "refine/swin/x4", "refine/resnet/x1"} <= names


def test_the_grid_work_counts_every_training_job_and_step():
    config = paper()
    sizes = benchmark.data_sizes(config, workdir=ROOT / "no-such-folder")
    work = {s.name: s.work for s in benchmark.setups(config, sizes)}
    jobs = {name: sum(w.jobs for w in items) for name, items in work.items()}
    transfer = config["transfer"]
    assert sum(v for k, v in jobs.items() if k.startswith("transfer/")) == \
        len(transfer["features"]) * len(transfer["augmentation"]) * len(transfer["seeds"])  # 20
    pretrain = config["pretrain"]
    assert jobs["pretrain/stage1"] == 2
    assert jobs["pretrain/stage2/pretrained"] + jobs["pretrain/stage2/none"] == \
        len(pretrain["pretraining"]) * len(pretrain["sizes"]) * len(pretrain["seeds"])  # 75
    assert sum(v for k, v in jobs.items() if k.startswith("ridgei/")) == 3 * len(config["ridgei"]["seeds"])
    refine = config["refine"]
    assert sum(v for k, v in jobs.items() if k.startswith("refine/")) == \
        len(refine["ladder"]) + len(refine["ensemble"]) * refine["rounds"]  # 17, as refine_plan.run_targets
    assert len(refine_plan.run_targets(refine)) == 17
    # refine: steps per run, as config/README.md says: 85 epochs in round 0, 67 with the pseudo-labels.
    rounds = {w.note: w for w in work["refine/swin/x4"]}
    assert rounds["round 0"].epochs == 85 and rounds["rounds 1-3"].epochs == 67
    assert rounds["rounds 1-3"].train == 3799 + 245 + 800
    # pretrain stage 2: paper.yaml does not tile (min_epoch_chips 1, the authors' epochs); the default's 32 does.
    assert pretrain["min_epoch_chips"] == 1
    assert {w.train for w in work["pretrain/stage2/none"]} == {2, 5, 10, 20, 110}
    tiled = dict(config, pretrain=dict(pretrain, min_epoch_chips=32))
    tiled_work = {s.name: s.work for s in benchmark.setups(tiled, sizes)}
    assert {w.train for w in tiled_work["pretrain/stage2/none"]} == {32, 35, 40, 110}


def test_sizes_come_from_the_workflow_data_when_present(tmp_path):
    config = load_config(ROOT / "config" / "config.yaml")
    assert benchmark.data_sizes(config, tmp_path)["refine"] == {"train": 48, "val": 24, "test": 24}
    for split, n in (("TrainData", 3), ("ValidData", 2), ("TestData", 1)):
        folder = tmp_path / "resources" / "l4s" / "synthetic" / split / "img"
        folder.mkdir(parents=True)
        for i in range(n):
            (folder / f"image_{i}.h5").touch()
    assert benchmark.data_sizes(config, tmp_path)["refine"] == {"train": 3, "val": 2, "test": 1}
    overridden = benchmark.data_sizes(config, tmp_path, benchmark.parse_sizes(["refine=10/5/5", "transfer=216/61/61"]))
    assert overridden["refine"] == {"train": 10, "val": 5, "test": 5}
    assert overridden["transfer"] == {"train": 216, "val": 61, "test": 61}


def test_flops_of_one_step_count_forward_and_backward():
    conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
    flops = benchmark.step_flops(conv, Split(torch.randn(2, 3, 16, 16), torch.zeros(2)), select_device("cpu"))
    forward = 2 * 3 * 8 * 9 * 16 * 16 * 2
    assert flops == 2 * forward  # backward: the weight gradient only (the input needs none)


def test_meta_device_flops_equal_the_counted_step():
    """--estimate counts FLOPs on the meta device (no compute): the same count as a real step on the CPU."""
    config = load_config(ROOT / "config" / "config.yaml")
    (setup,) = [s for s in benchmark.setups(config, tiny=True) if s.name == "refine/resnet/x2.5"]
    torch.manual_seed(0)
    batch = benchmark.synthetic_split(setup.training["batch_size"], setup.channels, setup.size)
    assert benchmark.meta_step_flops(setup) == benchmark.step_flops(setup.build(), batch, select_device("cpu")) > 0


def test_activation_memory_grows_with_the_pixels():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 2, 1))
    small, large = (benchmark.activation_bytes_per_sample(model, 3, size) for size in (16, 32))
    assert small > 0 and large == pytest.approx(4 * small, rel=0.05)
    assert benchmark.gpu_share(0.1) == 5 and benchmark.gpu_share(17.0) == 25 and benchmark.gpu_share(500) == 100


def test_projection_is_steps_times_step_time_plus_validation_and_fixed_costs():
    setup = SimpleNamespace(name="x", work=[Work(jobs=2, epochs=3, train=10, val=8, predict=4)],
                            data_bytes_per_sample=0)
    result = benchmark.Result(setup, bare=[5.0], full=[4.0], eval_rate=8.0, flops=0, checkpoint_s=0.5,
                              model_gb=0.0, memory_measured=False)
    result.setup.training = {"batch_size": 4}
    (row,) = benchmark.projection(result, job_overhead=10.0)
    assert row["steps"] == 3 * 3  # ceil(10 / 4) batches per epoch
    assert row["train_s"] == pytest.approx(2 * 9 * 4 / 4.0)
    assert row["eval_s"] == pytest.approx(2 * (3 * 8 + 4) / 8.0)
    # Checkpoints as fit writes them: the first epoch's (0.5 s), then about 5 % of the job's 9 + 3.5 s.
    assert row["checkpoint_s"] == pytest.approx(2 * (0.5 + 0.05 * 12.5))
    assert row["total_s"] == pytest.approx(row["train_s"] + row["eval_s"] + row["checkpoint_s"] + 2 * 10.0)
    result.checkpoint_s = 0.01  # a small state: every epoch writes
    (row,) = benchmark.projection(result, job_overhead=10.0)
    assert row["checkpoint_s"] == pytest.approx(2 * 3 * 0.01)
    result.setup.training["monitor"] = "val_loss"
    result.setup.target = "mask"  # a segmenter's metrics reuse the validation loss's pass
    (row,) = benchmark.projection(result, job_overhead=10.0)
    assert row["eval_s"] == pytest.approx(2 * (3 * 8 + 4) / 8.0)
    result.setup.target = "chip"  # a classifier's evaluation takes a pass of its own
    (row,) = benchmark.projection(result, job_overhead=10.0)
    assert row["eval_s"] == pytest.approx(2 * (2 * 3 * 8 + 4) / 8.0)


def test_tiny_harness_measures_and_projects(capsys):
    benchmark.main(["--config", str(ROOT / "config" / "config.yaml"), "--tiny", "--only", "pretrain/stage2/none",
                    "refine/resnet/x2.5", "--batches", "2", "--repeats", "1", "--project", "--threads", "1",
                    "--workdir", "no-such-folder", "--sizes", "pretrain/stage2=20/10/6"])
    out = capsys.readouterr().out
    measured = [line for line in out.splitlines() if line.startswith(("| pretrain/", "| refine/"))
                and line.count("|") == 17]
    assert len(measured) == 2, out
    assert all(0 < float(row.split("|")[7]) < 5 for row in measured)  # loop/bare
    # The model with its optimizer's step is slower than the model alone, so the loop's ratio to it is higher.
    assert all(float(row.split("|")[9]) > float(row.split("|")[7]) * 0.5 for row in measured)
    assert "projected wall time" in out and re.search(r"\*\*all\*\*.*\(\d+\.\d+ h\)", out), out


# ---- gpu_share: a scheduling resource, in no job's params ----

def _all_job_params(config):
    config = validate_config(copy.deepcopy(config), check_paths=False)
    params = [transfer_plan.job_params(config["transfer"], {"features": f, "augmentation": a})
              for f in config["transfer"]["features"] for a in config["transfer"]["augmentation"]]
    params += [pretrain_plan.stage1_params(config["pretrain"]), pretrain_plan.job_params(config["pretrain"])]
    params += [ridgei_plan.job_params(config["ridgei"], {"method": m}) for m in ("classifier", "deeplab", "anomaly")]
    params += [refine_plan.job_params(config["refine"], name, r) for name in config["refine"]["ladder"]
               for r in range(config["refine"]["rounds"] + 1)]
    return [repr(p) for p in params]


def test_gpu_share_changes_no_training_job_params():
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    shared = dict(config, gpu_share={"transfer": 100, "pretrain": 1, "ridgei": 50, "refine": 33})
    assert _all_job_params(shared) == _all_job_params(config)
    assert "gpu_share" not in "".join(_all_job_params(shared))


def test_every_training_rule_reserves_its_study_gpu_share():
    for study, rules in (("transfer", 1), ("pretrain", 2), ("ridgei", 1), ("refine", 1)):
        text = (ROOT / "workflow" / "rules" / f"{study}.smk").read_text()
        assert text.count(f'gpu_share=lambda wc: gpu_share("{study}")') == rules, study
    profile = yaml.safe_load((ROOT / "profiles" / "default" / "config.yaml").read_text())
    assert profile["resources"] == {"gpu_share": 100}
    assert "resources" not in yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())


@pytest.mark.parametrize("device, share", [
    ("cuda", 15), ("cpu", 0),
    # auto: shares count only where a GPU driver is (no job can share a GPU that is not there)
    ("auto", 15 if layout.gpu_driver_present() else 0),
])
def test_dry_run_shows_the_gpu_share(tmp_path, device, share):
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "-s", str(ROOT / "Snakefile"),
                             "-d", str(tmp_path), "--configfile", str(ROOT / "tests" / "data" / "tiny.yaml"),
                             "--config", f"device={device}"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    shares = {match for line in (result.stdout + result.stderr).splitlines() if line.strip().startswith("resources:")
              for match in re.findall(r"gpu_share=(\d+)", line)}
    assert shares == {str(share)}, shares


def test_slurm_packing_variant_asks_for_shards_not_gpus():
    """docs/cluster.md: packing on SLURM sets gpu 0 (with device: cuda the rules declare gpu=1 themselves,
    which the profile overrides), drops cpus_per_gpu and asks for a shard GRES."""
    submit_string = pytest.importorskip("snakemake_executor_plugin_slurm.submit_string")
    utils = pytest.importorskip("snakemake_executor_plugin_slurm.utils")

    class Resources(dict):
        __getattr__ = dict.__getitem__

    job = SimpleNamespace(resources=Resources(slurm_partition="gpu", gpu=0, gres="shard:25", mem_mb=32000,
                                              runtime=240), threads=8)
    params = {"run_uuid": "run", "slurm_logfile": "log", "comment_str": "rule", "account": "", "partition": "-p gpu",
              "workdir": "/w"}
    call = submit_string.get_submit_command(job, params) + utils.set_gres_string(job)
    assert "--gres=shard:25" in call and "--gpus" not in call and "--cpus-per-task=8" in call, call
