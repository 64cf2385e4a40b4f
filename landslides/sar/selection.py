"""Choosing chips of a chip store and turning them into training tensors (transfer and pretrain).

Every chip of a region belongs to one partition, `chip_partition`: landslide chips keep the store's
`split_positive` (the authors' split of the positive chips), landslide-free chips its `split_all`.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from landslides.constants import IGNORE_INDEX
from landslides.errors import InputError
from landslides.normalization import ChannelStats, fit_channel_stats, normalize
from landslides.train import Split


def select_chips(store: xr.Dataset, channels: list[str], mask: np.ndarray) -> dict[str, np.ndarray]:
    """The chosen chips as numpy arrays (images, label, valid, chip ids, transforms, has_landslide)."""
    missing = [c for c in channels if c not in store["channel"].values]
    if missing:
        raise InputError(f"chip store {store.attrs.get('region', '?')}: channels {missing} not in the store")
    subset = store.isel(chip=np.flatnonzero(mask))
    return {
        "images": subset["image"].sel(channel=channels).values.astype(np.float32),
        "label": subset["label"].values.astype(np.uint8),
        "valid": subset["valid"].values.astype(bool),
        "chip": subset["chip"].values,
        "transform": subset["transform"].values,
        "has_landslide": subset["has_landslide"].values.astype(bool),
    }


def select_indices(store: xr.Dataset, channels: list[str], index: np.ndarray) -> dict[str, np.ndarray]:
    """select_chips by chip positions instead of a mask (positions are sorted by the store's order)."""
    mask = np.zeros(store.sizes["chip"], bool)
    mask[index] = True
    return select_chips(store, channels, mask)


def to_split(chips: dict, stats: ChannelStats, invalid_pixels: str = "ignore") -> Split:
    """Normalized images (invalid pixels 0) and targets.

    invalid_pixels "ignore" encodes pixels outside the extraction mask (or NaN) as IGNORE_INDEX, so no
    loss or metric counts them; "score" keeps their label (0), as the authors' code did after setting
    NaN to 0, so they count as background in the loss and the metrics.
    """
    target = chips["label"].astype(np.int64)
    if invalid_pixels == "ignore":
        target[~chips["valid"]] = IGNORE_INDEX
    images = normalize(chips["images"], stats, chips["valid"])
    return Split(torch.from_numpy(images), torch.from_numpy(target))


def channel_stats(store: xr.Dataset, train: dict, channels: list[str], how: str) -> ChannelStats:
    """train_split: statistics of the training chips' valid pixels; whole_cube (and
    whole_cube_per_region, which applies them per region): one mean/std per variable over the whole
    cube, as the authors' code computed them (stored in the chip store)."""
    if how in ("whole_cube", "whole_cube_per_region"):
        return ChannelStats(channels, store["whole_mean"].sel(channel=channels).values.astype(np.float64),
                            store["whole_std"].sel(channel=channels).values.astype(np.float64))
    return fit_channel_stats(train["images"], channels, train["valid"])


def chip_partition(store: xr.Dataset) -> np.ndarray:
    """'train'/'val'/'test' for every chip: split_positive for landslide chips, split_all for the others."""
    positive = store["has_landslide"].values.astype(bool)
    return np.where(positive, store["split_positive"].values.astype(str),
                    store["split_all"].values.astype(str))


def class_indices(store: xr.Dataset, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Chip positions (not ids) of one partition: (with landslides, without)."""
    part = chip_partition(store) == split
    positive = store["has_landslide"].values.astype(bool)
    return np.flatnonzero(part & positive), np.flatnonzero(part & ~positive)


def require_chips(store: xr.Dataset, chips: dict[str, dict], what: str = "chips with landslides") -> None:
    """Every named split must hold at least one chip: an empty validation or test set would make the
    metrics meaningless (and used to fail deep inside training)."""
    empty = [split for split, selected in chips.items() if len(selected["chip"]) == 0]
    if empty:
        counts = ", ".join(f"{split} {len(selected['chip'])}" for split, selected in chips.items())
        raise InputError(f"chip store {store.attrs.get('region', '?')}: no {what} in the {' and '.join(empty)} "
                         f"split ({counts}); use a larger region (sar.regions.<region>.height/width) or other "
                         "sar.chips.split_fractions")
