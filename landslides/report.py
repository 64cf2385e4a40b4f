"""The reproduction report: tidy per-study tables (CSV, Markdown, LaTeX), the published-vs-reproduced
overview, the provenance of every number (config, commit, packages, data, devices, time, memory), the
sanity checks of every run, and the pages of the HTML report (landing page, one table page per study)."""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import importlib.metadata
import json
import math
import platform
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

from landslides.aggregate import format_mean_std, format_number, is_missing, load_runs, markdown_table
from landslides.display import FIGURE_ONLY, NA, NOT_REPORTED
from landslides.studies import STUDIES, study_module

PACKAGES = ["torch", "torchvision", "segmentation-models-pytorch", "kornia", "numpy", "xarray", "zarr",
            "rioxarray", "h5py", "pandas", "scikit-learn", "matplotlib", "seaborn", "snakemake"]
COMPARISON_COLUMNS = ["study", "experiment", "split", "metric", "published", "reproduced", "std", "n"]


# ---- tidy tables ----

def tidy_study_table(metrics_files: list[str]) -> pd.DataFrame:
    """One row per grid cell (all params but the seed), split and metric: mean, std (ddof=1) and seeds."""
    runs = load_runs(metrics_files)
    if runs.empty:
        return runs
    params = [c for c in runs.columns if c not in ("split", "metric", "value", "run", "seed")]
    grouped = runs.groupby([*params, "split", "metric"], sort=False, dropna=False)["value"]
    return grouped.agg(mean="mean", std="std", n_seeds="count").reset_index()


def count_metrics(frame: pd.DataFrame, value: str = "mean") -> set[str]:
    """Metrics whose every value is a whole number with one of them >= 2 (pixel and chip counts)."""
    counts = set()
    for metric, values in frame.groupby("metric")[value]:
        finite = values[np.isfinite(values.astype(float))]
        if len(finite) and (finite == np.round(finite)).all() and (finite.abs() >= 2).any():
            counts.add(metric)
    return counts


def printed_tidy(frame: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """The tidy table as printed: counts as integers, one value column when every cell has one seed
    (no empty spread), 'mean ± std' otherwise."""
    if frame.empty:
        return frame
    counts = count_metrics(frame)
    one_seed = int(frame["n_seeds"].max()) <= 1
    keep = [c for c in frame.columns if c not in ("mean", "std", "n_seeds")]
    out = frame[keep].copy()
    for column in keep:
        if pd.api.types.is_numeric_dtype(out[column]):
            out[column] = [format_number(v) for v in out[column]]
    values = []
    for _, row in frame.iterrows():
        integer = row["metric"] in counts
        # No spread to show: one seed, or the same value in every seed (a property of the data, a count).
        n = 1 if is_missing(row["std"]) or row["std"] == 0 else int(row["n_seeds"])
        if integer:
            text = format_number(row["mean"], integer=True, na="undefined")
            if n > 1:
                text += f" ± {row['std']:.1f}"
        else:
            text = format_mean_std(row["mean"], row["std"], digits, na="undefined", n=n)
        values.append(text)
    out["value" if one_seed else "mean ± std"] = values
    if not one_seed:
        out["seeds"] = frame["n_seeds"].astype(int).astype(str)
    return out


def tidy_note(frame: pd.DataFrame, source: str = "") -> str:
    one_seed = frame.empty or int(frame["n_seeds"].max()) <= 1
    stat = ("One seed per cell: single values, no spread." if one_seed else
            "mean ± sample standard deviation (ddof 1) over the seeds of a cell; a single value where a cell has "
            "one seed; seeds: runs averaged.")
    parts = [stat, "Counts (pixels, chips) are integers; 'undefined': the metric has no value in any run of the "
                   "cell (precision without a positive prediction)."]
    if source:
        parts.append(source)
    return " ".join(parts)


def write_latex(frame: pd.DataFrame, path: str | Path, caption: str) -> None:
    """A booktabs table of already printed (string) cells, ready to \\input into a paper."""
    styler = frame.astype(str).style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    caption = caption.replace("\\", "").replace("%", "\\%").replace("&", "\\&").replace("_", "\\_").replace("#", "\\#")
    Path(path).write_text(styler.to_latex(hrules=True, caption=caption, position_float="centering"))


def write_tables(printed: pd.DataFrame, stem: str | Path, title: str, note: str = "",
                 raw: pd.DataFrame | None = None) -> None:
    """stem.csv (raw numbers, empty where missing), stem.md and stem.tex (printed cells) of one table."""
    stem = Path(stem)
    (raw if raw is not None else printed).to_csv(stem.with_suffix(".csv"), index=False)
    text = [f"# {title}", "", markdown_table(printed), ""]
    if note:
        text += [note, ""]
    stem.with_suffix(".md").write_text("\n".join(text))
    write_latex(printed, stem.with_suffix(".tex"), caption=f"{title}. {note}".strip())


# ---- the published-vs-reproduced overview ----

UNITS = {"f1 (%)": "%", "accuracy": "%"}


def overview(comparisons: list[pd.DataFrame]) -> pd.DataFrame:
    """Every published number beside the reproduced one, with the difference (reproduced - published).

    `published_note` says why a published cell is empty ('figure only' where the paper shows the result
    only in a figure, 'not reported'); `unit` the unit of the row's numbers (the paper's); `flag` what the sanity
    checks found in the row's run (empty if nothing)."""
    frames = []
    for c in comparisons:
        frame = c.reindex(columns=[*COMPARISON_COLUMNS, "published_note", "unit", "flag"])
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=[*COMPARISON_COLUMNS, "published_note", "unit", "flag"])
    frame["published_note"] = [note if isinstance(note, str) and note else (NOT_REPORTED if is_missing(p) else "")
                               for note, p in zip(frame["published_note"], frame["published"], strict=True)]
    frame["unit"] = [u if isinstance(u, str) and u else _unit(m) for u, m in zip(frame["unit"], frame["metric"],
                                                                                  strict=True)]
    frame["difference"] = frame["reproduced"] - frame["published"]
    return frame


