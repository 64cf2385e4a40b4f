"""Unsupervised anomaly detection with a denoising network (Kimura, Ridge-i).

A network f is trained on landslide-free images only to remove Gaussian noise: L = MSE(f(x + z), x),
z ~ N(0, noise_std^2). On a landslide it has never seen such texture, so its reconstruction is poor:
the per-pixel reconstruction error is the anomaly map. The threshold that turns it into a detection
map is a percentile of the error on held-out landslide-free patches, so no landslide label is used.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.functional import gaussian_blur

from landslides.train import Split, autocast

# Inference noise is drawn from this fixed seed so that the same image always gets the same map.
INFERENCE_NOISE_SEED = 12345


class AddGaussianNoise(nn.Module):
    """The `augment` step of the training loop: (clean, clean) -> (clean + z, clean).

    The training loop seeds torch's global generator per epoch, so the noise is reproducible.
    """

    def __init__(self, std: float) -> None:
        super().__init__()
        self.std = std

    def forward(self, images: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return images + self.std * torch.randn_like(images), target


def reconstruction_loss(output: torch.Tensor, clean: torch.Tensor) -> torch.Tensor:
    """L(x, f(x + z)): mean squared error over pixels and bands."""
    return F.mse_loss(output, clean)


def _noise_like(images: torch.Tensor, std: float, offset: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(INFERENCE_NOISE_SEED + offset)
    return std * torch.randn(images.shape, generator=generator, dtype=images.dtype)


@torch.no_grad()
def error_maps(model: nn.Module, images: torch.Tensor, *, noise_std: float, noisy: bool, smooth_px: float,
               batch_size: int, device: torch.device, first_index: int = 0) -> torch.Tensor:
    """Per-pixel squared reconstruction error averaged over bands, (N, H, W) float32 on the CPU.

    noisy=True reconstructs from x + z (as in training), otherwise from x; smooth_px > 0 applies a
    Gaussian blur so that isolated noisy pixels do not become detections. The noise of each batch is seeded
    by its position: `first_index` is that of images[0] in a longer sequence scored in several calls (a
    multiple of batch_size), so that the calls draw what one call over the whole sequence would.
    """
    model.eval()
    out = []
    for start in range(0, images.shape[0], batch_size):
        clean = images[start : start + batch_size]
        inputs = clean + _noise_like(clean, noise_std, first_index + start) if noisy else clean
        with autocast(device):
            recon = model(inputs.to(device)).float().cpu()
        error = (recon - clean).square().mean(dim=1, keepdim=True)
        if smooth_px > 0:
            kernel = 2 * math.ceil(3 * smooth_px) + 1
            error = gaussian_blur(error, [kernel, kernel], [smooth_px, smooth_px])
        out.append(error[:, 0])
    return torch.cat(out) if out else torch.empty(0)


def smooth_map(error: np.ndarray, smooth_px: float) -> np.ndarray:
    """Gaussian smoothing (sigma `smooth_px` pixels) of a whole map, so that isolated noisy pixels do not
    become detections. Applied to the whole map, not to each window: a window's blur pads at its borders,
    which drew the window grid into the map."""
    if smooth_px <= 0:
        return error
    from scipy.ndimage import gaussian_filter  # SciPy costs start-up time; only anomaly maps need it

    return gaussian_filter(error, smooth_px, mode="reflect", truncate=3.0).astype(np.float32)


def anomaly_map(model: nn.Module, image, patch_size: int, *, noise_std: float, noisy: bool, smooth_px: float,
                batch_size: int, device: torch.device, windows_per_call: int | None = None) -> np.ndarray:
    """The (H, W) anomaly map of a whole (bands, H, W) normalized image: the reconstruction error of
    half-overlapping windows blended with tapered weights (`predict_area(overlap=True)`), then smoothed.

    The denoiser's error is highest at window borders, where its receptive field is cut: side-by-side
    windows left a grid of high-error lines (detections along the seams, seen in the qualitative figure).
    """
    from landslides.predict import predict_area  # predict imports this module for its anomaly models

    def error_fn(images, first_index=0):
        return error_maps(model, images, noise_std=noise_std, noisy=noisy, smooth_px=0.0, batch_size=batch_size,
                          device=device, first_index=first_index)

    error = predict_area(error_fn, image, patch_size, windows_per_call=windows_per_call, overlap=True)
    return smooth_map(error, smooth_px)


def validation_score(model: nn.Module, val: Split, *, noise_std: float, batch_size: int,
                     device: torch.device) -> dict[str, float]:
    """The training loop's evaluate_fn: denoising error on held-out landslide-free patches.

    neg_mse is the selection score (higher is better); the noise is fixed so epochs compare fairly.
    """
    errors = error_maps(model, val.images.cpu(), noise_std=noise_std, noisy=True, smooth_px=0.0,
                        batch_size=batch_size, device=device)
    mse = float(errors.mean()) if errors.numel() else float("nan")
    return {"mse": mse, "neg_mse": -mse}


def choose_threshold(normal_errors: np.ndarray, percentile: float) -> float:
    """The anomaly threshold: a percentile of errors measured on landslide-free train patches only.

    Its only inputs are those errors and the percentile, so no test label can reach it.
    """
    values = np.asarray(normal_errors, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("no landslide-free validation pixels to choose the anomaly threshold from")
    return float(np.percentile(values, percentile))
