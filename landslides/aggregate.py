"""Gather per-run metrics.json files into tidy tables and summarize them over seeds."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd


def load_runs(paths: list[str | Path]) -> pd.DataFrame:
    """One row per (run, split, metric): the run's params as columns, then split, metric, value."""
    rows = []
    for path in paths:
        run = json.loads(Path(path).read_text())
        for split in ("train", "val", "test"):
            for metric, value in (run.get(split) or {}).items():
                if isinstance(value, int | float):
                    rows.append({**run["params"], "split": split, "metric": metric, "value": float(value),
                                 "run": str(Path(path).parent)})
    return pd.DataFrame(rows)


def summarize(tidy: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean, sample standard deviation (ddof=1; NaN for one seed) and count over the remaining runs."""
    grouped = tidy.groupby(by, sort=False, dropna=False)["value"]
    return grouped.agg(mean="mean", std="std", n="count").reset_index()


def format_mean_std(mean: float, std: float, digits: int = 3) -> str:
    if pd.isna(mean):
        return "n/a"
    return f"{mean:.{digits}f}" if pd.isna(std) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def write_markdown(frame: pd.DataFrame, path: str | Path, title: str = "", note: str = "") -> None:
    table = frame.to_markdown(index=False, floatfmt=".3f")
    parts = [f"# {title}\n" if title else "", table, f"\n{note}" if note else ""]
    Path(path).write_text("\n".join(p for p in parts if p) + "\n")
