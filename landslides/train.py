"""The one training loop every study configures.

Data live in memory as tensors (on the GPU when there is one): a batch is an index into them, so
loading is never the bottleneck. Each epoch ends with a validation pass, model selection on the
validation metric, a row in `history.csv` and, unless the last one was written very recently, a resumable
`state.pt`. The random streams of epoch e are seeded from (seed, e), so a run killed after epoch e and
started again from its last state.pt continues exactly as an uninterrupted run would (on the CPU; CUDA
kernels are not all deterministic).
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from landslides import csn
from landslides.constants import IGNORE_INDEX
from landslides.errors import InputError
from landslides.files import atomic_path, save_torch
from landslides.metrics import SegmentationMetrics, split_metrics_on_device

log = logging.getLogger(__name__)

SGD_MOMENTUM = 0.9
# scheduler: plateau halves the learning rate after PLATEAU_PATIENCE epochs without a better
# validation score.
PLATEAU_FACTOR = 0.5
PLATEAU_PATIENCE = 2
FUSED_OPTIMIZER_DEVICES = ("cpu", "cuda")  # devices with PyTorch's fused Adam, AdamW and SGD kernels
LOSS_READBACK_EVERY = 10  # batches between reads of the running loss for the progress bar (CPU only)
# state.pt is written after an epoch when the time since the last write is at least the last write's
# duration / CHECKPOINT_TIME_SHARE, so checkpoints take at most about 5 % of a run (the first epoch always
# writes). A paper-scale U-Net ResNet-50 with its Adam moments is a 391 MB state (1.2-1.5 s to write), against
# 0.15 s per transfer epoch on an H100; a small CPU model writes every epoch or every other, as before.
CHECKPOINT_TIME_SHARE = 0.05


@dataclass
class Split:
    """Normalized images (N, C, H, W) float32 and targets (N, H, W) int64 (0, 1, IGNORE_INDEX); `domain`,
    (N,) int64, the source (0) or target (1) domain of each sample for a network with cross-sensor
    normalization (`landslides.csn`), None when all samples are from the source."""

    images: torch.Tensor
    target: torch.Tensor
    domain: torch.Tensor | None = None

    def __len__(self) -> int:
        return self.images.shape[0]

    def to(self, device: torch.device) -> Split:
        # The domains stay on the host, where the training loop composes its batches from them.
        return Split(self.images.to(device), self.target.to(device), self.domain)


def select_device(name: str = "auto") -> torch.device:
    if name == "cuda" or (name == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)  # noqa: NPY002 (seeds libraries that still use the legacy global RNG)
    torch.manual_seed(seed)


def configure_torch(threads: int, device: torch.device, deterministic: bool | None = None) -> None:
    """Threads, and on CUDA the fast defaults: cuDNN autotuning and TF32 matmuls and convolutions.

    deterministic None (the default) means: deterministic algorithms on the CPU, where they cost nothing
    and make runs bit-identical, and not on CUDA, where they cost much speed (cuDNN autotuning is off
    under them). True asks for them on CUDA too; they still do not make bf16 GPU runs bit-identical.
    """
    torch.set_num_threads(threads)
    if deterministic is None:
        deterministic = device.type != "cuda"
    # warn_only: a few CUDA kernels (e.g. upsampling backward) have no deterministic version.
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = not deterministic
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def build_optimizer(model: nn.Module, cfg: dict) -> torch.optim.Optimizer:
    params, lr, wd = list(model.parameters()), cfg["lr"], cfg["weight_decay"]
    # One fused kernel for the whole update instead of several per parameter tensor. On the CPU too: PyTorch
    # otherwise loops over the tensors there, and for ResNet-50 an Adam step took 151 ms against 16 ms fused
    # (2 threads; docs/benchmarks.md).
    fused = {"fused": True} if params and params[0].device.type in FUSED_OPTIMIZER_DEVICES else {}
    if cfg["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, **fused)
    if cfg["optimizer"] == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, **fused)
    return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=SGD_MOMENTUM, **fused)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: dict):
    """`plateau_factor` / `plateau_patience` (null: each plateau scheduler's own) set a plateau scheduler's
    step, e.g. the pretrain authors' stage 2: factor 0.9 after 50 epochs of flat training loss."""
    factor, patience = cfg.get("plateau_factor"), cfg.get("plateau_patience")
    if cfg["scheduler"] == "plateau":  # on the selection metric, or on the validation loss (`monitor`)
        mode = "min" if cfg.get("monitor") == "val_loss" else "max"
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode=mode, factor=factor or PLATEAU_FACTOR,
            patience=PLATEAU_PATIENCE if patience is None else patience)
    if cfg["scheduler"] == "plateau_train_loss":
        # The authors' transfer code: ReduceLROnPlateau on the training loss with PyTorch's defaults
        # (factor 0.1, patience 10), so within 10 epochs it never lowers the learning rate.
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            optimizer, mode="min", factor=factor or 0.1, patience=10 if patience is None else patience)
    if cfg["scheduler"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg["epochs"])
    return None


