"""Gather per-run metrics.json files into tidy tables, summarize them over seeds, and print them.

Printing rules shared by every table of the report: one seed gives the plain value (no ±, no empty
spread), a value that does not exist is a word (NA, or what the caller says: "not reported", "figure
only", "not run"), never `nan`; integers print without decimals.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from landslides.display import NA


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
    """Mean, sample standard deviation (ddof=1; NaN for one seed) and count over the remaining runs.

    The count is of runs with a value: a metric that is undefined in a run (precision without a positive
    prediction) is left out of its mean, and a cell where it is undefined in every run has mean NaN, n 0."""
    grouped = tidy.groupby(by, sort=False, dropna=False)["value"]
    return grouped.agg(mean="mean", std="std", n="count").reset_index()


def is_missing(value) -> bool:
    if value is None or value is pd.NA:
        return True
    try:
        return bool(np.isnan(value))
    except (TypeError, ValueError):
        return False


def format_number(value, digits: int = 3, na: str = NA, integer: bool | None = None) -> str:
    """A number as a table prints it: integers without decimals, others with `digits`, missing as `na`.
    integer None: decide from the value (an int, or a float with no fractional part and |x| >= 2)."""
    if is_missing(value):
        return na
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    value = float(value) if not isinstance(value, int | np.integer) else int(value)
    if integer is None:
        integer = isinstance(value, int) or (float(value).is_integer() and abs(value) >= 2)
    if integer:
        return f"{round(value):d}"
    return f"{value:.{digits}f}"


def format_mean_std(mean: float, std: float, digits: int = 3, na: str = NA, n: int | None = None) -> str:
    """'mean ± std' over seeds; the plain mean where there is no spread to give (one seed: std NaN, or
    n <= 1); `na` where there is no value."""
    if is_missing(mean):
        return na
    if is_missing(std) or (n is not None and n <= 1):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def seeds_phrase(n_seeds: int | list) -> str:
    """How a footer names the statistic: 'one seed: single values' or 'mean ± sample std over N seeds'."""
    n = len(n_seeds) if isinstance(n_seeds, list | tuple) else int(n_seeds)
    if n <= 1:
        return "one seed per cell: single values, no spread"
    return f"mean ± sample standard deviation over {n} seeds"


def integer_column(values: pd.Series) -> bool:
    """A column of counts: an integer dtype, or floats that are all whole numbers with one of them >= 2."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return False
    if pd.api.types.is_integer_dtype(values):
        return True
    finite = values[np.isfinite(values.astype(float))]
    return len(finite) > 0 and bool((finite == np.round(finite)).all()) and bool((finite.abs() >= 2).any())


def format_frame(frame: pd.DataFrame, digits: int | dict = 3, na: str | dict = NA) -> pd.DataFrame:
    """Every cell as the string a table prints (see format_number); digits and na per column or for all."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        col_digits = digits.get(column, 3) if isinstance(digits, dict) else digits
        col_na = na.get(column, NA) if isinstance(na, dict) else na
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            integer = integer_column(values)
            out[column] = [format_number(v, col_digits, col_na, integer=integer) for v in values]
        else:
            out[column] = [format_number(v, col_digits, col_na) for v in values]
    return pd.DataFrame(out, columns=frame.columns)


def markdown_table(frame: pd.DataFrame, digits: int | dict = 3, na: str | dict = NA) -> str:
    """A pipe table of `frame` as printed by format_frame; numeric columns right-aligned."""
    printed = format_frame(frame, digits, na)
    align = ["right" if pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
             else "left" for c in frame.columns]
    return printed.to_markdown(index=False, disable_numparse=True, colalign=align)


def write_markdown(frame: pd.DataFrame, path: str | Path, title: str = "", note: str = "", digits: int | dict = 3,
                   na: str | dict = NA) -> None:
    parts = [f"# {title}\n" if title else "", markdown_table(frame, digits, na), f"\n{note}" if note else ""]
    Path(path).write_text("\n".join(p for p in parts if p) + "\n")


def finite_or_none(value):
    """For JSON and CSV cells: a float, or None where it is missing."""
    return None if is_missing(value) else float(value)


def percent(value) -> float:
    return 100.0 * value if not is_missing(value) else math.nan
