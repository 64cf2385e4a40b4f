"""The training loop: deterministic on the CPU, and a run killed with SIGKILL resumes to the same end."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from landslides import train
from landslides.augment import build_sar_augmentation
from landslides.config import load_schema, validate_config
from landslides.losses import build_loss
from landslides.models import build_segmentation_model
from landslides.normalization import fit_channel_stats, normalize
from landslides.train import (
    IGNORE_INDEX,
    Split,
    build_scheduler,
    fit,
    landslide_probability,
    predict,
    select_device,
    validation_loss,
)

TRAINING = {"epochs": 3, "batch_size": 4, "eval_batch_size": 8, "optimizer": "adam", "lr": 1e-3,
            "weight_decay": 0.0, "scheduler": "plateau", "loss": "ce", "grad_clip": None,
            "selection_metric": "auprc", "threads": 1}


def tiny_data(n=10, seed=0):
    """Blobs brighter than the background in channel 0: learnable in a few steps."""
    rng = np.random.default_rng(seed)
    label = np.zeros((n, 32, 32), np.int64)
    for i in range(n):
        r, c = rng.integers(4, 24, 2)
        label[i, r : r + 8, c : c + 8] = 1
    images = rng.normal(0, 1, (n, 3, 32, 32)).astype(np.float32)
    images[:, 0] += 2.0 * label
    label[:, 0, :] = IGNORE_INDEX  # one ignored row, as invalid borders give
    return Split(torch.from_numpy(images), torch.from_numpy(label))


def tiny_model():
    return build_segmentation_model("unet", "resnet18", 3, encoder_depth=3, decoder_channels=[16, 8, 8])


def run(tmp_path, seed=0, augment=None, cfg=TRAINING):
    torch.manual_seed(seed)
    model = tiny_model()
    tmp_path.mkdir(parents=True, exist_ok=True)
    result = fit(model, tiny_data(), tiny_data(6, seed=1), cfg, checkpoint=tmp_path / "state.pt",
                 history_path=tmp_path / "history.csv", seed=seed, loss_fn=build_loss("ce"),
                 device=select_device("cpu"), augment=augment)
    return model, result


def test_same_seed_same_metrics(tmp_path):
    _, a = run(tmp_path / "a")
    _, b = run(tmp_path / "b")
    assert a.history == [dict(r, seconds=a.history[i]["seconds"], samples_per_s=a.history[i]["samples_per_s"])
                         for i, r in enumerate(b.history)]
    assert a.best_val_metrics == b.best_val_metrics
    history = (tmp_path / "a" / "history.csv").read_text().splitlines()
    assert len(history) == 1 + TRAINING["epochs"] and "val_auprc" in history[0]


def test_training_learns_and_selects_best_epoch(tmp_path):
    model, result = run(tmp_path, cfg=dict(TRAINING, epochs=4))
    scores = [row["val_auprc"] for row in result.history]
    assert result.best_score == max(scores)
    assert result.best_epoch == int(np.argmax(scores))
    assert result.best_score > 0.3  # the blobs are easy; no-skill is about 0.06


def test_augmentation_keeps_mask_aligned_and_values_unclipped():
    regions = {"hokkaido": {"event_date": ["20180905", "20180907"]},
               "talakmau": {"event_date": ["20220225", "20220226"]}}
    config = validate_config({"studies": ["transfer"], "sar": {"regions": regions}})
    aug_cfg = config["transfer"]["augment"]
    for part in aug_cfg.values():
        part["p"] = 1.0
    aug = build_sar_augmentation(aug_cfg, 32, ["vv_before", "vh_after", "dem_aspect"], [1.0, 1.0, 1.0])
    torch.manual_seed(0)
    images = torch.zeros(4, 3, 32, 32)
    target = torch.zeros(4, 32, 32, dtype=torch.int64)
    images[:, :, 8:24, 8:24] = 10.0
    target[:, 8:24, 8:24] = 1
    target[:, :2] = IGNORE_INDEX
    out_images, out_target = aug(images, target)
    assert set(out_target.unique().tolist()) <= {0, 1, IGNORE_INDEX}
    assert out_images[:, 0].max() > 5  # blurred and noisy, but not clipped to any range
    assert out_images.min() < 0  # noise on SAR channels pushes values below 0: nothing clips at 0
    # DEM channel gets no speckle noise: where it is flat and far from edges it stays flat.
    assert torch.allclose(out_images[:, 2][out_target == 0].min(), torch.tensor(0.0), atol=1e-4)
    # Bright pixels (after crop and blur) still lie mostly inside the moved mask.
    inside = out_images[:, 0][out_target == 1].mean()
    outside = out_images[:, 0][out_target == 0].mean()
    assert inside > outside + 3


def test_normalization_uses_valid_pixels_only():
    images = np.ones((2, 1, 4, 4), np.float32)
    images[:, :, 0] = 100.0  # invalid border
    valid = np.ones((2, 4, 4), bool)
    valid[:, 0] = False
    stats = fit_channel_stats(images, ["c"], valid)
    assert stats.mean[0] == 1.0 and stats.std[0] == 1.0  # constant channel: std replaced by 1
    out = normalize(images, stats, valid)
    assert np.all(out[:, :, 0] == 0) and np.all(out[:, :, 1:] == 0)


KILLABLE = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    import torch
    sys.path.insert(0, {tests!r})
    from test_train import TRAINING, run
    import landslides.train as train

    slow = train.train_one_epoch
    def one_epoch(*args, **kwargs):
        row = slow(*args, **kwargs)
        print("epoch-done", flush=True)
        time.sleep(float(sys.argv[2]))  # a window in which the parent kills us
        return row
    train.train_one_epoch = one_epoch
    model, result = run(Path(sys.argv[1]), cfg=dict(TRAINING, epochs=4))
    print(json.dumps(result.best_val_metrics))
    """
)


