"""The `refine` study (Zhao et al.): progressive label refinement on Landslide4Sense.

Round 0 is the ablation ladder, each entry one source-only training run (baseline with joint
normalization and cross-entropy; +separated normalization; +SLO loss; scale promotion; other networks).
The round-0 ensemble averages the probabilities of the configured ensemble members. Round r >= 1
retrains those members on the train patches plus the target (val/test) images, labelled with round
r-1's ensemble pseudo-labels; target labels are never used for training, only to score every run and
(val) to select each run's best epoch. Metrics: precision, recall, F1 and IoU of the landslide class from
pixel counts summed over a whole split.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from landslides.aggregate import is_missing
from landslides.csn import SOURCE, TARGET, set_eval_domain
from landslides.errors import InputError
from landslides.files import write_json
from landslides.l4s.augment import build_l4s_augmentation
from landslides.l4s.dataset import (
    BAND_NAMES,
    PATCH_SIZE,
    SPLIT_DIRS,
    L4SSplit,
    list_patches,
    read_folder,
    read_image,
    read_mask,
    read_split,
)
from landslides.l4s.pseudo import ensemble_mean, label_summary, pseudo_labels
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics
from landslides.models import build_model, segmentation_spec
from landslides.normalization import domain_stats, normalize
from landslides.published import REFINE
from landslides.report import NOT_REPORTED
from landslides.runs import RunFiles, read_predictions, save_model, start_job, write_predictions
from landslides.train import Split, fit, predict

# landslides.plots (matplotlib) is imported inside the plotting functions: a training job draws nothing,
# and matplotlib would add about half a second to the start-up of every job.

log = logging.getLogger(__name__)

TARGET_SPLITS = ("val", "test")
RGB_BANDS = (3, 2, 1)  # B4, B3, B2 in the benchmark's band order
REPORTED = ("f1", "precision", "recall", "iou")


def run_spec(study: dict, name: str) -> dict:
    """A ladder entry with its model config and loss resolved."""
    run = dict(study["ladder"][name])
    run["name"] = name
    run["label"] = run["label"] or name
    run["loss"] = run["loss"] or study["training"]["loss"]
    run["model_config"] = study["models"][run["model"]]
    return run


def model_spec(spec: dict) -> dict:
    """The network of a ladder entry: its model block at the entry's scale (14 bands in, 2 classes out),
    with cross-sensor normalization if the entry asks for it."""
    return segmentation_spec(spec["model_config"], len(BAND_NAMES), scale=spec["scale"], input_size=PATCH_SIZE,
                             csn=spec.get("csn", False))


# ---- data ----

def read_benchmark(root: str | Path) -> dict[str, L4SSplit]:
    """Train (masks required), val (masks required: they select each run's best epoch), test (optional)."""
    splits = {"train": read_split(root, "train", require_masks=True),
              "val": read_split(root, "val", require_masks=True),
              "test": read_split(root, "test", require_masks=False)}
    if splits["test"].masks is None:
        log.warning("%s: test split has no masks; test metrics will be empty", root)
    return splits


def read_samples(path: str | Path | None) -> L4SSplit | None:
    """The real sample patches (a folder of image_N.h5, or its parent holding img/); None if absent."""
    if not path:
        return None
    folder = Path(path)
    if (folder / "img").is_dir():
        folder = folder / "img"
    if not folder.is_dir():
        log.info("sample patches not found at %s: skipping the sample-patch maps", path)
        return None
    return read_folder(folder)


def normalized_images(mode: str, splits: dict[str, L4SSplit], samples: L4SSplit | None) -> tuple[dict, dict]:
    """Every domain's images normalized under `mode` (landslides.normalization), and the statistics."""
    images = {name: split.images for name, split in splits.items()}
    if samples is not None:
        images["samples"] = samples.images
    stats = domain_stats(mode, images)
    return {name: torch.from_numpy(normalize(x, stats[name])) for name, x in images.items()}, stats


def _mask_target(split: L4SSplit) -> np.ndarray:
    return split.masks.astype(np.int64)


def pseudo_labelled(previous: Path, splits: dict[str, L4SSplit], pseudo: dict) -> dict[str, np.ndarray]:
    """Pseudo-labels per target split from the previous round's ensemble file."""
    ensemble = read_predictions(previous)
    labels = {}
    for split in pseudo["target_splits"]:
        if split not in ensemble or not np.array_equal(ensemble[split]["id"], splits[split].ids):
            raise InputError(f"{previous}: no {split} probabilities for the patches of this data set")
        labels[split] = pseudo_labels(ensemble[split]["prob"], pseudo["threshold"], pseudo["background_threshold"])
    return labels


def data_fingerprint(images: torch.Tensor, target: np.ndarray) -> str:
    """Identifies the training data in fit's resume key: a changed pseudo-label set is a new run."""
    digest = hashlib.sha256(np.ascontiguousarray(target).tobytes())
    digest.update(images.mean(dim=(0, 2, 3)).numpy().tobytes())
    return digest.hexdigest()[:16]


def epochs_for(study: dict, n_train: int) -> int:
    """Epochs from refine.steps (optimizer steps, as the paper counts) when set, else training.epochs."""
    if not study["steps"]:
        return study["training"]["epochs"]
    return max(1, math.ceil(study["steps"] * study["training"]["batch_size"] / n_train))


# ---- one training run ----

def split_metrics(prob: np.ndarray, masks: np.ndarray | None) -> dict:
    """Landslide-class metrics from pixel counts summed over the split (empty without masks)."""
    if masks is None:
        return {}
    metrics = SegmentationMetrics(with_auprc=False)
    metrics.update(prob, masks == 1)
    return metrics.compute()


def run_training(data_root: str | Path, name: str, study: dict, files: RunFiles, *, round_index: int,
                 previous: Path | None = None, threads: int = 1, device_name: str = "auto",
                 deterministic: bool | None = None) -> dict:
    """Train ladder entry `name` in round `round_index`; write the run files and predictions.npz."""
    job = start_job(threads, device_name, deterministic, files)
    spec = run_spec(study, name)

    splits = read_benchmark(data_root)
    samples = read_samples(study["sample_patches"])
    images, stats = normalized_images(spec["normalization"], splits, samples)
    train_images, train_target = [images["train"]], [_mask_target(splits["train"])]
    pseudo_info = {}
    if round_index > 0:
        if previous is None:
            raise InputError(f"round {round_index} of '{name}' needs the previous round's ensemble")
        for split, labels in pseudo_labelled(previous, splits, study["pseudo"]).items():
            train_images.append(images[split])
            train_target.append(labels)
            pseudo_info[split] = label_summary(labels)
    target = np.concatenate(train_target)
    # Cross-sensor normalization needs each sample's domain once target images join the training set.
    domain = None
    if spec.get("csn") and round_index > 0:
        domain = torch.cat([torch.full((len(x),), SOURCE if i == 0 else TARGET) for i, x in enumerate(train_images)])
    train = Split(torch.cat(train_images), torch.from_numpy(target), domain)
    val = Split(images["val"], torch.from_numpy(_mask_target(splits["val"])))

    training = dict(study["training"], loss=spec["loss"], epochs=epochs_for(study, len(train)))
    torch.manual_seed(study["seed"])  # initialization depends on the seed only
    network = model_spec(spec)
    model = build_model(network, weights=spec["model_config"].get("weights"))
    set_eval_domain(model, TARGET)  # validation (val) is target data; no-op without cross-sensor normalization
    loss_fn = build_loss(spec["loss"], **study["loss_params"].get(spec["loss"], {}))
    run_id = {"spec": {k: v for k, v in spec.items() if k != "label"}, "round": round_index,
              "augment": study["augment"], "pseudo": study["pseudo"] if round_index else None,
              "data": data_fingerprint(train.images, target)}
    result = fit(model, train, val, training, checkpoint=files.checkpoint, history_path=files.history,
                 seed=study["seed"], loss_fn=loss_fn, device=job.device,
                 augment=build_l4s_augmentation(study["augment"]), run_id=run_id)

    batch = training["eval_batch_size"]
    prob = {}
    for split in images:  # every split but train is target data (the sample patches too)
        set_eval_domain(model, SOURCE if split == "train" else TARGET)
        prob[split] = predict(model, images[split], batch, job.device).numpy()
    metrics = {split: split_metrics(prob[split], splits[split].masks) for split in TARGET_SPLITS}
    write_predictions(files.predictions, prediction_arrays(prob, splits, samples))
    # Under separated normalization new data bring their own statistics; the train ones are stored
    # for the other modes (joint: the pooled ones, which every domain shares).
    save_model(files.model, model, study="refine", spec=network, channels=list(BAND_NAMES),
               normalization={"mode": spec["normalization"], **stats["train"].to_dict()}, config=study,
               extra={"run": name, "round": round_index, "label": spec["label"]})
    result_json = {
        "params": {"run": name, "round": round_index, "label": spec["label"], "model": spec["model"],
                   "normalization": spec["normalization"], "loss": spec["loss"], "scale": spec["scale"]},
        "epochs": training["epochs"], "best_epoch": result.best_epoch, "n_train_patches": len(train),
        "pseudo_labels": pseudo_info, "val": metrics["val"], "test": metrics["test"],
    }
    return job.finish(result_json, files)


def prediction_arrays(prob: dict, splits: dict[str, L4SSplit], samples: L4SSplit | None) -> dict:
    """The runs.write_predictions layout of val, test (with labels where the split has masks) and the
    unlabelled sample patches."""
    out = {split: {"prob": prob[split], "id": np.asarray(splits[split].ids), "label": splits[split].masks}
           for split in TARGET_SPLITS}
    if samples is not None:
        out["samples"] = {"prob": prob["samples"], "id": np.asarray(samples.ids)}
    return out


# ---- ensemble of one round ----

def run_ensemble(member_files: list[str | Path], round_index: int, members: list[str], out_npz: Path,
                 out_metrics: Path) -> dict:
    """Average the members' probabilities; score the ensemble on val and test."""
    loaded = [read_predictions(path) for path in member_files]
    first = loaded[0]
    arrays, result = {}, {"params": {"run": "ensemble", "round": round_index, "members": members}}
    for key in ("val", "test", "samples"):
        if key not in first:
            continue
        for path, data in zip(member_files, loaded, strict=True):
            if key not in data or not np.array_equal(data[key]["id"], first[key]["id"]):
                raise InputError(f"{path}: {key} predictions do not cover the same patches as {member_files[0]}")
        prob = ensemble_mean([data[key]["prob"] for data in loaded])
        label = first[key].get("label")
        arrays[key] = {"prob": prob, "id": first[key]["id"], "label": label}
        if key in TARGET_SPLITS:
            result[key] = split_metrics(prob, label)
    write_predictions(out_npz, arrays)
    write_json(result, Path(out_metrics))
    return result


# ---- Table 1 and Table 2 ----

PUBLISHED_COLUMN = "published val F1 (%)"
NOT_RUN = "not run"


def _percent(metrics: dict, key: str) -> float:
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
            scores[f"{split} {key} (%)"] = _percent(result.get(split), key)
    return scores


def rounds_table(ensembles: list[dict]) -> pd.DataFrame:
    """Table 2: the ensemble's F1 per refinement round, the paper's test-leaderboard F1 beside it."""
    rows = []
    for ens in sorted(ensembles, key=lambda r: r["params"]["round"]):
        r = ens["params"]["round"]
        rows.append({"refinement": "baseline (round 0)" if r == 0 else f"round {r}", "model": "ensemble",
                     "val F1 (%)": _percent(ens.get("val"), "f1"), "test F1 (%)": _percent(ens.get("test"), "f1"),
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
    return ("One training seed per run (the study's `seed`): single values, no spread. Ours: pixel counts summed "
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


# ---- figures ----

def plot_f1_rounds(runs: list[dict], ensembles: list[dict], png: str, pdf: str, source: str = "") -> None:
    """Ensemble F1 per round on val and test (lines), members (dots), the paper's test F1 (dashed) over the rounds
    this run has; the paper's later rounds are named in the legend, not drawn past our last round."""
    from landslides.plots import add_footer, plt, save_figure
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    rounds = [e["params"]["round"] for e in ensembles]
    members = set(ensembles[0]["params"]["members"]) if ensembles else set()
    for split, color in (("val", "#1b9e77"), ("test", "#d95f02")):
        ax.plot(rounds, [_percent(e.get(split), "f1") for e in ensembles], "o-", color=color,
                label=f"ensemble, {split}")
        member_runs = [r for r in runs if r["params"]["run"] in members]
        ax.plot([r["params"]["round"] + (0.05 if split == "test" else -0.05) for r in member_runs],
                [_percent(r.get(split), "f1") for r in member_runs], ".", color=color, alpha=0.5,
                label=f"members, {split}")
    last = max(rounds, default=0)
    published = sorted(REFINE["ensemble_test_f1"].items())
    shown = [(r, v) for r, v in published if r <= last]
    later = ", ".join(f"round {r}: {v:.2f}" for r, v in published if r > last)
    label = "published ensemble, test leaderboard" + (f"\n(paper continues: {later})" if later else "")
    ax.plot([r for r, _ in shown], [v for _, v in shown], "s--", color="#7570b3", label=label)
    ax.set_xlabel("refinement round (0 = source only)")
    ax.set_ylabel("F1 of the landslide class (%)")
    ax.set_xticks(range(0, last + 1))
    ax.set_xlim(-0.3, last + 0.3)
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title("Progressive label refinement: one training seed, single runs", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def rgb(image: np.ndarray) -> np.ndarray:
    """(14, H, W) patch -> (H, W, 3) true-color B4/B3/B2, stretched between its 2nd and 98th percentiles."""
    bands = image[list(RGB_BANDS)].transpose(1, 2, 0).astype(np.float64)
    low, high = np.percentile(bands, [2, 98])
    return np.clip((bands - low) / max(high - low, 1e-6), 0, 1)


# Landslide4Sense patches are 128 x 128 pixels resampled to 10 m.
PATCH_EXTENT = "each patch 128 x 128 px at 10 m = 1.28 km across"


def _panel(ax, array, title, **kwargs):
    im = ax.imshow(array, interpolation="nearest", **kwargs)
    ax.set_title(title, fontsize=7)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def plot_predictions(ensemble_files: list[str], data_root: str | Path, n_patches: int, png: str,
                     pdf: str, source: str = "") -> None:
    """Test patches with the most landslide pixels (val when test has no labels): RGB, label, the
    ensemble probability of the first and the last round."""
    from landslides.plots import add_footer, plt, save_figure
    first, last = read_predictions(ensemble_files[0]), read_predictions(ensemble_files[-1])
    split = "test" if "label" in first["test"] else "val"
    labels = first[split]["label"]
    landslide_pixels = labels.reshape(len(labels), -1).sum(1, dtype=np.int64)
    chosen = np.argsort(-landslide_pixels, kind="stable")[:n_patches]
    images = read_split(data_root, split, require_masks=False).images
    rows = [("RGB (B4, B3, B2)", None), ("label", None), ("round 0 ensemble", first),
            (f"round {len(ensemble_files) - 1} ensemble", last)]
    fig, axes = plt.subplots(len(rows), len(chosen), figsize=(1.7 * len(chosen) + 1.0, 1.75 * len(rows) + 0.4),
                             squeeze=False, layout="constrained")
    im = None
    for col, i in enumerate(chosen):
        patch_id = first[split]["id"][i]
        _panel(axes[0, col], rgb(images[i]), f"{split} patch {patch_id}")
        _panel(axes[1, col], labels[i], "label (white: landslide)", cmap="gray", vmin=0, vmax=1)
        for row, (title, data) in enumerate(rows[2:], start=2):
            im = _panel(axes[row, col], data[split]["prob"][i], title, cmap="magma", vmin=0, vmax=1)
    # The colourbar stands beside the probability rows only (the lower half), every panel keeping one size.
    fig.colorbar(im, ax=axes, shrink=0.45, anchor=(0.0, 0.02), label="landslide probability")
    fig.suptitle(f"{split.capitalize()} patches with the most landslide pixels; {PATCH_EXTENT}, north up",
                 fontsize=8)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def plot_sample_maps(ensemble_files: list[str], sample_path: str | Path | None, png: str, pdf: str,
                     source: str = "") -> None:
    """The real sample patches (no labels exist): RGB beside the round-0 and last-round probability."""
    from landslides.plots import add_footer, plt, save_figure
    samples = read_samples(sample_path)
    last = read_predictions(ensemble_files[-1])
    if samples is None or "samples" not in last:
        fig, ax = plt.subplots(figsize=(5, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"real sample patches not found at {sample_path}: no maps", ha="center", fontsize=8)
        save_figure(fig, png, pdf)
        return
    first = read_predictions(ensemble_files[0])
    per_row = 2  # samples per figure row, three panels each
    n = len(samples)
    n_rows = math.ceil(n / per_row)
    fig, axes = plt.subplots(n_rows, 3 * per_row, figsize=(1.6 * 3 * per_row + 0.8, 1.65 * n_rows + 0.6),
                             squeeze=False, layout="constrained")
    for ax in axes.ravel():
        ax.axis("off")
    im = None
    for k in range(n):
        row, col = divmod(k, per_row)
        cells = axes[row, 3 * col : 3 * col + 3]
        _panel(cells[0], rgb(samples.images[k]), f"sample {samples.ids[k]} RGB")
        _panel(cells[1], first["samples"]["prob"][k], "round 0", cmap="magma", vmin=0, vmax=1)
        im = _panel(cells[2], last["samples"]["prob"][k], f"round {len(ensemble_files) - 1}",
                    cmap="magma", vmin=0, vmax=1)
    fig.colorbar(im, ax=axes, shrink=0.4, label="landslide probability (ensemble)")
    fig.suptitle(f"REAL Landslide4Sense sample patches (no labels exist) read by the ensemble trained on the "
                 f"configured data; {PATCH_EXTENT}, north up", fontsize=8)
    add_footer(fig, "Images: data/landslide4sense-samples (real Sentinel-2 patches of the benchmark). The models were "
                    f"trained on the configured data. {source}")
    save_figure(fig, png, pdf)


def pseudo_label_frame(runs: list[dict], ensemble_files: list[str], pseudo: dict) -> pd.DataFrame:
    """Per round r >= 1 and target split: the pseudo-labels that round trained on (from round r-1's ensemble):
    the share of pixels labelled at all, the landslide share among them, and against the true masks (where the
    split has them) their precision and recall for the landslide class and the true landslide pixel fraction."""
    rows = []
    recorded = {}
    for run in runs:
        for split, summary in (run.get("pseudo_labels") or {}).items():
            recorded[(run["params"]["round"], split)] = summary
    for r in range(1, len(ensemble_files)):
        previous = read_predictions(ensemble_files[r - 1])
        for split in pseudo.get("target_splits", TARGET_SPLITS):
            if split not in previous:
                continue
            labels = pseudo_labels(previous[split]["prob"], pseudo["threshold"], pseudo["background_threshold"])
            summary = recorded.get((r, split)) or label_summary(labels)
            row = {"round": r, "split": split, "labelled_fraction": summary["labelled_fraction"],
                   "landslide_fraction": summary["landslide_fraction"], "precision": np.nan, "recall": np.nan,
                   "true_fraction": np.nan}
            truth = previous[split].get("label")
            if truth is not None:
                truth = truth.astype(bool)
                pseudo_pos = labels == 1
                row["precision"] = float((pseudo_pos & truth).sum() / pseudo_pos.sum()) if pseudo_pos.any() else np.nan
                row["recall"] = float((pseudo_pos & truth).sum() / truth.sum()) if truth.any() else np.nan
                row["true_fraction"] = float(truth.mean())
            rows.append(row)
    return pd.DataFrame(rows, columns=["round", "split", "labelled_fraction", "landslide_fraction", "precision",
                                       "recall", "true_fraction"])


def plot_pseudo_labels(runs: list[dict], ensemble_files: list[str], pseudo: dict, png: str, pdf: str,
                       source: str = "") -> None:
    """Per refinement round: how much of the target images the pseudo-labels cover, how many of them say
    landslide (against the true landslide fraction), and how right they are."""
    from landslides.plots import add_footer, plt, save_figure
    frame = pseudo_label_frame(runs, ensemble_files, pseudo)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.2))
    colors = {"val": "#1b9e77", "test": "#d95f02"}
    if frame.empty:
        for ax in axes:
            ax.axis("off")
        axes[1].text(0.5, 0.5, "no refinement round (refine.rounds = 0): no pseudo-labels", ha="center", fontsize=9)
    for split, part in frame.groupby("split", sort=False):
        c = colors.get(split, "#666666")
        axes[0].plot(part["round"], 100 * part["labelled_fraction"], "o-", color=c, label=split)
        axes[1].plot(part["round"], 100 * part["landslide_fraction"], "o-", color=c, label=f"{split}: pseudo-labels")
        if part["true_fraction"].notna().any():
            axes[1].plot(part["round"], 100 * part["true_fraction"], "--", color=c, alpha=0.7,
                         label=f"{split}: true masks")
        axes[2].plot(part["round"], 100 * part["precision"], "o-", color=c, label=f"{split} precision")
        axes[2].plot(part["round"], 100 * part["recall"], "s:", color=c, label=f"{split} recall")
    titles = ("pixels with a pseudo-label (%)", "landslide share (%)", "landslide pseudo-labels vs truth (%)")
    for ax, title in zip(axes, titles, strict=True):
        if frame.empty:
            continue
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("round trained on them")
        ax.set_xticks(sorted(frame["round"].unique()))
        ax.legend(fontsize=7)
    if not frame.empty:
        axes[0].set_ylim(0, 102)
        axes[1].set_ylim(0, max(5.0, float(100 * frame[["landslide_fraction", "true_fraction"]].max().max()) * 1.3))
        axes[2].set_ylim(0, 102)
    threshold, background = pseudo.get("threshold"), pseudo.get("background_threshold")
    rule = (f"landslide where p >= {threshold}, background where p <= {background}, ignored in between"
            if background is not None else f"landslide where p >= {threshold}, background elsewhere")
    fig.suptitle(f"Pseudo-labels of each round (from the previous round's ensemble: {rule}); truth: the target "
                 "masks, never used in training", fontsize=8)
    fig.tight_layout()
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def split_statistics(data_root: str | Path) -> dict[str, dict]:
    """Per split, read one patch at a time: patches, pixels, landslide pixels (None without masks) and per-band
    mean and standard deviation over every pixel."""
    stats = {}
    for split in ("train", "val", "test"):
        try:
            ids = list_patches(Path(data_root), split)
        except InputError:
            continue
        folder = Path(data_root) / SPLIT_DIRS[split]
        total = np.zeros(len(BAND_NAMES))
        squares = np.zeros(len(BAND_NAMES))
        pixels, positive, with_masks = 0, 0, (folder / "mask").is_dir()
        for n in ids:
            image = read_image(folder / "img" / f"image_{n}.h5").astype(np.float64)
            total += image.sum(axis=(1, 2))
            squares += (image ** 2).sum(axis=(1, 2))
            pixels += image.shape[1] * image.shape[2]
            mask_path = folder / "mask" / f"mask_{n}.h5"
            if with_masks and mask_path.exists():
                positive += int(read_mask(mask_path).sum())
            else:
                with_masks = False
        mean = total / max(pixels, 1)
        std = np.sqrt(np.maximum(squares / max(pixels, 1) - mean ** 2, 0))
        stats[split] = {"patches": len(ids), "pixels": pixels, "landslide_pixels": positive if with_masks else None,
                        "mean": mean, "std": std}
    return stats


SPLIT_COLORS = {"train": "#1b9e77", "val": "#7570b3", "test": "#d95f02"}


def plot_class_ratio(stats: dict[str, dict], png: str, pdf: str, source: str = "") -> None:
    """After Zhao et al. Fig. 1b: the landslide share of the pixels of each split, with the class ratio."""
    from landslides.plots import add_footer, plt, save_figure
    fig, ax = plt.subplots(figsize=(5.5, 3.2))
    names = list(stats)
    shares = {split: 100 * s["landslide_pixels"] / max(s["pixels"], 1) for split, s in stats.items()
              if s["landslide_pixels"] is not None}
    top = max(shares.values(), default=1.0) * 1.45
    for i, split in enumerate(names):
        s = stats[split]
        if split not in shares:
            ax.text(i, top / 2, "no masks", ha="center", va="center", fontsize=8, color="#666666")
            continue
        share = shares[split]
        ax.bar(i, share, color=SPLIT_COLORS.get(split, "#d95f02"), width=0.6)
        ratio = (s["pixels"] - s["landslide_pixels"]) / max(s["landslide_pixels"], 1)
        ax.text(i, share, f"{share:.2f} %\n1 : {ratio:.0f}\n{s['landslide_pixels']:d} of {s['pixels']:d} px",
                ha="center", va="bottom", fontsize=7)
    ax.set_xticks(range(len(names)), [f"{n}\n{stats[n]['patches']} patches" for n in names])
    ax.set_ylabel("landslide pixels (% of the split)")
    ax.set_ylim(0, top)
    ax.set_title("Class ratio per split (after Zhao et al., Fig. 1b): landslide : non-landslide", fontsize=9)
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def plot_band_statistics(stats: dict[str, dict], png: str, pdf: str, source: str = "") -> None:
    """After Zhao et al. Fig. 2: per band, the mean ± std of every pixel of each split: the shift between the
    source (train) and the target (val, test) domains."""
    from landslides.plots import add_footer, plt, save_figure
    bands = list(BAND_NAMES)
    cols = 7
    rows = math.ceil(len(bands) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.45 * cols + 0.4, 1.7 * rows + 0.6), squeeze=False)
    names = list(stats)
    for b, band in enumerate(bands):
        ax = axes.flat[b]
        for i, split in enumerate(names):
            s = stats[split]
            ax.errorbar(i, s["mean"][b], yerr=s["std"][b], fmt="o", color=SPLIT_COLORS.get(split, "#666666"),
                        capsize=3, markersize=4)
        ax.set_title(band, fontsize=8)
        ax.set_xticks(range(len(names)), names, fontsize=6)
        ax.set_xlim(-0.6, len(names) - 0.4)
        ax.tick_params(axis="y", labelsize=6)
    for ax in axes.flat[len(bands):]:
        ax.axis("off")
    fig.suptitle("Per-band mean ± std of every pixel, per split (after Zhao et al., Fig. 2); raw values as stored",
                 fontsize=9)
    fig.tight_layout()
    add_footer(fig, source)
    save_figure(fig, png, pdf)


def read_results(paths: list[str | Path]) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]
