"""No host synchronisation in the training step's losses, augmentations and cross-sensor normalization
(issue #14, item 2).

On a GPU the host queues kernels and runs ahead; anything that needs a value back on the host (.item(),
bool(tensor), a count turned into a Python int, x[mask], nonzero, unique, a shape that depends on the
data, a blocking copy to or from the device) makes it wait until the GPU has caught up, every step.

Without a GPU this is checked on the meta device: meta tensors have shapes and dtypes but no values, so
any such read raises, and so does every operator whose output shape depends on values (nonzero, x[mask],
unique). A mode on top rejects copies of host data onto the device (torch.tensor(..., device=...), a CPU
tensor moved with .to(device)): these also wait for the GPU, unless pinned and non-blocking. With CUDA the
real thing runs under torch.cuda.set_sync_debug_mode("error"). The losses are also traced whole by
torch.compile(fullgraph=True), which fails on any Python branch on a tensor value.
"""

import pytest
import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from landslides.augment import build_sar_augmentation
from landslides.csn import TARGET, CrossSensorNorm2d
from landslides.l4s.augment import build_l4s_augmentation
from landslides.losses import LOSSES, build_loss

# Every loss with its defaults and the parameters that change its code path.
LOSS_PARAMS = [
    ("ce", {}), ("soft_ce", {}), ("ohem", {}), ("ohem", {"min_kept": 10}), ("lovasz", {}),
    ("lovasz", {"per_image": True, "only_present": False}), ("lovasz_hinge", {}),
    ("lovasz_hinge", {"per_image": False}), ("dice", {}), ("slo", {}), ("slo", {"per_image": True, "min_kept": 5}),
]
LOSS_IDS = [f"{name}-{params}" for name, params in LOSS_PARAMS]
SAR_CONFIG = {
    "gaussian_blur": {"p": 0.5, "kernel_size": 5, "sigma": [0.1, 1.5]},
    "gaussian_noise": {"p": 0.5, "std": 0.05},
    "motion_blur": {"p": 0.3, "kernel_size": 5, "angle": 45, "direction": 0.5},
    "resized_crop": {"p": 0.5, "scale": [0.5, 1.0], "ratio": [0.75, 1.333]},
}
L4S_CONFIG = {"flip": True, "rot90": True, "color": {"p": 0.5, "gain": 0.2, "offset": 0.3, "band_jitter": 0.1}}
HOST_DATA_FACTORIES = {torch.tensor, torch.as_tensor, torch.asarray, torch.from_numpy}


def augmentations():
    return {
        "sar": (build_sar_augmentation(SAR_CONFIG, 32, ["vv_before", "vh_after", "dem"], [1.0, 2.0, 1.0]), 3),
        "l4s": (build_l4s_augmentation(L4S_CONFIG), 14),
    }


