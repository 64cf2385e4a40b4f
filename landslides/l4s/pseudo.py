"""Model ensemble and pseudo-labels for progressive label refinement (Zhao et al.).

The ensemble is the mean of its members' landslide probabilities. Pseudo-labels keep only confident
pixels: landslide where p >= threshold, background where p <= background_threshold, and everything in
between is ignored (IGNORE_INDEX), so uncertain pixels neither teach nor punish the next round.
"""

from __future__ import annotations

import numpy as np

from landslides.constants import IGNORE_INDEX
from landslides.errors import InputError


def ensemble_mean(probabilities: list[np.ndarray]) -> np.ndarray:
    """Pixel-wise mean of the members' (N, H, W) probabilities, as float32."""
    if not probabilities:
        raise InputError("ensemble: no member predictions given")
    shapes = {p.shape for p in probabilities}
    if len(shapes) != 1:
        raise InputError(f"ensemble: members predict different shapes {sorted(shapes)}")
    total = np.zeros(probabilities[0].shape, dtype=np.float64)
    for prob in probabilities:
        total += prob
    return (total / len(probabilities)).astype(np.float32)


def pseudo_labels(prob: np.ndarray, threshold: float = 0.7, background_threshold: float | None = 0.3) -> np.ndarray:
    """int64 labels: 1 where prob >= threshold, 0 where prob <= background_threshold, else IGNORE_INDEX.

    The ignore band between the two thresholds is this project's addition; background_threshold None
    gives Zhao et al.'s plain rule (1 where prob >= threshold, 0 elsewhere).
    """
    prob = np.asarray(prob, dtype=np.float32)
    if background_threshold is None:
        if not 0.0 <= threshold <= 1.0:
            raise InputError(f"pseudo-labels: threshold ({threshold}) must lie in [0, 1]")
        return (prob >= threshold).astype(np.int64)
    if not 0.0 <= background_threshold < threshold <= 1.0:
        raise InputError(f"pseudo-labels: need 0 <= background_threshold ({background_threshold}) "
                         f"< threshold ({threshold}) <= 1")
    labels = np.full(prob.shape, IGNORE_INDEX, dtype=np.int64)
    labels[prob <= background_threshold] = 0
    labels[prob >= threshold] = 1
    return labels


def label_summary(labels: np.ndarray) -> dict[str, float]:
    """Share of pixels labelled at all, and the landslide share among the labelled ones."""
    labelled = labels != IGNORE_INDEX
    n_labelled = int(labelled.sum())
    return {
        "labelled_fraction": n_labelled / max(labels.size, 1),
        "landslide_fraction": float((labels == 1).sum() / n_labelled) if n_labelled else float("nan"),
    }