def _unit(metric: str) -> str:
    if str(metric).endswith("(%)") or metric in ("accuracy",):
        return "%"
    if "count" in str(metric) or str(metric).startswith("median_signed"):
        return "px"
    return "fraction"


def _digits(unit: str) -> int:
    return {"%": 2, "px": 0}.get(unit, 3)


# The comparison rows' metric names (as the studies write them in comparison.csv) in words, for the printed overview.
METRIC_WORDS = {
    "auprc": "pixel AUPRC",
    "fpr_landslide_free": "false-positive rate, landslide-free chips",
    "median_signed_landslide_free": "median signed count error, landslide-free chips",
    "accuracy": "accuracy",
    "f1": "F1",
    "f1 (%)": "F1",  # the unit column already says %
    "precision": "precision",
    "recall": "recall",
    "miou": "mean IoU",
    "iou": "landslide IoU",
}

FLAGGED = "(flagged)"  # appended to the experiment of a row whose run the sanity checks flag


def metric_words(metric: str) -> str:
    """A comparison metric as a reader says it; an unknown name with its underscores as spaces."""
    return METRIC_WORDS.get(str(metric), str(metric).replace("_", " "))


def _flag(row: pd.Series) -> str:
    flag = row.get("flag")
    return flag if isinstance(flag, str) else ""


def figure_only_rows(frame: pd.DataFrame) -> pd.Series:
    """Rows without a published number because the paper shows the result only in a figure: nothing to compare,
    so the printed overview points to the study's own table instead of listing them."""
    return (frame["published_note"] == FIGURE_ONLY) & frame["published"].map(is_missing)


