"""transfer: Table 1 (pixel AUPRC per arm, mean over seeds beside the paper's) and its comparison rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from landslides.aggregate import format_mean_std, is_missing, seeds_phrase, summarize
from landslides.display import NOT_REPORTED
from landslides.published import TRANSFER_AUPRC
from landslides.studies.transfer.plan import augments

FEATURE_LABELS = {"sar": "SAR", "sar_dem": "SAR & DEM"}


SPLIT_NAMES = {"val": "train region (val)", "test": "test region"}


NO_SKILL = "no-skill (landslide pixel fraction)"


def arm_label(features: str, augmentation: str) -> str:
    label = FEATURE_LABELS.get(features, features)
    return f"{label} (AUG)" if augments(augmentation) else label


def build_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Table 1: AUPRC on the training region (val) and the test region, mean ± std over seeds."""
    auprc = tidy[tidy.metric == "auprc"]
    summary = summarize(auprc, ["features", "augmentation", "split"])
    rows = []
    for (features, augmentation), group in summary.groupby(["features", "augmentation"], sort=False):
        rows.append(_table_row(arm_label(features, augmentation), group,
                               TRANSFER_AUPRC.get((features, augmentation), {})))
    # The no-skill AUPRC is a property of the data (the positive fraction), the same for every run: one value, no
    # spread, counted over the seeds like the arms (the overview's seed count matches theirs).
    no_skill_runs = tidy[tidy.metric == "no_skill"]
    no_skill = summarize(no_skill_runs, ["split"]).assign(std=np.nan, n=no_skill_runs["seed"].nunique())
    rows.append(_table_row(NO_SKILL, no_skill, TRANSFER_AUPRC[("no_skill", None)]))
    return pd.DataFrame(rows)


def _table_row(label: str, group: pd.DataFrame, published: dict) -> dict:
    row = {"experiment": label}
    for split, name in SPLIT_NAMES.items():
        hit = group[group.split == split]
        mean, std, n = (hit["mean"].iloc[0], hit["std"].iloc[0], int(hit["n"].iloc[0])) if len(hit) else \
            (np.nan, np.nan, 0)
        row[f"{name} AUPRC"] = format_mean_std(mean, std, n=n, na="not run")
        row[f"{name} published"] = published.get(split, np.nan)
        row[f"{split}_mean"], row[f"{split}_std"], row[f"{split}_n"] = mean, std, n
    return row


def printed_table(table: pd.DataFrame) -> pd.DataFrame:
    """Table 1 as printed: ours and the published value side by side, both to 3 decimals."""
    shown = [c for c in table.columns if not c.endswith(("_mean", "_std", "_n"))]
    out = table[shown].copy()
    for name in SPLIT_NAMES.values():
        out[f"{name} published"] = [NOT_REPORTED if is_missing(v) else f"{v:.3f}" for v in out[f"{name} published"]]
    return out


PUBLISHED_TEST_CHIPS = 61  # Prapas et al.: Talakmau chips with landslides, the test set


def table_note(runs: list[dict], source: str = "") -> str:
    """What the numbers are, the chip counts beside the paper's, and where the data came from."""
    seeds = sorted({r["params"]["seed"] for r in runs})
    text = (f"Pixel AUPRC; {seeds_phrase(len(seeds))}. Published: Prapas et al., Table 1 (real Hokkaido and "
            "Talakmau data). The no-skill row is the landslide pixel fraction of the split, a property of the data.")
    if runs:
        chips, first = runs[0]["chips"], runs[0]
        text += (f" Chips with landslides: {chips['train']} train / {chips['val']} val ({first['train_region']}), "
                 f"{chips['test']} test ({first['test_region']}; the paper's Talakmau test set has "
                 f"{PUBLISHED_TEST_CHIPS}).")
    text += " Deviations from the paper: docs/deviations.md."
    return f"{text} {source}".strip()


def comparison(table: pd.DataFrame) -> pd.DataFrame:
    """Tidy published-vs-reproduced rows of Table 1 for the overview."""
    rows = []
    for _, row in table.iterrows():
        for split, name in SPLIT_NAMES.items():
            rows.append({"study": "transfer", "experiment": row["experiment"], "split": split, "metric": "auprc",
                         "published": row[f"{name} published"], "reproduced": row[f"{split}_mean"],
                         "std": row[f"{split}_std"], "n": row[f"{split}_n"], "unit": "fraction"})
    return pd.DataFrame(rows)
