"""Every network the studies train, built from one self-describing spec.

A spec is a small dict (`kind` plus the arguments of that kind) that is stored in each run's model.pt,
so a trained model can be rebuilt and applied to new data without its config (`landslides.runs`).
Kinds:

- `segmentation`: a segmentation-models-pytorch network (U-Net, U-Net++, DeepLabV3+, SegFormer) with
  `classes` logits per pixel; `scale` != 1 wraps it for scale promotion (refine); Swin encoders need
  `input_size`, the side of the patches they will see before promotion; `csn: true` replaces its
  BatchNorm layers by cross-sensor normalization (refine, `landslides.csn`).
- `patch_classifier`: torchvision's ResNet50 with two logits per patch (ridgei).
- `chip_classifier`, `sparse_segmenter`: pretrain's stage-1 siamese classifier and stage-2 model
  (`landslides.siamese`).

Models start from random initialization (`encoder_weights=None`): nothing is downloaded at run time.
A config's `weights` may name a local weights file (.pt/.pth state dict or .safetensors), or say
`imagenet` for the encoder's ImageNet weights that segmentation-models-pytorch would download (its smp-hub
copy, or timm's own weights for a timm encoder `tu-<name>`), looked up locally (`resolve_weights`): in
$LANDSLIDES_WEIGHTS_DIR as `<encoder>.imagenet.safetensors`, else in the Hugging Face cache. Fetch them
on a machine with internet with the command in `imagenet_fetch_command`. The workflow copies them once
into resources/weights/ (rule imagenet_weights, `copy_imagenet_weights`) and points each training job's
$LANDSLIDES_WEIGHTS_DIR there (`landslides.jobs`).
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from landslides.csn import convert as cross_sensor_norm
from landslides.errors import InputError
from landslides.files import atomic_path
from landslides.siamese import ChipClassifier, Segmenter

# Config `arch` -> segmentation-models-pytorch class name.
ARCHITECTURES = {"unet": "Unet", "unetplusplus": "UnetPlusPlus", "deeplabv3plus": "DeepLabV3Plus",
                 "segformer": "Segformer"}
DEFAULT_DECODER_CHANNELS = (256, 128, 64, 32, 16)  # smp's U-Net default, cut to the encoder depth

log = logging.getLogger(__name__)


def segmentation_spec(model_config: dict, in_channels: int, *, classes: int = 2, scale: float = 1.0,
                      input_size: int | None = None, csn: bool = False) -> dict:
    """The spec of a config `model` block (arch, encoder, encoder_depth, decoder_channels); `csn`: every
    BatchNorm replaced by cross-sensor normalization (`landslides.csn`; the key is stored only when set)."""
    spec = {"kind": "segmentation", "arch": model_config["arch"], "encoder": model_config["encoder"],
            "in_channels": int(in_channels), "classes": int(classes),
            "encoder_depth": model_config.get("encoder_depth", 5),
            "decoder_channels": model_config.get("decoder_channels"), "scale": float(scale),
            "input_size": input_size}
    if csn:
        spec["csn"] = True
    return spec


def build_model(spec: dict, weights: str | Path | None = None) -> nn.Module:
    """The network a spec describes, randomly initialized (torch's global RNG), or from local `weights`."""
    builders = {"segmentation": _segmentation, "patch_classifier": _patch_classifier,
                "chip_classifier": _chip_classifier, "sparse_segmenter": _sparse_segmenter}
    if spec.get("kind") not in builders:
        raise InputError(f"unknown model kind {spec.get('kind')!r} (known: {', '.join(builders)})")
    model = builders[spec["kind"]](spec)
    if weights:
        # Scale promotion wraps the network: the weights belong to the network inside.
        path = resolve_weights(weights, spec.get("encoder", ""))
        load_local_weights(model.model if isinstance(model, ScaledModel) else model, path)
        log.info("weights %s: loaded from %s", weights, path)
    if spec.get("csn"):  # after the weights: their BatchNorm statistics start both domains
        model = cross_sensor_norm(model)
    return model


def _smp():
    """segmentation-models-pytorch, imported on first use: with timm and torchvision it adds about 1.5 s to
    a job's start-up, and pretrain's jobs, whose networks are plain torch, never need it."""
    import segmentation_models_pytorch as smp

    return smp


def imagenet_source(encoder: str) -> tuple[str, str | None] | None:
    """(Hugging Face repository, revision) of the ImageNet weights segmentation-models-pytorch would load for
    `encoder`: its own hub copy (`smp-hub/<encoder>.imagenet`), or for a timm encoder (`tu-<name>`) timm's
    default pretrained weights of <name>; None where neither lists any. The file is `model.safetensors`."""
    settings = _smp().encoders.encoders.get(encoder, {}).get("pretrained_settings", {}).get("imagenet") or {}
    if "repo_id" in settings:
        return settings["repo_id"], settings.get("revision")
    if encoder.startswith("tu-"):
        import timm

        pretrained = timm.get_pretrained_cfg(encoder.removeprefix("tu-"))
        if pretrained is not None and pretrained.hf_hub_id:
            return pretrained.hf_hub_id, None
    return None


def imagenet_fetch_command(encoder: str) -> str:
    """The one line that fetches an encoder's ImageNet weights into the Hugging Face cache (with internet)."""
    repo, revision = imagenet_source(encoder) or (f"smp-hub/{encoder}.imagenet", None)
    return (f"python -c \"from huggingface_hub import hf_hub_download; print(hf_hub_download('{repo}', "
            f"'model.safetensors', revision={revision!r}))\"")


def resolve_weights(weights: str | Path, encoder: str) -> Path:
    """A local weights file: the path as given, or for `imagenet` the encoder's ImageNet weights from
    $LANDSLIDES_WEIGHTS_DIR/<encoder>.imagenet.safetensors or the Hugging Face cache (never downloaded)."""
    if str(weights) != "imagenet":
        return Path(weights)
    folder = os.environ.get("LANDSLIDES_WEIGHTS_DIR")
    if folder and (Path(folder) / f"{encoder}.imagenet.safetensors").is_file():
        return Path(folder) / f"{encoder}.imagenet.safetensors"
    source = imagenet_source(encoder)
    if source is None:
        raise InputError(f"weights 'imagenet' for encoder '{encoder}': segmentation-models-pytorch and timm list no "
                         f"ImageNet weights for it; put a state dict at $LANDSLIDES_WEIGHTS_DIR/{encoder}.imagenet."
                         "safetensors, or give `weights` a local file")
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(hf_hub_download(source[0], "model.safetensors", revision=source[1], local_files_only=True))
    except LocalEntryNotFoundError:
        raise InputError(f"weights 'imagenet' for encoder '{encoder}': not found locally (looked in "
                         f"$LANDSLIDES_WEIGHTS_DIR for {encoder}.imagenet.safetensors and in the Hugging Face "
                         f"cache); on a machine with internet run {imagenet_fetch_command(encoder)} and copy the "
                         "file here") from None


def build_from_config(model_config: dict, in_channels: int, classes: int = 2) -> nn.Module:
    """A segmentation network from a config `model` block, with its local weights if it names any."""
    spec = segmentation_spec(model_config, in_channels, classes=classes)
    return build_model(spec, weights=model_config.get("weights"))


def build_segmentation_model(arch: str, encoder: str, in_channels: int, *, classes: int = 2,
                             encoder_depth: int = 5, decoder_channels: list[int] | None = None,
                             weights: str | Path | None = None) -> nn.Module:
    config = {"arch": arch, "encoder": encoder, "encoder_depth": encoder_depth,
              "decoder_channels": decoder_channels}
    return build_model(segmentation_spec(config, in_channels, classes=classes), weights=weights)


def _segmentation(spec: dict) -> nn.Module:
    arch, encoder = spec["arch"], spec["encoder"]
    if arch not in ARCHITECTURES:
        raise InputError(f"unknown model arch '{arch}' (known: {', '.join(ARCHITECTURES)})")
    kwargs = {"encoder_name": encoder, "encoder_weights": None, "in_channels": spec["in_channels"],
              "classes": spec["classes"]}
    depth = spec.get("encoder_depth", 5)
    if arch in ("unet", "unetplusplus"):
        kwargs["encoder_depth"] = depth
        kwargs["decoder_channels"] = list(spec.get("decoder_channels") or DEFAULT_DECODER_CHANNELS)[:depth]
    scale = float(spec.get("scale", 1.0))
    if "swin" in encoder:
        # timm's Swin encoders fix their input size when they are built: the promoted patch size.
        if not spec.get("input_size"):
            raise InputError(f"encoder '{encoder}' needs the input size (model spec key input_size)")
        kwargs["img_size"] = scaled_size(spec["input_size"], scale)[0]
    try:
        net = getattr(_smp(), ARCHITECTURES[arch])(**kwargs)
    except (KeyError, ValueError, RuntimeError) as err:
        raise InputError(f"cannot build {arch} with encoder '{encoder}': {err}") from err
    return ScaledModel(net, scale) if scale != 1.0 else net


class ScaledModel(nn.Module):
    """Scale promotion: resize the input by `scale`, run the network, resize the logits back.

    Small landslides cover few pixels at 128x128; enlarging the patch gives them more of the network's
    receptive field. Logits come back at the input size, so losses and metrics always see the input grid.
    """

    def __init__(self, model: nn.Module, scale: float) -> None:
        super().__init__()
        self.model, self.scale = model, float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        big = F.interpolate(x, size=scaled_size(size[0], self.scale), mode="bilinear", align_corners=False)
        logits = self.model(big)
        return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)