def test_sigkill_then_resume_gives_same_metrics(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(KILLABLE.format(tests=str(Path(__file__).parent)))
    env = dict(os.environ, PYTHONHASHSEED="0")
    uninterrupted = subprocess.run([sys.executable, script, tmp_path / "full", "0"], capture_output=True,
                                   text=True, env=env, check=True)
    # Kill after the second epoch's state has been written, then start the same job again.
    job = subprocess.Popen([sys.executable, script, tmp_path / "killed", "2"], stdout=subprocess.PIPE,
                           text=True, env=env)
    done = 0
    while done < 2:
        line = job.stdout.readline()
        assert line, "job ended before it could be killed"
        done += line.startswith("epoch-done")
    time.sleep(0.5)
    os.kill(job.pid, signal.SIGKILL)
    job.wait()
    state = torch.load(tmp_path / "killed" / "state.pt", weights_only=False)
    assert state["epoch"] in (0, 1)  # killed mid-run: not all epochs are done
    resumed = subprocess.run([sys.executable, script, tmp_path / "killed", "0"], capture_output=True, text=True,
                             env=env, check=True)
    assert "resuming" in resumed.stderr
    assert json.loads(resumed.stdout.splitlines()[-1]) == json.loads(uninterrupted.stdout.splitlines()[-1])


def test_schema_defaults_are_valid_for_training_keys():
    schema = load_schema()
    assert set(TRAINING) <= set(schema["$defs"]["training"]["properties"])


@pytest.mark.parametrize("arch", ["unet", "unetplusplus", "deeplabv3plus", "segformer"])
def test_model_factory_outputs_two_logits(arch):
    encoder = "mit_b0" if arch == "segformer" else "resnet18"
    model = build_segmentation_model(arch, encoder, 5).eval()
    with torch.no_grad():
        out = model(torch.zeros(1, 5, 64, 64))
    assert out.shape == (1, 2, 64, 64)


def test_benchmark_measures_both_paths_and_trains_the_model():
    """The benchmark times the bare model and fit's own epoch function; the loop really updates weights."""
    from landslides.benchmark import measure

    model = tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    bare, step, full = measure(model, tiny_data(8), dict(TRAINING), select_device("cpu"), None, repeats=2)
    assert len(bare) == len(step) == len(full) == 2 and min(bare + step + full) > 0
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_unreadable_checkpoint_is_set_aside_and_training_restarts(tmp_path, caplog):
    """A truncated state.pt (a crash while the disk was full) must not block the run for good."""
    _, clean = run(tmp_path / "clean")
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "state.pt").write_bytes(b"PK\x03\x04 truncated")
    with caplog.at_level("WARNING"):
        _, result = run(folder)
    assert (folder / "state.pt.unreadable").read_bytes().startswith(b"PK")
    assert "unreadable checkpoint" in caplog.text and "state.pt" in caplog.text
    assert result.best_val_metrics == clean.best_val_metrics


