"""Landslide4Sense augmentations (Zhao et al.): random flips, 90-degree rotations and a color perturbation
of the 12 Sentinel-2 bands only.

Runs on the training device on a whole batch, each patch drawing its own transform from the global torch
generator (which `fit` seeds per epoch, so augmented runs stay reproducible). Draws stay on the device and
each patch's flips and rotation are selected with torch.where on a map of source pixels, applied with one
gather: no branch on a drawn value, so the host never waits for the GPU. Geometric transforms move
image and target together; the color perturbation never touches slope and DEM, which are terrain
measurements, not reflectances.
"""

from __future__ import annotations

import torch
from torch import nn

N_SPECTRAL = 12  # B1..B12 come first in the benchmark's band order; slope and DEM are channels 12 and 13


def _pixel_index(images: torch.Tensor) -> torch.Tensor:
    """(N, H, W) int64 map of each output pixel's source pixel (flat index): the identity."""
    n, _, h, w = images.shape
    return torch.arange(h * w, device=images.device).view(1, h, w).expand(n, h, w)


def _flip_index(index: torch.Tensor) -> torch.Tensor:
    """Each patch's map flipped left-right and/or up-down with probability 1/2 each."""
    for dim in (-1, -2):
        flip = torch.rand(index.shape[0], device=index.device) < 0.5
        index = torch.where(flip.view(-1, 1, 1), index.flip(dim), index)
    return index


def _rot90_index(index: torch.Tensor) -> torch.Tensor:
    """Each patch's map rotated by k * 90 degrees, k uniform in 0..3."""
    k = torch.randint(0, 4, (index.shape[0],), device=index.device)
    out = index
    for turns in (1, 2, 3):
        out = torch.where((k == turns).view(-1, 1, 1), torch.rot90(index, turns, dims=(-2, -1)), out)
    return out


def _move_pixels(images: torch.Tensor, target: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Apply a per-patch pixel map (N, H, W) to images and target alike: a pure permutation of pixels."""
    n, c, h, w = images.shape
    flat = index.reshape(n, 1, h * w)
    images = images.reshape(n, c, h * w).gather(2, flat.expand(n, c, h * w)).view(n, c, h, w)
    target = target.reshape(n, h * w).gather(1, flat[:, 0]).view(n, h, w)
    return images, target


def random_flips(images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each patch flipped left-right and/or up-down with probability 1/2 each."""
    return _move_pixels(images, target, _flip_index(_pixel_index(images)))


def random_rot90(images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each patch rotated by k * 90 degrees, k uniform in 0..3 (patches are square)."""
    return _move_pixels(images, target, _rot90_index(_pixel_index(images)))


def color_perturbation(images: torch.Tensor, *, p: float, gain: float, offset: float,
                       band_jitter: float) -> torch.Tensor:
    """x -> a * x + b on the spectral bands of a patch, with probability p.

    Inputs are normalized (mean 0, std 1 per band), so a is a contrast factor 1 +- gain and b a brightness
    shift +- offset in band std units, both shared by the 12 bands (illumination changes all of them),
    plus a small per-band gain jitter (atmosphere and sensor differ per band).
    """
    n = images.shape[0]
    device, dtype = images.device, images.dtype
    apply = (torch.rand(n, 1, 1, 1, device=device) < p).to(dtype)
    a = 1.0 + gain * (2.0 * torch.rand(n, 1, 1, 1, device=device, dtype=dtype) - 1.0)
    a = a * (1.0 + band_jitter * (2.0 * torch.rand(n, N_SPECTRAL, 1, 1, device=device, dtype=dtype) - 1.0))
    b = offset * (2.0 * torch.rand(n, 1, 1, 1, device=device, dtype=dtype) - 1.0)
    spectral = images[:, :N_SPECTRAL]
    perturbed = apply * (a * spectral + b) + (1.0 - apply) * spectral
    return torch.cat([perturbed, images[:, N_SPECTRAL:]], dim=1)


class L4SAugmentation(nn.Module):
    """fit's augment callable: (images (N,14,H,W), target (N,H,W)) -> the augmented pair."""

    def __init__(self, config: dict) -> None:
        super().__init__()
        self.flip, self.rot90 = config["flip"], config["rot90"]
        self.color = config["color"]

    @torch.no_grad()
    def forward(self, images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.flip or self.rot90:  # flips and rotation composed on a pixel map, then one gather
            index = _pixel_index(images)
            if self.flip:
                index = _flip_index(index)
            if self.rot90:
                index = _rot90_index(index)
            images, target = _move_pixels(images, target, index)
        if self.color["p"] > 0:
            images = color_perturbation(images, p=self.color["p"], gain=self.color["gain"],
                                        offset=self.color["offset"], band_jitter=self.color["band_jitter"])
        return images, target


def build_l4s_augmentation(config: dict) -> L4SAugmentation | None:
    """None when every transform is off, so fit skips the call altogether."""
    if not (config["flip"] or config["rot90"] or config["color"]["p"] > 0):
        return None
    return L4SAugmentation(config)
