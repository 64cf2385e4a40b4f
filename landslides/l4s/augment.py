"""Landslide4Sense augmentations (Zhao et al.): random flips, 90-degree rotations and a color perturbation
of the 12 Sentinel-2 bands only.

Runs on the training device on a whole batch, each patch drawing its own transform from the global torch
generator (which `fit` seeds per epoch, so augmented runs stay reproducible). Geometric transforms move
image and target together; the color perturbation never touches slope and DEM, which are terrain
measurements, not reflectances.
"""

from __future__ import annotations

import torch
from torch import nn

N_SPECTRAL = 12  # B1..B12 come first in the benchmark's band order; slope and DEM are channels 12 and 13


def _per_sample(draw: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """(N,) bool -> (N, 1, 1, 1) for broadcasting over images, (N, 1, 1) over targets via [:, 0]."""
    return draw.view(-1, 1, 1, 1).to(images.device)


def random_flips(images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each patch flipped left-right and/or up-down with probability 1/2 each."""
    n = images.shape[0]
    for dim in (-1, -2):
        flip = torch.rand(n, device=images.device) < 0.5
        mask = _per_sample(flip, images)
        images = torch.where(mask, images.flip(dim), images)
        target = torch.where(mask[:, 0], target.flip(dim), target)
    return images, target


def random_rot90(images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each patch rotated by k * 90 degrees, k uniform in 0..3 (patches are square)."""
    k = torch.randint(0, 4, (images.shape[0],), device=images.device)
    images, target = images.clone(), target.clone()
    for turns in (1, 2, 3):
        chosen = k == turns
        if chosen.any():
            images[chosen] = torch.rot90(images[chosen], turns, dims=(-2, -1))
            target[chosen] = torch.rot90(target[chosen], turns, dims=(-2, -1))
    return images, target


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
        if self.flip:
            images, target = random_flips(images, target)
        if self.rot90:
            images, target = random_rot90(images, target)
        if self.color["p"] > 0:
            images = color_perturbation(images, p=self.color["p"], gain=self.color["gain"],
                                        offset=self.color["offset"], band_jitter=self.color["band_jitter"])
        return images, target


def build_l4s_augmentation(config: dict) -> L4SAugmentation | None:
    """None when every transform is off, so fit skips the call altogether."""
    if not (config["flip"] or config["rot90"] or config["color"]["p"] > 0):
        return None
    return L4SAugmentation(config)
