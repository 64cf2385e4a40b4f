"""SAR augmentations on the training device, applied to image and mask together.

Geometric transforms (random resized crop) move the mask with the image (nearest interpolation,
so the ignore value survives); photometric ones (blurs, noise) touch the image only. Nothing is
clipped: the inputs are normalized log amplitudes, not bounded intensities.

The transforms are those of kornia's RandomGaussianBlur, RandomMotionBlur and RandomResizedCrop with
their default options (same parameter distributions, kernels and interpolation; tests/test_augment.py
checks them against kornia), written in plain tensor operations so that a batch on the GPU is augmented
without the host ever waiting for it: random draws are made on the batch's device, every sample's
transform is computed with fixed-shape ops (per-sample kernels in a grouped convolution, crops as
index gathers) and `torch.where` picks the transformed or the original sample. kornia itself reads
its random parameters back to the host (`.item()`, `.tolist()`) once they live on the GPU. On the CPU,
where reading a draw costs nothing, the draws are read: only the chosen samples are blurred and noised, a
batch that is not cropped skips the crop, and the crop is kornia's own slice and interpolation. The same
transforms in a third of the time for the transfer batches; the noise, drawn for fewer values, follows
another random stream than on a device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

# kornia snaps rotated kernel coordinates to this grid before rounding, so that a source exactly between
# two taps is an exact tie (broken half to even) whatever the roundoff of cos and sin.
_SNAP = 2.0**20


def _per_sample(apply: torch.Tensor) -> torch.Tensor:
    """(N,) bool -> (N, 1, 1, 1) for torch.where over (N, C, H, W)."""
    return apply.view(-1, 1, 1, 1)


def _blend(apply: torch.Tensor, transform, images: torch.Tensor, *params: torch.Tensor) -> torch.Tensor:
    """`images` with `transform(images, *params)` in the samples where `apply` (N,) is true; `params` are
    per-sample (N,) tensors.

    On a device every sample is transformed and torch.where picks (no branch on a drawn value). On the CPU,
    where reading `apply` costs nothing, only the chosen samples are transformed: the same values for a
    fraction of the work (a blur with p = 0.5 touches half the batch).
    """
    if images.device.type != "cpu":
        return torch.where(_per_sample(apply), transform(images, *params), images)
    chosen = apply.nonzero()[:, 0]
    if chosen.numel() == 0:
        return images
    out = images.clone()
    out[chosen] = transform(images[chosen], *(param[chosen] for param in params))
    return out


def _uniform(n: int, low: float, high: float, device: torch.device) -> torch.Tensor:
    """(n,) float32 draws in [low, high), as kornia's Uniform(low, high).rsample: low + U * (high - low)."""
    low32, span32 = _float32(low), _float32(_float32(high) - _float32(low))
    return torch.rand(n, device=device) * span32 + low32


def _float32(x: float) -> float:
    """x rounded to float32 (a Python float again): constants used exactly as kornia's float32 tensors."""
    return float(torch.tensor(x, dtype=torch.float32))


def _depthwise(images: torch.Tensor, kernels: torch.Tensor, padding: tuple[int, int]) -> torch.Tensor:
    """Correlate every channel of sample n with kernels[n] (N, kh, kw): one grouped convolution."""
    n, c, h, w = images.shape
    weight = kernels.to(images.dtype)[:, None].expand(n, c, *kernels.shape[1:]).reshape(n * c, 1, *kernels.shape[1:])
    out = F.conv2d(images.reshape(1, n * c, h, w), weight, padding=padding, groups=n * c)
    return out.view(n, c, *out.shape[-2:])


