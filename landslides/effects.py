"""The statistics of the claims table: a reproduced effect (arm minus baseline), its 95 % interval, a verdict,
and the seeds a still-open claim needs. Pure functions on arrays; nothing here reads a file.

Data. Each arm is an array `(seeds, samples, features)`: per run (seed) and per test sample (a chip or a
patch) the additive statistics the metric is computed from (confusion counts, score histograms, a count
error). Summing the features over any multiset of samples and applying `metric` gives the metric of that
resampled test set, so a bootstrap draw is a weighted sum, vectorised over draws. A run that left only its
metrics (no per-sample predictions) is one "sample" whose feature is the metric itself: its resampling is the
identity and only the seeds vary.

Method: a paired two-way bootstrap over seeds and test samples. In every draw the seeds are resampled with
replacement and, independently, the test samples are resampled with replacement. Seeds and samples are
crossed, not nested: every seed of a grid cell is scored on the same test chips, so the sampling of the test
set is one shared source of error, and a hierarchical draw (new chips within each seed) would count it as if
each seed had its own test set. Where the two arms share their seeds (the same seed ids) the same seed draw
is used for both, and where they share their test samples (the same ids) the same sample draw: the
effect's interval then holds neither the common seed effect nor the difficulty of particular chips, as a
paired test should.

The interval is the percentile interval of the bootstrapped mean effect over seeds, with a small-sample
correction of its seed part: the bootstrap of a mean of S seeds has (S-1)/S of its variance and the normal
quantile where S seeds call for Student's t with S-1 degrees of freedom, so in every draw the deviation that
the seed resampling adds (at that draw's samples) is scaled by sqrt(S/(S-1)) t(S-1)/z. Without it the interval
covered a known effect in 85 % of simulated experiments with 2 and 4 seeds (300 each); with it 96-100 % with
4 and 8 seeds and 100 % with 2 (wide: t with one degree of freedom) (tests/test_claims.py).

With one seed per arm the seed draw is the identity: the interval holds the test-sample variation only and
says nothing of seed-to-seed variation; `seeds_needed` then is unknown (no seed variance to extrapolate).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import stats

Metric = Callable[[np.ndarray], np.ndarray]

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
# z of a two-sided 95 % interval plus z of 80 % power: the usual sample-size rule for "the interval will
# exclude zero in 4 of 5 repetitions at the observed effect and variance".
Z_INTERVAL, Z_POWER = 1.959964, 0.841621
MAX_SEEDS = 10_000  # beyond this, "more seeds cannot do it"


@dataclass(frozen=True)
class Effect:
    effect: float           # mean over seeds of metric(arm) - metric(baseline), on the full test set
    low: float              # 95 % percentile interval of the bootstrapped effect
    high: float
    se: float               # bootstrap standard error (seeds and samples, corrected for few seeds)
    se_samples: float       # the part from the test samples alone (seeds fixed)
    se_seeds: float         # the part the seed resampling adds (uncorrected bootstrap)
    seeds: int              # seeds in the smaller arm
    paired_seeds: bool
    paired_samples: bool


def sample_weights(rng: np.random.Generator, draws: int, n: int) -> np.ndarray:
    """(draws, n) counts of each of n items in a resample of n with replacement."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=draws).astype(np.float32)


def resampled_metrics(features: np.ndarray, weights: np.ndarray, metric: Metric) -> np.ndarray:
    """(draws, seeds): the metric of each seed's run on each resampled test set (weights: (draws, samples)).

    In float32, half the time of float64: the features are mostly pixel counts, whose weighted sums stay exact
    integers below 2**24 (a test set of 16 M pixels), and a metric's rounding (1e-7) is far below its interval."""
    return np.stack([metric(weights @ run.astype(np.float32)) for run in features], axis=1).astype(np.float64)


def full_metrics(features: np.ndarray, metric: Metric) -> np.ndarray:
    """(seeds,): each run's metric on its whole test set."""
    return metric(features.sum(axis=1))


def bootstrap_effect(arm: np.ndarray, baseline: np.ndarray, metric: Metric, *, paired_seeds: bool,
                     paired_samples: bool, draws: int = 2000, seed: int = 0) -> Effect:
    """The effect metric(arm) - metric(baseline), averaged over seeds, with its paired two-way bootstrap.

    arm, baseline: (seeds, samples, features). Paired seeds need equal seed counts in the same order, paired
    samples equal sample counts in the same order."""
    arm, baseline = np.asarray(arm, np.float64), np.asarray(baseline, np.float64)
    if paired_seeds and arm.shape[0] != baseline.shape[0]:
        raise ValueError(f"paired seeds need equal seed counts, got {arm.shape[0]} and {baseline.shape[0]}")
    if paired_samples and arm.shape[1] != baseline.shape[1]:
        raise ValueError(f"paired samples need equal sample counts, got {arm.shape[1]} and {baseline.shape[1]}")
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        # A resample can leave a metric undefined in every seed (no positive pixel drawn): NaN, left out below.
        warnings.simplefilter("ignore", RuntimeWarning)
        return _bootstrap(arm, baseline, metric, paired_seeds, paired_samples, draws, rng)


