"""The two networks of the `pretrain` study (Boehm et al.).

Stage 1, `ChipClassifier`: one small U-Net with shared weights turns the pre-event and the post-event
SAR pair into per-pixel embeddings; both are concatenated, a conv head scores every pixel and the mean
over the chip is one logit: "does this chip hold any landslide?".

Stage 2, `Segmenter`: a plain CNN on cat(pre, post) whose features, with pretraining, get the frozen
stage-1 embeddings of pre and post concatenated before the 2-logit head.

Input channel order everywhere: the pre-event channels, then the post-event channels, the same number
of each (e.g. vh_before, vv_before, vh_after, vv_after).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


class TinyUNet(nn.Module):
    """One full-resolution stage, one half-resolution stage, skip connection, `out_channels` per pixel.

    The authors' stage-1 encoder is a depth-1 U-Net: the heavy convolutions run at half resolution,
    which keeps it cheap on 128x128 chips while still seeing a few pixels of context.
    """

    def __init__(self, in_channels: int, width: int, out_channels: int) -> None:
        super().__init__()
        self.fine = conv_bn_relu(in_channels, width)
        self.coarse = nn.Sequential(conv_bn_relu(width, 2 * width, stride=2),
                                  conv_bn_relu(2 * width, 2 * width))
        self.merge = conv_bn_relu(3 * width, width)
        self.out = nn.Conv2d(width, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.fine(x)
        deep = F.interpolate(self.coarse(skip), size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.out(self.merge(torch.cat([skip, deep], dim=1)))


def split_pair(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 2k, H, W) -> pre (N, k, H, W), post (N, k, H, W)."""
    if x.shape[1] % 2:
        raise ValueError(f"expected pre and post channels of equal number, got {x.shape[1]} channels")
    k = x.shape[1] // 2
    return x[:, :k], x[:, k:]


class ChipClassifier(nn.Module):
    """Stage 1: siamese encoder -> per-pixel embeddings of pre and post -> conv head -> mean -> 1 logit."""

    def __init__(self, pair_channels: int = 2, width: int = 32, embedding_channels: int = 32) -> None:
        super().__init__()
        self.config = {"pair_channels": pair_channels, "width": width,
                       "embedding_channels": embedding_channels}
        self.embedding_channels = embedding_channels
        self.encoder = TinyUNet(pair_channels, width, embedding_channels)  # shared by pre and post
        self.head = nn.Sequential(conv_bn_relu(2 * embedding_channels, embedding_channels),
                                  nn.Conv2d(embedding_channels, 1, 1))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2k, H, W) -> (N, 2 x embedding_channels, H, W): embeddings of pre, then of post."""
        pre, post = split_pair(x)
        return torch.cat([self.encoder(pre), self.encoder(post)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per chip, (N,)."""
        return self.head(self.embed(x)).mean(dim=(1, 2, 3))


class Segmenter(nn.Module):
    """Stage 2: a plain CNN on cat(pre, post), plus the frozen stage-1 embeddings when one is given.

    Frozen means frozen: the stage-1 parameters never get gradients (requires_grad False, and the
    forward pass runs under no_grad), and the stage-1 module stays in eval mode even while this model
    trains, so its BatchNorm layers use, and never update, their running statistics.
    """

    def __init__(self, in_channels: int = 4, width: int = 64, stage1: ChipClassifier | None = None) -> None:
        super().__init__()
        self.config = {"in_channels": in_channels, "width": width, "pretrained": stage1 is not None}
        self.base = TinyUNet(in_channels, width, width)
        self.stage1 = stage1
        extra = 0
        if stage1 is not None:
            stage1.requires_grad_(False)
            stage1.eval()
            extra = 2 * stage1.embedding_channels
        self.head = nn.Sequential(conv_bn_relu(width + extra, width), nn.Conv2d(width, 2, 1))

    def train(self, mode: bool = True) -> Segmenter:
        super().train(mode)
        if self.stage1 is not None:
            self.stage1.eval()  # nn.Module.train would switch it back to training mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2k, H, W) -> (N, 2, H, W) logits (background, landslide)."""
        features = F.relu(self.base(x))
        if self.stage1 is not None:
            with torch.no_grad():
                embeddings = self.stage1.embed(x)
            features = torch.cat([features, embeddings.to(features.dtype)], dim=1)
        return self.head(features)