def test_last_epoch_selection_and_early_stopping(tmp_path):
    """selection: last reports the final epoch (the authors' transfer code); early_stopping stops after
    N epochs without a better validation score and keeps the best epoch's weights."""
    _, last = run(tmp_path / "last", cfg=dict(TRAINING, selection="last"))
    assert last.best_epoch == TRAINING["epochs"] - 1
    assert last.best_val_metrics["auprc"] == last.history[-1]["val_auprc"]
    # The no-skill level is a property of the data, never better than at epoch 0: patience 1 stops
    # before the third epoch.
    _, stopped = run(tmp_path / "stop", cfg=dict(TRAINING, selection_metric="no_skill", epochs=6, early_stopping=1))
    assert stopped.stopped_early and len(stopped.history) == 2 and stopped.best_epoch == 0


def test_metric_nan_in_every_epoch_still_selects_and_stops(tmp_path):
    """A validation split without landslides has no AUPRC: epoch 0 is kept (ties keep the earliest) and
    early stopping runs out, instead of no epoch selected and every epoch trained."""
    torch.manual_seed(0)
    no_landslides = tiny_data(6, seed=1)
    no_landslides.target.zero_()
    result = fit(tiny_model(), tiny_data(), no_landslides, dict(TRAINING, epochs=5, early_stopping=1),
                 checkpoint=tmp_path / "state.pt", history_path=tmp_path / "history.csv", seed=0,
                 loss_fn=build_loss("ce"), device=select_device("cpu"))
    assert all(np.isnan(row["val_auprc"]) for row in result.history)
    assert result.best_epoch == 0 and result.best_val_metrics and result.stopped_early
    assert len(result.history) == 2


def test_plateau_on_training_loss_keeps_pytorch_defaults(tmp_path):
    """The authors' scheduler: ReduceLROnPlateau on the training loss, factor 0.1 after 10 flat epochs;
    within a short run the learning rate never changes."""
    _, result = run(tmp_path, cfg=dict(TRAINING, scheduler="plateau_train_loss"))
    assert {row["lr"] for row in result.history} == {TRAINING["lr"]}


def test_validation_loss_is_the_batch_size_weighted_mean():
    torch.manual_seed(0)
    model, data = tiny_model(), tiny_data(6, seed=1)
    loss_fn = build_loss("ce")
    got, prob = validation_loss(model, data, 4, loss_fn, select_device("cpu"), output=landslide_probability)
    with torch.no_grad():
        model.eval()
        parts = [(loss_fn(model(data.images[i:i + 4]), data.target[i:i + 4]).item(), len(data.images[i:i + 4]))
                 for i in (0, 4)]
    assert got == pytest.approx(sum(value * n for value, n in parts) / 6)
    # The same pass's probabilities are predict's (whose batches may differ: eval mode, per-sample logits).
    torch.testing.assert_close(prob, predict(model, data.images, 8, select_device("cpu")))


def test_early_stopping_on_the_validation_loss(tmp_path):
    """monitor: val_loss (the pretrain authors' callbacks): early stopping follows the recorded validation
    loss, not the selection metric (no_skill, flat: on it, patience 1 would stop before the third epoch)."""
    cfg = dict(TRAINING, selection_metric="no_skill", epochs=6, early_stopping=1, monitor="val_loss")
    _, result = run(tmp_path, cfg=cfg)
    losses = [row["val_loss"] for row in result.history]
    last_better = 0  # the epoch of the lowest loss so far: training stops once 2 epochs passed without one
    for epoch, value in enumerate(losses):
        assert epoch - last_better <= 1  # it would have stopped before this epoch
        if value < losses[last_better]:
            last_better = epoch
    assert len(losses) > 2
    assert result.stopped_early == (len(losses) < 6)
    assert not result.stopped_early or len(losses) - last_better > 1  # stopped: 2 epochs without a better loss


