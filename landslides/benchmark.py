"""Training throughput of the full loop against the bare model, for the same model and batch.

    python -m landslides.benchmark --config config/config.yaml --study transfer [--augment] [--device cuda]

Full loop = what `fit` runs per batch: index the in-memory tensors, augment on the device, forward,
loss, backward, optimizer step. Bare model = forward + backward of the same model on one fixed batch
(no indexing, no augmentation, no optimizer). The ratio says how close the loop is to what the model
alone can do.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from landslides.augment import build_sar_augmentation
from landslides.config import load_config
from landslides.constants import IGNORE_INDEX
from landslides.losses import build_loss
from landslides.models import build_from_config
from landslides.train import Split, autocast, build_optimizer, configure_torch, select_device, train_one_epoch


def synthetic_split(n: int, channels: int, size: int, seed: int = 0) -> Split:
    rng = np.random.default_rng(seed)
    images = torch.from_numpy(rng.normal(size=(n, channels, size, size)).astype(np.float32))
    target = torch.from_numpy((rng.random((n, size, size)) < 0.1).astype(np.int64))
    target[:, :2] = IGNORE_INDEX
    return Split(images, target)


def bare_model_rate(model, batch: Split, device, steps: int) -> float:
    """Samples per second of forward + backward alone (gradients freed each step, as the loop does)."""
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
    _sync(device)
    return steps * images.shape[0] / (time.perf_counter() - started)


def full_loop_rate(model, data: Split, cfg: dict, device, augment, optimizer, loss_fn, epoch: int) -> float:
    """Samples per second of one epoch of `fit`'s own epoch function."""
    _sync(device)
    started = time.perf_counter()
    train_one_epoch(model, data, cfg, 0, epoch, loss_fn, optimizer, device, augment)
    _sync(device)
    return len(data) / (time.perf_counter() - started)


def measure(model, data: Split, cfg: dict, device, augment, repeats: int) -> tuple[list[float], list[float]]:
    """Bare and full rates, interleaved `repeats` times after one warm-up of each, so that a slow spell
    of the machine hits both alike; the caller compares medians."""
    batch = cfg["batch_size"]
    first = Split(data.images[:batch], data.target[:batch])
    steps = len(data) // batch
    optimizer = build_optimizer(model, cfg)
    loss_fn = build_loss(cfg["loss"])
    data = data.to(device)
    bare_model_rate(model, first, device, 2)
    full_loop_rate(model, data, cfg, device, augment, optimizer, loss_fn, epoch=0)
    bare, full = [], []
    for repeat in range(repeats):
        bare.append(bare_model_rate(model, first, device, steps))
        full.append(full_loop_rate(model, data, cfg, device, augment, optimizer, loss_fn, epoch=repeat + 1))
    return bare, full


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--study", default="transfer")
    parser.add_argument("--features", default="sar_dem")
    parser.add_argument("--augment", action="store_true", help="include the SAR augmentations in the loop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batches", type=int, default=6, help="batches per timed epoch")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved bare/full measurements")
    args = parser.parse_args(argv)

    study = load_config(args.config)[args.study]
    cfg = dict(study["training"], epochs=args.repeats + 1)
    device = select_device(args.device)
    configure_torch(args.threads or cfg["threads"], device)
    channels = study["features"][args.features]
    size, batch = 128, cfg["batch_size"]
    data = synthetic_split(batch * args.batches, len(channels), size)
    torch.manual_seed(0)
    model = build_from_config(study["model"], len(channels)).to(device)
    if device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    augment = None
    if args.augment:
        augment = build_sar_augmentation(study["augment"], size, channels, [1.0] * len(channels)).to(device)
    bare, full = measure(model, data, cfg, device, augment, args.repeats)
    print(f"device={device} threads={torch.get_num_threads()} model={study['model']['arch']}/"
          f"{study['model']['encoder']} batch={batch} channels={len(channels)} augment={args.augment} "
          f"batches/epoch={args.batches} repeats={args.repeats}")
    for name, rates in (("bare model forward+backward", bare), ("full training loop", full)):
        print(f"{name:28s} median {np.median(rates):8.2f} samples/s  (min {min(rates):.2f}, max {max(rates):.2f})")
    print(f"ratio full/bare (medians):   {np.median(full) / np.median(bare):8.3f}")


if __name__ == "__main__":
    main()
