"""The sync-free augmentations against their definitions.

SAR (landslides/augment.py): the transforms are kornia's RandomGaussianBlur, RandomMotionBlur and
RandomResizedCrop re-written in fixed-shape tensor ops, so kornia's own functions are the reference here:
same kernels, same crop boxes from the same draws, same interpolation. L4S (landslides/l4s/augment.py):
the former implementation (rot90 applied to the patches chosen by a boolean mask) is the reference; the
sync-free one draws the same random numbers and must give identical batches.
"""

import pytest
import torch
import torch.nn.functional as F

from landslides import augment as sar
from landslides.l4s import augment as l4s

IGNORE = 255
SAR_CONFIG = {
    "gaussian_blur": {"p": 0.5, "kernel_size": 5, "sigma": [0.1, 1.5]},
    "gaussian_noise": {"p": 0.5, "std": 0.05},
    "motion_blur": {"p": 0.3, "kernel_size": 5, "angle": 45, "direction": 0.5},
    "resized_crop": {"p": 0.5, "scale": [0.5, 1.0], "ratio": [0.75, 1.333]},
}
CHANNELS = ["vv_before", "vh_after", "dem"]


def sar_config(**p):
    """SAR_CONFIG with the given probabilities (gaussian_blur=1.0, ...)."""
    return {name: dict(part, **({"p": p[name]} if name in p else {})) for name, part in SAR_CONFIG.items()}


def batch(n=8, c=3, size=32, seed=0):
    gen = torch.Generator().manual_seed(seed)
    images = torch.randn(n, c, size, size, generator=gen)
    target = torch.randint(0, 2, (n, size, size), generator=gen)
    target[torch.rand(n, size, size, generator=gen) < 0.2] = IGNORE
    return images, target


# ---- SAR: each transform against kornia ----

def test_gaussian_blur_matches_kornia():
    kornia = pytest.importorskip("kornia")
    images, _ = batch(n=32)
    sigma = sar._uniform(32, 0.1, 1.5, images.device)
    for k in (3, 5, 7):
        expected = kornia.filters.gaussian_blur2d(images, (k, k), sigma[:, None].expand(-1, 2), border_type="reflect")
        torch.testing.assert_close(sar.gaussian_blur(images, sigma, k), expected, rtol=0, atol=1e-5)