def _bootstrap(arm: np.ndarray, baseline: np.ndarray, metric: Metric, paired_seeds: bool, paired_samples: bool,
               draws: int, rng: np.random.Generator) -> Effect:
    effect = float(np.nanmean(full_metrics(arm, metric)) - np.nanmean(full_metrics(baseline, metric)))
    w_arm = sample_weights(rng, draws, arm.shape[1])
    w_base = w_arm if paired_samples else sample_weights(rng, draws, baseline.shape[1])
    m_arm, m_base = resampled_metrics(arm, w_arm, metric), resampled_metrics(baseline, w_base, metric)
    v_arm = sample_weights(rng, draws, arm.shape[0])
    v_base = v_arm if paired_seeds else sample_weights(rng, draws, baseline.shape[0])
    samples_only = np.nanmean(m_arm, axis=1) - np.nanmean(m_base, axis=1)
    seed_part = _seed_mean(m_arm, v_arm) - _seed_mean(m_base, v_base) - samples_only
    seeds = int(min(arm.shape[0], baseline.shape[0]))
    both = samples_only + small_sample_factor(seeds) * seed_part
    low, high = _interval(both)
    if arm.shape[:2] == (1, 1) and baseline.shape[:2] == (1, 1):
        # One run per arm and no per-sample data: nothing to resample, no interval (not a zero-width one).
        low = high = math.nan
    return Effect(effect=effect, low=low, high=high, se=_sd(both), se_samples=_sd(samples_only),
                  se_seeds=_sd(seed_part), seeds=seeds, paired_seeds=paired_seeds, paired_samples=paired_samples)


def small_sample_factor(seeds: int) -> float:
    """sqrt(S/(S-1)) t_{S-1}(0.975) / z(0.975): what the seed part of a bootstrap over S seeds lacks (1 for one
    seed, where the seed draw is the identity)."""
    if seeds < 2:
        return 1.0
    return math.sqrt(seeds / (seeds - 1)) * float(stats.t.ppf(0.975, seeds - 1)) / Z_INTERVAL


def _seed_mean(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Mean over the resampled seeds (counts: how often each seed was drawn); NaN runs are left out."""
    finite = np.isfinite(values)
    total = np.where(finite, values, 0.0) * counts
    n = (finite * counts).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total.sum(axis=1) / n


def _interval(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return math.nan, math.nan
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _sd(values: np.ndarray) -> float:
    values = values[np.isfinite(values)]
    return float(values.std(ddof=1)) if values.size > 1 else math.nan


def verdict(low: float, high: float, direction: int) -> str:
    """supported: the interval excludes 0 on the claimed side; contradicted: on the other; else inconclusive."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return INCONCLUSIVE
    if low > 0 or high < 0:
        return SUPPORTED if (low > 0) == (direction > 0) else CONTRADICTED
    return INCONCLUSIVE


def seeds_needed(result: Effect) -> float | None:
    """Seeds per arm at which the 95 % interval would exclude zero with 80 % power, at the observed effect and
    variance (None: unknown, one seed gives no seed variance; inf: more seeds cannot do it, the test-sample
    variation alone is too large for this effect, more test chips are needed).

    The variance splits into a seed part, which shrinks as 1/seeds, and a test-sample part, which does not
    (every seed is scored on the same test set): se^2 = s2 / n + se_samples^2 with s2 the per-seed variance of
    the effect (the bootstrap's seed part times S, times S/(S-1) for its bias); the smallest n with
    (t_{n-1} + z_power)^2 se^2 <= effect^2 (Student's t, as the interval uses for few seeds), up to MAX_SEEDS."""
    if result.seeds < 2 or not all(map(math.isfinite, (result.effect, result.se_seeds, result.se_samples))):
        return None
    per_seed = result.se_seeds ** 2 * result.seeds ** 2 / (result.seeds - 1)
    n = np.arange(2, MAX_SEEDS + 1)
    quantile = stats.t.ppf(0.975, n - 1) + Z_POWER
    enough = quantile ** 2 * (per_seed / n + result.se_samples ** 2) <= result.effect ** 2
    return float(n[enough.argmax()]) if enough.any() else math.inf


# ---- metrics on summed features ----

CONFUSION = ("tp", "fp", "fn", "tn")


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def confusion_metric(name: str) -> Metric:
    """A threshold metric of the landslide class from summed (tp, fp, fn, tn), as landslides.metrics defines it."""
    def metric(t: np.ndarray) -> np.ndarray:
        tp, fp, fn, tn = (t[..., i] for i in range(4))
        iou, iou_background = _ratio(tp, tp + fp + fn), _ratio(tn, tn + fp + fn)
        return {"precision": lambda: _ratio(tp, tp + fp), "recall": lambda: _ratio(tp, tp + fn),
                "f1": lambda: _ratio(2 * tp, 2 * tp + fp + fn), "iou": lambda: iou,
                "miou": lambda: (iou + iou_background) / 2, "fpr": lambda: _ratio(fp, fp + tn),
                "accuracy": lambda: _ratio(tp + tn, tp + fp + fn + tn)}[name]()
    return metric


def average_precision(t: np.ndarray) -> np.ndarray:
    """AUPRC from summed score histograms: features [positives per bin..., negatives per bin...], bins from low
    to high score. Each bin is one threshold (scores within a bin count as tied), so it equals the exact
    average precision up to the bin width."""
    bins = t.shape[-1] // 2
    positives, negatives = t[..., :bins][..., ::-1], t[..., bins:][..., ::-1]
    true_positives = np.cumsum(positives, axis=-1)
    predicted = true_positives + np.cumsum(negatives, axis=-1)
    precision = _ratio(true_positives, predicted)
    return _ratio((positives * np.nan_to_num(precision)).sum(axis=-1), positives.sum(axis=-1))


def mean_metric(t: np.ndarray) -> np.ndarray:
    """A per-sample mean from summed features [value, 1]."""
    return _ratio(t[..., 0], t[..., 1])


def identity_metric(t: np.ndarray) -> np.ndarray:
    """A run-level metric carried as its only feature (one sample per run)."""
    return t[..., 0]
