"""Segmentation model factory over segmentation-models-pytorch.

Models always start from random initialization (`encoder_weights=None`): hub downloads are not
possible on the machines this workflow targets. A local weights file can be named instead.
"""

from __future__ import annotations

from pathlib import Path

import segmentation_models_pytorch as smp
import torch
from torch import nn

from landslides.errors import InputError

ARCHITECTURES = {
    "unet": smp.Unet,
    "unetplusplus": smp.UnetPlusPlus,
    "deeplabv3plus": smp.DeepLabV3Plus,
    "segformer": smp.Segformer,
}


def build_segmentation_model(
    arch: str,
    encoder: str,
    in_channels: int,
    *,
    classes: int = 2,
    encoder_depth: int = 5,
    decoder_channels: list[int] | None = None,
    weights: str | Path | None = None,
) -> nn.Module:
    """A segmentation network with `classes` output logits per pixel."""
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown model arch '{arch}' (known: {', '.join(ARCHITECTURES)})")
    kwargs = {"encoder_name": encoder, "encoder_weights": None, "in_channels": in_channels, "classes": classes}
    if arch in ("unet", "unetplusplus"):
        kwargs["encoder_depth"] = encoder_depth
        if decoder_channels is not None:
            kwargs["decoder_channels"] = list(decoder_channels)[:encoder_depth]
        else:
            kwargs["decoder_channels"] = [256, 128, 64, 32, 16][:encoder_depth]
    try:
        model = ARCHITECTURES[arch](**kwargs)
    except (KeyError, ValueError) as err:
        raise InputError(f"cannot build {arch} with encoder '{encoder}': {err}") from err
    if weights is not None:
        load_local_weights(model, Path(weights))
    return model


def build_from_config(model_config: dict, in_channels: int, classes: int = 2) -> nn.Module:
    return build_segmentation_model(
        model_config["arch"],
        model_config["encoder"],
        in_channels,
        classes=classes,
        encoder_depth=model_config.get("encoder_depth", 5),
        decoder_channels=model_config.get("decoder_channels"),
        weights=model_config.get("weights"),
    )


def load_local_weights(model: nn.Module, path: Path) -> None:
    """Load a whole-model or encoder-only state dict; shapes that differ (first conv, head) are skipped."""
    if not path.is_file():
        raise InputError(f"{path}: weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which
        raise InputError(f"{path}: cannot read weights ({err.__class__.__name__}: {err})") from err
    state = state.get("model", state) if isinstance(state, dict) else state
    target = model.state_dict()
    prefixed = {k if k in target else f"encoder.{k}": v for k, v in state.items()}
    usable = {k: v for k, v in prefixed.items() if k in target and target[k].shape == v.shape}
    if not usable:
        raise InputError(f"{path}: no tensor in this file matches the model's parameters")
    model.load_state_dict(usable, strict=False)
