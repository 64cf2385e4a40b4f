"""Local weights: `weights: imagenet` is looked up locally (never downloaded) and copied once by the
workflow, safetensors and torch files load, and a first convolution trained on RGB is adapted to other
channel counts as smp does."""

import os
import re
import types
import warnings

import pytest
import torch
from safetensors.torch import save_file

from landslides.errors import InputError
from landslides.jobs import run_job
from landslides.models import (
    adapt_input_channels,
    build_from_config,
    build_model,
    copy_imagenet_weights,
    imagenet_fetch_command,
    resolve_weights,
    segmentation_spec,
)

TINY = {"arch": "unet", "encoder": "resnet18", "encoder_depth": 3, "decoder_channels": [8, 8, 8]}


def _rgb_encoder_weights():
    torch.manual_seed(0)
    return {k.removeprefix("encoder."): v for k, v in build_model(segmentation_spec(TINY, 3)).state_dict().items()
            if k.startswith("encoder.")}


def test_imagenet_weights_from_the_weights_folder(tmp_path, monkeypatch):
    trained = _rgb_encoder_weights()
    save_file(trained, tmp_path / "resnet18.imagenet.safetensors")
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(tmp_path))
    model = build_from_config(dict(TINY, weights="imagenet"), in_channels=7)
    loaded = model.state_dict()
    assert torch.equal(loaded["encoder.layer1.0.conv1.weight"], trained["layer1.0.conv1.weight"])
    # 7 SAR/DEM channels from 3 RGB ones: channel i takes RGB channel i mod 3, scaled by 3/7 (smp's rule).
    expected = trained["conv1.weight"][:, [0, 1, 2, 0, 1, 2, 0]] * (3 / 7)
    torch.testing.assert_close(loaded["encoder.conv1.weight"], expected)


def test_imagenet_weights_absent_is_one_line_with_the_fetch_command(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    with pytest.raises(InputError, match=r"weights 'imagenet' for encoder 'resnet18': not found locally.*"
                                         r"hf_hub_download\('smp-hub/resnet18.imagenet'"):
        build_from_config(dict(TINY, weights="imagenet"), in_channels=3)


def test_torch_state_dict_file_loads(tmp_path):
    torch.save({"model": _rgb_encoder_weights()}, tmp_path / "encoder.pt")
    model = build_from_config(dict(TINY, weights=str(tmp_path / "encoder.pt")), in_channels=1)
    single = model.state_dict()["encoder.conv1.weight"]
    torch.testing.assert_close(single, adapt_input_channels(_rgb_encoder_weights()["conv1.weight"], 1))
    assert single.shape[1] == 1


def test_workflow_copies_imagenet_weights_after_reading_them(tmp_path, monkeypatch):
    """Rule imagenet_weights: the file found locally is read, then copied whole into resources/weights/."""
    found, dest = tmp_path / "fetched", tmp_path / "resources" / "weights"
    found.mkdir()
    dest.mkdir(parents=True)
    save_file(_rgb_encoder_weights(), found / "resnet18.imagenet.safetensors")
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(found))
    source = copy_imagenet_weights("resnet18", dest / "resnet18.imagenet.safetensors")
    assert source == found / "resnet18.imagenet.safetensors"
    assert (dest / "resnet18.imagenet.safetensors").read_bytes() == source.read_bytes()
    assert [p.name for p in dest.iterdir()] == ["resnet18.imagenet.safetensors"]  # no temporary left


