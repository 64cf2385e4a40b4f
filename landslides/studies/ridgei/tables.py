"""ridgei: the methods' test metrics beside the paper's and the comparison rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from landslides.aggregate import format_mean_std, seeds_phrase, summarize
from landslides.published import RIDGEI

# (metric, column label, factor to % for ours, factor to % for the published value): every number of both
# tables is printed in percent, ours and the paper's alike (the paper gives accuracy in %, the rest as fractions).
TABLE1_METRICS = (("accuracy", "Accuracy (%)", 100.0, 1.0), ("f1", "F1 (%)", 100.0, 100.0),
                  ("precision", "Precision (%)", 100.0, 100.0), ("recall", "Recall (%)", 100.0, 100.0))


TABLE2_METRICS = (("miou", "Mean IoU (%)"), ("iou", "Landslide IoU (%)"))


TABLE2_ROWS = (("deeplab", "DeepLabv3+", "Supervised"), ("anomaly", "Anomaly U-Net", "Unsupervised"))


# Table 3: every metric a reader needs of every method on the test part (ours only; the paper's numbers are in
# Tables 1-2), beside what a predictor without skill scores: no_skill is the landslide share of the test part.
TABLE3_METRICS = (("auprc", "AUPRC"), ("f1", "F1"), ("precision", "Precision"), ("recall", "Recall"),
                  ("iou", "Landslide IoU"), ("miou", "mIoU"))
TABLE3_ROWS = (("classifier", "ResNet50 classifier", "patches"), ("deeplab", "DeepLabv3+", "pixels"),
               ("anomaly", "Anomaly U-Net", "pixels"))


def build_table(tidy: pd.DataFrame) -> pd.DataFrame:
    """Long table: one row per (table, method, split, metric), ours (mean ± std over seeds) and published, all
    in percent."""
    summary = summarize(tidy, ["method", "split", "metric"])
    rows = []
    for split in ("train", "test"):
        for metric, _, scale, published_scale in TABLE1_METRICS:
            rows.append(_row(summary, "Table 1", "classifier", f"ResNet50 ({split})", split, metric, scale,
                             published_scale))
    for method, name, _ in TABLE2_ROWS:
        for metric, _ in TABLE2_METRICS:
            rows.append(_row(summary, "Table 2", method, name, "test", metric, 100.0, 100.0))
    for method, name, _ in TABLE3_ROWS:
        for metric in (*(m for m, _ in TABLE3_METRICS), "no_skill"):
            rows.append(_row(summary, "Table 3", method, name, "test", metric, 100.0, None))
    return pd.DataFrame(rows)


def _row(summary, table, method, name, split, metric, scale, published_scale) -> dict:
    """published_scale None: a row without the paper's number (Table 3 repeats no published value)."""
    hit = summary[(summary.method == method) & (summary.split == split) & (summary.metric == metric)]
    mean, std, n = (hit["mean"].iloc[0] * scale, hit["std"].iloc[0] * scale, int(hit["n"].iloc[0])) \
        if len(hit) else (np.nan, np.nan, 0)
    published = np.nan if published_scale is None else \
        RIDGEI.get(method, {}).get(split, {}).get(metric, np.nan) * published_scale
    return {"table": table, "method": name, "split": split, "metric": metric, "unit": "%",
            "ours": format_mean_std(mean, std, 1, na="undefined", n=n), "published": published, "mean": mean,
            "std": std, "n": n}


def table_markdown(table: pd.DataFrame, source: str = "", flags: dict[str, str] | None = None) -> str:
    """Both tables laid out as in the paper, ours beside the published value, every number in percent."""
    header = " | ".join(f"{label} ours | {label} published" for _, label, _, _ in TABLE1_METRICS)
    lines = ["# Ridge-i (Kimura): patch classifier, DeepLabv3+ and anomaly U-Net on the test half", "",
             "## Table 1: patch-based ResNet50 classifier (patch-level, %)", "",
             f"| Network (dataset) | {header} |",
             "|---|" + "---:|" * (2 * len(TABLE1_METRICS))]
    flagged = method_flags(flags)
    for split in ("train", "test"):
        name = f"ResNet50 ({split})"
        cells = [_cell(table, name, metric, 1) for metric, _, _, _ in TABLE1_METRICS]
        lines.append(f"| {_marked(name, flagged)} | " + " | ".join(cells) + " |")
    header2 = " | ".join(f"{label} ours | {label} published" for _, label in TABLE2_METRICS)
    lines += ["", "## Table 2: segmentation on the test half (pixel-level, %)", "",
              f"| Method | {header2} | Annotation |", "|---|" + "---:|" * (2 * len(TABLE2_METRICS)) + "---|"]
    for _, name, annotation in TABLE2_ROWS:
        cells = [_cell(table, name, metric, 2) for metric, _ in TABLE2_METRICS]
        lines.append(f"| {_marked(name, flagged)} | " + " | ".join(cells) + f" | {annotation} |")
    lines += _table3_lines(table)
    n = int(table["n"].max()) if len(table) else 0
    lines += ["", f"Ours: {seeds_phrase(n)}; published: Kimura (Ridge-i), Tables 1-2, dataset A. Every number in "
              "percent (Table 1 to 0.1, Table 2 to 0.01, as the paper). 'not reported': the paper gives no number; "
              "'undefined': the metric has no value in our runs (precision without a positive prediction). mIoU = mean "
              "of background and landslide IoU."]
    for run, problem in (flags or {}).items():
        lines.append(f"WARNING: {run} did not train properly ({problem}); its numbers do not measure the method "
                     "(details: the report's sanity checks).")
    if source:
        lines.append(source)
    return "\n".join(lines) + "\n"


