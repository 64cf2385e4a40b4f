"""Training throughput of every study's training configuration, and what a whole grid would take.

    python -m landslides.benchmark --config config/paper.yaml --device cuda --project
    python -m landslides.benchmark --config config/config.yaml --only 'refine/*' --repeats 3
    python -m landslides.benchmark --config config/paper.yaml --estimate    # no timing: FLOPs, memory, gpu_share
    python -m landslides.benchmark --config config/paper.yaml --tiny --list

A setup is one kind of training job as the study's run function builds it: its network, input size and
channels, batch size, optimizer, loss, augmentation and target. transfer: each feature set with and
without augmentation; pretrain: stage 1 and stage 2 (with and without a stage-1 network inside);
ridgei: classifier, deeplab, anomaly; refine: every (model, scale) of the ladder. Per setup, in one
process, on synthetic tensors of the setup's shapes:

- full loop: one epoch of `fit`'s own epoch function (`train_one_epoch`: index the in-memory tensors,
  augment on the device, forward, loss, backward, optimizer step); bare model: forward + backward of the
  same model on one fixed batch (no indexing, augmentation, loss or optimizer); model+optimizer: bare plus
  the config's optimizer step (what the model and its optimizer alone can do: the reference the loop's
  own overhead, data, loss and augmentation, is measured against); samples/s as medians of interleaved
  repeats, so that a slow spell of the machine hits all three, and the loop's ratio to each;
- eval: forward passes at the eval batch size, as the per-epoch validation and the final predictions run;
- FLOPs of one training step (forward + backward, `torch.utils.flop_counter.FlopCounterMode`) and the
  achieved TFLOP/s of the bare model and of the loop; the first step's time (cuDNN autotuning, and the
  compilation with --compile MODE, which measures with `training.compile`: torch.compile of the module);
- peak GPU memory of one job: measured on CUDA (`max_memory_allocated` of the loop, less the benchmark's
  own tensors), estimated elsewhere (tensors saved for backward at their fp32 size, an upper bound under
  bf16 autocast, and fp32 weights, gradients and optimizer state), plus the job's data set on the device,
  20 % allocator slack and 1 GB of CUDA context, and the `gpu_share` (percent of one GPU) it suggests;
- with --project: the grid's wall time on one GPU, jobs in sequence: per job the measured per-step time
  x steps (epochs x batches per epoch; refine: `steps`), the validation after every epoch and the final
  predictions at the eval rate, the checkpoints fit writes (the first epoch's, then about 5 % of the
  time), and a fixed start-up cost per job (--job-overhead:
  imports, data loading, writing outputs; docs/benchmarks.md measures it).

--tiny shrinks every setup (64 px inputs, batch 2) so that the whole harness runs on a CPU in minutes;
its rates say nothing about the real setups. Data-set sizes for --project come from the chip stores and
Landslide4Sense folders under --workdir when they exist, else from the real data's published sizes
(`REAL_SIZES` in each study's bench.py), the synthetic config or the scene geometry; --sizes overrides any of them.
"""

from __future__ import annotations

import argparse
import copy
import fnmatch
import math
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from landslides import csn
from landslides.constants import IGNORE_INDEX
from landslides.files import save_torch
from landslides.losses import build_loss
from landslides.studies import STUDIES, study_module
from landslides.train import (
    CHECKPOINT_TIME_SHARE,
    Split,
    autocast,
    build_optimizer,
    compile_for_training,
    configure_torch,
    predict,
    select_device,
    train_one_epoch,
)
from landslides.training_setup import TINY_BATCH, TINY_SIZE, Setup

CONTEXT_GB = 1.0  # CUDA context and cuBLAS/cuDNN workspaces of one training process
ALLOCATOR_SLACK = 1.2  # reserved over allocated memory of PyTorch's caching allocator (fragmentation)
REFERENCE_GPU_GB = 80.0  # the GPU the gpu_share defaults are sized for (H100/A100 80 GB)