@pytest.mark.parametrize("problem", ["truncated", "absent"])
def test_imagenet_weights_that_cannot_be_used_stop_the_copy(tmp_path, monkeypatch, problem):
    """A truncated download fails once, in the copy, naming the file; nothing is left in resources/weights/."""
    found, dest = tmp_path / "fetched", tmp_path / "weights"
    found.mkdir()
    dest.mkdir()
    if problem == "truncated":
        save_file(_rgb_encoder_weights(), found / "resnet18.imagenet.safetensors")
        whole = (found / "resnet18.imagenet.safetensors").read_bytes()
        (found / "resnet18.imagenet.safetensors").write_bytes(whole[: len(whole) // 2])
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(found))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    expected = (f"{found / 'resnet18.imagenet.safetensors'}: cannot read weights" if problem == "truncated"
                else "weights 'imagenet' for encoder 'resnet18': not found locally")
    with pytest.raises(InputError, match=re.escape(expected)):
        copy_imagenet_weights("resnet18", dest / "resnet18.imagenet.safetensors")
    assert list(dest.iterdir()) == []


def test_a_job_with_a_weights_input_reads_the_workflow_copy(tmp_path, monkeypatch):
    """run_job points the ImageNet lookup at the job's `weights` input, whatever the environment said."""
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(tmp_path / "elsewhere"))
    copy = tmp_path / "resources" / "weights" / "resnet18.imagenet.safetensors"
    seen = []
    job = types.SimpleNamespace(log=[], input=types.SimpleNamespace(weights=[str(copy)]))
    run_job(job, lambda _: seen.append(os.environ["LANDSLIDES_WEIGHTS_DIR"]))
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(tmp_path / "elsewhere"))
    job = types.SimpleNamespace(log=[], input=types.SimpleNamespace(weights=[]))  # no ImageNet weights
    run_job(job, lambda _: seen.append(os.environ["LANDSLIDES_WEIGHTS_DIR"]))
    assert seen == [str(copy.parent), str(tmp_path / "elsewhere")]


@pytest.mark.parametrize("encoder, size, deep_key", [
    ("tu-tf_efficientnetv2_s", None, "blocks.5.0.conv_pw.weight"),
    ("tu-swin_tiny_patch4_window7_224", 128, "layers.2.blocks.0.attn.qkv.weight"),
])
def test_timm_encoders_take_timm_imagenet_weights(tmp_path, monkeypatch, encoder, size, deep_key):
    """refine's timm encoders (tu-*): a timm network's state dict (what timm's hub holds) loads into smp's
    wrapper, whose feature module renames "layers.0" to "layers_0"; the 3-band stem is adapted to 14 bands
    and Swin's last relative position tables are resized to the window of 128-pixel inputs."""
    import timm
    from timm.layers import resize_rel_pos_bias_table

    torch.manual_seed(0)
    trained = {k: v.contiguous() for k, v in timm.create_model(encoder.removeprefix("tu-")).state_dict().items()}
    save_file(trained, tmp_path / f"{encoder}.imagenet.safetensors")
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(tmp_path))
    spec = segmentation_spec({"arch": "unet", "encoder": encoder}, 14, input_size=size)
    model = build_model(spec, weights="imagenet")
    loaded = model.state_dict()
    flattened = "encoder.model." + (deep_key.replace(".", "_", 1) if "swin" in encoder else deep_key)
    assert torch.equal(loaded[flattened], trained[deep_key])
    if "swin" in encoder:
        table = "layers.3.blocks.0.attn.relative_position_bias_table"  # window 7 -> 4 at 128 px
        assert loaded["encoder.model.layers_3.blocks.0.attn.relative_position_bias_table"].shape == (49, 24)
        with warnings.catch_warnings():  # timm's interpolation trips torch indexing notes
            warnings.simplefilter("ignore", UserWarning)
            expected = resize_rel_pos_bias_table(trained[table], (4, 4), (49, 24))
        torch.testing.assert_close(loaded["encoder.model.layers_3.blocks.0.attn.relative_position_bias_table"],
                                   expected)
    assert "timm/" in imagenet_fetch_command(encoder)  # timm's hub repository, not an smp-hub one


def test_weights_of_another_encoder_are_refused(tmp_path):
    """A file that covers only part of the encoder (here ResNet-18's weights for a ResNet-34) would leave the
    rest random without a word: it is refused, naming the file."""
    save_file(_rgb_encoder_weights(), tmp_path / "resnet18.safetensors")
    other = dict(TINY, encoder="resnet34", weights=str(tmp_path / "resnet18.safetensors"))
    with pytest.raises(InputError, match=r"resnet18.safetensors: \d+ of the encoder's tensors are not in this file"):
        build_from_config(other, in_channels=3)


def test_an_encoder_without_imagenet_weights_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("LANDSLIDES_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(InputError, match="list no ImageNet weights for it"):
        resolve_weights("imagenet", "tu-not_a_timm_model")