def _marked(name: str, flagged: dict[str, str]) -> str:
    """A method's row label, marked where the sanity checks flag its run (the footer's WARNING says why)."""
    return f"{name} (flagged: {flagged[name]})" if name in flagged else name


def _table3_lines(table: pd.DataFrame) -> list[str]:
    """Every method's metrics on the test part, each followed by what calling everything landslide scores."""
    if "Table 3" not in set(table["table"]):
        return []
    part = table[table["table"] == "Table 3"]
    header = " | ".join(label for _, label in TABLE3_METRICS)
    lines = ["", "## Table 3: every metric of every method on the test part (ours, %), beside no skill", "",
             f"| Method | Unit | {header} |", "|---|---|" + "---:|" * len(TABLE3_METRICS)]
    for _, name, unit in TABLE3_ROWS:
        rows = part[part.method == name].set_index("metric")
        cells = [format_mean_std(rows.at[m, "mean"], rows.at[m, "std"], 2, na="undefined", n=int(rows.at[m, "n"]))
                 for m, _ in TABLE3_METRICS]
        lines.append(f"| {name} | {unit} | " + " | ".join(cells) + " |")
        share = rows.at["no_skill", "mean"] / 100.0  # the landslide share of the test part (mean over seeds)
        lines.append(f"| no skill ({name}: every {unit[:-1]} landslide) | {unit} | "
                     + " | ".join(_no_skill(metric, share) for metric, _ in TABLE3_METRICS) + " |")
    lines += ["", "No skill: what calling every patch or pixel landslide scores on the same test part (AUPRC: that "
              "of any random ranking, the landslide share p; F1 2p/(1+p); precision and IoU p; recall 100; "
              "mIoU p/2). A method is useful where it beats these, AUPRC and IoU above all."]
    return lines


def _no_skill(metric: str, share: float) -> str:
    if np.isnan(share):
        return "undefined"
    value = {"auprc": share, "f1": 2 * share / (1 + share), "precision": share, "recall": 1.0, "iou": share,
             "miou": share / 2}[metric]
    return f"{100 * value:.2f}"


def _cell(table: pd.DataFrame, name: str, metric: str, digits: int = 1) -> str:
    """'ours | published' for one metric, both in percent with the same digits."""
    row = table[(table.method == name) & (table.metric == metric)].iloc[0]
    ours = format_mean_std(row["mean"], row["std"], digits, na="undefined", n=int(row["n"]))
    published = "not reported" if pd.isna(row["published"]) else f"{row['published']:.{digits}f}"
    return f"{ours} | {published}"


def flagged_methods(flags: dict[str, str] | None) -> dict[str, str]:
    """Method (classifier, deeplab, anomaly) -> the sanity checks' problems of its runs, from run folder -> problems
    (landslides.report.run_flags); the folder names the method as method~<method>."""
    out: dict[str, str] = {}
    for run, problem in (flags or {}).items():
        method = next((part.split("~", 1)[1] for part in Path(run).parts if part.startswith("method~")), None)
        if method:
            out[method] = "; ".join(dict.fromkeys(filter(None, [out.get(method), problem])))
    return out


def method_flags(flags: dict[str, str] | None) -> dict[str, str]:
    """Printed method name (as in the tables) -> the sanity checks' problems of its runs (see flagged_methods)."""
    names = {"classifier": [f"ResNet50 ({split})" for split in ("train", "test")]}
    names.update({method: [name] for method, name, _ in TABLE2_ROWS})
    return {name: problem for method, problem in flagged_methods(flags).items() for name in names.get(method, [])}


def comparison(table: pd.DataFrame, flags: dict[str, str] | None = None) -> pd.DataFrame:
    """The report's tidy published-vs-reproduced rows (only cells the paper gives a number for), in percent; `flag`:
    the sanity checks' problems of the row's runs (run folder -> problems, landslides.report.run_flags)."""
    given = table[table["published"].notna()]
    flagged = method_flags(flags)
    return pd.DataFrame({"study": "ridgei", "experiment": given["method"], "split": given["split"],
                         "metric": given["metric"], "published": given["published"],
                         "reproduced": given["mean"], "std": given["std"], "n": given["n"], "unit": "%",
                         "flag": [flagged.get(name, "") for name in given["method"]]})