def printed_overview(frame: pd.DataFrame) -> pd.DataFrame:
    """The overview as printed: metric in words, published number or its note, reproduced (± std over seeds where
    there is more than one), difference, seeds; a flagged run's experiment marked; the rows the paper shows only in
    a figure left to one pointer line of the note (overview_note); no `nan` anywhere."""
    rows = []
    for _, row in frame[~figure_only_rows(frame)].iterrows():
        digits = _digits(row["unit"])
        n = 0 if is_missing(row["n"]) else int(row["n"])
        published = row["published_note"] if is_missing(row["published"]) else f"{row['published']:.{digits}f}"
        reproduced = format_mean_std(row["reproduced"], row["std"], digits, na="undefined", n=n)
        difference = NA if is_missing(row["difference"]) else f"{row['difference']:+.{digits}f}"
        experiment = f"{row['experiment']} {FLAGGED}" if _flag(row) else row["experiment"]
        rows.append({"study": row["study"], "experiment": experiment, "split": row["split"],
                     "metric": metric_words(row["metric"]), "unit": row["unit"], "published": published,
                     "reproduced": reproduced, "difference": difference, "seeds": str(n) if n else NA})
    return pd.DataFrame(rows, columns=["study", "experiment", "split", "metric", "unit", "published", "reproduced",
                                       "difference", "seeds"])


def overview_note(synthetic: bool, frame: pd.DataFrame | None = None) -> str:
    """The overview's footer, one statement a line: how to read it, the studies whose results are figure-only (one
    pointer line each instead of their rows), the flagged runs, and the data warning."""
    lines = ["difference = reproduced - published, in the row's unit (the paper's); reproduced: mean ± sample std "
             "over seeds where a cell has more than one seed, else the single run's value; seeds: runs averaged. "
             "'undefined': the metric has no value in our runs (precision without a positive prediction)."]
    if frame is not None and len(frame):
        lines += abbreviation_lines(frame) + figure_only_lines(frame) + flagged_lines(frame)
    if synthetic:
        lines.append("The data are SYNTHETIC (generated in the real formats): the differences check the pipeline end "
                     "to end and say nothing about the papers' claims.")
    return "\n".join(lines)


def figure_only_lines(frame: pd.DataFrame) -> list[str]:
    """Per study, one line for its results the paper shows only in a figure (left out of the printed rows)."""
    lines = []
    hidden = frame[figure_only_rows(frame)]
    for study, group in hidden.groupby("study", sort=False):
        metrics = "; ".join(dict.fromkeys(metric_words(m) for m in group["metric"]))
        lines.append(f"{study}: the paper shows these results in figures only, so there is no number to compare; "
                     f"our {len(group)} values ({group['experiment'].nunique()} experiments; {metrics}) are in "
                     f"results/tables/{study}.md and the {study} figures.")
    return lines


# The abbreviations experiment names use (refine's ladder, after Zhao et al.), defined in the overview's footer.
ABBREVIATIONS = {
    "SN": "separated normalization (source statistics for the train images, target statistics for val and test)",
    "SLO": "the Lovasz + OHEM + soft cross-entropy loss",
    "SP": "scale promotion (patches enlarged before the network)",
}


def abbreviation_lines(frame: pd.DataFrame) -> list[str]:
    """One line defining the abbreviations the printed experiments use, if any."""
    words = {word for experiment in frame["experiment"].astype(str) for word in re.findall(r"[A-Z]{2,}", experiment)}
    used = [f"{short}: {meaning}" for short, meaning in ABBREVIATIONS.items() if short in words]
    return ["; ".join(used) + "."] if used else []


def flagged_lines(frame: pd.DataFrame) -> list[str]:
    """One line per flagged experiment: what the sanity checks found; its numbers do not measure the method."""
    if "flag" not in frame:
        return []
    flagged = frame[frame["flag"].map(lambda flag: isinstance(flag, str) and bool(flag))]
    first = flagged.groupby(["study", "experiment"], sort=False)["flag"].first()
    return [f"{FLAGGED} {study}, {experiment}: {flag}; its numbers do not measure the method (4 Sanity checks)."
            for (study, experiment), flag in first.items()]


# ---- data sources ----

def data_kind(study: str) -> str:
    """The kind of data a study reads (its plan's DATA: sar, scene or l4s); empty for an unknown name."""
    if study not in STUDIES:
        return ""
    return study_module(study, "plan").DATA