def scaled_size(size: int, scale: float) -> tuple[int, int]:
    side = int(round(size * scale))
    return side, side


def _patch_classifier(spec: dict) -> nn.Module:
    """torchvision ResNet50, random init, two logits (no landslide / landslide)."""
    import torchvision  # here, not at the top: only this network needs it (see _smp)

    model = torchvision.models.resnet50(weights=None, num_classes=2)
    if spec["in_channels"] != 3:
        model.conv1 = nn.Conv2d(spec["in_channels"], 64, kernel_size=7, stride=2, padding=3, bias=False)
    return model


def patch_classifier_spec(in_channels: int) -> dict:
    return {"kind": "patch_classifier", "in_channels": int(in_channels)}


def _chip_classifier(spec: dict) -> nn.Module:
    # Model files written before `network` existed hold the tiny U-Net.
    return ChipClassifier(spec["pair_channels"], spec["width"], spec["embedding_channels"],
                          spec.get("network", "tiny_unet"))


def _sparse_segmenter(spec: dict) -> nn.Module:
    # The stage-1 network inside is rebuilt empty; its weights come with the segmenter's state dict.
    stage1 = _chip_classifier(spec["stage1"]) if spec.get("stage1") else None
    return Segmenter(spec["in_channels"], spec["width"], stage1, spec.get("network", "tiny_unet"),
                     spec.get("stage1_batchnorm", "frozen"))


