"""The claims table (issue #30): its statistics on constructed inputs with known answers, the claims as data, and
the table built from constructed runs."""

import json
import math

import numpy as np
import pandas as pd
import pytest

from landslides import claims, claims_table, effects
from landslides.metrics import SegmentationMetrics, count_metrics
from landslides.runs import write_predictions


def values_as_features(values: np.ndarray) -> np.ndarray:
    """(seeds, samples) per-sample values -> (seeds, samples, 2) features of their mean ([value, 1])."""
    return np.stack([values, np.ones_like(values)], axis=-1)


def paired_arms(rng, effect: float, seeds: int = 4, samples: int = 40, seed_sd: float = 0.02,
                sample_sd: float = 0.05, noise_sd: float = 0.05):
    """Two arms scored on the same samples with the same seeds: a per-sample difficulty shared by both, a seed
    effect per arm and seed, noise; the arm's true mean is `effect` above the baseline's."""
    difficulty = rng.normal(0, sample_sd, samples)
    base = 0.5 + difficulty + rng.normal(0, seed_sd, (seeds, 1)) + rng.normal(0, noise_sd, (seeds, samples))
    arm = 0.5 + effect + difficulty + rng.normal(0, seed_sd, (seeds, 1)) + rng.normal(0, noise_sd, (seeds, samples))
    return values_as_features(arm), values_as_features(base)


def effect_of(arm, base, draws=1000, seed=0):
    return effects.bootstrap_effect(arm, base, effects.mean_metric, paired_seeds=True, paired_samples=True,
                                    draws=draws, seed=seed)


# ---- verdicts on known answers ----

@pytest.mark.parametrize("true_effect, direction, expected", [
    (0.1, +1, effects.SUPPORTED),
    (-0.1, +1, effects.CONTRADICTED),
    (-0.1, -1, effects.SUPPORTED),
    (0.1, -1, effects.CONTRADICTED),
])
def test_a_clear_effect_is_supported_or_contradicted_by_its_sign(true_effect, direction, expected):
    arm, base = paired_arms(np.random.default_rng(1), true_effect)
    result = effect_of(arm, base)
    assert result.effect == pytest.approx(true_effect, abs=0.03)
    assert result.low <= result.effect <= result.high
    assert effects.verdict(result.low, result.high, direction) == expected


def test_no_effect_is_inconclusive_and_needs_more_seeds_than_it_has():
    arm, base = paired_arms(np.random.default_rng(2), 0.0)
    result = effect_of(arm, base)
    assert result.low < 0 < result.high
    assert effects.verdict(result.low, result.high, +1) == effects.INCONCLUSIVE
    needed = effects.seeds_needed(result)
    assert needed is not None and needed > result.seeds


def test_the_interval_holds_seed_and_sample_variation():
    rng = np.random.default_rng(3)
    noisy_seeds = effect_of(*paired_arms(rng, 0.0, seed_sd=0.1, sample_sd=0.0, noise_sd=0.01))
    assert noisy_seeds.se_seeds > 3 * noisy_seeds.se_samples  # seeds dominate
    one_seed = effect_of(*paired_arms(rng, 0.0, seeds=1, noise_sd=0.05))
    assert one_seed.se == pytest.approx(one_seed.se_samples)  # one seed: the samples are all there is
    assert effects.seeds_needed(one_seed) is None  # no seed variance to extrapolate from


def test_pairing_removes_what_both_arms_share():
    # A large per-sample difficulty and seed effect shared by both arms: paired, only the small noise remains.
    rng = np.random.default_rng(4)
    difficulty = rng.normal(0, 0.3, 30)
    seed_effect = rng.normal(0, 0.3, (3, 1))
    base = 0.5 + difficulty + seed_effect + rng.normal(0, 0.01, (3, 30))
    arm = base + 0.02 + rng.normal(0, 0.01, (3, 30))
    arm, base = values_as_features(arm), values_as_features(base)
    paired = effect_of(arm, base)
    unpaired = effects.bootstrap_effect(arm, base, effects.mean_metric, paired_seeds=False, paired_samples=False,
                                        draws=1000)
    assert effects.verdict(paired.low, paired.high, +1) == effects.SUPPORTED
    assert effects.verdict(unpaired.low, unpaired.high, +1) == effects.INCONCLUSIVE
    assert unpaired.se > 10 * paired.se