def describe_dataset(kind: str, source: dict) -> str:
    """One phrase naming where a dataset came from: synthetic (with its generator settings) or real."""
    where = source.get("source")
    if kind == "sar":
        region = source.get("region", "?")
        if where == "synthetic":
            size = f", {source['height']}x{source['width']} px" if source.get("height") else ""
            return f"{region}: synthetic SAR datacube (seed {source.get('seed')}{size})"
        if where == "zenodo":
            return f"{region}: real SAR datacube, Zenodo record {source.get('record')} ({source.get('file')})"
        if where is None:
            return f"{region}: not configured"
        return f"{region}: SAR datacube read from {where}"
    if kind == "l4s":
        if where == "synthetic":
            return (f"synthetic Landslide4Sense-format patches ({source.get('n_train')}/{source.get('n_val')}/"
                    f"{source.get('n_test')} train/val/test, seed {source.get('seed')})")
        if where == "zenodo":
            return "real Landslide4Sense benchmark (Zenodo record 10463239)"
        return f"Landslide4Sense-format patches read from {where}"
    if kind == "scene":
        if where == "synthetic":
            return (f"synthetic optical scene ({source.get('height')}x{source.get('width')} px at "
                    f"{source.get('resolution_m')} m, seed {source.get('seed')})")
        if where == "geotiff":
            return f"optical scene {source.get('image')} with labels {source.get('label')}"
        if where == "tiles":
            return f"tile folder {source.get('tiles')}"
    return f"{where}"


def is_synthetic(source: dict) -> bool:
    return source.get("source") == "synthetic"


def data_source_line(study: str, datasets: dict[str, dict]) -> str:
    """'Data: SYNTHETIC ...' or 'Data: real ...': what every table and figure of a study names."""
    kind = data_kind(study)
    phrases = list(dict.fromkeys(describe_dataset(kind, source) for source in datasets.values()))
    synthetic = [is_synthetic(source) for source in datasets.values()]
    if synthetic and all(synthetic):
        head = "Data: SYNTHETIC, generated in the real formats (not the paper's data)"
    elif any(synthetic):
        head = "Data: partly SYNTHETIC"
    else:
        head = "Data: real"
    return f"{head}: {'; '.join(phrases)}."


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
    """Wall time (s), CPU time (s) and peak resident memory (MB) from a Snakemake `benchmark:` file."""
    with open(path) as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    return {"wall_s": _number(row.get("s")), "cpu_s": _number(row.get("cpu_time")),
            "max_rss_mb": _number(row.get("max_rss"))}


def _number(text):
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def run_provenance(metrics_path: Path) -> dict:
    run = json.loads(metrics_path.read_text())
    entry = {"run": str(metrics_path.parent), "params": run.get("params"), "device": run.get("device"),
             "job_wall_s": run.get("wall_seconds")}
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


def compute_summary(provenance: dict) -> dict:
    """Training jobs, their devices, total wall and CPU time and the largest peak memory."""
    runs = provenance.get("runs", [])
    wall = [r.get("wall_s") or r.get("job_wall_s") or 0.0 for r in runs]
    cpu = [r.get("cpu_s") or 0.0 for r in runs]
    rss = [r.get("max_rss_mb") or 0.0 for r in runs]
    devices = sorted({str(r.get("device")) for r in runs if r.get("device")})
    return {"jobs": len(runs), "devices": devices, "wall_s": float(sum(wall)), "cpu_s": float(sum(cpu)),
            "max_rss_mb": float(max(rss, default=0.0))}


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min {secs} s"


# ---- sanity checks ----

CHECK_COLUMNS = ["study", "run", "check", "detail"]


def selection_metric(config: dict, run_dir: str | Path) -> str | None:
    """The validation metric a run selected its epoch on, from the config and the run's place in results/."""
    parts = Path(run_dir).parts
    try:
        study = parts[parts.index("results") + 1]
    except (ValueError, IndexError):
        return None
    block = config.get(study) or {}
    if study == "pretrain":
        block = block.get("stage1" if "stage1" in parts else "stage2") or {}
    elif study == "ridgei":
        method = next((p.split("~", 1)[1] for p in parts if p.startswith("method~")), None)
        if method == "anomaly":
            return "neg_mse"
        block = block.get(method) or {}
    return (block.get("training") or {}).get("selection_metric")


