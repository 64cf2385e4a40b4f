"""The claims table: each claim of landslides.claims tested on the runs the workflow produced.

For each claim (and each value of its `per` parameter, each step of its `steps` parameter) the runs of both
arms are found by their recorded params, their per-sample test statistics are read from the run's
predictions (predictions.npz, or a refine round's ensemble.npz), and landslides.effects gives the effect, its
95 % interval (paired two-way bootstrap over seeds and test samples), the verdict and the seeds needed.
Runs without per-sample predictions (ridgei writes maps, not predictions.npz) are bootstrapped over seeds
only, from their metrics.json; the table says which."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from landslides import effects
from landslides.aggregate import markdown_table
from landslides.claims import CLAIMS, PAPERS, Arm, Claim
from landslides.constants import DECISION_THRESHOLD
from landslides.display import NA, NOT_REPORTED
from landslides.runs import read_predictions

DRAWS = 2000  # bootstrap draws: the percentile interval's ends move by < 0.1 standard error between seeds
AUPRC_BINS = 1000  # score bins of the AUPRC histograms (each bin one threshold)
NOT_RUN = "not run"

COLUMNS = ["study", "data", "claim_id", "claim", "where", "comparison", "split", "metric", "direction",
           "published", "reproduced", "ci_low", "ci_high", "se", "seeds", "samples", "interval", "verdict",
           "seeds_needed", "note"]


@dataclass
class Run:
    params: dict
    folder: Path
    metrics: dict

    @property
    def seed(self) -> int:
        return int(self.params.get("seed", 0))


def load_runs(metrics_files: list[str | Path]) -> list[Run]:
    runs = []
    for path in metrics_files:
        metrics = json.loads(Path(path).read_text())
        runs.append(Run(metrics.get("params", {}), Path(path).parent, metrics))
    return runs


def matches(run: Run, params: dict) -> bool:
    return all(str(run.params.get(key)) == str(value) for key, value in params.items())


def select(runs: list[Run], params: dict) -> list[Run]:
    """The runs of an arm, one per seed, in seed order."""
    return sorted((run for run in runs if matches(run, params)), key=lambda run: run.seed)


def comparisons(claim: Claim, runs: list[Run]) -> list[tuple[str, Arm, Arm, float | None]]:
    """(scope, arm, baseline, published effect) for each comparison a claim makes on these runs."""
    if claim.steps:
        values = sorted({int(run.params[claim.steps]) for run in runs
                         if claim.steps in run.params and matches(run, claim.arm.params)})
        out = []
        for before, after in zip(values, values[1:], strict=False):
            published = claim.published.get(after) if isinstance(claim.published, dict) else claim.published
            out.append((f"{claim.steps} {after} vs {before}",
                        replace(claim.arm, params={**claim.arm.params, claim.steps: after}),
                        replace(claim.baseline, params={**claim.baseline.params, claim.steps: before}), published))
        return out
    if claim.per:
        values = list(dict.fromkeys(str(run.params[claim.per]) for run in runs
                                    if claim.per in run.params and matches(run, claim.arm.params)))
        return [(f"{claim.per} {value}", replace(claim.arm, params={**claim.arm.params, claim.per: value}),
                 replace(claim.baseline, params={**claim.baseline.params, claim.per: value}), claim.published)
                for value in values]
    return [("", claim.arm, claim.baseline, claim.published)]


# ---- per-sample statistics ----

# Metrics that are rates in [0, 1]: the difference of two lies in [-1, 1].
RATES = ("auprc", "f1", "precision", "recall", "iou", "miou", "accuracy", "fpr")


def within_range(metric: str, low: float, high: float) -> tuple[float, float]:
    """The interval cut to the values a difference of the metric can take. With 2 seeds the few-seed factor
    (Student's t with 1 degree of freedom, 12.7) can stretch a rate's interval past +-1; cutting it there
    changes no verdict (whether 0 is inside is the same)."""
    if metric.split("_")[0] in RATES:
        return max(low, -1.0), min(high, 1.0)
    return low, high


def metric_function(metric: str) -> effects.Metric:
    if metric == "auprc":
        return effects.average_precision
    if metric == "count_abs_all":
        return effects.mean_metric
    if metric == "fpr_landslide_free":
        return effects.confusion_metric("fpr")
    return effects.confusion_metric(metric)


def sample_features(split: dict, metric: str, predict_nothing: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(ids, (samples, features)) of one run's split: what the metric is summed from, per chip or patch."""
    prob = np.zeros_like(split["prob"]) if predict_nothing else split["prob"]
    label = split["label"].astype(bool)
    valid = split["valid"].astype(bool) if "valid" in split else np.ones_like(label)
    ids = split["id"]
    if metric == "fpr_landslide_free":
        # The paper's false positives in areas without landslides: the landslide-free test chips only.
        free = ~split["has_landslide"].astype(bool) if "has_landslide" in split else ~(label & valid).any(axis=(1, 2))
        prob, label, valid, ids = prob[free], label[free], valid[free], ids[free]
    if metric == "auprc":
        return ids, score_histograms(prob, label, valid)
    if metric == "count_abs_all":
        predicted = np.where(valid, prob.astype(np.float64), 0.0).sum(axis=(1, 2))
        error = np.abs(predicted - (label & valid).sum(axis=(1, 2)))
        return ids, np.stack([error, np.ones_like(error)], axis=1)
    return ids, confusion_counts(prob, label, valid)


def confusion_counts(prob: np.ndarray, label: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """(samples, 4): tp, fp, fn, tn of each sample's valid pixels at the workflow's decision threshold."""
    predicted = prob >= DECISION_THRESHOLD
    parts = [predicted & label, predicted & ~label, ~predicted & label, ~predicted & ~label]
    return np.stack([(part & valid).sum(axis=(1, 2)) for part in parts], axis=1).astype(np.float64)


def score_histograms(prob: np.ndarray, label: np.ndarray, valid: np.ndarray, bins: int = AUPRC_BINS) -> np.ndarray:
    """(samples, 2 * bins): per sample the count of positive, then negative, valid pixels per score bin."""
    n = prob.shape[0]
    index = np.clip((prob.astype(np.float64) * bins).astype(np.int64), 0, bins - 1)
    sample = np.broadcast_to(np.arange(n)[:, None, None], prob.shape)
    key = (sample * 2 + (~label).astype(np.int64)) * bins + index
    return np.bincount(key[valid], minlength=n * 2 * bins).reshape(n, 2 * bins).astype(np.float64)


def predictions_file(run: Run) -> Path | None:
    for name in ("predictions.npz", "ensemble.npz"):
        if (run.folder / name).exists():
            return run.folder / name
    return None


def arm_samples(runs: list[Run], arm: Arm, metric: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(ids, (seeds, samples, features)) from the runs' predictions; None where a run has none, or the runs
    of the arm were not scored on the same samples."""
    ids, features = None, []
    for run in runs:
        path = predictions_file(run)
        found = run_features(str(path), arm.split, metric, arm.predict_nothing) if path else None
        if found is None:
            return None
        run_ids, run_features_ = found
        if ids is not None and not np.array_equal(ids, run_ids):
            return None
        ids = run_ids
        features.append(run_features_)
    return ids, np.stack(features)


@functools.lru_cache(maxsize=256)
def run_features(path: str, split: str, metric: str, predict_nothing: bool) -> tuple[np.ndarray, np.ndarray] | None:
    """sample_features of one run's predictions file, read once per claim metric (claims share runs)."""
    data = read_predictions(path).get(split)
    if data is None or "label" not in data:
        return None
    return sample_features(data, metric, predict_nothing)


def run_metric(run: Run, arm: Arm, metric: str) -> float:
    """A run's metric from its metrics.json; for `predict_nothing`, the metric of no landslide predicted on the
    run's test pixels (their number and positives are recorded)."""
    block = run.metrics.get(arm.split, {})
    if arm.predict_nothing:
        pixels, positives = block.get("pixels"), block.get("positive_pixels")
        if pixels is None or positives is None:
            return math.nan
        counts = np.array([0.0, 0.0, positives, pixels - positives])
        return float(metric_function(metric)(counts))
    value = block.get(metric)
    return math.nan if value is None else float(value)


def arm_run_metrics(runs: list[Run], arm: Arm, metric: str) -> np.ndarray:
    """(seeds, 1, 1): each run's metric as its only sample and feature (a bootstrap over seeds only)."""
    return np.array([run_metric(run, arm, metric) for run in runs], np.float64).reshape(-1, 1, 1)


# ---- one row per comparison ----

def comparison_text(arm: Arm, baseline: Arm, scope: str) -> str:
    """'A vs B (size 5)', or 'ensemble (round 2 vs 1)' where the arms differ only by the stepped parameter."""
    text = arm.label if arm.label == baseline.label else f"{arm.label} vs {baseline.label}"
    return f"{text} ({scope})" if scope else text


def compare(claim: Claim, scope: str, arm: Arm, baseline: Arm, published, runs: list[Run], data: str,
            draws: int = DRAWS) -> dict:
    arm_runs, base_runs = select(runs, arm.params), select(runs, baseline.params)
    row = {"study": claim.study, "data": data, "claim_id": claim.id, "claim": claim.text, "where": claim.where,
           "comparison": comparison_text(arm, baseline, scope),
           "split": arm.split if arm.split == baseline.split else f"{arm.split} vs {baseline.split}",
           "metric": claim.metric, "direction": "higher" if claim.direction > 0 else "lower",
           "published": None if published is None else round(published, 6), "note": claim.note}
    if not arm_runs or not base_runs:
        return {**row, "verdict": NOT_RUN, "interval": "", "seeds": 0, "samples": ""}
    seed_ids = [run.seed for run in arm_runs], [run.seed for run in base_runs]
    paired_seeds = seed_ids[0] == seed_ids[1]
    arm_data, base_data = arm_samples(arm_runs, arm, claim.metric), arm_samples(base_runs, baseline, claim.metric)
    if arm_data is not None and base_data is not None:
        # The same ids in two splits are different chips (ids number each region's store): pair within a split only.
        paired_samples = arm.split == baseline.split and np.array_equal(arm_data[0], base_data[0])
        arm_x, base_x = arm_data[1], base_data[1]
        samples = str(arm_x.shape[1]) if paired_samples else f"{arm_x.shape[1]} vs {base_x.shape[1]}"
        interval = "seeds and test samples" if min(len(arm_runs), len(base_runs)) > 1 else \
            "test samples only (one seed)"
        metric = metric_function(claim.metric)
    else:
        paired_samples = True
        arm_x, base_x = arm_run_metrics(arm_runs, arm, claim.metric), arm_run_metrics(base_runs, baseline,
                                                                                      claim.metric)
        samples = "runs only"
        interval = "seeds only (no per-sample predictions)" if min(len(arm_runs), len(base_runs)) > 1 else \
            "none (one seed, no per-sample predictions)"
        metric = effects.identity_metric
    # Seeded by the claim and scope, so every run of the job gives the same numbers.
    seed = sum(map(ord, claim.id + scope))
    result = effects.bootstrap_effect(arm_x, base_x, metric, paired_seeds=paired_seeds,
                                      paired_samples=paired_samples, draws=draws, seed=seed)
    verdict = effects.verdict(result.low, result.high, claim.direction)
    needed = effects.seeds_needed(result) if verdict == effects.INCONCLUSIVE else None
    low, high = within_range(claim.metric, result.low, result.high)
    return {**row, "reproduced": result.effect, "ci_low": low, "ci_high": high, "se": result.se,
            "seeds": result.seeds, "samples": samples, "interval": interval, "verdict": verdict,
            "seeds_needed": needed}


def claims_frame(runs_by_study: dict[str, list[Run]], data_by_study: dict[str, str], draws: int = DRAWS
                 ) -> pd.DataFrame:
    """Every claim of every given study, one row per comparison."""
    rows = []
    for claim in CLAIMS:
        if claim.study not in runs_by_study:
            continue
        runs = runs_by_study[claim.study]
        found = comparisons(claim, runs)
        if not found:  # a `per`/`steps` claim with none of its runs in this configuration
            found = [("", claim.arm, claim.baseline, None if isinstance(claim.published, dict) else claim.published)]
        for scope, arm, baseline, published in found:
            rows.append(compare(claim, scope, arm, baseline, published, runs, data_by_study.get(claim.study, ""),
                                draws))
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


# ---- printing ----

def _effect(value, digits: int) -> str:
    return NA if value is None or not np.isfinite(value) else f"{value:+.{digits}f}"


def _digits(metric: str) -> int:
    return 1 if metric.startswith("count") else 3


def seeds_needed_text(row) -> str:
    if row["verdict"] != effects.INCONCLUSIVE:
        return ""
    needed = row["seeds_needed"]
    if needed is None or (isinstance(needed, float) and math.isnan(needed)):
        return "unknown (one seed)" if row["seeds"] in (0, 1) else NA
    if math.isinf(needed):
        return "more test samples needed"
    return str(int(needed))


def printed_claims(frame: pd.DataFrame) -> pd.DataFrame:
    """The table as printed: the paper's effect, ours with its interval, the verdict, the seeds needed."""
    rows = []
    for _, row in frame.iterrows():
        digits = _digits(row["metric"])
        ours = NA if row["verdict"] == NOT_RUN else (
            f"{_effect(row['reproduced'], digits)} [{_effect(row['ci_low'], digits)}, "
            f"{_effect(row['ci_high'], digits)}]")
        published = row["published"]
        rows.append({"study": row["study"], "data": row["data"], "claim": f"“{row['claim']}” ({row['where']})",
                     "comparison": row["comparison"], "metric": f"{row['metric']} ({row['split']}), "
                                                                f"{row['direction']} claimed",
                     "paper": NOT_REPORTED if published is None or pd.isna(published) else _effect(published, digits),
                     "reproduced [95% CI]": ours, "verdict": row["verdict"],
                     "seeds": str(row["seeds"]) if row["seeds"] else NA, "interval over": row["interval"] or NA,
                     "seeds needed": seeds_needed_text(row)})
    return pd.DataFrame(rows)


NOTE = ("Effect = arm - baseline in the metric's unit (fractions; the papers' F1 in % / 100; count errors in "
        "pixels), averaged over seeds. 95 % CI: percentile interval of a paired two-way bootstrap "
        f"({DRAWS} draws): seeds and test chips/patches are resampled independently (every seed is scored on the "
        "same test set), with the same draw for both arms where they share seeds or samples; the seed part is "
        "widened for few seeds (sqrt(S/(S-1)) t(S-1)/z: wide with 2 seeds). Verdict: supported "
        "where the interval excludes 0 on the claimed side, contradicted where it excludes 0 on the other, else "
        "inconclusive. Seeds needed: seeds per arm at which the interval would exclude 0 (either way) with 80 % "
        "power at the "
        "observed effect and variance ('more test samples needed': the test-set variation alone is too large; "
        "'unknown': one seed gives no seed variance). With one seed the interval holds test-sample variation "
        "only; without per-sample predictions (ridgei) it holds seed variation only.")


def markdown(frame: pd.DataFrame, data_lines: dict[str, str]) -> str:
    """One section per study: the paper, the data source, its claims."""
    printed = printed_claims(frame)
    text = ["# Does the reproduction support each paper's claims?", ""]
    for study in dict.fromkeys(frame["study"]):
        kind = frame.loc[frame["study"] == study, "data"].iloc[0]
        text += [f"## {study}: {PAPERS[study]} (data: {kind})", "", data_lines.get(study, ""), "",
                 markdown_table(printed[printed["study"] == study].drop(columns=["study", "data"])), ""]
    return "\n".join(text + [NOTE, ""])


def write_claims(frame: pd.DataFrame, data_lines: dict[str, str], stem: str | Path, png: str | Path,
                 pdf: str | Path, html_path: str | Path) -> None:
    """stem.csv (raw numbers), stem.md (one section per study), stem.tex, the report page and the forest plot."""
    from landslides.report import html_page, markdown_to_html, write_latex

    stem = Path(stem)
    frame.to_csv(stem.with_suffix(".csv"), index=False)
    text = markdown(frame, data_lines)
    stem.with_suffix(".md").write_text(text)
    title = "Does the reproduction support each paper's claims?"
    data = " ".join(dict.fromkeys(data_lines[study] for study in dict.fromkeys(frame["study"]) if study in data_lines))
    write_latex(printed_claims(frame), stem.with_suffix(".tex"), caption=f"{title} {NOTE} {data}")
    Path(html_path).write_text(html_page("Claims", markdown_to_html(text)))
    footer = (f"{data}\nDot and bar: our effect and its 95 % interval, colored by verdict; diamond: the paper's "
              "effect. The interval covers seeds and test samples (one seed: test samples only; ridgei: seeds only).")
    forest_plot(frame, png, pdf, footer)


def study_summary(frame: pd.DataFrame, study: str) -> str:
    """'3 supported, 1 contradicted, 4 inconclusive of 8 comparisons' for the report's opening page."""
    verdicts = frame.loc[frame["study"] == study, "verdict"]
    counts = [f"{int((verdicts == v).sum())} {v}" for v in (effects.SUPPORTED, effects.CONTRADICTED,
                                                            effects.INCONCLUSIVE, NOT_RUN) if (verdicts == v).any()]
    return f"{', '.join(counts)} of {len(verdicts)} comparisons"


# ---- the forest plot ----

VERDICT_COLORS = {effects.SUPPORTED: "#1b9e77", effects.CONTRADICTED: "#d95f02", effects.INCONCLUSIVE: "#555555"}


def forest_plot(frame: pd.DataFrame, png: str | Path, pdf: str | Path, footer: str = "") -> None:
    """One row per comparison: our effect with its 95 % interval (colored by verdict) and the paper's effect.
    One panel per study and metric, each with its own x axis (AUPRC, F1 and pixel counts share no unit)."""
    from landslides.plots import add_footer, plt, save_figure  # matplotlib only where a figure is drawn

    shown = frame[frame["verdict"] != NOT_RUN]
    groups = list(shown.groupby(["study", "metric"], sort=False)) or [(("", ""), shown)]
    heights = [max(len(rows), 1) + 1.2 for _, rows in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(8.5, 0.32 * sum(heights) + 0.6),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, ((study, metric), rows) in zip(axes[:, 0], groups, strict=True):
        y = np.arange(len(rows))[::-1]
        for yi, (_, row) in zip(y, rows.iterrows(), strict=True):
            color = VERDICT_COLORS.get(row["verdict"], "#555555")
            if np.isfinite(row["ci_low"]):
                ax.plot([row["ci_low"], row["ci_high"]], [yi, yi], color=color, lw=2)
            ax.plot(row["reproduced"], yi, "o", color=color, ms=5)
            if row["published"] is not None and pd.notna(row["published"]):
                ax.plot(row["published"], yi, "D", mfc="none", mec="black", ms=6)
        ax.axvline(0, color="#999999", lw=0.8, ls="--")
        ax.set_yticks(y, [_wrap(row["comparison"]) for _, row in rows.iterrows()], fontsize=7)
        ax.set_ylim(-0.7, len(rows) - 0.3)
        ax.set_title(f"{study}: {metric} (effect = arm - baseline)", fontsize=8, loc="left")
        ax.tick_params(axis="x", labelsize=7)
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2, label=f"ours, {v}") for v, c in VERDICT_COLORS.items()]
    handles.append(plt.Line2D([], [], ls="none", marker="D", mfc="none", mec="black", label="paper"))
    axes[0, 0].legend(handles=handles, fontsize=7, loc="lower right", bbox_to_anchor=(1.0, 1.08), ncol=4,
                      frameon=False)
    fig.tight_layout()
    add_footer(fig, footer)
    save_figure(fig, png, pdf)


def _wrap(text: str, width: int = 48) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)[:3])


def introduction_section(frame: pd.DataFrame) -> str:
    """The report's opening page: a line per study with its verdict counts and data source (reStructuredText)."""
    lines = ["Claims", "------", ""]
    if frame.empty:
        return "\n".join(lines + ["No study of this run has claims to test.", ""])
    for study in dict.fromkeys(frame["study"]):
        kind = frame.loc[frame["study"] == study, "data"].iloc[0]
        warn = ", checks the pipeline, not the paper" if "synthetic" in kind or kind == "twin" else ""
        lines.append(f"- ``{study}`` ({PAPERS[study].split(',')[0]}; data: **{kind}**{warn}): "
                     f"{study_summary(frame, study)}")
    lines += ["", "Each claim in the paper's words, with this run's effect, 95 % interval and verdict: *1 Overview*, "
              "``claims.html`` and the forest plot; files ``results/tables/claims.*``.", ""]
    return "\n".join(lines)