@pytest.mark.parametrize(("scheduler", "factor", "patience", "flat"), [
    ("plateau_train_loss", 0.9, 3, 1.0),  # the pretrain authors' stage 2 (patience 50 there)
    ("plateau_train_loss", None, None, 1.0),  # PyTorch's defaults: 0.1 after 10
    ("plateau", None, None, 0.5),  # ours: 0.5 after 2 flat validation scores
])
def test_plateau_factor_and_patience(scheduler, factor, patience, flat):
    """The learning rate is multiplied by the factor once the monitored value stayed flat for more than
    `patience` epochs after the first, and not before."""
    model = tiny_model()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    cfg = dict(TRAINING, scheduler=scheduler, plateau_factor=factor, plateau_patience=patience)
    plateau = build_scheduler(optimizer, cfg)
    expected_factor = factor or {"plateau": 0.5, "plateau_train_loss": 0.1}[scheduler]
    expected_patience = patience if patience is not None else {"plateau": 2, "plateau_train_loss": 10}[scheduler]
    for _ in range(expected_patience + 1):  # the first value, then `patience` flat ones
        plateau.step(flat)
        assert optimizer.param_groups[0]["lr"] == 1e-3
    plateau.step(flat)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(1e-3 * expected_factor)


@pytest.mark.parametrize("n", [5, 9, 13])
def test_every_sample_is_seen_once_per_epoch_when_one_is_left_over(n, monkeypatch):
    """n = k * batch + 1: the single left-over sample joins the last batch; no batch is lost or doubled."""
    seen = []

    def loss_fn(logits, target):
        seen.append(target.shape[0])
        return logits.float().mean()

    torch.manual_seed(0)
    model = tiny_model()
    data = tiny_data(n)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    train.train_one_epoch(model, data, TRAINING, 0, 0, loss_fn, optimizer, torch.device("cpu"), None)
    assert sum(seen) == n and min(seen) > 1 and len(seen) == (n - 1) // TRAINING["batch_size"]


COMPILE_SCRIPT = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import numpy as np
    import torch
    import torch._dynamo
    from landslides.losses import build_loss
    from landslides.models import build_model
    from landslides.runs import RunFiles, save_model
    from landslides.train import Split, configure_torch, fit

    folder = Path(sys.argv[1])
    configure_torch(1, torch.device("cpu"))
    spec = {"kind": "sparse_segmenter", "in_channels": 4, "width": 4, "stage1": None}
    torch.manual_seed(0)
    model = build_model(spec)
    rng = np.random.default_rng(0)
    images = torch.from_numpy(rng.normal(size=(4, 4, 16, 16)).astype(np.float32))
    target = torch.from_numpy((rng.random((4, 16, 16)) < 0.2).astype(np.int64))
    cfg = {"epochs": 1, "batch_size": 4, "eval_batch_size": 4, "optimizer": "adam", "lr": 1e-3, "weight_decay": 0.0,
           "scheduler": "none", "loss": "ce", "grad_clip": None, "selection_metric": "auprc", "threads": 1,
           "compile": True}
    files = RunFiles.in_folder(folder)
    started = time.perf_counter()
    result = fit(model, Split(images, target), Split(images, target), cfg, checkpoint=files.checkpoint,
                 history_path=files.history, seed=0, loss_fn=build_loss("ce"), device=torch.device("cpu"))
    save_model(files.model, model, study="test", spec=spec, channels=["a", "b", "c", "d"],
               normalization={"mode": "none"}, config=cfg)
    print(json.dumps({"graphs": torch._dynamo.utils.counters["stats"]["unique_graphs"],
                      "seconds": time.perf_counter() - started, "epochs": len(result.history),
                      "loss": result.history[0]["train_loss"]}))