# CUDA forwards run under bf16 autocast unless a training section says `precision: fp32`; fit sets it for the
# rest of its process (a job trains one section, and its predictions after fit keep that precision).
_CUDA_PRECISION = {"precision": "bf16"}


def set_precision(precision: str, device: torch.device) -> None:
    """bf16: CUDA forwards under bf16 autocast, TF32 matmuls and convolutions (the fast default); fp32: full
    fp32 on CUDA, TF32 off as well. The CPU always computes in fp32."""
    _CUDA_PRECISION["precision"] = precision
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = precision != "fp32"
        torch.backends.cudnn.allow_tf32 = precision != "fp32"


def autocast(device: torch.device):
    """bf16 autocast on CUDA unless the precision is fp32 (set_precision); a no-op context on the CPU (fp32
    keeps CPU runs exact)."""
    enabled = device.type == "cuda" and _CUDA_PRECISION["precision"] == "bf16"
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def landslide_probability(logits: torch.Tensor) -> torch.Tensor:
    """(N, 2, H, W) logits -> (N, H, W) float32 probability of the landslide class."""
    return torch.softmax(logits.float(), dim=1)[:, 1]


def chip_probability(logits: torch.Tensor) -> torch.Tensor:
    """(N,) logits of a one-logit chip classifier -> (N,) float32 landslide probability."""
    return torch.sigmoid(logits.float())


def _eval_logits(model: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device):
    """(start, logits) of each batch of `images` in order: eval mode, on `device` (channels_last on CUDA),
    under autocast. The one forward loop of prediction and of the validation loss."""
    model.eval()
    for start in range(0, images.shape[0], batch_size):
        batch = images[start : start + batch_size].to(device, non_blocking=True)
        if device.type == "cuda" and batch.ndim == 4:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with autocast(device):
            logits = model(batch)
        yield start, logits


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, batch_size: int, device: torch.device,
            output: Callable[[torch.Tensor], torch.Tensor] = landslide_probability,
            to_host: bool = True) -> torch.Tensor:
    """`output(logits)` of every image, batch by batch, float32 on the CPU (on `device` when not `to_host`):
    by default landslide probabilities (N, H, W) of a two-class segmenter; `chip_probability` for a chip
    classifier."""
    out = []
    for _, logits in _eval_logits(model, images, batch_size, device):
        probability = output(logits)
        out.append(probability.cpu() if to_host else probability)
    return torch.cat(out) if out else torch.empty(0)


def evaluate(model: nn.Module, split: Split, batch_size: int, device: torch.device,
             prob: torch.Tensor | None = None) -> dict[str, float]:
    """Pixel metrics of a segmenter on `split` (its landslide probabilities `prob` when already computed).
    On a GPU they are computed there with one host read (`split_metrics_on_device`); on the CPU with the
    score histogram, as always (CPU runs stay bit-identical)."""
    if prob is None:
        prob = predict(model, split.images, batch_size, device, to_host=device.type != "cuda")
    if device.type == "cuda":
        target = split.target.to(device)
        return split_metrics_on_device(prob, target == 1, target != IGNORE_INDEX)
    prob = prob.cpu()
    target = split.target.cpu()
    metrics = SegmentationMetrics()
    metrics.update(prob, target == 1, valid=target != IGNORE_INDEX)
    return metrics.compute()


@torch.no_grad()
def validation_loss(model: nn.Module, split: Split, batch_size: int, loss_fn: Callable, device: torch.device,
                    output: Callable[[torch.Tensor], torch.Tensor] | None = None):
    """The training loss on the validation split in eval mode: batches of `batch_size` in order, each
    batch's loss weighted by its size (as Lightning's epoch mean of a logged validation loss).

    Returns (loss, output(logits) of every image on `device`, or None without `output`): the validation
    metrics then need no second pass (in eval mode a sample's logits do not depend on its batch mates)."""
    total, seen, outputs = torch.zeros((), device=device), 0, []
    for start, logits in _eval_logits(model, split.images, batch_size, device):
        if output is not None:
            outputs.append(output(logits))
        total += loss_fn(logits.float(), split.target[start : start + len(logits)]) * len(logits)
        seen += len(logits)
    return total.item() / max(seen, 1), torch.cat(outputs) if outputs else None  # one read per epoch


