"""refine: Table 1 (the ablation ladder) and Table 2 (the refinement rounds) beside the paper's F1."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from landslides.aggregate import is_missing
from landslides.display import NOT_REPORTED
from landslides.published import REFINE
from landslides.studies.refine.plan import TARGET_SPLITS

REPORTED = ("f1", "precision", "recall", "iou")


PUBLISHED_COLUMN = "published val F1 (%)"


NOT_RUN = "not run"


def percent_of(metrics: dict, key: str) -> float:
    value = (metrics or {}).get(key)
    return round(100.0 * value, 2) if isinstance(value, int | float) and not math.isnan(value) else float("nan")


def _published_run(params: dict) -> float:
    """The paper's validation F1 for a run with this configuration, NaN where it reports none."""
    if params["round"] == 0:
        key = ("separated" if params["normalization"] == "separated" else "plain", params["loss"],
               float(params["scale"]), params["model"])
        return REFINE["ladder_val_f1"].get(key, float("nan"))
    by_round = REFINE["round_model_val_f1"]
    key = (params["round"], params["model"])
    return by_round.get((*key, float(params["scale"])), by_round.get(key, float("nan")))


def ladder_table(runs: list[dict], ensembles: list[dict]) -> pd.DataFrame:
    """Table 1: every run (ladder = round 0, then the members of later rounds) and every round's ensemble."""
    rows = []
    for run in sorted(runs, key=lambda r: r["params"]["round"]):
        p = run["params"]
        rows.append({
            "refinement": f"round {p['round']}", "experiment": p["label"],
            "SN": "yes" if p["normalization"] == "separated" else f"no ({p['normalization']})",
            "SLO": "yes" if p["loss"] == "slo" else f"no ({p['loss']})", "SP": f"x{p['scale']:g}", "model": p["model"],
            **_scores(run), PUBLISHED_COLUMN: _published_run(p),
        })
    for ens in sorted(ensembles, key=lambda r: r["params"]["round"]):
        r = ens["params"]["round"]
        rows.append({"refinement": f"round {r}", "experiment": "ensemble", "SN": "", "SLO": "", "SP": "",
                     "model": " + ".join(ens["params"]["members"]), **_scores(ens),
                     PUBLISHED_COLUMN: REFINE["ensemble_val_f1"].get(r, float("nan"))})
    # Published rows this grid did not run, so that the paper's reference points stay visible.
    run_rounds = {ens["params"]["round"] for ens in ensembles}
    for r, f1 in sorted(REFINE["ensemble_val_f1"].items()):
        if r not in run_rounds:
            rows.append({"refinement": f"round {r}", "experiment": "ensemble (not run here)", "model": "",
                         PUBLISHED_COLUMN: f1})
    rows.append({"refinement": "-", "experiment": "official Landslide4Sense U-Net baseline (not run here)",
                 "model": "U-Net", PUBLISHED_COLUMN: REFINE["l4s_baseline_val"]["f1"]})
    return pd.DataFrame(rows)


def _scores(result: dict) -> dict:
    scores = {}
    for split in TARGET_SPLITS:
        for key in REPORTED:
            scores[f"{split} {key} (%)"] = percent_of(result.get(split), key)
    return scores


def rounds_table(ensembles: list[dict]) -> pd.DataFrame:
    """Table 2: the ensemble's F1 per refinement round, the paper's test-leaderboard F1 beside it."""
    rows = []
    for ens in sorted(ensembles, key=lambda r: r["params"]["round"]):
        r = ens["params"]["round"]
        rows.append({"refinement": "baseline (round 0)" if r == 0 else f"round {r}", "model": "ensemble",
                     "val F1 (%)": percent_of(ens.get("val"), "f1"), "test F1 (%)": percent_of(ens.get("test"), "f1"),
                     "published test F1 (%)": REFINE["ensemble_test_f1"].get(r, float("nan"))})
    return pd.DataFrame(rows)