def _constant(values: pd.Series) -> bool:
    values = values.astype(float)
    first = values.iloc[0]
    if np.isnan(first):
        return bool(values.isna().all())
    return bool(np.allclose(values, first, rtol=0, atol=1e-9, equal_nan=False))


def check_run(metrics_path: str | Path, metric: str | None = None) -> list[tuple[str, str]]:
    """(check, detail) for each problem of one run: a validation metric that never left its initial value,
    a selected epoch 0 of several, a constant prediction (no positive anywhere, or the same probability
    everywhere)."""
    metrics_path = Path(metrics_path)
    run = json.loads(metrics_path.read_text())
    problems = []
    history_path = metrics_path.with_name("history.csv")
    history = pd.read_csv(history_path) if history_path.exists() else pd.DataFrame()
    epochs = len(history)
    if epochs > 1:
        column = f"val_{metric}" if metric else None
        if column in history.columns:
            if _constant(history[column]):
                problems.append(("validation metric flat",
                                 f"validation {metric} stayed at its initial value "
                                 f"{format_number(history[column].iloc[0], 3, 'undefined', integer=False)} "
                                 f"in all {epochs} epochs: the model selection had nothing to choose from"))
        else:
            val = [c for c in history.columns if c.startswith("val_")]
            if val and all(_constant(history[c]) for c in val):
                problems.append(("validation metric flat",
                                 f"every validation metric stayed at its initial value in all {epochs} epochs"))
    best = run.get("best_epoch")
    if best == 0 and epochs >= 3:
        problems.append(("selected epoch 0", f"the selected model is epoch 0 of {epochs}: no later epoch beat the "
                                             "validation metric after the first (a learning rate too high for the "
                                             "schedule, or too few epochs to tell)"))
    for split in ("train", "val", "test"):
        m = run.get(split) or {}
        recall, precision = m.get("recall"), m.get("precision")
        if isinstance(recall, int | float) and recall == 0 and (precision is None or is_missing(precision)):
            problems.append(("constant prediction", f"{split}: no positive prediction at all (recall 0, precision "
                                                    "undefined)"))
        elif recall == 1 and m.get("fpr") == 1:
            problems.append(("constant prediction", f"{split}: every sample called landslide (recall 1, false-positive "
                                                    "rate 1); with selection on f1 or accuracy such an epoch can win: "
                                                    "select on auprc"))
        elif isinstance(m.get("auroc"), int | float) and m["auroc"] == 0.5 and m.get("accuracy") == 0.5:
            problems.append(("constant prediction", f"{split}: AUROC 0.5 and accuracy 0.5 on a balanced set "
                                                    "(the same score for every chip)"))
    predictions = metrics_path.with_name("predictions.npz")
    if predictions.exists():
        with np.load(predictions) as data:
            for key in data.files:
                if key.endswith("_prob"):
                    prob = data[key].astype(np.float32)
                    if prob.size and float(np.nanmax(prob) - np.nanmin(prob)) < 1e-3:
                        problems.append(("constant prediction", f"{key[:-5]}: the same probability "
                                                                f"{float(np.nanmean(prob)):.3f} everywhere"))
    return problems


def sanity_checks(metrics_files: list[str | Path], config: dict) -> pd.DataFrame:
    rows = []
    for path in metrics_files:
        run_dir = Path(path).parent
        parts = run_dir.parts
        study = parts[parts.index("results") + 1] if "results" in parts else "?"
        for check, detail in check_run(path, selection_metric(config, run_dir)):
            rows.append({"study": study, "run": str(run_dir), "check": check, "detail": detail})
    return pd.DataFrame(rows, columns=CHECK_COLUMNS)


def run_flags(metrics_files: list[str | Path], config: dict | None = None, detail: bool = False) -> dict[str, str]:
    """Run folder -> its problems ('; '-joined, the short check names unless `detail`), for the flag column or
    footer of a study's own table."""
    checks = sanity_checks(metrics_files, config or {})
    column = "detail" if detail else "check"
    return {run: "; ".join(dict.fromkeys(group[column])) for run, group in checks.groupby("run", sort=False)}


