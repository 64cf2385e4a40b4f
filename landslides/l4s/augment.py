"""Landslide4Sense augmentations (Zhao et al.): random flips, 90-degree rotations and a color perturbation
of the 12 Sentinel-2 bands only.

Runs on the training device on a whole batch, each patch drawing its own transform from the global torch
generator (which `fit` seeds per epoch, so augmented runs stay reproducible). Draws stay on the device and,
on a GPU, each patch's flips and rotation are selected with torch.where on a map of source pixels, applied
with one gather: no branch on a drawn value, so the host never waits for the GPU. On the CPU, where reading
a draw costs nothing, each patch is flipped and rotated by itself instead (the same pixels, faster there).
Geometric transforms move image and target together; the color perturbation never touches slope and DEM,
which are terrain measurements, not reflectances.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

Pair = tuple[torch.Tensor, torch.Tensor]  # (images, target)
N_SPECTRAL = 12  # B1..B12 come first in the benchmark's band order; slope and DEM are channels 12 and 13


def _draw_moves(n: int, device: torch.device, *, flip: bool, rot90: bool) -> tuple[torch.Tensor | None, ...]:
    """Each patch's geometric draws, always in this order: a left-right flip and an up-down flip with
    probability 1/2 each (when `flip`), then k quarter turns, k uniform in 0..3 (when `rot90`)."""
    left_right = torch.rand(n, device=device) < 0.5 if flip else None
    up_down = torch.rand(n, device=device) < 0.5 if flip else None
    turns = torch.randint(0, 4, (n,), device=device) if rot90 else None
    return left_right, up_down, turns


def _index_map(images: torch.Tensor, left_right, up_down, turns) -> torch.Tensor:
    """(N, H, W) int64 map of each output pixel's source pixel (flat index): the identity map flipped,
    then rotated, per patch, selected with torch.where (no branch on a drawn value)."""
    n, _, h, w = images.shape
    index = torch.arange(h * w, device=images.device).view(1, h, w).expand(n, h, w)
    for flip, dim in ((left_right, -1), (up_down, -2)):
        if flip is not None:
            index = torch.where(flip.view(-1, 1, 1), index.flip(dim), index)
    if turns is not None:
        rotated = index
        for k in (1, 2, 3):
            rotated = torch.where((turns == k).view(-1, 1, 1), torch.rot90(index, k, dims=(-2, -1)), rotated)
        index = rotated
    return index


def _gather_pixels(images: torch.Tensor, target: torch.Tensor, index: torch.Tensor) -> Pair:
    """Apply a per-patch pixel map (N, H, W) to images and target alike: a pure permutation of pixels."""
    n, c, h, w = images.shape
    flat = index.reshape(n, 1, h * w)
    images = images.reshape(n, c, h * w).gather(2, flat.expand(n, c, h * w)).view(n, c, h, w)
    target = target.reshape(n, h * w).gather(1, flat[:, 0]).view(n, h, w)
    return images, target


def _move_each(images: torch.Tensor, target: torch.Tensor, left_right, up_down, turns) -> Pair:
    """The same moves patch by patch: on the CPU, where reading the draws costs nothing, each patch is
    copied once from a NumPy view (flips and turns are negative strides there, no copy) instead of
    gathered through an index map (same pixels, about 3x faster; torch's flip and rot90 copy each step)."""
    out_images, out_target = torch.empty_like(images), torch.empty_like(target)
    sources, outputs = (images.numpy(), target.numpy()), (out_images.numpy(), out_target.numpy())
    for i in range(images.shape[0]):
        axes = tuple(axis for flip, axis in ((left_right, -1), (up_down, -2)) if flip is not None and bool(flip[i]))
        k = int(turns[i]) if turns is not None else 0
        for source, output in zip(sources, outputs, strict=True):
            np.copyto(output[i], np.rot90(np.flip(source[i], axes), k, axes=(-2, -1)))
    return out_images, out_target


def _move_pixels(images: torch.Tensor, target: torch.Tensor, moves: tuple) -> Pair:
    """Images and target moved by the drawn flips and turns; one gather on a device, per patch on the CPU."""
    if images.device.type == "cpu":
        return _move_each(images, target, *moves)
    return _gather_pixels(images, target, _index_map(images, *moves))


def random_flips(images: torch.Tensor, target: torch.Tensor) -> Pair:
    """Each patch flipped left-right and/or up-down with probability 1/2 each."""
    return _move_pixels(images, target, _draw_moves(images.shape[0], images.device, flip=True, rot90=False))


def random_rot90(images: torch.Tensor, target: torch.Tensor) -> Pair:
    """Each patch rotated by k * 90 degrees, k uniform in 0..3 (patches are square)."""
    return _move_pixels(images, target, _draw_moves(images.shape[0], images.device, flip=False, rot90=True))


def color_perturbation(images: torch.Tensor, *, p: float, gain: float, offset: float,
                       band_jitter: float, in_place: bool = False) -> torch.Tensor:
    """x -> a * x + b on the spectral bands of a patch, with probability p.

    Inputs are normalized (mean 0, std 1 per band), so a is a contrast factor 1 +- gain and b a brightness
    shift +- offset in band std units, both shared by the 12 bands (illumination changes all of them),
    plus a small per-band gain jitter (atmosphere and sensor differ per band). A patch left alone, and the
    terrain bands, get a = 1, b = 0, chosen on the small (N, C, 1, 1) factors: no slicing, no cat of images.
    `in_place` overwrites `images` (fit's augmentation owns the moved copy): no new batch is allocated.
    """
    n, c = images.shape[:2]
    device, dtype = images.device, images.dtype
    apply = torch.rand(n, 1, 1, 1, device=device) < p
    a = 1.0 + gain * (2.0 * torch.rand(n, 1, 1, 1, device=device, dtype=dtype) - 1.0)
    a = a * (1.0 + band_jitter * (2.0 * torch.rand(n, N_SPECTRAL, 1, 1, device=device, dtype=dtype) - 1.0))
    b = offset * (2.0 * torch.rand(n, 1, 1, 1, device=device, dtype=dtype) - 1.0)
    a, b = torch.where(apply, a, 1.0), torch.where(apply, b, 0.0).expand(n, N_SPECTRAL, 1, 1)
    terrain = (n, c - N_SPECTRAL, 1, 1)
    a = torch.cat([a, torch.ones(terrain, device=device, dtype=dtype)], dim=1)
    b = torch.cat([b, torch.zeros(terrain, device=device, dtype=dtype)], dim=1)
    return images.mul_(a).add_(b) if in_place else images * a + b


class L4SAugmentation(nn.Module):
    """fit's augment callable: (images (N,14,H,W), target (N,H,W)) -> the augmented pair."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.flip, self.rot90 = config["flip"], config["rot90"]
        self.color = config["color"]

    @torch.no_grad()
    def forward(self, images: torch.Tensor, target: torch.Tensor) -> Pair:
        moved = self.flip or self.rot90
        if moved:  # flips and rotation composed: each pixel moves once, into a new batch
            moves = _draw_moves(images.shape[0], images.device, flip=self.flip, rot90=self.rot90)
            images, target = _move_pixels(images, target, moves)
        if self.color["p"] > 0:  # in place on the moved batch: the caller's batch is never written
            images = color_perturbation(images, p=self.color["p"], gain=self.color["gain"], offset=self.color["offset"],
                                        band_jitter=self.color["band_jitter"], in_place=moved)
        return images, target


def build_l4s_augmentation(config: dict) -> L4SAugmentation | None:
    """None when every transform is off, so fit skips the call altogether."""
    if not (config["flip"] or config["rot90"] or config["color"]["p"] > 0):
        return None
    return L4SAugmentation(config)
