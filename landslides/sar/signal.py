"""How visible the landslides of a chip store are to detectors without learning (docs/twin.md, signal report).

The chip store's features are natural logs of backscatter averaged before and after the event; their
difference is the log-ratio change detector of the Sentinel-1 landslide literature. Here it is read in dB
(10 log10), the unit the studies publish, inside landslides by zone and outside them, and scored as a
pixel detector (a threshold on the decrease, with and without a 5 x 5 moving average) by the AUPRC the
studies use, on the positive chips, as the transfer study evaluates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import xarray as xr
from scipy.ndimage import uniform_filter

from landslides.metrics import ScoreHistogram, count_metrics

DB_PER_NEPER = 10.0 / np.log(10.0)  # natural-log ratio -> dB


def log_ratio_db(store: xr.Dataset, pol: str) -> np.ndarray:
    """(chip, y, x) change after minus before in dB, from a chip store holding `<pol>_before/after`."""
    channels = list(store["channel"].values)
    image = store["image"].values
    after, before = image[:, channels.index(f"{pol}_after")], image[:, channels.index(f"{pol}_before")]
    return (after - before) * np.float32(DB_PER_NEPER)


def averaged(change: np.ndarray, valid: np.ndarray, size: int) -> np.ndarray:
    """Moving average over `size` x `size` valid pixels of each chip (a boxcar speckle filter)."""
    out = np.empty_like(change)
    for k in range(change.shape[0]):
        weight = uniform_filter(valid[k].astype(np.float32), size, mode="nearest")
        total = uniform_filter(np.where(valid[k], change[k], 0.0).astype(np.float32), size, mode="nearest")
        out[k] = total / np.maximum(weight, 1e-6)
    return out


def auprc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Average precision of the landslide class, as the studies' pixel AUPRC."""
    histogram = ScoreHistogram()
    histogram.update(scores, labels)
    return histogram.average_precision()


def detector_auprc(store: xr.Dataset, pol: str, window: int = 1) -> float:
    """AUPRC on the positive chips of thresholding the backscatter decrease (window 1: per pixel)."""
    positive = store["has_landslide"].values.astype(bool)
    valid = store["valid"].values[positive].astype(bool)
    change = log_ratio_db(store, pol)[positive]
    if window > 1:
        change = averaged(change, valid, window)
    return auprc(-change[valid], store["label"].values[positive][valid] > 0)


def zone_statistics(change: np.ndarray, zones: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean, standard deviation, median and share above 0 dB of the change in each zone."""
    out = {}
    for name, mask in zones.items():
        values = change[mask]
        if values.size == 0:
            continue
        out[name] = {"n": int(values.size), "mean": float(values.mean()), "std": float(values.std()),
                     "median": float(np.median(values)), "above_zero": float((values > 0).mean())}
    return out


def chip_layer(layer: np.ndarray, store: xr.Dataset) -> np.ndarray:
    """Cut a (y, x) layer of the cube into the store's chips."""
    size = store.sizes["y"]
    return np.stack([layer[r:r + size, c:c + size] for r, c in zip(store["row"].values, store["col"].values,
                                                                   strict=True)])


# The detector of Handwerger et al. (2022, NHESS 22, 753) as its published Earth Engine scripts set it
# (docs/sources.md, [Handwerger code]): VH only; per orbit direction the median of every acquisition
# before the event and of those in the first 15 days after it; the change of the directions averaged;
# slopes under 10 degrees masked (their Hokkaido setting); the strongest 1 % of the decrease flagged.
STACK_POST_DAYS = 15
STACK_MIN_SLOPE_DEG = 10.0
STACK_PERCENTILE = 99.0


def stack_change_db(cube: xr.Dataset, event_date: tuple[str, str], pol: str = "vh",
                    post_days: int = STACK_POST_DAYS) -> np.ndarray:
    """(y, x) change in dB (post median minus pre median), averaged over the orbit directions that have both."""
    times = pd.DatetimeIndex(cube["timestep"].values)
    states = np.array([str(s)[:1].lower() for s in cube["sat:orbit_state"].values])
    last_pre, first_post = (pd.Timestamp(str(d)) for d in event_date)
    changes = []
    for state in sorted(set(states)):
        pre = np.flatnonzero((states == state) & (times <= last_pre))
        post = np.flatnonzero((states == state) & (times >= first_post)
                              & (times <= first_post + pd.Timedelta(days=post_days)))
        if pre.size == 0 or post.size == 0:
            continue
        # The median of linear backscatter is the median in dB (a monotone map): one log at the end. Pixels
        # outside the extraction mask are NaN at every date: their median stays NaN, without a warning.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
            before = np.nanmedian(cube[pol].isel(timestep=pre).values, axis=0)
            after = np.nanmedian(cube[pol].isel(timestep=post).values, axis=0)
        changes.append(10.0 * (np.log10(after) - np.log10(before)))
    if not changes:
        raise ValueError(f"no orbit direction has acquisitions both before {last_pre.date()} and within "
                         f"{post_days} days after {first_post.date()}")
    return np.mean(changes, axis=0).astype(np.float32)


def percentile_detection(change_db: np.ndarray, labels: np.ndarray, mask: np.ndarray,
                         percentile: float = STACK_PERCENTILE) -> dict[str, float]:
    """Flag the strongest decreases (above `percentile` of the decrease inside `mask`) and score them."""
    decrease = -change_db
    inside = mask & np.isfinite(decrease)
    if not inside.any():
        raise ValueError("no pixel with a backscatter change inside the mask (slope and extraction mask)")
    threshold = np.percentile(decrease[inside], percentile)
    flagged, truth = decrease[inside] >= threshold, labels[inside].astype(bool)
    counts = count_metrics(int((flagged & truth).sum()), int((flagged & ~truth).sum()),
                           int((~flagged & truth).sum()), int((~flagged & ~truth).sum()))
    # A rate with nothing to count (no landslide inside the mask) reads 0 here, not NaN: the report prints it.
    scores = {key: 0.0 if np.isnan(counts[key]) else counts[key] for key in ("precision", "recall", "f1", "no_skill")}
    return {"threshold_db": float(-threshold), **scores, "auprc": auprc(decrease[inside], truth)}