# ---- HTML pages of the report ----

STYLE = """<style>
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; font-size: 14px; margin: 1.5em;
       color: #222; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 13px; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f2f2f2; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
h1 { font-size: 20px; } h2 { font-size: 16px; margin-top: 1.4em; } p { max-width: 60em; }
.warn { color: #a33; font-weight: bold; }
.downloads a { margin-right: 1em; }
</style>"""


def _inline(text: str) -> str:
    """Escaped text with `code` spans."""
    escaped = html.escape(text)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def markdown_to_html(text: str) -> str:
    """The Markdown the workflow writes (headings, pipe tables, paragraphs) as HTML."""
    out, lines, i = [], text.splitlines(), 0
    paragraph: list[str] = []

    def flush():
        # Each line of a note is a paragraph of its own (the writers put one statement per line); warnings stand out.
        for line in paragraph:
            warn = " class=warn" if line.startswith("WARNING") else ""
            out.append(f"<p{warn}>{_inline(line)}</p>")
        paragraph.clear()

    while i < len(lines):
        line = lines[i]
        if line.startswith("#"):
            flush()
            level = min(len(line) - len(line.lstrip("#")), 6)
            out.append(f"<h{level}>{_inline(line.lstrip('#').strip())}</h{level}>")
        elif line.strip().startswith("|") and i + 1 < len(lines) and re.fullmatch(r"\s*\|?[\s:|-]+\|?\s*",
                                                                                   lines[i + 1]):
            flush()
            header, align = _split_row(line), _split_row(lines[i + 1])
            right = [cell.endswith(":") and not cell.startswith(":") for cell in align]
            body = []
            i += 2
            while i < len(lines) and lines[i].strip().startswith("|"):
                cells = _split_row(lines[i])
                body.append("<tr>" + "".join(f"<td{' class=num' if r else ''}>{_inline(c)}</td>"
                                             for c, r in zip(cells, right + [False] * len(cells), strict=False)) +
                            "</tr>")
                i += 1
            out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in header) +
                       "</tr></thead><tbody>" + "".join(body) + "</tbody></table>")
            continue
        elif not line.strip():
            flush()
        else:
            paragraph.append(line.strip())
        i += 1
    flush()
    return "\n".join(out)


def data_uri_link(path: str | Path) -> str:
    """A download link carrying the file itself, so that the single-file report holds it."""
    path = Path(path)
    mime = {".csv": "text/csv", ".md": "text/markdown", ".tex": "application/x-tex",
            ".json": "application/json"}.get(path.suffix, "application/octet-stream")
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<a download="{html.escape(path.name)}" href="data:{mime};base64,{data}">{html.escape(str(path))}</a>'


def html_page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>{STYLE}"
            f"</head><body>\n{body}\n</body></html>\n")


def tables_page(study: str, markdown_files: list[str | Path], downloads: list[str | Path]) -> str:
    """One study's tables: the paper-shaped ones first, then the tidy one, then every file to download."""
    sections = [markdown_to_html(Path(path).read_text()) for path in markdown_files]
    links = "".join(f"<li>{data_uri_link(path)}</li>" for path in downloads)
    body = "\n<hr>\n".join(sections) + f"\n<h2>Files</h2>\n<ul class=downloads>{links}</ul>"
    return html_page(f"{study}: tables", body)


def checks_markdown(checks: pd.DataFrame) -> str:
    lines = ["# Sanity checks of every run", ""]
    if checks.empty:
        lines += ["No run was flagged: every validation metric moved, every selected epoch is after the first, "
                  "and no prediction is constant."]
    else:
        lines += [f"{len(checks)} problem(s) in {checks['run'].nunique()} run(s). These runs' numbers are printed "
                  "in the tables like all others, but they do not measure what the method can do.", "",
                  markdown_table(checks)]
    lines += ["", "Checks: the validation metric the run selected its epoch on never left its initial value (all "
              "epochs equal); the selected epoch is 0 of three or more; the prediction is constant (recall 0 with no "
              "positive prediction, AUROC 0.5 with accuracy 0.5 on a balanced set, or one probability everywhere). "
              "Sources: each run's metrics.json, history.csv and predictions.npz."]
    return "\n".join(lines) + "\n"