def gaussian_kernels(sigma: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """(N,) sigmas -> (N, k) normalized Gaussian taps centred on k // 2 (kornia's get_gaussian_kernel1d)."""
    x = torch.arange(kernel_size, device=sigma.device, dtype=sigma.dtype) - kernel_size // 2
    gauss = torch.exp(-(x**2) / (2 * sigma[:, None] ** 2))
    return gauss / gauss.sum(-1, keepdim=True)


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Gaussian blur, one sigma per sample (N,), reflect padding (kornia's gaussian_blur2d).

    The 2-D kernel is the outer product of the 1-D taps (what the separable passes compute, up to
    rounding): one k x k depthwise convolution is several times faster on the CPU than two 1-D ones.
    """
    r = kernel_size // 2
    taps = gaussian_kernels(sigma, kernel_size)
    kernels = taps[:, :, None] * taps[:, None, :]
    # A narrow Gaussian's outer taps are subnormal floats (sigma below about 0.25), and a CPU multiplies
    # those 10-100x slower: the blur of a 7-channel batch took 3 to 22 ms by the sigmas drawn. They weigh
    # less than 1e-38 of the centre tap, so setting them to 0 changes the output by rounding at most.
    kernels = torch.where(kernels < torch.finfo(kernels.dtype).tiny, 0.0, kernels)
    padded = F.pad(images, [r, r, r, r], mode="reflect")
    return _depthwise(padded, kernels, padding=(0, 0))


def motion_kernels(angle: torch.Tensor, direction: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """(N,) angles (degrees) and directions in [-1, 1] -> (N, k, k) kernels (kornia's get_motion_kernel2d).

    A line along the middle row, weighted linearly from (1 + direction) / 2 at the left end to
    (1 - direction) / 2 at the right, rotated counter-clockwise by `angle` with nearest sampling (exact
    ties to even, as kornia does it in float64), then normalized to sum 1.
    """
    k, center = kernel_size, (kernel_size - 1) / 2
    d = (direction.clamp(-1.0, 1.0) + 1.0) / 2.0
    step = (1 - 2 * d) / (k - 1)
    line = d[:, None] + step[:, None] * torch.arange(k, device=d.device, dtype=d.dtype)  # (N, k)
    radians = torch.deg2rad(angle.to(torch.float64) % 360.0)
    cos, sin = radians.cos()[:, None, None], radians.sin()[:, None, None]
    offsets = torch.arange(k, device=angle.device, dtype=torch.float64) - center
    v, u = torch.meshgrid(offsets, offsets, indexing="ij")
    col = (((cos * u - sin * v) * _SNAP).round() / _SNAP + center).round()
    row = (((sin * u + cos * v) * _SNAP).round() / _SNAP + center).round()
    on_line = (row == center) & (col >= 0) & (col < k)  # the unrotated kernel is zero off its middle row
    taps = line.gather(1, col.clamp(0, k - 1).long().flatten(1)).view(-1, k, k)
    kernel = torch.where(on_line, taps, 0.0)
    return kernel / kernel.sum(dim=(1, 2), keepdim=True)


def motion_blur(images: torch.Tensor, angle: torch.Tensor, direction: torch.Tensor, kernel_size: int) -> torch.Tensor:
    """Motion blur with one kernel per sample and zero padding (RandomMotionBlur's default border)."""
    r = kernel_size // 2
    return _depthwise(images, motion_kernels(angle, direction, kernel_size), padding=(r, r))


def random_crop_boxes(n: int, height: int, width: int, scale: tuple[float, float], ratio: tuple[float, float],
                      device: torch.device) -> tuple[torch.Tensor, ...]:
    """Crop boxes (y0, x0, h, w), each (N,) int64, drawn as kornia's ResizedCropGenerator draws them.

    Ten tries per sample of an area fraction in `scale` and a log-uniform aspect ratio in `ratio`; the
    first box that fits is kept, else the whole image (or the largest centred box of an allowed ratio);
    then a uniform position. The same four uniform draws in the same order as kornia (10, 10, 1, 1 per
    sample), so on the CPU with the same seed the boxes are kornia's.
    """
    s0, s1 = _float32(scale[0]), _float32(scale[1])
    area = (torch.rand(n, 10, device=device) * _float32(s1 - s0) + s0) * height * width
    log_lo = float(torch.log(torch.tensor(ratio[0], dtype=torch.float32)))
    log_hi = float(torch.log(torch.tensor(ratio[1], dtype=torch.float32)))
    log_ratio = torch.rand(n, 10, device=device) * _float32(log_hi - log_lo) + log_lo
    aspect = torch.exp(log_ratio)
    w = torch.sqrt(area * aspect).round()
    h = torch.sqrt(area / aspect).round()
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    found, first = ((fits.cumsum(1) == 1) & fits).int().max(1)
    h_out, w_out = h.gather(1, first[:, None])[:, 0], w.gather(1, first[:, None])[:, 0]
    in_ratio, lo, hi = width / height, min(ratio), max(ratio)
    if in_ratio < lo:
        w_ct, h_ct = float(width), float(round(width / lo))
    elif in_ratio > hi:
        w_ct, h_ct = float(round(height * hi)), float(height)
    else:
        w_ct, h_ct = float(width), float(height)
    h_out = torch.where(found.bool(), h_out, h_ct).clamp(1, height)
    w_out = torch.where(found.bool(), w_out, w_ct).clamp(1, width)
    x0 = (torch.rand(n, device=device) * (width - w_out + 1).clamp_min(0)).floor()
    y0 = (torch.rand(n, device=device) * (height - h_out + 1).clamp_min(0)).floor()
    return y0.long(), x0.long(), h_out.long(), w_out.long()


def _bilinear_taps(start: torch.Tensor, length: torch.Tensor, size: int) -> tuple[torch.Tensor, ...]:
    """Source indices and weights of F.interpolate(bilinear, align_corners=True) from `length` to `size`
    pixels, shifted by `start`: (i0, i1, lambda1), each (N, size), as PyTorch's upsampling computes them."""
    scale = (length - 1).float() / (size - 1) if size > 1 else torch.zeros_like(length, dtype=torch.float32)
    src = scale[:, None] * torch.arange(size, device=start.device)
    i0 = src.long()  # src >= 0: truncation is the floor
    lam = (src - i0).clamp(0.0, 1.0)
    i1 = i0 + (i0 < (length - 1)[:, None]).long()
    return start[:, None] + i0, start[:, None] + i1, lam


def _nearest_exact_index(start: torch.Tensor, length: torch.Tensor, size: int) -> torch.Tensor:
    """Source indices of F.interpolate(nearest-exact) from `length` to `size` pixels, shifted by `start`:
    min(floor((j + 0.5) * scale), length - 1) with PyTorch's float32 scale and rounding."""
    scale = length.float() / size
    j = torch.arange(size, device=start.device, dtype=torch.float64) + 0.5
    src = (j * scale.double()[:, None]).float().floor().long()
    return start[:, None] + torch.minimum(src, (length - 1)[:, None])


def _gather_rows(x: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """x (N, C, H, W), rows (N, h) -> x[n, :, rows[n], :]: (N, C, h, W), as one gather along the flattened
    pixel axis (the fast case of gather)."""
    n, c, _, width = x.shape
    flat = (rows[:, :, None] * width + torch.arange(width, device=x.device)).view(n, 1, -1)
    return x.reshape(n, c, -1).gather(2, flat.expand(n, c, -1)).view(n, c, rows.shape[1], width)


def _gather_cols(x: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """x (N, C, H, W), cols (N, w) -> x[n, :, :, cols[n]]: (N, C, H, w)."""
    n, c, height, _ = x.shape
    return x.gather(3, cols[:, None, None, :].expand(n, c, height, -1))


def resized_crop(images: torch.Tensor, target: torch.Tensor, boxes: tuple[torch.Tensor, ...],
                 size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Crop box (y0, x0, h, w) of each sample and resize it to size x size: the image bilinearly
    (align_corners=True), the integer target by nearest-exact, like kornia's RandomResizedCrop ("slice"
    mode: a slice of the box, then F.interpolate).

    On a device as gathers with per-sample indices (no box leaves the device); on the CPU, where reading
    the boxes costs nothing, kornia's own slice and F.interpolate per sample, about 5x faster there.
    """
    if images.device.type == "cpu":
        return _resized_crop_each(images, target, boxes, size)
    return _resized_crop_gather(images, target, boxes, size)


def _resized_crop_each(images: torch.Tensor, target: torch.Tensor, boxes: tuple[torch.Tensor, ...],
                       size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """resized_crop sample by sample: slice the box, F.interpolate it."""
    out_images = images.new_empty(*images.shape[:2], size, size)
    out_target = target.new_empty(target.shape[0], size, size)
    for i, (y0, x0, h, w) in enumerate(zip(*(box.tolist() for box in boxes), strict=True)):
        crop = images[i : i + 1, :, y0 : y0 + h, x0 : x0 + w]
        out_images[i] = F.interpolate(crop, (size, size), mode="bilinear", align_corners=True)[0]
        labels = target[i : i + 1, None, y0 : y0 + h, x0 : x0 + w].float()  # class ids and 255 are exact
        out_target[i] = F.interpolate(labels, (size, size), mode="nearest-exact")[0, 0].to(target.dtype)
    return out_images, out_target


def _resized_crop_gather(images: torch.Tensor, target: torch.Tensor, boxes: tuple[torch.Tensor, ...],
                         size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """resized_crop as gathers: the target's indices are exactly F.interpolate's; the image is interpolated
    rows first, then columns, with lerp (equal to F.interpolate's weights up to float rounding, a few 1e-7).
    """
    y0, x0, h, w = boxes
    r0, r1, ly = _bilinear_taps(y0, h, size)
    c0, c1, lx = _bilinear_taps(x0, w, size)
    rows = torch.lerp(_gather_rows(images, r0), _gather_rows(images, r1), ly[:, None, :, None])
    out_images = torch.lerp(_gather_cols(rows, c0), _gather_cols(rows, c1), lx[:, None, None, :])
    out_rows, out_cols = _nearest_exact_index(y0, h, size), _nearest_exact_index(x0, w, size)
    out_target = _gather_cols(_gather_rows(target[:, None], out_rows), out_cols)[:, 0]
    return out_images, out_target


class SpeckleNoise(nn.Module):
    """Gaussian noise added to the log amplitudes of the SAR channels only (speckle-like).

    `std_per_channel` is the noise std in log units divided by each channel's normalization std, so
    the noise is the configured size in log amplitude whatever the normalization; 0 for non-SAR channels,
    which get no noise drawn at all. Each sample is noised with probability p, chosen by `_blend` (on the
    CPU only those samples draw noise). The noised channels are a fixed list, so each is a plain slice (no
    index kernel, deterministic on CUDA too).
    """

    def __init__(self, std_per_channel: torch.Tensor, p: float) -> None:
        super().__init__()
        noisy = (std_per_channel > 0).nonzero()[:, 0]
        self.channels = noisy.tolist()
        self.register_buffer("std", std_per_channel[noisy].view(1, -1, 1, 1).float())
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        apply = torch.rand(x.shape[0], device=x.device) < self.p
        if not self.channels:
            return x
        return _blend(apply, self._add_noise, x)

    def _add_noise(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        noise = torch.randn(n, len(self.channels), h, w, device=x.device, dtype=x.dtype) * self.std.to(x.dtype)
        out = x.clone()
        for j, channel in enumerate(self.channels):
            out[:, channel] += noise[:, j]
        return out


class SarAugmentation(nn.Module):
    """The Prapas et al. augmentation set: Gaussian blur, motion blur, speckle-like noise, resized crop.

    In that order, as the former kornia pipeline: the blurs and the noise are drawn per sample (each with
    its probability p), the crop as kornia's RandomResizedCrop(p) does it: with probability p the whole
    batch is cropped, each sample with its own box.
    """

    def __init__(self, config: dict, chip_size: int, noise_std_per_channel: torch.Tensor) -> None:
        super().__init__()
        blur, motion, crop = config["gaussian_blur"], config["motion_blur"], config["resized_crop"]
        self.blur_p, self.blur_kernel = blur["p"], blur["kernel_size"] | 1  # odd kernels, as kornia needs
        self.blur_sigma = (float(blur["sigma"][0]), float(blur["sigma"][1]))
        self.motion_p, self.motion_kernel = motion["p"], motion["kernel_size"] | 1
        self.motion_angle, self.motion_direction = float(motion["angle"]), float(motion["direction"])
        self.noise = SpeckleNoise(noise_std_per_channel * 1.0, config["gaussian_noise"]["p"])
        self.crop_p, self.chip_size = crop["p"], chip_size
        self.crop_scale = (float(crop["scale"][0]), float(crop["scale"][1]))
        self.crop_ratio = (float(crop["ratio"][0]), float(crop["ratio"][1]))
        for name, (lo, hi) in {"sigma": self.blur_sigma, "scale": self.crop_scale, "ratio": self.crop_ratio}.items():
            if not 0 < lo <= hi:
                raise ValueError(f"augmentation {name} range must be 0 < low <= high, got {[lo, hi]}")
        if not 0 <= self.motion_direction <= 1:
            raise ValueError(f"motion_blur direction must be in [0, 1], got {self.motion_direction}")

    @torch.no_grad()
    def forward(self, images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """images (N,C,H,W) float, target (N,H,W) int64 with ignore values -> augmented pair."""
        n, device = images.shape[0], images.device
        if self.blur_p > 0:
            apply = torch.rand(n, device=device) < self.blur_p
            sigma = _uniform(n, *self.blur_sigma, device)
            images = _blend(apply, lambda x, s: gaussian_blur(x, s, self.blur_kernel), images, sigma)
        if self.motion_p > 0:
            apply = torch.rand(n, device=device) < self.motion_p
            angle = _uniform(n, -self.motion_angle, self.motion_angle, device)
            direction = _uniform(n, -self.motion_direction, self.motion_direction, device)
            images = _blend(apply, lambda x, a, d: motion_blur(x, a, d, self.motion_kernel), images, angle, direction)
        images = self.noise(images)
        if self.crop_p > 0:
            apply = torch.rand(1, device=device) < self.crop_p  # one draw for the batch, as kornia's p_batch
            boxes = random_crop_boxes(n, images.shape[-2], images.shape[-1], self.crop_scale, self.crop_ratio,
                                      device)
            resizes = tuple(images.shape[-2:]) != (self.chip_size, self.chip_size)
            if resizes and self.crop_p < 1:  # a shape that depends on a random draw is not allowed
                raise ValueError(f"resized_crop to {self.chip_size} px on {tuple(images.shape[-2:])} px "
                                 "images changes their size, which needs p = 1")
            if device.type == "cpu":  # the draw is read: an uncropped batch costs nothing
                return resized_crop(images, target, boxes, self.chip_size) if apply else (images, target)
            cropped, cropped_target = resized_crop(images, target, boxes, self.chip_size)
            if resizes:  # p = 1: every batch is cropped
                return cropped, cropped_target
            images = torch.where(apply.view(1, 1, 1, 1), cropped, images)
            target = torch.where(apply.view(1, 1, 1), cropped_target, target)
        return images, target


def build_sar_augmentation(config: dict, chip_size: int, channels: list[str], channel_std) -> SarAugmentation:
    """Noise goes on the SAR channels (vv_*, vh_*); DEM-derived channels are not SAR measurements."""
    std = config["gaussian_noise"]["std"]
    per_channel = [std / float(s) if name.startswith(("vv", "vh")) else 0.0
                   for name, s in zip(channels, channel_std, strict=True)]
    return SarAugmentation(config, chip_size, torch.tensor(per_channel))