# ---- the measurements (kept usable on their own: tests/test_train.py imports `measure`) ----

def synthetic_split(n: int, channels: int, size: int, seed: int = 0, target: str = "mask") -> Split:
    """Normal images and a target of the setup's kind: mask (N, H, W) int64 with ignored rows, chip (N,)
    float32, patch (N,) int64, or image (the denoiser's target is its clean input)."""
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(rng.normal(size=(n, channels, size, size)).astype(np.float32))
    if target == "chip":
        return Split(images, torch.from_numpy((rng.random(n) < 0.5).astype(np.float32)))
    if target == "patch":
        return Split(images, torch.from_numpy((rng.random(n) < 0.5).astype(np.int64)))
    if target == "image":
        return Split(images, images)
    mask = torch.from_numpy((rng.random((n, size, size)) < 0.1).astype(np.int64))
    mask[:, :2] = IGNORE_INDEX
    return Split(images, mask)


def bare_model_rate(model, batch: Split, device, steps: int, optimizer=None) -> float:
    """Samples per second of forward + backward alone (gradients freed each step, as the loop does); with
    `optimizer`, plus its step: what the model and its optimizer alone can do, without data, loss or
    augmentation."""
    images = batch.images.to(device)
    if device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    model.train()
    _sync(device)
    started = time.perf_counter()
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        with autocast(device):
            model(images).float().mean().backward()
        if optimizer is not None:
            optimizer.step()
    _sync(device)
    return steps * images.shape[0] / (time.perf_counter() - started)


def full_loop_rate(model, data: Split, cfg: dict, device, augment, optimizer, loss_fn, epoch: int) -> float:
    """Samples per second of one epoch of `fit`'s own epoch function."""
    _sync(device)
    started = time.perf_counter()
    train_one_epoch(model, data, cfg, 0, epoch, loss_fn, optimizer, device, augment)
    _sync(device)
    return len(data) / (time.perf_counter() - started)


def measure(model, data: Split, cfg: dict, device, augment, repeats: int,
            loss_fn: Callable | None = None) -> tuple[list[float], list[float], list[float]]:
    """Bare, bare + optimizer step, and full rates, interleaved `repeats` times after one warm-up of each,
    so that a slow spell of the machine hits all alike; the caller compares medians. `model` may be a
    compiled module (the warm-up then includes compilation); the optimizers take its parameters either way."""
    batch = cfg["batch_size"]
    first = Split(data.images[:batch], data.target[:batch])
    steps = len(data) // batch
    optimizer = build_optimizer(model, cfg)
    own_optimizer = build_optimizer(model, cfg)  # the plain step's, so the loop's state is not touched
    loss_fn = loss_fn or build_loss(cfg["loss"])
    data = data.to(device)
    # Cross-sensor normalization on mixed data: the bare steps split their batch as the loop's first would.
    norms = csn.layers(model) if data.domain is not None else []
    n_source = int((data.domain[:batch] == csn.SOURCE).sum()) if norms else 0

    def bare_rate(n_steps, step_optimizer=None):
        if norms:  # the loop leaves its last batch's split behind
            csn.set_train_mixed(norms, n_source)
        return bare_model_rate(model, first, device, n_steps, step_optimizer)

    bare_rate(2)
    bare_rate(2, own_optimizer)
    full_loop_rate(model, data, cfg, device, augment, optimizer, loss_fn, epoch=0)
    bare, step, full = [], [], []
    for repeat in range(repeats):
        bare.append(bare_rate(steps))
        step.append(bare_rate(steps, own_optimizer))
        full.append(full_loop_rate(model, data, cfg, device, augment, optimizer, loss_fn, epoch=repeat + 1))
    return bare, step, full