def fingerprint(obj) -> str:
    """A short hash of everything that defines a run, so a stale state.pt is never resumed."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def data_fingerprint(*splits: Split) -> str:
    """Hash of the training and validation tensors: new data never resumes an old run's state.

    The arrays' memory is hashed in place (the bytes tobytes() would copy, the same digest): the papers'
    Landslide4Sense training set is 3.5 GB of float32, which a copy would double in memory.
    """
    digest = hashlib.sha256()
    for split in splits:
        for tensor in (split.images, split.target, split.domain):
            if tensor is None:
                continue
            digest.update(memoryview(np.ascontiguousarray(tensor.detach().cpu().numpy())).cast("B"))
    return digest.hexdigest()[:16]


def code_fingerprint() -> str:
    """Hash of the package's source: changed training code never resumes an old run's state."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_checkpoint(path: Path, key: str) -> dict | None:
    """The resumable state at `path` if it belongs to this run (same fingerprint), else None.

    A checkpoint that cannot be read (a crash while the disk was full, a copied-over file) must not block
    the run for good: it is set aside as <name>.unreadable with a one-line warning, and training starts
    from scratch.
    """
    if not path.exists():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
        fingerprint_of_state = state["fingerprint"]
    except Exception as err:  # any failure to read means the same thing: the file is unusable
        aside = path.with_name(path.name + ".unreadable")
        path.replace(aside)
        log.warning("%s: unreadable checkpoint (%s), moved to %s; training starts from scratch", path,
                    type(err).__name__, aside.name)
        return None
    return state if fingerprint_of_state == key else None


def compile_for_training(model: nn.Module, option: bool | str, device: torch.device) -> nn.Module:
    """The module that runs fit's training forward: `model` itself (option false) or torch.compile of it,
    sharing its parameters and buffers.

    true: mode "reduce-overhead" on CUDA, i.e. CUDA graphs. The loop's shapes are static (fixed batch size and
    chip size; only an epoch's smaller last batch compiles and records once more), the bottleneck measured on
    an H100 was launch and host overhead, and BatchNorm's running statistics are parameter-like inputs that
    CUDA graph trees allow to be updated in place. "max-autotune-no-cudagraphs" autotunes every convolution
    and matmul shape, minutes per job, longer than a whole transfer run trains. On the CPU (no CUDA graphs)
    true means inductor's default mode. A mode name asks for that mode.
    """
    if option is False or option is None:
        return model
    mode = option if isinstance(option, str) else ("reduce-overhead" if device.type == "cuda" else "default")
    return torch.compile(model, mode=mode, dynamic=False)


@dataclass
class FitResult:
    best_epoch: int
    best_score: float
    best_val_metrics: dict
    history: list[dict]
    stopped_early: bool = False