def _printed(table: pd.DataFrame, published: str) -> pd.DataFrame:
    """Cells as printed: 2 decimals; our empty cells say 'not run' (rows of the paper only) or 'undefined'
    (a metric without a value, e.g. precision with no positive prediction); published empty cells say
    'not reported'."""
    out = table.copy()
    not_run = out["experiment"].astype(str).str.contains("not run") if "experiment" in out else \
        pd.Series(False, index=out.index)
    for column in out.columns:
        if column == published:
            out[column] = [NOT_REPORTED if is_missing(v) else f"{v:.2f}" for v in out[column]]
        elif column.endswith("(%)"):
            out[column] = [(NOT_RUN if skip else "undefined") if is_missing(v) else f"{v:.2f}"
                           for v, skip in zip(out[column], not_run, strict=True)]
        else:
            out[column] = ["" if is_missing(v) else str(v) for v in out[column]]
    return out


def write_tables(table1: pd.DataFrame, table2: pd.DataFrame, csv_path: Path, md_path: Path, note: str) -> None:
    both = pd.concat([table1.assign(table="Table 1"), table2.assign(table="Table 2")], ignore_index=True)
    both.insert(0, "table", both.pop("table"))
    both.to_csv(csv_path, index=False)
    shown1 = [c for c in table1.columns if not c.startswith("test ") or c == "test f1 (%)"]
    text = ["# Refine: Landslide4Sense, progressive label refinement (Zhao et al.)", "",
            "## Table 1: ablation ladder and refinement rounds (precision, recall, F1, IoU of the landslide class, %)",
            "", _printed(table1[shown1], PUBLISHED_COLUMN).to_markdown(index=False, disable_numparse=True), "",
            "## Table 2: ensemble F1 per refinement round (%)", "",
            _printed(table2, "published test F1 (%)").to_markdown(index=False, disable_numparse=True), "",
            "Empty cells: 'not reported': the paper gives no number for this configuration; 'not run': a row of the "
            "paper this grid did not run; 'undefined': the metric has no value (no positive prediction).", "",
            note, ""]
    Path(md_path).write_text("\n".join(text))


def table_note(source: str) -> str:
    return ("SN: separated normalization (source statistics for the train images, target statistics for val and "
            "test; 'no' names the mode used instead); SLO: the Lovasz + OHEM + soft cross-entropy loss ('no' names the "
            "loss used instead); SP: scale promotion, the factor the 128 px patches are enlarged by. "
            "One training seed per run (the study's `seed`): single values, no spread. Ours: pixel counts summed "
            "over each split, threshold 0.5; published: Zhao et al. Table 1 (validation leaderboard) and Table 2 "
            f"(test leaderboard), real Landslide4Sense data. Deviations from the paper: docs/deviations.md. {source}")


def comparison(table1: pd.DataFrame, table2: pd.DataFrame) -> pd.DataFrame:
    """The report's published-vs-reproduced rows: Table 1 on validation, Table 2 on test (F1 in %); rows of the
    paper this grid did not run are left out."""
    rows = []
    ran = table1["val f1 (%)"].notna() if "val f1 (%)" in table1 else pd.Series(False, index=table1.index)
    for _, row in table1[table1[PUBLISHED_COLUMN].notna() & ran].iterrows():
        rows.append({"experiment": f"{row['experiment']} ({row['refinement']})", "split": "val",
                     "published": row[PUBLISHED_COLUMN], "reproduced": row["val f1 (%)"]})
    for _, row in table2[table2["published test F1 (%)"].notna()].iterrows():
        round_name = "round 0" if row["refinement"].startswith("baseline") else row["refinement"]
        rows.append({"experiment": f"ensemble ({round_name})", "split": "test",
                     "published": row["published test F1 (%)"], "reproduced": row["test F1 (%)"]})
    frame = pd.DataFrame(rows, columns=["experiment", "split", "published", "reproduced"])
    return frame.assign(study="refine", metric="f1 (%)", std=float("nan"), n=1, unit="%")


def read_results(paths: list[str | Path]) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]