# ---- the landing page (reStructuredText, rendered by snakemake --report) ----

def _rst_table(frame: pd.DataFrame, widths: str | None = None) -> str:
    """A csv-table directive of string cells."""
    def quote(cell) -> str:
        return '"' + str(cell).replace('"', '""') + '"'

    lines = [".. csv-table::", "   :header: " + ", ".join(quote(c) for c in frame.columns)]
    if widths:
        lines.append(f"   :widths: {widths}")
    lines.append("")
    for _, row in frame.iterrows():
        lines.append("   " + ", ".join(quote(c) for c in row))
    return "\n".join(lines) + "\n"


def _config_lines(config: dict) -> list[str]:
    studies = config.get("studies", [])
    lines = [f"- studies: {', '.join(studies)}; device setting: ``{config.get('device')}``"]
    for study in studies:
        block = config.get(study) or {}
        seeds = block.get("seeds")
        seeds_text = f"seeds {seeds}" if seeds is not None else f"one training seed ({block.get('seed', 0)})"
        lines.append(f"- ``{study}``: {seeds_text}")
    return lines


# snakemake --report shows the landing page in a box that centres it vertically: a page taller than the window opens
# scrolled to its middle with its top out of reach. This style, held by the landing page itself (so it leaves the
# other views alone), aligns it to the top, and gives docutils' admonitions (which the report's CSS leaves as a plain
# word) a box.
LANDING_STYLE = """.. raw:: html

   <style>
   div.h-screen.items-center { align-items: flex-start; }
   div.admonition { border: 2px solid #2563eb; background: #eff6ff; border-radius: 6px; padding: 0.4em 1em;
                    margin: 0.8em 0; }
   div.admonition.warning { border-color: #b91c1c; background: #fef2f2; }
   p.admonition-title { font-weight: bold; margin: 0.2em 0; }
   div.admonition.warning p.admonition-title { color: #b91c1c; }
   </style>
"""

CONTENTS = [
    "- *1 Overview*: every published number beside ours, with CSV, Markdown and LaTeX files; each paper's claims "
    "with the reproduced effect, its interval and a verdict",
    "- *2 Tables*: every table each study writes, shaped as in its paper, then its per-run (tidy) table",
    "- *3 Figures*: the figures of each study, each once (PNG; the PDF lies beside it under "
    "``results/<study>/figures/``)",
    "- *4 Sanity checks*: runs whose training did not work",
    "- *5 Provenance*: resolved config, package versions, full data checksums, per-run device, time and memory",
]


def short_checksum(checksum: str, digits: int = 12) -> str:
    """'sha256:' and the first digits: enough to tell two datasets apart on the landing page (the full one is in the
    provenance)."""
    algorithm, _, digest = str(checksum).partition(":")
    if not digest or len(digest) <= digits:
        return str(checksum)
    return f"{algorithm}:{digest[:digits]}…"


def data_banner(datasets: dict[str, dict]) -> list[str]:
    """The landing page's first section: a warning where any data are synthetic, else a note naming the real data."""
    if any(is_synthetic(s) for s in datasets.values()):
        return [".. warning::", "",
                "   Data: some or all data of this run are SYNTHETIC (generated in the real formats, not the papers' "
                "data). The numbers test the pipeline end to end; they say nothing about the papers' claims.", ""]
    return [".. note::", "", "   Data: real (the sources and checksums are listed under *Data* below).", ""]


