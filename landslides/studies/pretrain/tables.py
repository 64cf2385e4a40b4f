"""pretrain: the test metrics per pretraining arm and training size, the stage-1 table, the comparison rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from landslides.aggregate import format_mean_std, markdown_table, seeds_phrase, summarize
from landslides.display import FIGURE_ONLY

TABLE_METRICS = {
    "auprc": "pixel AUPRC",
    "fpr_landslide_free": "FPR, landslide-free chips",
    "median_signed_landslide_free": "median signed count error, landslide-free (px)",
    "count_abs_all": "mean abs count error, all (px)",
    "count_abs_landslide": "mean abs count error, landslide (px)",
    "count_abs_landslide_free": "mean abs count error, landslide-free (px)",
    "count_signed_all": "mean signed count error, all (px)",
    "count_signed_landslide": "mean signed count error, landslide (px)",
    "count_signed_landslide_free": "mean signed count error, landslide-free (px)",
}


PAPER = "Boehm et al."


def size_order(size: str) -> float:
    return math.inf if str(size) == "all" else float(size)


def _digits(metric: str) -> int:
    """Count errors (pixels) to whole pixels; AUPRC and FPR to 3 decimals."""
    return 0 if "count" in metric or metric.startswith("median") else 3


def build_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """One row per (pretraining, size): mean ± std over seeds of every test metric, plus numeric columns."""
    test = tidy[(tidy.split == "test") & tidy.metric.isin(list(TABLE_METRICS) + ["train_chips"])]
    summary = summarize(test, ["pretraining", "size", "metric"])
    rows = []
    for (pretraining, size), group in summary.groupby(["pretraining", "size"], sort=False):
        row = {"pretraining": pretraining, "size": str(size)}
        values = group.set_index("metric")
        row["seeds"] = int(values["n"].max())
        row["training chips"] = int(values.loc["train_chips", "mean"])
        for metric, label in TABLE_METRICS.items():
            hit = values.loc[metric] if metric in values.index else {"mean": np.nan, "std": np.nan, "n": 0}
            mean, std = hit["mean"], hit["std"]
            row[label] = format_mean_std(mean, std, digits=_digits(metric), n=int(hit["n"]), na="undefined")
            row[f"{metric}_mean"], row[f"{metric}_std"] = mean, std
        rows.append(row)
    table = pd.DataFrame(rows)
    arms = {a: i for i, a in enumerate(["none", "hokkaido", "kaikoura"])}
    order = np.lexsort((table["pretraining"].map(lambda a: arms.get(a, 99)), table["size"].map(size_order)))
    return table.iloc[order].reset_index(drop=True)


def printed_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table as printed: the formatted columns, without the numeric mean/std columns."""
    return table[[c for c in table.columns if not c.endswith(("_mean", "_std"))]]


def runs_frame(metric_files: list[str | Path]) -> pd.DataFrame:
    """Tidy rows as aggregate.load_runs, plus the actual training-set size as the metric 'train_chips'."""
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        values = dict(run["test"], train_chips=run["chips"]["train"])
        rows += [{**run["params"], "split": "test", "metric": k, "value": float(v), "run": str(path)}
                 for k, v in values.items() if isinstance(v, int | float)]
    return pd.DataFrame(rows)


def stage1_table(metric_files: list[str | Path], flags: dict[str, str] | None = None) -> pd.DataFrame:
    """The stage-1 classifiers on their held-out balanced test chips; `check`: what the sanity pass flagged
    (landslides.report.run_flags, keyed by run folder). Precision is empty where no chip was predicted
    positive (it is undefined)."""
    flags = flags or {}
    rows = []
    for path in metric_files:
        run = json.loads(Path(path).read_text())
        rows.append({"pretraining region": run["params"]["region"],
                     **{f"{k} chips": int(v) for k, v in run["chips"].items()},
                     **{m: run["test"].get(m, np.nan) for m in ("accuracy", "precision", "recall", "auroc")},
                     "best epoch": int(run["best_epoch"]),
                     "check": flags.get(str(Path(path).parent), "ok")})
    return pd.DataFrame(rows)


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Rows for the report's published-vs-reproduced overview. The paper shows these results in figures, without
    numbers: `published` is empty and its note says 'figure only'; the headline metrics are listed so that the
    overview shows the study."""
    rows = [{"study": "pretrain", "experiment": f"pretraining {row['pretraining']}, size {row['size']}",
             "split": "test", "metric": metric, "published": np.nan, "reproduced": row[f"{metric}_mean"],
             "std": row[f"{metric}_std"], "n": row["seeds"], "published_note": FIGURE_ONLY,
             "unit": "px" if _digits(metric) == 0 else "fraction"}
            for _, row in table.iterrows()
            for metric in ("auprc", "fpr_landslide_free", "median_signed_landslide_free")]
    return pd.DataFrame(rows, columns=["study", "experiment", "split", "metric", "published", "reproduced",
                                       "std", "n", "published_note", "unit"])


def printed_stage1(stage1: pd.DataFrame) -> str:
    if not len(stage1):
        return "(no pretraining arm in this grid)"
    return markdown_table(stage1, digits=3, na={"precision": "undefined", "auroc": "undefined"})


def abs_equals_signed(table: pd.DataFrame) -> bool:
    """Whether every mean abs count error equals its mean signed one: every chip's error has the same sign (>= 0),
    which a reader would otherwise take for a copied column."""
    pairs = [(f"count_abs_{group}_mean", f"count_signed_{group}_mean")
             for group in ("all", "landslide", "landslide_free")]
    present = [(a, s) for a, s in pairs if a in table and s in table]
    return bool(present) and all(np.allclose(table[a], table[s], equal_nan=True) for a, s in present)


def table_note(study: dict, stage1: pd.DataFrame, source: str = "", table: pd.DataFrame | None = None) -> str:
    """What the numbers are, and the stage-1 classifiers' held-out metrics."""
    flagged = stage1[stage1["check"] != "ok"] if len(stage1) else stage1
    lines = [
        f"Stage 2 on {study['stage2_region']}; {seeds_phrase(study['seeds'])} (seeds {study['seeds']}).",
        "Training sets: half of the chips landslide-free, drawn with the run's seed; 'all' is the largest "
        "such set.",
        "Count error (px): per test chip, sum of predicted probabilities minus the number of landslide pixels "
        "(valid pixels); abs = mean of |error|, signed = mean of error; median over landslide-free chips is "
        "the authors' false-positive summary. FPR: pixels >= 0.5 on landslide-free chips.",
    ]
    if table is not None and abs_equals_signed(table):
        lines.append("Mean abs and mean signed count errors are equal in every row: on every test chip the "
                     "probabilities sum to at least the chip's landslide pixel count (the model over-predicts "
                     "everywhere), so |error| = error.")
    lines += [
        f"Published: none to print: {PAPER} show these results as figures only. Deviations from the paper and the "
        "authors' code: docs/deviations.md.",
    ]
    if source:
        lines.append(source)
    lines += [
        "",
        "## Stage 1: chip classifier on held-out balanced test chips of its region",
        "",
        printed_stage1(stage1),
        "",
        "Precision 'undefined': no test chip was predicted to hold a landslide. check: the report's sanity pass "
        "(a validation metric that never moved, epoch 0 selected, a constant prediction).",
    ]
    if len(flagged):
        regions = ", ".join(flagged["pretraining region"])
        lines.append(f"WARNING: the stage-1 classifier of {regions} did not learn; the stage-2 arm built on it "
                     "measures a frozen untrained embedding, not pretraining.")
    return "\n".join(lines)