@pytest.mark.parametrize("seeds, seed_sd", [(4, 0.05), (8, 0.02), (8, 0.05)])
def test_interval_coverage_on_simulated_data_is_close_to_95_percent(seeds, seed_sd):
    # 300 simulated experiments (seeds x 40 test samples) with a known effect; a few bootstrap draws each. Without
    # the small-sample correction of the seed part, 4 seeds covered 85 %.
    rng = np.random.default_rng(5)
    true_effect, covered, runs = 0.03, 0, 300
    for i in range(runs):
        result = effect_of(*paired_arms(rng, true_effect, seeds=seeds, seed_sd=seed_sd), draws=300, seed=i)
        covered += result.low <= true_effect <= result.high
    assert 0.91 <= covered / runs <= 0.99, covered / runs


def test_one_run_per_arm_without_samples_has_no_interval():
    result = effects.bootstrap_effect(np.full((1, 1, 1), 0.8), np.full((1, 1, 1), 0.7), effects.identity_metric,
                                      paired_seeds=True, paired_samples=True, draws=100)
    assert result.effect == pytest.approx(0.1)
    assert math.isnan(result.low) and math.isnan(result.high)
    assert effects.verdict(result.low, result.high, +1) == effects.INCONCLUSIVE


def test_seeds_needed_follows_the_split_of_the_variance():
    # effect 0.1, seed part 0.1 from 2 seeds: per-seed variance 0.01 * 2 * 2 / 1 = 0.04; the smallest n with
    # (t_{n-1} + 0.84)^2 0.04 / n <= 0.01 is 34 (t_33 = 2.035: 33.06 <= 34; n = 33: 33.1 > 33)
    base = dict(low=-0.1, high=0.3, se=0.2, paired_seeds=True, paired_samples=True)
    assert effects.seeds_needed(effects.Effect(effect=0.1, se_seeds=0.1, se_samples=0.0, seeds=2, **base)) == 34
    # the test samples alone already blur the effect: no number of seeds resolves it
    assert effects.seeds_needed(effects.Effect(effect=0.1, se_seeds=0.1, se_samples=0.05, seeds=2, **base)) == \
        math.inf
    assert effects.seeds_needed(effects.Effect(effect=0.1, se_seeds=0.1, se_samples=0.0, seeds=1, **base)) is None


# ---- the metrics from summed per-sample features ----

def random_predictions(rng, n=6, size=16):
    label = rng.random((n, size, size)) < 0.2
    prob = np.clip(label * 0.3 + rng.random((n, size, size)) * 0.7, 0, 1).astype(np.float32)
    valid = rng.random((n, size, size)) < 0.9
    return prob, label, valid


def test_summed_features_give_the_workflow_metrics():
    prob, label, valid = random_predictions(np.random.default_rng(6))
    exact = SegmentationMetrics()
    exact.update(prob, label, valid)
    expected = exact.compute()
    counts = claims_table.confusion_counts(prob, label, valid).sum(axis=0)
    for name in ("f1", "miou", "precision", "fpr"):
        assert float(effects.confusion_metric(name)(counts)) == pytest.approx(count_metrics(*map(int, counts))[name])
    histograms = claims_table.score_histograms(prob, label, valid).sum(axis=0)
    assert float(effects.average_precision(histograms)) == pytest.approx(expected["auprc"], abs=2e-3)


# ---- the claims as data ----

def test_every_paper_has_at_least_three_claims_with_their_place_and_direction():
    for study in claims.PAPERS:
        found = claims.study_claims(study)
        assert len(found) >= 3, study
        for claim in found:
            assert "line" in claim.where and claim.text and claim.direction in (+1, -1), claim.id
            published = claim.published.values() if isinstance(claim.published, dict) else [claim.published]
            for value in published:
                # the paper's own effect points the way it claims
                assert value is None or np.sign(value) == claim.direction, claim.id
    assert len({claim.id for claim in claims.CLAIMS}) == len(claims.CLAIMS)


# ---- the table from constructed runs ----

def write_transfer_run(root, features, augmentation, seed, skill, rng):
    """A transfer run whose test probabilities are `skill` times the label plus noise."""
    folder = root / f"features~{features}" / f"augmentation~{augmentation}" / f"seed~{seed}"
    folder.mkdir(parents=True)
    label = np.zeros((12, 16, 16), np.uint8)
    label[:, 4:10, 4:10] = 1
    splits = {}
    for split in ("val", "test"):
        prob = np.clip(skill * label + (1 - skill) * rng.random(label.shape), 0, 1)
        splits[split] = {"prob": prob, "id": np.arange(12), "label": label, "valid": np.ones_like(label, bool)}
    write_predictions(folder / "predictions.npz", splits)
    metrics = {"params": {"features": features, "augmentation": augmentation, "seed": seed}}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    return folder / "metrics.json"


