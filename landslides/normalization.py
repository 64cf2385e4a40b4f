"""Per-channel normalization statistics: fitted on one split, stored with the model, and the refine
study's per-domain modes.

Two ways to fit them, both exact in float64 without a float64 copy of the data:
- `fit_channel_stats`: over the valid pixels of (N, C, H, W) images, one channel at a time (SAR chips
  with an extraction mask, optical scenes);
- `band_stats`: over every pixel, one patch at a time (Landslide4Sense splits, ~3.5 GB as float32), with
  the pixel count, so that statistics of two sets pool exactly (`pooled_stats`).

Modes (`domain_stats`, Zhao et al.): `source` normalizes every domain with the train (source) statistics,
what a model trained once does on new data and the official baseline's setting; `joint` with the
statistics pooled over train, val and test; `separated` gives every domain its own statistics, removing
a per-band offset or gain between domains before the network sees the data. docs/normalization.md has
the numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from landslides.errors import InputError

NORMALIZATION_MODES = ("source", "joint", "separated")


@dataclass
class ChannelStats:
    channels: list[str]
    mean: np.ndarray  # float64, one per channel
    std: np.ndarray  # population std (ddof=0)
    count: int = 0  # pixels per channel the statistics came from (0: not recorded)

    def to_dict(self) -> dict:
        return {"channels": list(self.channels), "mean": self.mean.tolist(), "std": self.std.tolist(),
                "count": int(self.count)}

    @classmethod
    def from_dict(cls, d: dict) -> ChannelStats:
        return cls(list(d["channels"]), np.asarray(d["mean"], np.float64), np.asarray(d["std"], np.float64),
                   int(d.get("count", 0)))


def fit_channel_stats(images: np.ndarray, channels: list[str], valid: np.ndarray | None = None) -> ChannelStats:
    """Mean and std per channel over valid pixels of (N, C, H, W) images."""
    mask = None if valid is None else valid.astype(bool)
    means, stds = [], []
    for c in range(images.shape[1]):
        values = images[:, c] if mask is None else images[:, c][mask]
        if values.size == 0:
            raise InputError("no valid pixel to fit normalization statistics")
        mean = values.mean(dtype=np.float64)
        var = np.mean(np.square(values - mean, dtype=np.float64))
        means.append(mean)
        stds.append(np.sqrt(var))
    std = np.asarray(stds)
    std[std == 0] = 1.0  # a constant channel stays constant instead of dividing by zero
    count = int(mask.sum()) if mask is not None else int(np.prod(images.shape[:1] + images.shape[2:]))
    return ChannelStats(list(channels), np.asarray(means), std, count)


def _check_images(images: np.ndarray) -> None:
    if images.ndim != 4:
        raise InputError(f"images: expected (N, C, H, W), got shape {images.shape}")
    if images.shape[0] == 0:
        raise InputError("images: no patches to compute band statistics from")


def band_stats(images: np.ndarray, channels: list[str] | None = None) -> ChannelStats:
    """Exact two-pass mean/std per channel of all pixels of (N, C, H, W) images, one patch at a time
    (two passes avoid the cancellation of a sum of squares)."""
    _check_images(images)
    n, c = images.shape[:2]
    count = n * images.shape[2] * images.shape[3]
    total = np.zeros(c, dtype=np.float64)
    for patch in images:
        total += patch.sum(axis=(1, 2), dtype=np.float64)
    mean = total / count
    squares = np.zeros(c, dtype=np.float64)
    for patch in images:
        squares += ((patch.astype(np.float64) - mean[:, None, None]) ** 2).sum(axis=(1, 2))
    names = list(channels) if channels is not None else [f"band{i + 1}" for i in range(c)]
    return ChannelStats(names, mean, np.sqrt(squares / count), count)


def pooled_stats(a: ChannelStats, b: ChannelStats) -> ChannelStats:
    """Statistics of the union of two pixel sets from theirs (no concatenation needed)."""
    count = a.count + b.count
    mean = (a.count * a.mean + b.count * b.mean) / count
    # Total sum of squared deviations = within-set parts + between-set parts.
    ssd = a.count * (a.std**2 + (a.mean - mean) ** 2) + b.count * (b.std**2 + (b.mean - mean) ** 2)
    return ChannelStats(a.channels, mean, np.sqrt(ssd / count), count)


def normalize(images: np.ndarray, stats: ChannelStats, valid: np.ndarray | None = None) -> np.ndarray:
    """(x - mean) / std per channel as float32 (N, C, H, W); invalid pixels are set to 0 (the mean).

    A constant channel (std 0, e.g. a flat DEM in a tiny set) is left unscaled instead of divided by 0.
    """
    if images.ndim != 4:  # an empty split (no chips) is fine here: nothing to normalize
        raise InputError(f"images: expected (N, C, H, W), got shape {images.shape}")
    mean = stats.mean.astype(np.float32)[None, :, None, None]
    std = np.where(stats.std > 0, stats.std, 1.0).astype(np.float32)[None, :, None, None]
    out = images.astype(np.float32, copy=True)
    out -= mean
    out /= std
    if valid is not None:
        out *= valid.astype(bool)[:, None]
    return out


def domain_stats(mode: str, images: dict[str, np.ndarray]) -> dict[str, ChannelStats]:
    """Statistics per domain name ('train', 'val', 'test', ...) under a mode (module docstring).

    `train` is the source domain; joint pools train, val and test.
    """
    if mode not in NORMALIZATION_MODES:
        raise InputError(f"unknown normalization mode {mode!r} ({', '.join(NORMALIZATION_MODES)})")
    if mode == "source":
        source = band_stats(images["train"])
        return {name: source for name in images}
    own = {name: band_stats(x) for name, x in images.items()}
    if mode == "separated":
        return own
    joint = own["train"]
    for name in ("val", "test"):
        joint = pooled_stats(joint, own[name])
    return {name: joint for name in images}
