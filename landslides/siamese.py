"""The two networks of the `pretrain` study (Boehm et al.).

Stage 1, `ChipClassifier`: one small U-Net with shared weights turns the pre-event and the post-event
SAR pair into per-pixel embeddings; both are concatenated, a conv head scores every pixel and the mean
over the chip is one logit: "does this chip hold any landslide?".

Stage 2, `Segmenter`: a plain CNN on cat(pre, post) whose features, with pretraining, get the frozen
stage-1 embeddings of pre and post concatenated before the 2-logit head.

Input channel order everywhere: the pre-event channels, then the post-event channels, the same number
of each (e.g. vh_before, vv_before, vh_after, vv_after).

Two families of layers (`network`): `tiny_unet`, this project's small U-Net with 3x3 convolutions, and
`authors`, the layers of the authors' code (VMBoehm/SAR-landslide-detection-pretraining, the configs of the
paper's experiments): stage 1 a segmentation-models-pytorch U-Net with a ResNet-34 encoder of depth 1 and
one decoder block, a "valid" 8x8 convolution, BatchNorm and LeakyReLU as the chip head; stage 2 three
"same" 8x8 convolutions (channels x2, x4, then `width`) and an 8x8 head, with BatchNorm and LeakyReLU. The
authors' stage 2 has one output channel under a sigmoid; here it is returned as the logit pair (0, z), whose
softmax is (1 - sigmoid(z), sigmoid(z)), so every loss and metric of the project applies unchanged.
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


class AuthorsEncoder(nn.Module):
    """The authors' stage-1 encoder, written out: what `smp.Unet("resnet34", encoder_depth=1,
    decoder_channels=[width], classes=out_channels)` computes (ResNet stem at half resolution, one decoder
    block after a nearest upsampling, 3x3 head). smp would also build the ResNet-34 stages that depth 1
    never runs (21 M unused parameters); `tests/test_pretrain.py` checks this module against smp's."""

    def __init__(self, in_channels: int, width: int, out_channels: int) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(in_channels, 64, 7, stride=2, padding=3, bias=False),
                                  nn.BatchNorm2d(64), nn.ReLU(inplace=True))
        self.decoder = nn.Sequential(conv_bn_relu(64, width), conv_bn_relu(width, width))
        self.head = nn.Conv2d(width, out_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        coarse = F.interpolate(self.stem(x), size=x.shape[-2:], mode="nearest")
        return self.head(self.decoder(coarse))


def conv8_bn_leaky(in_channels: int, out_channels: int, padding: str = "same") -> nn.Sequential:
    """The authors' block: an 8x8 convolution with bias, BatchNorm, LeakyReLU (slope 0.01)."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 8, padding=padding),
                         nn.BatchNorm2d(out_channels), nn.LeakyReLU())


NETWORKS = ("tiny_unet", "authors")
STAGE1_BATCHNORM = ("frozen", "train")  # the stage-1 BatchNorm mode while stage 2 trains (Segmenter)


def _check_choice(what: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}")


def split_pair(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, 2k, H, W) -> pre (N, k, H, W), post (N, k, H, W)."""
    if x.shape[1] % 2:
        raise ValueError(f"expected pre and post channels of equal number, got {x.shape[1]} channels")
    k = x.shape[1] // 2
    return x[:, :k], x[:, k:]


class ChipClassifier(nn.Module):
    """Stage 1: siamese encoder -> per-pixel embeddings of pre and post -> conv head -> mean -> 1 logit."""

    def __init__(self, pair_channels: int = 2, width: int = 32, embedding_channels: int = 32,
                 network: str = "tiny_unet") -> None:
        super().__init__()
        _check_choice("pretrain network", network, NETWORKS)
        self.config = {"pair_channels": pair_channels, "width": width,
                       "embedding_channels": embedding_channels, "network": network}
        self.embedding_channels = embedding_channels
        if network == "authors":
            self.encoder = AuthorsEncoder(pair_channels, width, embedding_channels)
            self.head = conv8_bn_leaky(2 * embedding_channels, 1, padding="valid")
        else:
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
    forward pass runs under no_grad), and with `stage1_batchnorm="frozen"` the stage-1 module stays in eval
    mode even while this model trains, so its BatchNorm layers use, and never update, their running
    statistics. `"train"` is the authors' behaviour: Lightning's train() switched the frozen classifier back
    to training mode, so while stage 2 trains its BatchNorm layers normalize with batch statistics and
    update their running statistics (its weights stay frozen).
    """

    def __init__(self, in_channels: int = 4, width: int = 64, stage1: ChipClassifier | None = None,
                 network: str = "tiny_unet", stage1_batchnorm: str = "frozen") -> None:
        super().__init__()
        _check_choice("pretrain network", network, NETWORKS)
        _check_choice("stage1_batchnorm", stage1_batchnorm, STAGE1_BATCHNORM)
        self.config = {"in_channels": in_channels, "width": width, "pretrained": stage1 is not None,
                       "network": network, "stage1_batchnorm": stage1_batchnorm}
        self.network, self.stage1_batchnorm = network, stage1_batchnorm
        self.stage1 = stage1
        extra = 0
        if stage1 is not None:
            stage1.requires_grad_(False)
            stage1.eval()
            extra = 2 * stage1.embedding_channels
        if network == "authors":
            self.base = nn.Sequential(conv8_bn_leaky(in_channels, 2 * in_channels),
                                      conv8_bn_leaky(2 * in_channels, 4 * in_channels),
                                      conv8_bn_leaky(4 * in_channels, width))
            self.head = nn.Sequential(conv8_bn_leaky(width + extra, width + extra),
                                      nn.Conv2d(width + extra, 1, 8, padding="same"))
        else:
            self.base = TinyUNet(in_channels, width, width)
            self.head = nn.Sequential(conv_bn_relu(width + extra, width), nn.Conv2d(width, 2, 1))

    def train(self, mode: bool = True) -> Segmenter:
        super().train(mode)
        if self.stage1 is not None and self.stage1_batchnorm == "frozen":
            self.stage1.eval()  # nn.Module.train would switch it back to training mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 2k, H, W) -> (N, 2, H, W) logits (background, landslide)."""
        features = self.base(x)
        if self.network == "tiny_unet":  # the authors' base ends in its own LeakyReLU
            features = F.relu(features)
        if self.stage1 is not None:
            with torch.no_grad():
                embeddings = self.stage1.embed(x)
            features = torch.cat([features, embeddings.to(features.dtype)], dim=1)
        logits = self.head(features)
        if self.network == "authors":  # one sigmoid logit z -> the pair (0, z)
            logits = torch.cat([torch.zeros_like(logits), logits], dim=1)
        return logits