def _run_lines(provenance: dict, configfiles: list[str]) -> list[str]:
    """What was run: config, studies and seeds, code, device and compute."""
    config = provenance.get("config", {})
    compute = compute_summary(provenance)
    given = ", ".join(f"``{c}``" for c in configfiles) if configfiles else "the embedded default ``config/config.yaml``"
    code = provenance.get("git_commit") or "unknown (not a git checkout)"
    packages = provenance.get("packages", {})
    return [f"- configuration: {given} (resolved config in *5 Provenance*, ``results/provenance.json``)",
            *_config_lines(config),
            f"- code version: ``{short_commit(code)}`` (full in *5 Provenance*); Python {provenance.get('python')}, "
            f"torch {packages.get('torch')}, segmentation-models-pytorch {packages.get('segmentation-models-pytorch')},"
            f" snakemake {packages.get('snakemake')}",
            f"- device: {', '.join(compute['devices']) or 'unknown'} ({compute['jobs']} training jobs)",
            f"- total compute of the training jobs: {_duration(compute['wall_s'])} wall time summed over jobs, "
            f"{_duration(compute['cpu_s'])} CPU time; largest peak memory {compute['max_rss_mb'] / 1024:.2f} GB", ""]


def short_commit(commit: str) -> str:
    """A git commit as its first 12 digits (and '+dirty'); anything else as given."""
    head, dirty, _ = commit.partition("+dirty")
    return head[:12] + dirty if re.fullmatch(r"[0-9a-f]{40}", head) else commit


def _data_lines(datasets: dict[str, dict]) -> list[str]:
    rows = []
    for path, source in datasets.items():
        kind = "synthetic" if is_synthetic(source) else "real"
        rows.append({"dataset": path, "source": kind, "what": describe_dataset(_kind_of(path, source), source),
                     "checksum": short_checksum(source.get("checksum", NA))})
    return [_rst_table(pd.DataFrame(rows), "30 10 40 20"), ""] if rows else ["No dataset recorded.", ""]


def _checks_lines(checks: pd.DataFrame) -> list[str]:
    if checks.empty:
        return ["No run was flagged (validation metric moved, selected epoch after the first, prediction not "
                "constant).", ""]
    grouped = checks.groupby("run", sort=False)["check"].agg(lambda c: "; ".join(dict.fromkeys(c)))
    return [f"**{checks['run'].nunique()} run(s) flagged**; their numbers do not measure what the method can do "
            "(details under *4 Sanity checks*):", "",
            _rst_table(grouped.reset_index().rename(columns={"check": "problems"})), ""]


def _section(title: str) -> list[str]:
    return [title, "-" * len(title), ""]


def introduction_rst(provenance: dict, overview_frame: pd.DataFrame, checks: pd.DataFrame,
                     configfiles: list[str], claims: str = "") -> str:
    """The report's opening page, top first: the title, the data-source banner, what was run (config, code,
    device, cost), the contents; then the data with their checksums, the flagged runs, the claims' verdicts (a
    line per study: landslides.claims_table.introduction_section), and every published number beside the
    reproduced one."""
    datasets = provenance.get("datasets", {})
    synthetic = any(is_synthetic(s) for s in datasets.values())
    title = "Landslide-detection reproductions"
    out = [title, "=" * len(title), "", LANDING_STYLE]
    out += data_banner(datasets)
    out += _section("What was run") + _run_lines(provenance, configfiles)
    out += _section("Contents") + CONTENTS + [""]
    out += _section("Data") + _data_lines(datasets)
    out += _section("Sanity checks") + _checks_lines(checks)
    if claims:
        out += [claims, ""]
    out += _section("Published vs reproduced")
    if overview_frame.empty:
        out += ["No study of this run has published numbers to compare.", ""]
    else:
        # One statement a paragraph, as in the Markdown and HTML overview.
        note = overview_note(synthetic, overview_frame).replace("\n", "\n\n")
        out += [_rst_table(printed_overview(overview_frame)), "", note, ""]
    return "{% raw %}\n" + "\n".join(out) + "\n{% endraw %}\n"


def _kind_of(path: str, source: dict) -> str:
    """The kind of a provenance dataset: recorded by the provenance rule, else guessed from its path."""
    if source.get("study") in STUDIES:
        return data_kind(source["study"])
    if "l4s" in path:
        return "l4s"
    if "/chips/" in path or "/datacubes/" in path:
        return "sar"
    return "scene"