def fit(
    model: nn.Module,
    train: Split,
    val: Split,
    cfg: dict,
    *,
    checkpoint: Path,
    history_path: Path,
    seed: int,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    device: torch.device,
    augment: nn.Module | None = None,
    run_id: dict | None = None,
    evaluate_fn: Callable[[nn.Module, Split], dict] | None = None,
) -> FitResult:
    """Train `model` in place; on return it holds the weights of the best validation epoch.

    cfg: the `training` section (epochs, batch_size, eval_batch_size, optimizer, lr, weight_decay,
    scheduler, grad_clip, selection_metric, selection, early_stopping, monitor, compile, precision). selection "best"
    keeps the epoch with the best validation score, "last" the last epoch (the score is still recorded);
    early_stopping N ends training after N epochs without a better score, or without a lower validation
    loss with `monitor: val_loss` (None: never).
    run_id: everything else that defines the run (for the resume fingerprint).
    evaluate_fn(model, val_split) -> metrics replaces the pixel-metric validation for models that are
    not segmenters (the stage-1 chip classifier).
    checkpoint: the resumable state, written after the first epoch and then after any epoch that ends at
    least (last write's duration) / CHECKPOINT_TIME_SHARE after the last write (the job removes it once its
    outputs are written); history_path: one CSV row per epoch.
    """
    checkpoint, history_path = Path(checkpoint), Path(history_path)
    checkpoint.parent.mkdir(parents=True, exist_ok=True)
    key = fingerprint({"cfg": cfg, "seed": seed, "run": run_id, "data": data_fingerprint(train, val),
                       "code": code_fingerprint()})
    seed_everything(seed)
    set_precision(cfg.get("precision", "bf16"), device)
    model.to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    # Only the training forward runs compiled; evaluation, state_dict, checkpoints and model.pt use `model`
    # itself, so saved keys never carry torch.compile's `_orig_mod.` prefix.
    if train.domain is not None and cfg.get("compile"):
        raise InputError("training.compile cannot be combined with cross-sensor normalization on mixed "
                         "source and target samples (refine ladder key csn, rounds >= 1): each batch's split "
                         "between the domains changes the graph; set training.compile: false")
    train_model = compile_for_training(model, cfg.get("compile", False), device)
    optimizer = build_optimizer(model, cfg)
    scheduler = build_scheduler(optimizer, cfg)
    augment = augment.to(device) if augment is not None else None
    train_dev, val_dev = train.to(device), val.to(device)

    start_epoch, best = 0, {"score": -float("inf"), "epoch": -1, "metrics": {}, "weights": None}
    watched = {"value": -float("inf"), "epoch": -1}  # what early stopping watches (higher is better)
    history: list[dict] = []
    state = load_checkpoint(checkpoint, key)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        start_epoch, best, history = state["epoch"] + 1, state["best"], state["history"]
        watched = state.get("watched", {"value": best["score"], "epoch": best["epoch"]})
        print(f"resuming from {checkpoint} after epoch {state['epoch']}", file=sys.stderr)

    keep_last = cfg.get("selection", "best") == "last"
    patience = cfg.get("early_stopping")
    # `monitor: val_loss` makes early stopping and the `plateau` scheduler watch the validation loss (the
    # pretrain authors' Lightning callbacks) instead of the selection metric; selection keeps the metric.
    on_val_loss = cfg.get("monitor", "selection_metric") == "val_loss"
    stopped_early = False
    last_write_s, last_write_end = 0.0, time.perf_counter()
    for epoch in range(start_epoch, cfg["epochs"]):
        if patience is not None and watched["epoch"] >= 0 and epoch - watched["epoch"] > patience and not keep_last:
            stopped_early = True
            print(f"early stopping before epoch {epoch + 1}: no better validation "
                  f"{'loss' if on_val_loss else cfg['selection_metric']} since epoch {watched['epoch'] + 1}",
                  file=sys.stderr)
            break
        epoch_started = time.perf_counter()
        row = train_one_epoch(train_model, train_dev, cfg, seed, epoch, loss_fn, optimizer, device, augment)
        prob = None
        if on_val_loss:  # a segmenter's metrics reuse this pass's probabilities
            output = landslide_probability if evaluate_fn is None else None
            row["val_loss"], prob = validation_loss(model, val_dev, cfg["batch_size"], loss_fn, device, output)
        if evaluate_fn is None:
            val_metrics = evaluate(model, val_dev, cfg["eval_batch_size"], device, prob=prob)
        else:
            val_metrics = evaluate_fn(model, val_dev)
        score = val_metrics[cfg["selection_metric"]]
        score = -float("inf") if np.isnan(score) else score
        watch = score
        if on_val_loss:
            watch = -float("inf") if np.isnan(row["val_loss"]) else -row["val_loss"]
        # A first epoch always counts (ties keep the earliest): with a metric NaN in every epoch (no landslide
        # in the validation split) training still selects epoch 0 and early stopping still runs out.
        if watch > watched["value"] or watched["epoch"] < 0:
            watched = {"value": watch, "epoch": epoch}
        if cfg["scheduler"] == "plateau_train_loss":
            scheduler.step(row["train_loss"])
        elif isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            scheduler.step(row["val_loss"] if on_val_loss else score)
        elif scheduler is not None:
            scheduler.step()
        constant = constant_prediction(val_metrics)
        if keep_last:  # the current weights are the last epoch's: nothing to copy
            best = {"score": score, "epoch": epoch, "metrics": val_metrics, "weights": None}
        elif _better(score, constant, best):
            # one copy of the weights on either device (v.cpu() alone aliases on the CPU)
            best = {"score": score, "epoch": epoch, "metrics": val_metrics, "constant": constant,
                    "weights": {k: v.to("cpu", copy=True) for k, v in model.state_dict().items()}}
        row.update({f"val_{k}": v for k, v in val_metrics.items() if isinstance(v, float)})
        if epoch == start_epoch and cfg["epochs"] - epoch > 1:  # the first epoch measures this machine
            took, left = time.perf_counter() - epoch_started, cfg["epochs"] - epoch - 1
            print(f"epoch {epoch + 1} took {took:.0f} s with its validation; about {took * left:.0f} s for the "
                  f"other {left} epoch(s)", file=sys.stderr)
        history.append(row)
        _write_history(history, history_path)
        if time.perf_counter() - last_write_end >= last_write_s / CHECKPOINT_TIME_SHARE:
            started = time.perf_counter()
            save_torch({"fingerprint": key, "epoch": epoch, "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict() if scheduler is not None else None,
                        "best": best, "watched": watched, "history": history}, checkpoint)
            last_write_end = time.perf_counter()
            last_write_s = last_write_end - started

    _write_history(history, history_path)  # also when a resumed run had no epoch left to train
    if best["weights"] is not None:
        model.load_state_dict(best["weights"])
    return FitResult(best["epoch"], best["score"], best["metrics"], history, stopped_early)


