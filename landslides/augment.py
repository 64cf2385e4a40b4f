"""SAR augmentations on the training device, applied to image and mask together.

Geometric transforms (random resized crop) move the mask with the image (nearest interpolation,
so the ignore value survives); photometric ones (blurs, noise) touch the image only. Nothing is
clipped: the inputs are normalized log amplitudes, not bounded intensities.
"""

from __future__ import annotations

import kornia.augmentation as K
import torch
from torch import nn


class SpeckleNoise(nn.Module):
    """Gaussian noise added to the log amplitudes of the SAR channels only (speckle-like).

    `std_per_channel` is the noise std in log units divided by each channel's normalization std, so
    the noise is the configured size in log amplitude whatever the normalization; 0 for non-SAR channels.
    """

    def __init__(self, std_per_channel: torch.Tensor, p: float) -> None:
        super().__init__()
        self.register_buffer("std", std_per_channel.view(1, -1, 1, 1).float())
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        apply = (torch.rand(x.shape[0], 1, 1, 1, device=x.device) < self.p).to(x.dtype)
        return x + apply * self.std.to(x.dtype) * torch.randn_like(x)


class SarAugmentation(nn.Module):
    """The Prapas et al. augmentation set: Gaussian blur, speckle-like noise, motion blur, resized crop."""

    def __init__(self, config: dict, chip_size: int, noise_std_per_channel: torch.Tensor) -> None:
        super().__init__()
        blur, motion, crop = config["gaussian_blur"], config["motion_blur"], config["resized_crop"]
        k = blur["kernel_size"] | 1  # kornia needs odd kernels
        self.photometric = K.AugmentationSequential(
            K.RandomGaussianBlur((k, k), tuple(blur["sigma"]), p=blur["p"]),
            K.RandomMotionBlur(motion["kernel_size"] | 1, motion["angle"], motion["direction"], p=motion["p"]),
            data_keys=["input"],
        )
        self.noise = SpeckleNoise(noise_std_per_channel * 1.0, config["gaussian_noise"]["p"])
        self.geometric = K.AugmentationSequential(
            K.RandomResizedCrop((chip_size, chip_size), scale=tuple(crop["scale"]), ratio=tuple(crop["ratio"]),
                                p=crop["p"]),
            data_keys=["input", "mask"],
        )

    @torch.no_grad()
    def forward(self, images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (N,C,H,W) float, target (N,H,W) int64 with ignore values -> augmented pair."""
        images = self.noise(self.photometric(images))
        images, mask = self.geometric(images, target.unsqueeze(1).to(images.dtype))
        return images, mask.squeeze(1).round().long()


def build_sar_augmentation(config: dict, chip_size: int, channels: list[str], channel_std) -> SarAugmentation:
    """Noise goes on the SAR channels (vv_*, vh_*); DEM-derived channels are not SAR measurements."""
    std = config["gaussian_noise"]["std"]
    per_channel = [std / float(s) if name.startswith(("vv", "vh")) else 0.0
                   for name, s in zip(channels, channel_std, strict=True)]
    return SarAugmentation(config, chip_size, torch.tensor(per_channel))