""")


@pytest.mark.slow
def test_compiled_training_saves_weights_that_load_without_compile(tmp_path):
    """training.compile: the training forward runs compiled (on the CPU only when asked, as here); state.pt and
    model.pt hold the module's own keys, so a model trained compiled loads into an uncompiled network.
    torch.compile needs a C++ compiler on the CPU and its first (cold-cache) compile takes about 50 s on the
    reference machine: skipped where it is unavailable or takes longer than 150 s."""
    from landslides.runs import load_model

    script = tmp_path / "compiled.py"
    script.write_text(COMPILE_SCRIPT)
    try:
        result = subprocess.run([sys.executable, str(script), str(tmp_path / "run")], capture_output=True, text=True,
                                timeout=150, cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        pytest.skip("torch.compile took longer than 150 s on this CPU (cold inductor cache)")
    if result.returncode != 0 and any(sign in result.stderr for sign in ("InvalidCxxCompiler", "CppCompileError")):
        pytest.skip("torch.compile cannot build CPU kernels here (no working C++ compiler)")
    assert result.returncode == 0, result.stderr[-3000:]
    info = json.loads(result.stdout.splitlines()[-1])
    assert info["graphs"] >= 1 and info["epochs"] == 1 and np.isfinite(info["loss"])
    model, saved = load_model(tmp_path / "run" / "model.pt")  # strict load into an uncompiled network
    assert not any(key.startswith("_orig_mod") for key in saved["state_dict"])
    assert set(saved["state_dict"]) == set(model.state_dict())
    with torch.no_grad():
        assert model(torch.zeros(1, 4, 16, 16)).shape == (1, 2, 16, 16)


def test_compile_is_off_by_default_and_never_wraps_the_model():
    from landslides.train import compile_for_training

    schema = load_schema()
    for section in ("training", "training_fixed_loss", "training_classifier", "training_anomaly"):
        assert schema["$defs"][section]["properties"]["compile"]["default"] is False, section
    model = tiny_model()
    assert compile_for_training(model, False, torch.device("cpu")) is model


@pytest.mark.parametrize(("share", "writes"), [(1e-9, [0]), (1e9, [0, 1, 2])])
def test_checkpoints_are_written_as_often_as_their_time_share_allows(tmp_path, monkeypatch, share, writes):
    """state.pt after the first epoch always; after a later one only when the time since the last write is at
    least that write's duration / CHECKPOINT_TIME_SHARE (a tiny share: never again; a huge one: every epoch).
    Skipped writes change no result."""
    monkeypatch.setattr(train, "CHECKPOINT_TIME_SHARE", 1e9)
    _, every_epoch = run(tmp_path / "reference")
    written = []
    save = train.save_torch
    monkeypatch.setattr(train, "save_torch", lambda state, path: (written.append(state["epoch"]), save(state, path)))
    monkeypatch.setattr(train, "CHECKPOINT_TIME_SHARE", share)
    _, result = run(tmp_path / "run")
    assert written == writes
    assert result.history[-1]["train_loss"] == every_epoch.history[-1]["train_loss"]
    assert result.best_val_metrics == every_epoch.best_val_metrics


def test_data_fingerprint_hashes_the_tensors_bytes_without_copying_them():
    """The digest of the arrays' bytes in order, contiguous or not (a transposed view), and it changes with
    one value: a resumed run never takes another data set's state."""
    import hashlib

    images = torch.randn(4, 3, 8, 8)
    split = Split(images.transpose(2, 3), torch.randint(0, 2, (4, 8, 8)))
    expected = hashlib.sha256(split.images.numpy().tobytes() + split.target.numpy().tobytes()).hexdigest()[:16]
    assert train.data_fingerprint(split) == expected
    images[0, 0, 0, 0] += 1
    assert train.data_fingerprint(split) != expected


@pytest.mark.parametrize("precision, bf16", [("bf16", True), ("fp32", False)])
def test_precision_of_a_training_section_sets_cuda_autocast(monkeypatch, tmp_path, precision, bf16):
    """`precision: fp32` turns CUDA's bf16 autocast off for fit and the job's predictions after it; bf16 (the
    default) keeps it. Read from torch.autocast's arguments: a CPU-only torch disables CUDA autocast itself."""
    calls = []

    def recording_autocast(device_type, dtype, enabled=True):
        calls.append(enabled)
        return contextlib.nullcontext()

    monkeypatch.setattr(torch, "autocast", recording_autocast)
    cfg = dict(TRAINING, epochs=1, precision=precision)
    fit(tiny_model(), tiny_data(), tiny_data(6, seed=1), cfg, checkpoint=tmp_path / "state.pt",
        history_path=tmp_path / "history.csv", seed=0, loss_fn=build_loss("ce"), device=torch.device("cpu"))
    assert calls and not any(calls)  # the CPU computes in fp32 whatever the precision
    train.autocast(torch.device("cuda"))  # a later forward of the job on CUDA
    assert calls[-1] is bf16
    train.set_precision("bf16", torch.device("cpu"))  # the process default, for the tests after this one