class _NoHostData(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        device = kwargs.get("device")
        if func in HOST_DATA_FACTORIES and device is not None and torch.device(device).type != "cpu":
            raise AssertionError(f"{func.__name__}(..., device={device}): host data copied to the device")
        return func(*args, **kwargs)


class _NoCopyToDevice(TorchDispatchMode):
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in (torch.ops.aten._to_copy.default, torch.ops.aten.copy_.default):
            sources = [a for a in args[1:2] if isinstance(a, torch.Tensor)] if func is torch.ops.aten.copy_.default \
                else [args[0]]
            target = out if isinstance(out, torch.Tensor) else args[0]
            if any(s.device.type == "cpu" for s in sources) and target.device.type != "cpu":
                raise AssertionError(f"{func}: a CPU tensor copied to {target.device}")
        return out


class no_host_transfers:
    """Context: fail on host data copied to the device (factories with a device, CPU -> device copies)."""

    def __enter__(self):
        self.modes = [_NoHostData(), _NoCopyToDevice()]
        for mode in self.modes:
            mode.__enter__()

    def __exit__(self, *exc):
        for mode in reversed(self.modes):
            mode.__exit__(*exc)


# ---- the harness itself catches what it must ----

@pytest.mark.parametrize("offender", [
    lambda x, t: x.sum().item(),
    lambda x, t: bool((t == 1).any()),
    lambda x, t: x[t[:, None].expand_as(x) == 1],
    lambda x, t: t.unique(),
    lambda x, t: (t == 1).nonzero(),
    lambda x, t: x.cpu(),
    lambda x, t: x + torch.tensor([1.0, 2.0], device=x.device).view(1, 2, 1, 1),
    lambda x, t: x + torch.ones(1, 2, 1, 1).to(x.device),
], ids=["item", "bool", "mask-index", "unique", "nonzero", "to-host", "tensor-factory", "cpu-to-device"])
def test_harness_rejects_host_synchronisation(offender):
    x = torch.randn(2, 2, 4, 4, device="meta")
    t = torch.randint(0, 2, (2, 4, 4), device="meta")
    with pytest.raises((RuntimeError, NotImplementedError, AssertionError)), no_host_transfers():
        offender(x, t)


# ---- losses and augmentations on the meta device ----

@pytest.mark.parametrize(("name", "params"), LOSS_PARAMS, ids=LOSS_IDS)
def test_loss_forward_and_backward_read_no_value(name, params):
    logits = torch.randn(4, 2, 16, 16, device="meta", requires_grad=True)
    target = torch.randint(0, 2, (4, 16, 16), device="meta")
    with no_host_transfers():
        loss = build_loss(name, **params)(logits, target)
        loss.backward()
    assert loss.shape == () and logits.grad.shape == logits.shape


def test_every_loss_is_checked():
    assert {name for name, _ in LOSS_PARAMS} == set(LOSSES)


@pytest.mark.parametrize("name", ["sar", "l4s"])
def test_augmentation_reads_no_value(name):
    augment, channels = augmentations()[name]
    augment = augment.to("meta")  # as fit moves it to the training device
    images = torch.randn(8, channels, 32, 32, device="meta")
    target = torch.randint(0, 2, (8, 32, 32), device="meta")
    with no_host_transfers():
        out_images, out_target = augment(images, target)
    assert out_images.shape == images.shape and out_target.shape == target.shape
    assert out_target.dtype == torch.int64


def _csn_layer(device: str) -> CrossSensorNorm2d:
    layer = CrossSensorNorm2d(8).to(device).train()
    layer.n_source = 2  # a mixed batch: 2 source samples, then target samples
    return layer


def test_cross_sensor_norm_reads_no_value():
    layer = _csn_layer("meta")
    x = torch.randn(6, 8, 16, 16, device="meta", requires_grad=True)
    with no_host_transfers():
        layer(x).sum().backward()
        layer.eval_domain = TARGET  # evaluation picks the target's statistics without a read
        y = layer.eval()(x)
    assert x.grad.shape == x.shape and y.shape == x.shape


# ---- no Python branch on a tensor value: the losses trace as one graph ----

@pytest.mark.parametrize(("name", "params"), LOSS_PARAMS, ids=LOSS_IDS)
def test_loss_compiles_as_one_graph(name, params):
    """torch.compile(fullgraph=True) raises on a graph break: data-dependent branching, .item(),
    data-dependent shapes. The "eager" backend only traces (no code generation), so this takes seconds."""
    torch._dynamo.reset()
    loss_fn = build_loss(name, **params)
    compiled = torch.compile(loss_fn, fullgraph=True, backend="eager")
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 2, 8, 8, generator=gen, requires_grad=True)
    target = torch.randint(0, 2, (2, 8, 8), generator=gen)
    target[0, :3] = 255
    torch.testing.assert_close(compiled(logits, target), loss_fn(logits, target))


# ---- the real thing, where there is a GPU ----

@pytest.mark.skipif(not torch.cuda.is_available(),
                    reason="needs CUDA: torch.cuda.set_sync_debug_mode reports GPU synchronisations only "
                           "(the meta-device tests above stand in for it)")
def test_no_synchronisation_on_cuda():
    device = torch.device("cuda")
    logits = torch.randn(16, 2, 64, 64, device=device, requires_grad=True)
    target = torch.randint(0, 2, (16, 64, 64), device=device)
    target[:, :5] = 255
    def loss_step(loss_fn):
        return lambda: loss_fn(logits, target).backward()

    steps = [loss_step(build_loss(name, **params)) for name, params in LOSS_PARAMS]
    chip_target = target[:, :32, :32].contiguous()  # the SAR augmentation is built for 32 px chips
    layer, features = _csn_layer("cuda"), torch.randn(6, 8, 16, 16, device=device, requires_grad=True)
    steps.append(lambda: layer(features).sum().backward())
    for augment, channels in augmentations().values():
        augment = augment.to(device)
        images = torch.randn(16, channels, 32, 32, device=device)
        steps.append(lambda augment=augment, images=images: augment(images, chip_target))
    for step in steps:  # first calls initialise cuBLAS/cuDNN handles and the caching allocator
        step()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        for _ in range(3):
            for step in steps:
                step()
    finally:
        torch.cuda.set_sync_debug_mode(0)
    torch.cuda.synchronize()