def eval_rate(model, images: torch.Tensor, batch_size: int, device, output: Callable, repeats: int) -> float:
    """Samples per second of `train.predict` (eval mode, no_grad, autocast, results copied to the host)."""
    predict(model, images, batch_size, device, output)  # warm-up (cuDNN autotuning of the eval shapes)
    rates = []
    for _ in range(repeats):
        _sync(device)
        started = time.perf_counter()
        predict(model, images, batch_size, device, output)
        _sync(device)
        rates.append(len(images) / (time.perf_counter() - started))
    return float(np.median(rates))


def step_flops(model, batch: Split, device) -> int:
    """FLOPs of one forward + backward on `batch` (matmuls and convolutions, as FlopCounterMode counts)."""
    from torch.utils.flop_counter import FlopCounterMode

    images = batch.images.to(device)
    if device.type == "cuda":
        images = images.contiguous(memory_format=torch.channels_last)
    model.train()
    model.zero_grad(set_to_none=True)
    with FlopCounterMode(display=False) as counter:
        with autocast(device):
            model(images).float().mean().backward()
    model.zero_grad(set_to_none=True)
    return int(counter.get_total_flops())


def checkpoint_seconds(model, cfg: dict, repeats: int = 3) -> float:
    """Seconds to write fit's resumable state: the weights and the optimizer's state, which one step at
    learning rate 0 creates (Adam's two moments: three times the weights) without changing a weight."""
    optimizer = build_optimizer(model, dict(cfg, lr=0.0))
    for parameter in model.parameters():
        parameter.grad = torch.zeros_like(parameter)
    optimizer.step()
    model.zero_grad(set_to_none=True)
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            started = time.perf_counter()
            save_torch({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, Path(folder) / "state.pt")
            times.append(time.perf_counter() - started)
    return float(np.median(times))


def activation_bytes_per_sample(model, channels: int, size: int) -> int:
    """Bytes of the tensors autograd keeps for backward, per sample in fp32 on the CPU (each storage counted
    once; a batch of 2, as BatchNorm after global pooling cannot train on one): the part of a training
    step's memory that grows with the batch."""
    saved: dict[int, int] = {}

    def pack(tensor):
        if tensor.device.type == "cpu" and tensor.numel() > 0:
            storage = tensor.untyped_storage()
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    model = copy.deepcopy(model).cpu().train()
    images = torch.randn(2, channels, size, size)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        out = model(images)
    del out
    return int(sum(saved.values())) // 2


def estimated_model_gb(model, setup: Setup, per_sample: int | None = None) -> float:
    """A training step's peak on CUDA, estimated on the CPU: fp32 weights, gradients and optimizer state
    (Adam: two moments) of the trainable parameters, and the tensors saved for backward at the setup's
    batch size (`per_sample` bytes each) at their fp32 size: under bf16 autocast part of them are half that,
    so this is an upper bound, as a share of a GPU should be."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    state = 16 if setup.training["optimizer"] in ("adam", "adamw") else 12
    if per_sample is None:
        per_sample = activation_bytes_per_sample(model, setup.channels, setup.size)
    return (trainable * state + frozen * 4 + per_sample * setup.training["batch_size"]) / 1e9


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


# ---- the setups every study's run functions build (landslides/studies/<study>/bench.py) ----

def setups(config: dict, sizes: dict | None = None, tiny: bool = False) -> list[Setup]:
    """Every training setup of the config's studies, with the grid's work when `sizes` are given."""
    return [setup for study in STUDIES if study in config.get("studies", [])
            for setup in study_module(study, "bench").setups(config[study], sizes or {}, tiny)]


# ---- data-set sizes for the projection ----

def data_sizes(config: dict, workdir: str | Path = ".", overrides: dict | None = None) -> dict[str, dict]:
    """Samples per split for each sized unit of the grid: from the data under `workdir` when it exists, else
    the real data's published sizes (each study's REAL_SIZES) for downloaded data, the synthetic config or
    the scene geometry; `overrides` (from --sizes) last."""
    workdir = Path(workdir)

    def open_store(path: Path):
        if not path.exists():
            return None
        import xarray as xr

        return xr.open_zarr(path)

    sizes: dict[str, dict] = {}
    for study in STUDIES:
        if study in config.get("studies", []):
            sizes.update(study_module(study, "bench").data_sizes(config, workdir, open_store))
    for key, value in (overrides or {}).items():
        sizes[key] = {**sizes.get(key, {}), **value}
    return sizes


def parse_sizes(items: list[str]) -> dict[str, dict]:
    """--sizes KEY=train/val[/test] (test: predict for ridgei), e.g. transfer=216/61/61, refine=3799/245/800,
    pretrain/stage2=all/val/test."""
    out = {}
    for item in items:
        key, _, values = item.partition("=")
        numbers = [int(v) for v in values.split("/")]
        names = ("all", "val", "test") if key == "pretrain/stage2" else \
            ("train", "val", "predict") if key.startswith("ridgei/") else ("train", "val", "test")
        out[key] = dict(zip(names, numbers, strict=False))
    return out


# ---- one setup measured, the grid projected ----

@dataclass
class Result:
    setup: Setup
    bare: list[float]
    full: list[float]
    eval_rate: float
    flops: int  # per training step (forward + backward) at the setup's batch size
    checkpoint_s: float
    model_gb: float  # peak memory of the model's training step (weights, gradients, optimizer, activations)
    memory_measured: bool
    first_step_s: float = 0.0  # the first forward + backward, compilation included
    step: list[float] = field(default_factory=list)  # bare + the optimizer's step

    @property
    def batch(self) -> int:
        return self.setup.training["batch_size"]

    def tflops(self, rate: float) -> float:
        return self.flops / self.batch * rate / 1e12

    def peak_gb(self, samples_on_device: int) -> float:
        return peak_gb(self.model_gb, samples_on_device * self.setup.data_bytes_per_sample / 1e9)


def peak_gb(model_gb: float, data_gb: float) -> float:
    """A job's GPU memory: its training step and data set with the allocator's slack, and the CUDA context."""
    return (model_gb + data_gb) * ALLOCATOR_SLACK + CONTEXT_GB


def gpu_share(peak_gb: float, gpu_gb: float = REFERENCE_GPU_GB) -> int:
    """Percent of a GPU of `gpu_gb` that a job of `peak_gb` needs, rounded up to a multiple of 5."""
    return int(min(100, max(5, 5 * math.ceil(peak_gb / gpu_gb * 100 / 5))))


def run_setup(setup: Setup, device: torch.device, *, batches: int, repeats: int, compile_mode=False) -> Result:
    cfg = dict(setup.training, epochs=repeats + 1)
    batch = cfg["batch_size"]
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
    torch.manual_seed(0)
    model = setup.build().to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    data = synthetic_split(batch * batches, setup.channels, setup.size, target=setup.target)
    if setup.target_share:  # a refine round's mixed training set, its target samples drawn at random
        domain = np.random.default_rng(2).random(len(data)) < setup.target_share
        data = Split(data.images, data.target, torch.from_numpy(domain.astype(np.int64)))
    augment = setup.augment()
    augment = augment.to(device) if augment is not None else None
    flops = step_flops(model, Split(data.images[:batch], data.target[:batch]), device)
    trained = compile_for_training(model, compile_mode, device)
    started = time.perf_counter()  # the first step: cuDNN autotuning, and compilation when asked for
    bare_model_rate(trained, Split(data.images[:batch], data.target[:batch]), device, 1)
    first_step_s = time.perf_counter() - started
    bare, step, full = measure(trained, data, cfg, device, augment, repeats, loss_fn=setup.loss_fn)
    if device.type == "cuda":
        _sync(device)
        # The benchmark's own data tensors are not the job's (its data set is added per setup).
        own = data.images.nbytes + data.target.nbytes + data.images[:batch].nbytes
        model_gb = (torch.cuda.max_memory_allocated() - before - own) / 1e9
        measured = True
    else:
        model_gb, measured = estimated_model_gb(model, setup), False
    seconds = checkpoint_seconds(model, cfg)
    evaluated = synthetic_split(cfg["eval_batch_size"] * 2, setup.channels, setup.size, seed=1).images
    rate = eval_rate(model, evaluated, cfg["eval_batch_size"], device, setup.output, repeats)
    return Result(setup, bare, full, rate, flops, seconds, max(model_gb, 0.0), measured, first_step_s, step)


def projection(result: Result, job_overhead: float) -> list[dict]:
    """Seconds per Work item of the setup on one GPU, jobs in sequence."""
    rows = []
    batch, step_s = result.batch, result.batch / float(np.median(result.full))
    for work in result.setup.work:
        steps = work.epochs * max(1, math.ceil(work.train / batch))
        train_s = steps * step_s
        eval_s = (work.epochs * work.val * _validation_passes(result.setup) + work.predict) / result.eval_rate
        # fit writes after the first epoch, then only as often as keeps the writes near CHECKPOINT_TIME_SHARE.
        checkpoint_s = result.checkpoint_s + min((work.epochs - 1) * result.checkpoint_s,
                                                 CHECKPOINT_TIME_SHARE * (train_s + eval_s))
        per_job = train_s + eval_s + checkpoint_s + job_overhead
        rows.append({"setup": result.setup.name, "note": work.note, "jobs": work.jobs, "epochs": work.epochs,
                     "steps": steps, "train_s": train_s * work.jobs, "eval_s": eval_s * work.jobs,
                     "checkpoint_s": checkpoint_s * work.jobs, "fixed_s": job_overhead * work.jobs,
                     "total_s": per_job * work.jobs})
    return rows


def _validation_passes(setup: Setup) -> int:
    """Forward passes over the validation split per epoch: with `monitor: val_loss` a segmenter's metrics
    reuse the loss's pass (`train.validation_loss`); a classifier's custom evaluation takes its own."""
    return 2 if setup.training.get("monitor") == "val_loss" and setup.target != "mask" else 1


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f} h" if seconds >= 360 else f"{seconds:.0f} s"


def meta_step_flops(setup: Setup) -> int:
    """FLOPs of one training step at the setup's batch size, counted on the meta device (shapes only: no
    memory, no compute, seconds for the largest setup)."""
    from torch.utils.flop_counter import FlopCounterMode

    torch.manual_seed(0)
    model = setup.build().to("meta").train()
    images = torch.empty(setup.training["batch_size"], setup.channels, setup.size, setup.size, device="meta")
    with FlopCounterMode(display=False) as counter:
        model(images).float().mean().backward()
    return int(counter.get_total_flops())


def grid_flops(setup: Setup, step_flops: int) -> float:
    """The grid's compute for a setup: training steps x FLOPs per step, plus the validation and prediction
    forwards (about a third of a step's FLOPs per sample)."""
    batch = setup.training["batch_size"]
    total = 0.0
    for work in setup.work:
        steps = work.epochs * max(1, math.ceil(work.train / batch))
        forwards = work.epochs * work.val * _validation_passes(setup) + work.predict
        total += work.jobs * (steps * step_flops + forwards * step_flops / batch / 3)
    return total


def estimate(chosen: list[Setup], gpu_gb: float, config_name: str) -> None:
    """--estimate: per setup the FLOPs per step, the grid's compute, the estimated peak memory and gpu_share."""
    print(f"# estimated on the CPU, no timing: FLOPs (meta device), peak GPU memory per job (bf16 autocast, "
          f"activations counted at fp32 size), {gpu_gb:g} GB GPU; config {config_name}")
    print("| setup | model | input | batch | parameters | GFLOP/step | grid steps | grid PFLOP | saved for backward "
          "per sample (fp32) | model step | data on device | peak | gpu_share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    total = 0.0
    for setup in chosen:
        torch.manual_seed(0)
        model = setup.build()
        samples = max((w.train + w.val for w in setup.work), default=0)
        per_sample = activation_bytes_per_sample(model, setup.channels, setup.size)
        model_gb = estimated_model_gb(model, setup, per_sample)
        data_gb = samples * setup.data_bytes_per_sample / 1e9
        peak = peak_gb(model_gb, data_gb)
        flops = meta_step_flops(setup)
        batch = setup.training["batch_size"]
        steps = sum(w.jobs * w.epochs * max(1, math.ceil(w.train / batch)) for w in setup.work)
        compute = grid_flops(setup, flops)
        total += compute
        print(f"| {setup.name} | {setup.model} | {setup.channels}x{setup.size}x{setup.size} | {batch} | "
              f"{sum(p.numel() for p in model.parameters()) / 1e6:.2g} M | {flops / 1e9:.0f} | {steps} | "
              f"{compute / 1e15:.1f} | {per_sample / 1e6:.0f} MB | {model_gb:.1f} GB | "
              f"{data_gb:.1f} GB ({samples} samples) | {peak:.1f} GB | {gpu_share(peak, gpu_gb)} |", flush=True)
    print(f"\ngrid compute: {total / 1e15:.0f} PFLOP; at an achieved 50 / 100 / 200 TFLOP/s that is "
          f"{total / 50e12 / 3600:.1f} / {total / 100e12 / 3600:.1f} / {total / 200e12 / 3600:.1f} h of GPU time "
          f"(training and validation forwards only)")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--only", nargs="*", default=[], help="setup names or patterns, e.g. 'refine/*'")
    parser.add_argument("--study", nargs="*", default=[], help="only these studies")
    parser.add_argument("--list", action="store_true", help="list the setups (and the grid's work) and stop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: the setup's)")
    parser.add_argument("--batches", type=int, default=6, help="batches per timed epoch")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved bare/full measurements")
    parser.add_argument("--compile", default="false", choices=["false", "true", "default", "reduce-overhead",
                                                                 "max-autotune-no-cudagraphs"],
                        help="torch.compile the trained module, as training.compile does")
    parser.add_argument("--tiny", action="store_true", help=f"{TINY_SIZE} px inputs and batch {TINY_BATCH}: "
                        "checks the harness, measures nothing real")
    parser.add_argument("--project", action="store_true", help="project the grid's wall time on one GPU")
    parser.add_argument("--estimate", action="store_true", help="no timing: FLOPs per step (on the meta device), "
                        "the grid's training compute, each job's peak GPU memory and gpu_share, estimated on the CPU")
    parser.add_argument("--workdir", default=None, help="where the workflow's resources/ are (default: the "
                        "config's output_dir, else .)")
    parser.add_argument("--sizes", nargs="*", default=[], help="KEY=train/val/test data-set sizes, e.g. "
                        "transfer=216/61/61 refine=3799/245/800 pretrain/stage2=400/114/56 ridgei/deeplab=T/V/P")
    parser.add_argument("--job-overhead", type=float, default=10.0,
                        help="seconds of start-up and output writing per job (docs/benchmarks.md)")
    parser.add_argument("--gpu-gb", type=float, default=None,
                        help=f"GPU memory for gpu_share (default: the device's, else {REFERENCE_GPU_GB:g})")
    args = parser.parse_args(argv)

    from landslides.config import load_config

    config = load_config(args.config)
    workdir = args.workdir or config.get("output_dir") or "."
    sizes = data_sizes(config, workdir, parse_sizes(args.sizes))
    chosen = [s for s in setups(config, sizes, tiny=args.tiny)
              if (not args.study or s.study in args.study)
              and (not args.only or any(fnmatch.fnmatch(s.name, pattern) for pattern in args.only))]
    if args.list:
        for s in chosen:
            work = "; ".join(f"{w.jobs} jobs x {w.epochs} epochs x {w.train} samples"
                             + (f" ({w.note})" if w.note else "") for w in s.work) or "sizes unknown (--sizes)"
            print(f"{s.name:32s} {s.model:40s} {s.channels:2d} ch {s.size:4d} px batch {s.training['batch_size']:3d}: "
                  f"{work}")
        return
    if args.estimate:
        estimate(chosen, args.gpu_gb or REFERENCE_GPU_GB, args.config)
        return
    device = select_device(args.device)
    compile_mode = {"false": False, "true": True}.get(args.compile, args.compile)
    gpu_gb = args.gpu_gb or (torch.cuda.get_device_properties(0).total_memory / 2**30 if device.type == "cuda"
                             else REFERENCE_GPU_GB)
    name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads max)"
    print(f"# {time.strftime('%Y-%m-%d')} torch {torch.__version__} device {name} config {args.config} "
          f"compile={args.compile} batches/epoch={args.batches} repeats={args.repeats}"
          + (f" TINY ({TINY_SIZE} px, batch <= {TINY_BATCH})" if args.tiny else ""))
    print("| setup | model | input | batch | bare samples/s | loop samples/s | loop/bare | model+optimizer "
          "samples/s | loop/(model+optimizer) | eval samples/s | GFLOP/step | TFLOP/s bare | TFLOP/s loop | "
          "first step s | peak GB | gpu_share |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for setup in chosen:
        configure_torch(args.threads or setup.training["threads"], device)
        result = run_setup(setup, device, batches=args.batches, repeats=args.repeats, compile_mode=compile_mode)
        results.append(result)
        bare, full = float(np.median(result.bare)), float(np.median(result.full))
        step = float(np.median(result.step)) if result.step else float("nan")
        samples = max((w.train + w.val for w in setup.work), default=0)
        peak = result.peak_gb(samples)
        print(f"| {setup.name} | {setup.model} | {setup.channels}x{setup.size}x{setup.size} | {result.batch} | "
              f"{bare:.2f} ({min(result.bare):.2f}-{max(result.bare):.2f}) | "
              f"{full:.2f} ({min(result.full):.2f}-{max(result.full):.2f}) | {full / bare:.3f} | "
              f"{step:.2f} | {full / step:.3f} | "
              f"{result.eval_rate:.1f} | {result.flops / 1e9:.1f} | {result.tflops(bare):.3f} | "
              f"{result.tflops(full):.3f} | {result.first_step_s:.1f} | "
              f"{peak:.1f}{'' if result.memory_measured else ' est'} | "
              f"{gpu_share(peak, gpu_gb)} |", flush=True)
    if args.project:
        print(f"\n# projected wall time, one {'GPU' if device.type == 'cuda' else 'CPU process'}, jobs in "
              f"sequence, {args.job_overhead:g} s fixed cost per job"
              + (" (TINY rates: not a projection of the real setups)" if args.tiny else ""))
        print("| setup | work | jobs | epochs/job | steps/job | train | eval | checkpoints | fixed | total |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        total, missing = 0.0, []
        for result in results:
            if not result.setup.work:
                missing.append(result.setup.name)
            for row in projection(result, args.job_overhead):
                total += row["total_s"]
                print(f"| {row['setup']} | {row['note']} | {row['jobs']} | {row['epochs']} | {row['steps']} | "
                      f"{_hours(row['train_s'])} | {_hours(row['eval_s'])} | {_hours(row['checkpoint_s'])} | "
                      f"{_hours(row['fixed_s'])} | {_hours(row['total_s'])} |")
        print(f"| **all** | | | | | | | | | **{_hours(total)}** ({total / 3600:.2f} h) |")
        if missing:
            print(f"not projected (data-set sizes unknown, give --sizes): {', '.join(missing)}")


if __name__ == "__main__":
    main()