def read_weights(path: Path) -> dict[str, torch.Tensor]:
    """The state dict in a .safetensors or torch file (a checkpoint's `model` entry where it has one)."""
    if not path.is_file():
        raise InputError(f"{path}: weights file not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(path)
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a truncated or foreign file: say which
        raise InputError(f"{path}: cannot read weights ({err.__class__.__name__}: {err})") from err
    state = state.get("model", state) if isinstance(state, dict) else state
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise InputError(f"{path}: not a state dict (names and tensors)")
    return state


def copy_imagenet_weights(encoder: str, destination: str | Path) -> Path:
    """Copy `encoder`'s ImageNet weights, found locally (`resolve_weights`), to `destination`; read them
    first, so that a truncated file fails here and not in every training job. Returns the source file."""
    source = resolve_weights("imagenet", encoder)
    read_weights(source)
    with atomic_path(destination) as tmp:
        shutil.copyfile(source, tmp)  # follows the Hugging Face cache's symlink to the blob
    return source


def load_local_weights(model: nn.Module, path: Path) -> None:
    """Load a whole-model or encoder-only state dict (torch or safetensors file), or a timm network's for a
    timm encoder (`tu-<name>`).

    A first convolution trained on another number of input channels is adapted as
    segmentation-models-pytorch does for pretrained encoders: one channel takes the sum over the trained
    ones; otherwise input channel i takes trained channel i mod n, scaled by n / channels. A Swin relative
    position table trained for a larger window is interpolated to the model's (timm's resize). Other shapes
    that differ (the head) are skipped; every encoder tensor must be found, or the file is refused.
    """
    state = read_weights(path)
    target = model.state_dict()
    usable = {}
    for saved_key, value in state.items():
        key = _model_key(saved_key, target)
        if key is None:
            continue
        if target[key].shape == value.shape:
            usable[key] = value
        elif _other_input_channels(target[key], value):
            usable[key] = adapt_input_channels(value, target[key].shape[1])
        elif key.endswith("relative_position_bias_table") and value.ndim == target[key].ndim == 2:
            usable[key] = _resized_position_table(value, target[key].shape)
    if not usable:
        raise InputError(f"{path}: no tensor in this file matches the model's parameters")
    missing = [key for key in target if key.startswith("encoder.") and key not in usable
               and not key.endswith("num_batches_tracked")]
    if missing:
        raise InputError(f"{path}: {len(missing)} of the encoder's tensors are not in this file, or have "
                         f"another shape (first: {missing[0]}); is it the weights of this encoder?")
    model.load_state_dict(usable, strict=False)


def _model_key(saved_key: str, target: dict) -> str | None:
    """The model's name for a tensor saved from the whole model, from its encoder, or from the timm network
    inside a timm encoder, whose feature wrapper flattens the first level ("layers.0." -> "layers_0.")."""
    for name in (saved_key, saved_key.replace(".", "_", 1)):
        for prefix in ("", "encoder.", "encoder.model."):
            if prefix + name in target:
                return prefix + name
    return None


def _resized_position_table(table: torch.Tensor, shape: torch.Size) -> torch.Tensor:
    """A Swin relative position bias table ((2w-1)^2, heads) for another window w (square windows)."""
    from timm.layers import resize_rel_pos_bias_table

    window = (math.isqrt(shape[0]) + 1) // 2
    with warnings.catch_warnings():  # timm's interpolation trips two torch indexing notes, once per process
        warnings.simplefilter("ignore", UserWarning)
        return resize_rel_pos_bias_table(table, (window, window), tuple(shape))


def _other_input_channels(target: torch.Tensor, trained: torch.Tensor) -> bool:
    return target.ndim == 4 and trained.ndim == 4 and target.shape[0] == trained.shape[0] and \
        target.shape[2:] == trained.shape[2:] and target.shape[1] != trained.shape[1]


def adapt_input_channels(weight: torch.Tensor, channels: int) -> torch.Tensor:
    """A conv weight (out, n, k, k) trained on n inputs, for `channels` inputs (smp's convention)."""
    n = weight.shape[1]
    if channels == 1:
        return weight.sum(1, keepdim=True)
    index = torch.arange(channels) % n
    return weight[:, index] * (n / channels)
