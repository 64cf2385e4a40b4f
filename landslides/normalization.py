"""Per-channel normalization statistics, fitted on one split and stored with the model."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class ChannelStats:
    channels: list[str]
    mean: np.ndarray  # float64, one per channel
    std: np.ndarray

    def to_dict(self) -> dict:
        return {"channels": list(self.channels), "mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> ChannelStats:
        return cls(list(d["channels"]), np.asarray(d["mean"], np.float64), np.asarray(d["std"], np.float64))


def fit_channel_stats(images: np.ndarray, channels: list[str], valid: np.ndarray | None = None) -> ChannelStats:
    """Mean and std per channel over valid pixels of (N, C, H, W) images.

    Sums run in float64 one channel at a time, so no float64 copy of the whole array is made.
    """
    mask = None if valid is None else valid.astype(bool)
    means, stds = [], []
    for c in range(images.shape[1]):
        values = images[:, c] if mask is None else images[:, c][mask]
        if values.size == 0:
            raise ValueError("no valid pixel to fit normalization statistics")
        mean = values.mean(dtype=np.float64)
        var = np.mean(np.square(values - mean, dtype=np.float64))
        means.append(mean)
        stds.append(np.sqrt(var))
    std = np.asarray(stds)
    std[std == 0] = 1.0  # a constant channel stays constant instead of dividing by zero
    return ChannelStats(list(channels), np.asarray(means), std)


def normalize(images: np.ndarray, stats: ChannelStats, valid: np.ndarray | None = None) -> np.ndarray:
    """(x - mean) / std per channel as float32; invalid pixels are set to 0 (the mean)."""
    mean = stats.mean.astype(np.float32)[None, :, None, None]
    std = stats.std.astype(np.float32)[None, :, None, None]
    out = (images.astype(np.float32) - mean) / std
    if valid is not None:
        out *= valid.astype(bool)[:, None]
    return out
