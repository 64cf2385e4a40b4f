"""The reproduction report: tidy per-study tables (CSV, Markdown, LaTeX), the published-vs-reproduced
overview, and the provenance of every number (config, commit, packages, data, devices, time, memory)."""

from __future__ import annotations

import csv
import hashlib
import importlib.metadata
import json
import platform
import subprocess
from pathlib import Path

import pandas as pd

from landslides.aggregate import load_runs, write_markdown

PACKAGES = ["torch", "torchvision", "segmentation-models-pytorch", "kornia", "numpy", "xarray", "zarr",
            "rioxarray", "h5py", "pandas", "scikit-learn", "matplotlib", "seaborn", "snakemake"]
COMPARISON_COLUMNS = ["study", "experiment", "split", "metric", "published", "reproduced", "std", "n"]


def tidy_study_table(metrics_files: list[str]) -> pd.DataFrame:
    """One row per grid cell (all params but the seed), split and metric: mean, std (ddof=1) and seeds."""
    runs = load_runs(metrics_files)
    if runs.empty:
        return runs
    params = [c for c in runs.columns if c not in ("split", "metric", "value", "run", "seed")]
    grouped = runs.groupby([*params, "split", "metric"], sort=False, dropna=False)["value"]
    return grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()


def overview(comparisons: list[pd.DataFrame]) -> pd.DataFrame:
    """Every published number beside the reproduced one, with the difference (reproduced - published)."""
    frame = pd.concat([c[COMPARISON_COLUMNS] for c in comparisons], ignore_index=True)
    frame["difference"] = frame["reproduced"] - frame["published"]
    return frame


def write_latex(frame: pd.DataFrame, path: str | Path, caption: str, digits: int = 3) -> None:
    """A booktabs table, ready to \\input into a paper."""
    styler = frame.style.format(precision=digits, na_rep="--").hide(axis="index")
    Path(path).write_text(styler.to_latex(hrules=True, caption=caption, position_float="centering"))


def write_tables(frame: pd.DataFrame, stem: str | Path, title: str, note: str = "") -> None:
    """stem.csv, stem.md and stem.tex of one table."""
    stem = Path(stem)
    frame.to_csv(stem.with_suffix(".csv"), index=False)
    write_markdown(frame, stem.with_suffix(".md"), title=title, note=note)
    write_latex(frame, stem.with_suffix(".tex"), caption=title)


# ---- provenance ----

def git_commit(repo: Path) -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def directory_digest(path: Path) -> str:
    """sha256 over the relative names and bytes of every file under `path` (a zarr store, a data folder),
    or of the file itself: the checksum of the dataset a run actually read."""
    digest = hashlib.sha256()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        digest.update(str(file.relative_to(path.parent)).encode())
        with open(file, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def read_benchmark(path: Path) -> dict:
    """Wall time (s) and peak resident memory (MB) from a Snakemake `benchmark:` file."""
    with open(path) as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    return {"wall_s": _number(row.get("s")), "max_rss_mb": _number(row.get("max_rss"))}


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def run_provenance(metrics_path: Path) -> dict:
    run = json.loads(metrics_path.read_text())
    entry = {"run": str(metrics_path.parent), "params": run.get("params"), "device": run.get("device")}
    benchmark = metrics_path.parent / "benchmark.tsv"
    if benchmark.exists():
        entry.update(read_benchmark(benchmark))
    return entry


def collect_provenance(config: dict, datasets: dict[str, dict], metrics_files: list[str], repo: Path) -> dict:
    return {
        "config": config,
        "git_commit": git_commit(repo),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(),
        "datasets": datasets,
        "runs": [run_provenance(Path(p)) for p in metrics_files],
    }
