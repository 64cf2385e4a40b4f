"""Pixel metrics of the landslide class, accumulated over a whole split.

`SegmentationMetrics` keeps two things and nothing per pixel in float64:
- the confusion counts at a probability threshold (precision, recall, F1, IoU, FPR, mIoU), and
- for the exact AUPRC, a histogram over the distinct float32 scores seen so far (positive and total
  count per distinct value). Average precision computed from it equals scikit-learn's
  `average_precision_score` on the same float32 scores, because sklearn's thresholds are exactly the
  distinct scores.
"""

from __future__ import annotations

import numpy as np
import torch

from landslides.constants import DECISION_THRESHOLD


class ScoreHistogram:
    """Counts of positives and of all pixels per distinct score value, merged batch by batch."""

    def __init__(self) -> None:
        self.values = np.empty(0, np.float32)
        self.positives = np.empty(0, np.int64)
        self.totals = np.empty(0, np.int64)

    def update(self, scores: np.ndarray, labels: np.ndarray) -> None:
        scores = np.asarray(scores, np.float32).ravel()
        labels = np.asarray(labels).ravel().astype(bool)
        values, inverse = np.unique(np.concatenate([self.values, scores]), return_inverse=True)
        old, new = inverse[: self.values.size], inverse[self.values.size :]
        n = values.size
        totals = np.bincount(old, self.totals, n).astype(np.int64) + np.bincount(new, minlength=n)
        positives = np.bincount(old, self.positives, n).astype(np.int64) + np.bincount(new[labels], minlength=n)
        self.values, self.totals, self.positives = values, totals, positives

    def average_precision(self) -> float:
        """sum over thresholds (descending) of (R_k - R_{k-1}) * P_k, as scikit-learn defines it."""
        n_pos = int(self.positives.sum())
        if n_pos == 0:
            return float("nan")
        tp = np.cumsum(self.positives[::-1])
        predicted = np.cumsum(self.totals[::-1])
        precision = tp / predicted
        return float(np.sum(self.positives[::-1] / n_pos * precision))


class SegmentationMetrics:
    """Accumulate landslide-class metrics over batches of probabilities and labels."""

    def __init__(self, threshold: float = DECISION_THRESHOLD, with_auprc: bool = True) -> None:
        self.threshold = threshold
        self.histogram = ScoreHistogram() if with_auprc else None
        self.tp = self.fp = self.fn = self.tn = 0

    def update(self, prob, label, valid=None) -> None:
        """prob: landslide probability; label: 0/1; valid: pixels to count (None = all)."""
        prob, label = _to_numpy(prob), _to_numpy(label).astype(bool)
        if valid is not None:
            keep = _to_numpy(valid).astype(bool)
            prob, label = prob[keep], label[keep]
        predicted = prob >= self.threshold
        self.tp += int(np.count_nonzero(predicted & label))
        self.fp += int(np.count_nonzero(predicted & ~label))
        self.fn += int(np.count_nonzero(~predicted & label))
        self.tn += int(np.count_nonzero(~predicted & ~label))
        if self.histogram is not None:
            self.histogram.update(prob, label)

    def compute(self) -> dict[str, float]:
        tp, fp, fn, tn = self.tp, self.fp, self.fn, self.tn
        n = tp + fp + fn + tn
        iou = _ratio(tp, tp + fp + fn)
        iou_background = _ratio(tn, tn + fp + fn)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        result = {
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * tp, 2 * tp + fp + fn),
            "iou": iou,
            "miou": (iou + iou_background) / 2,
            "fpr": _ratio(fp, fp + tn),
            "accuracy": _ratio(tp + tn, n),
            "no_skill": _ratio(tp + fn, n),
            "pixels": n,
            "positive_pixels": tp + fn,
        }
        if self.histogram is not None:
            result["auprc"] = self.histogram.average_precision()
        return result


def _ratio(num: float, den: float) -> float:
    return float(num / den) if den else float("nan")


def _to_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().float().cpu().numpy() if x.is_floating_point() else x.detach().cpu().numpy()
    return np.asarray(x)


def classification_metrics(prob, label, unit: str = "chips") -> dict[str, float]:
    """Metrics of one probability per sample (a chip or a patch): the SegmentationMetrics counts, where
    a sample is simply one 'pixel', plus AUROC; the counts are named after the unit."""
    metrics = SegmentationMetrics()
    metrics.update(prob, label)
    result = metrics.compute()
    result[unit] = result.pop("pixels")
    result[f"positive_{unit}"] = result.pop("positive_pixels")
    # Imported here: scikit-learn (with SciPy) costs about a second of start-up, and only the chip and
    # patch classifier jobs need it.
    from sklearn.metrics import roc_auc_score

    label = _to_numpy(label).astype(bool).ravel()
    both_classes = 0 < label.sum() < label.size
    result["auroc"] = float(roc_auc_score(label, _to_numpy(prob).ravel())) if both_classes else float("nan")
    return result