def constant_prediction(metrics: dict) -> bool:
    """Whether validation metrics are those of a constant predictor at the decision threshold: every sample
    called landslide (recall 1 and false-positive rate 1) or none (no positive prediction: precision
    undefined where there are landslides). Metrics without these keys (a denoiser's) are never constant."""
    recall, fpr, precision = metrics.get("recall"), metrics.get("fpr"), metrics.get("precision")
    if recall is None or fpr is None or precision is None:
        return False
    all_positive = recall == 1.0 and fpr == 1.0
    none_positive = recall == 0.0 and np.isnan(precision)
    return bool(all_positive or none_positive)


def _better(score: float, constant: bool, best: dict) -> bool:
    """Selection: the first epoch always counts; an epoch that is not a constant predictor beats one that is
    (whatever their scores: F1 or accuracy can favour calling everything landslide or nothing); otherwise the
    higher score (ties keep the earlier epoch)."""
    if best["epoch"] < 0:
        return True
    best_constant = best.get("constant", False)  # checkpoints written before the guard lack the flag
    if constant != best_constant:
        return best_constant
    return score > best["score"]


def train_one_epoch(model, train: Split, cfg, seed, epoch, loss_fn, optimizer, device, augment) -> dict:
    """One pass over `train` in a seeded order: index, augment, forward, loss, backward, step."""
    # Every random stream of this epoch derives from (seed, epoch): resuming needs no saved RNG state.
    torch.manual_seed(seed * 100_003 + epoch)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    batches = list(order.split(cfg["batch_size"]))
    if len(batches) > 1 and len(batches[-1]) == 1:  # BatchNorm cannot train on one sample
        last = batches.pop()  # popped first: the join below must then target the new last batch
        batches[-1] = torch.cat([batches[-1], last])
    # Cross-sensor normalization: each batch's source samples first, their count known on the host.
    norms = csn.layers(model) if train.domain is not None else []
    if norms:
        batches, n_source = csn.source_first(batches, train.domain)
    # One copy to the device per epoch: a per-batch host-to-device copy of the index would wait for
    # the GPU's queued work every step.
    batches = list(torch.cat(batches).to(device).split([len(b) for b in batches]))
    model.train()
    # The loss sum stays on the device: reading it (.item()) waits for the GPU. On the CPU, where reading
    # costs nothing, the progress bar shows it every few batches; on CUDA only the epoch's end reads it.
    show_loss = device.type != "cuda"
    total_loss, seen, started = torch.zeros((), device=device), 0, time.perf_counter()
    bar = tqdm(batches, desc=f"epoch {epoch + 1}/{cfg['epochs']}", file=sys.stderr, mininterval=5,
               disable=None if sys.stderr.isatty() else False, leave=False)
    for step, index in enumerate(bar):
        images, target = train.images[index], train.target[index]
        if norms:  # the augmentation keeps the samples' order
            csn.set_train_mixed(norms, n_source[step])
        if augment is not None:
            images, target = augment(images, target)
        if device.type == "cuda":
            images = images.contiguous(memory_format=torch.channels_last)
        with autocast(device):
            loss = loss_fn(model(images).float(), target)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.get("grad_clip"):
            nn.utils.clip_grad_norm_(model.parameters(), cfg["grad_clip"])
        optimizer.step()
        total_loss += loss.detach() * len(index)
        seen += len(index)
        if show_loss and (step % LOSS_READBACK_EVERY == 0 or step == len(batches) - 1):
            bar.set_postfix(loss=f"{total_loss.item() / seen:.4f}")
    seconds = time.perf_counter() - started
    return {"epoch": epoch, "train_loss": total_loss.item() / max(seen, 1), "lr": optimizer.param_groups[0]["lr"],
            "seconds": round(seconds, 3), "samples_per_s": round(seen / seconds, 2)}


def _write_history(history: list[dict], path: Path) -> None:
    fields = list(dict.fromkeys(k for row in history for k in row))
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(history)