def test_motion_kernels_and_blur_match_kornia():
    kornia = pytest.importorskip("kornia")
    images, _ = batch(n=40)
    angle = sar._uniform(40, -180, 180, images.device)
    direction = sar._uniform(40, -1, 1, images.device)
    angle[:10] = torch.tensor([0.0, 30.0, 45.0, 90.0, 120.0, -30.0, 150.0, 215.0, 360.0, -135.0])  # exact ties
    direction[:3] = torch.tensor([-1.0, 0.0, 1.0])
    for k in (3, 5, 7):
        expected_kernels = kornia.filters.get_motion_kernel2d(k, angle, direction)
        assert torch.equal(sar.motion_kernels(angle, direction, k), expected_kernels)
        expected = kornia.filters.motion_blur(images, k, angle, direction, border_type="constant", mode="nearest")
        torch.testing.assert_close(sar.motion_blur(images, angle, direction, k), expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize(("size", "scale", "ratio"), [
    ((32, 32), (0.5, 1.0), (0.75, 1.333)),  # the config default
    ((32, 48), (0.08, 1.0), (0.75, 1.333)),
    ((40, 16), (0.3, 0.9), (2.0, 3.0)),  # no try fits: the fallback box
    ((16, 40), (0.9, 1.0), (0.2, 0.5)),
])
def test_crop_boxes_are_kornias_from_the_same_draws(size, scale, ratio):
    rg = pytest.importorskip("kornia.augmentation.random_generator")
    generator = rg.ResizedCropGenerator(size, scale, ratio)
    generator.set_rng_device_and_dtype(torch.device("cpu"), torch.float32)
    torch.manual_seed(3)
    src = generator((300, 1, *size))["src"].long()  # (N, 4, 2) corners (x, y)
    torch.manual_seed(3)
    y0, x0, h, w = sar.random_crop_boxes(300, *size, scale, ratio, torch.device("cpu"))
    assert torch.equal(x0, src[:, 0, 0]) and torch.equal(y0, src[:, 0, 1])
    assert torch.equal(w, src[:, 1, 0] - src[:, 0, 0] + 1) and torch.equal(h, src[:, 3, 1] - src[:, 0, 1] + 1)
    assert (x0 >= 0).all() and (x0 + w <= size[1]).all() and (y0 >= 0).all() and (y0 + h <= size[0]).all()


@pytest.mark.parametrize("crop", [sar._resized_crop_gather, sar._resized_crop_each], ids=["gather", "each"])
@pytest.mark.parametrize("out_size", [32, 20, 45, 1])
def test_resized_crop_is_slice_then_interpolate(out_size, crop):
    """kornia's RandomResizedCrop ('slice' mode): slice the box, resize the image bilinearly
    (align_corners=True) and the mask by nearest-exact. The same box for both: labels move with images.
    Both implementations: the device's gathers and the CPU's per-sample interpolation."""
    images, target = batch(n=64)
    boxes = sar.random_crop_boxes(64, 32, 32, (0.08, 1.0), (0.5, 2.0), images.device)
    out_images, out_target = crop(images, target, boxes, out_size)
    for i in range(64):
        y0, x0, h, w = (int(b[i]) for b in boxes)
        crop = images[i : i + 1, :, y0 : y0 + h, x0 : x0 + w]
        expected = F.interpolate(crop, (out_size, out_size), mode="bilinear", align_corners=True)
        torch.testing.assert_close(out_images[i : i + 1], expected, rtol=0, atol=1e-5)
        mask = target[i : i + 1, None, y0 : y0 + h, x0 : x0 + w].float()
        expected_mask = F.interpolate(mask, (out_size, out_size), mode="nearest-exact").long()[:, 0]
        assert torch.equal(out_target[i : i + 1], expected_mask)


@pytest.mark.parametrize("crop", [sar._resized_crop_gather, sar._resized_crop_each], ids=["gather", "each"])
def test_whole_image_crop_is_the_identity(crop):
    images, target = batch()
    boxes = sar.random_crop_boxes(8, 32, 32, (1.0, 1.0), (1.0, 1.0), images.device)
    assert all((b == v).all() for b, v in zip(boxes, (0, 0, 32, 32), strict=True))
    out_images, out_target = crop(images, target, boxes, 32)
    assert torch.equal(out_images, images) and torch.equal(out_target, target)


# ---- SAR: the whole augmentation ----

def build(**p):
    return sar.build_sar_augmentation(sar_config(**p), 32, CHANNELS, [1.0, 1.0, 1.0])


def test_all_probabilities_zero_is_the_identity():
    images, target = batch()
    out_images, out_target = build(gaussian_blur=0, gaussian_noise=0, motion_blur=0, resized_crop=0)(images, target)
    assert torch.equal(out_images, images) and torch.equal(out_target, target)


def test_blurs_and_noise_are_drawn_per_sample_and_leave_the_mask():
    images, target = batch(n=64)
    torch.manual_seed(0)
    out_images, out_target = build(resized_crop=0)(images, target)
    assert torch.equal(out_target, target)
    changed = (out_images != images).flatten(1).any(1)
    assert 0 < changed.sum() < 64  # each sample draws its own transforms (p = 0.5, 0.3, 0.5)
    assert torch.equal(out_images[~changed], images[~changed])  # the others are untouched, bit for bit


def test_crop_is_drawn_per_batch_like_kornia_and_keeps_labels():
    """kornia's RandomResizedCrop(p) gates the batch (p_batch = p): all samples cropped, each with its own
    box, or none. Nearest resampling keeps the label values and the ignore value; samples that are all
    ignore stay all ignore."""
    images, target = batch(n=16)
    target[0] = IGNORE
    target[1] = 1
    outcomes = set()
    for seed in range(12):
        torch.manual_seed(seed)
        out_images, out_target = build(gaussian_blur=0, gaussian_noise=0, motion_blur=0)(images, target)
        moved = (out_target != target).flatten(1).any(1)
        outcomes.add((bool(moved.any()), bool(moved[2:].all())))
        assert out_images.shape == images.shape and out_target.dtype == torch.int64
        assert set(out_target.unique().tolist()) <= {0, 1, IGNORE}
        assert (out_target[0] == IGNORE).all() and (out_target[1] == 1).all()
    assert outcomes == {(False, False), (True, True)}


def test_crop_to_another_size_needs_p_one():
    images, target = batch()
    config = sar_config(gaussian_blur=0, gaussian_noise=0, motion_blur=0, resized_crop=1.0)
    out_images, out_target = sar.build_sar_augmentation(config, 24, CHANNELS, [1.0] * 3)(images, target)
    assert out_images.shape == (8, 3, 24, 24) and out_target.shape == (8, 24, 24)
    with pytest.raises(ValueError, match="needs p = 1"):
        sar.build_sar_augmentation(sar_config(), 24, CHANNELS, [1.0] * 3)(images, target)


def test_invalid_ranges_are_rejected():
    config = sar_config()
    config["resized_crop"] = dict(config["resized_crop"], ratio=[1.5, 1.0])
    with pytest.raises(ValueError, match="ratio range"):
        sar.build_sar_augmentation(config, 32, CHANNELS, [1.0] * 3)


# ---- L4S: against the former implementation ----

def reference_rot90(images, target):
    """The former random_rot90 (the specification): same draw, rot90 of the patches chosen by a mask."""
    k = torch.randint(0, 4, (images.shape[0],), device=images.device)
    images, target = images.clone(), target.clone()
    for turns in (1, 2, 3):
        chosen = k == turns
        if chosen.any():
            images[chosen] = torch.rot90(images[chosen], turns, dims=(-2, -1))
            target[chosen] = torch.rot90(target[chosen], turns, dims=(-2, -1))
    return images, target


def reference_flips(images, target):
    """The former random_flips (already without sync): flip left-right, then up-down, each with p = 1/2."""
    n = images.shape[0]
    for dim in (-1, -2):
        flip = (torch.rand(n, device=images.device) < 0.5).view(-1, 1, 1, 1)
        images = torch.where(flip, images.flip(dim), images)
        target = torch.where(flip[:, 0], target.flip(dim), target)
    return images, target


def reference_color(images, *, p, gain, offset, band_jitter):
    """The former color_perturbation: the same draws, applied to the 12 spectral bands by slicing."""
    n, device = images.shape[0], images.device
    apply = torch.rand(n, 1, 1, 1, device=device) < p
    a = 1.0 + gain * (2.0 * torch.rand(n, 1, 1, 1, device=device) - 1.0)
    a = a * (1.0 + band_jitter * (2.0 * torch.rand(n, l4s.N_SPECTRAL, 1, 1, device=device) - 1.0))
    b = offset * (2.0 * torch.rand(n, 1, 1, 1, device=device) - 1.0)
    a, b = torch.where(apply, a, 1.0), torch.where(apply, b, 0.0)
    return torch.cat([images[:, :l4s.N_SPECTRAL] * a + b, images[:, l4s.N_SPECTRAL:]], dim=1)


L4S_CONFIG = {"flip": True, "rot90": True, "color": {"p": 0.5, "gain": 0.2, "offset": 0.3, "band_jitter": 0.1}}


def l4s_batch(n=32, size=16):
    images, target = batch(n=n, c=14, size=size)
    return images, target


@pytest.mark.parametrize(("new", "old"), [(l4s.random_rot90, reference_rot90), (l4s.random_flips, reference_flips)])
def test_l4s_geometric_transforms_equal_the_former_ones(new, old):
    images, target = l4s_batch()
    for seed in range(4):
        torch.manual_seed(seed)
        expected = old(images, target)
        torch.manual_seed(seed)
        got = new(images, target)
        assert torch.equal(got[0], expected[0]) and torch.equal(got[1], expected[1])


@pytest.mark.parametrize("config", [
    L4S_CONFIG,
    dict(L4S_CONFIG, flip=False),
    dict(L4S_CONFIG, rot90=False, color=dict(L4S_CONFIG["color"], p=1.0)),
    dict(L4S_CONFIG, flip=False, rot90=False),
])
def test_l4s_augmentation_equals_the_former_sequence(config):
    """Same values as the former transforms from the same draws; the caller's batch is never written (the
    color step works in place only on the moved copy)."""
    images, target = l4s_batch()
    original = images.clone()
    for seed in range(3):
        torch.manual_seed(seed)
        expected_images, expected_target = images, target
        if config["flip"]:
            expected_images, expected_target = reference_flips(expected_images, expected_target)
        if config["rot90"]:
            expected_images, expected_target = reference_rot90(expected_images, expected_target)
        color = config["color"]
        expected_images = reference_color(expected_images, p=color["p"], gain=color["gain"],
                                          offset=color["offset"], band_jitter=color["band_jitter"])
        torch.manual_seed(seed)
        out_images, out_target = l4s.build_l4s_augmentation(config)(images, target)
        assert torch.equal(out_images, expected_images) and torch.equal(out_target, expected_target)
        assert torch.equal(images, original)


def test_l4s_flips_and_rotations_permute_pixels_with_their_labels():
    """Every patch's pixels are only moved (same multiset of values per band), the label moves with its
    pixel, and ignore pixels stay ignore."""
    images, target = l4s_batch()
    images[:, 0] = torch.arange(16 * 16.0).view(16, 16)  # band 0: the pixel's own index
    torch.manual_seed(0)
    out_images, out_target = l4s.build_l4s_augmentation(dict(L4S_CONFIG, color={"p": 0.0}))(images, target)
    source = out_images[:, 0].long().flatten(1)  # where each output pixel came from
    assert torch.equal(source.sort(1).values, torch.arange(256).expand(32, -1))  # a permutation
    assert torch.equal(out_target.flatten(1), target.flatten(1).gather(1, source))  # labels moved along
    assert torch.equal(out_images.flatten(2), images.flatten(2).gather(2, source[:, None].expand(-1, 14, -1)))
    assert torch.equal((out_target == IGNORE).sum((1, 2)), (target == IGNORE).sum((1, 2)))


@pytest.mark.parametrize(("flip", "rot90"), [(True, True), (True, False), (False, True)])
def test_l4s_cpu_moves_equal_the_device_gather(flip, rot90):
    """The CPU's per-patch flips and turns move exactly the pixels the device path's index map gathers."""
    images, target = l4s_batch()
    torch.manual_seed(5)
    moves = l4s._draw_moves(images.shape[0], images.device, flip=flip, rot90=rot90)
    per_patch = l4s._move_each(images, target, *moves)
    gathered = l4s._gather_pixels(images, target, l4s._index_map(images, *moves))
    assert torch.equal(per_patch[0], gathered[0]) and torch.equal(per_patch[1], gathered[1])


@pytest.mark.parametrize("chosen", ["some", "none", "all"])
def test_sar_cpu_blend_equals_the_device_where(chosen):
    """On the CPU the blurs run on the chosen samples only; the batch must equal the device path's
    torch.where over the whole batch's transform."""
    images, _ = batch(n=8)
    gen = torch.Generator().manual_seed(1)
    apply = {"some": torch.rand(8, generator=gen) < 0.5, "none": torch.zeros(8, dtype=torch.bool),
             "all": torch.ones(8, dtype=torch.bool)}[chosen]
    sigma, angle, direction = torch.rand(8, generator=gen) + 0.1, torch.rand(8) * 90 - 45, torch.rand(8) - 0.5
    cases = [(lambda x, s: sar.gaussian_blur(x, s, 5), (sigma,)),
             (lambda x, a, d: sar.motion_blur(x, a, d, 5), (angle, direction))]
    for transform, params in cases:
        expected = torch.where(apply.view(-1, 1, 1, 1), transform(images, *params), images)
        torch.testing.assert_close(sar._blend(apply, transform, images, *params), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_speckle_noise_touches_the_sar_channels_of_the_chosen_samples(device):
    """Noise of the configured size (log units / channel std) on vv and vh of the samples drawn (p = 0.5);
    the DEM channel and the other samples are untouched. On the meta device: the device path's shapes."""
    std = torch.tensor([0.05 / 2.0, 0.05 / 0.5, 0.0])  # vv std 2, vh std 0.5, dem: no noise
    noise = sar.SpeckleNoise(std, p=0.5).to(device)
    images = torch.zeros(400, 3, 16, 16, device=device)
    torch.manual_seed(0)
    out = noise(images)
    assert out.shape == images.shape
    if device == "meta":
        return
    changed = (out != 0).flatten(1).any(1)
    assert 150 < changed.sum() < 250
    assert (out[:, 2] == 0).all()
    torch.testing.assert_close(out[changed, :2].std(dim=(0, 2, 3)), std[:2], rtol=0.02, atol=0)