def test_claims_table_from_constructed_runs(tmp_path):
    rng = np.random.default_rng(7)
    skills = {("sar", "off"): 0.1, ("sar", "on"): 0.6, ("sar_dem", "off"): 0.3, ("sar_dem", "on"): 0.3}
    paths = [write_transfer_run(tmp_path / "runs", f, a, seed, skill, rng)
             for (f, a), skill in skills.items() for seed in (0, 1)]
    frame = claims_table.claims_frame({"transfer": claims_table.load_runs(paths)}, {"transfer": "synthetic"},
                                      draws=300)
    by_id = frame.set_index("claim_id")
    assert len(frame) == len(claims.study_claims("transfer"))
    assert by_id["verdict"].to_dict() == {
        "transfer-aug-sar": effects.SUPPORTED,  # skill 0.6 against 0.1
        "transfer-aug-sar-dem": effects.INCONCLUSIVE,  # the same skill in both arms
        "transfer-dem-test": effects.CONTRADICTED,  # DEM arm better (0.3 against 0.1), claimed worse
        "transfer-dem-val": effects.SUPPORTED,  # DEM arm better, claimed better
        "transfer-region": effects.INCONCLUSIVE,  # the same skill on both regions
    }
    assert by_id.loc["transfer-aug-sar", "samples"] == "12" and by_id.loc["transfer-aug-sar", "seeds"] == 2
    assert by_id.loc["transfer-region", "samples"] == "12 vs 12"  # val and test chips: not paired
    assert (frame["data"] == "synthetic").all()
    stem = tmp_path / "tables" / "claims"
    stem.parent.mkdir()
    claims_table.write_claims(frame, {"transfer": "Data: SYNTHETIC test cubes."}, stem, tmp_path / "claims.png",
                              tmp_path / "claims.pdf", tmp_path / "claims.html")
    text = stem.with_suffix(".md").read_text()
    assert "help us train more robust models" in text and "Data: SYNTHETIC test cubes." in text
    assert "nan" not in text.lower() and "(data: synthetic)" in text
    assert pd.read_csv(stem.with_suffix(".csv"))["verdict"].tolist() == frame["verdict"].tolist()
    assert "\\toprule" in stem.with_suffix(".tex").read_text()
    assert (tmp_path / "claims.png").stat().st_size > 0 and "<table>" in (tmp_path / "claims.html").read_text()
    intro = claims_table.introduction_section(pd.read_csv(stem.with_suffix(".csv"), keep_default_na=False))
    assert "``transfer``" in intro and "synthetic" in intro
    assert "2 supported, 1 contradicted, 2 inconclusive of 5 comparisons" in intro


def test_claims_of_runs_this_configuration_did_not_make_say_so(tmp_path):
    rng = np.random.default_rng(8)
    paths = [write_transfer_run(tmp_path, "sar", a, 0, 0.3, rng) for a in ("off", "on")]
    frame = claims_table.claims_frame({"transfer": claims_table.load_runs(paths)}, {"transfer": "real"}, draws=100)
    by_id = frame.set_index("claim_id")
    assert by_id.loc["transfer-aug-sar-dem", "verdict"] == claims_table.NOT_RUN
    assert by_id.loc["transfer-aug-sar", "interval"] == "test samples only (one seed)"
    assert "not run" in claims_table.markdown(frame, {})


def test_the_same_runs_give_the_same_numbers(tmp_path):
    rng = np.random.default_rng(9)
    paths = [write_transfer_run(tmp_path, "sar", a, s, 0.2 + 0.1 * s, rng) for a in ("off", "on") for s in (0, 1)]
    runs = {"transfer": claims_table.load_runs(paths)}
    first = claims_table.claims_frame(runs, {}, draws=200)
    claims_table.run_features.cache_clear()
    pd.testing.assert_frame_equal(first, claims_table.claims_frame(runs, {}, draws=200))


def test_a_rate_interval_is_cut_to_the_range_a_difference_can_take():
    from landslides.claims_table import within_range

    assert within_range("auprc", -2.9, 2.5) == (-1.0, 1.0)
    assert within_range("fpr_landslide_free", -0.2, 1.4) == (-0.2, 1.0)
    assert within_range("count_abs_all", -300.0, 500.0) == (-300.0, 500.0)  # pixel counts have no bound
