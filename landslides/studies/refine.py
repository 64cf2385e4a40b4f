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
import time
from pathlib import Path

import numpy as np
import pandas as pd
import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F
from torch import nn

from landslides.errors import InputError
from landslides.l4s.augment import build_l4s_augmentation
from landslides.l4s.dataset import PATCH_SIZE, SPLIT_DIRS, L4SSplit, read_folder, read_split
from landslides.l4s.normalization import BandStats, compute_band_stats, normalize, pooled_stats
from landslides.l4s.pseudo import ensemble_mean, label_summary, pseudo_labels
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics
from landslides.models import build_from_config, load_local_weights
from landslides.plots import plt, save_figure
from landslides.published import REFINE
from landslides.train import Split, configure_torch, fit, predict, select_device

log = logging.getLogger(__name__)

TARGET_SPLITS = ("val", "test")
RGB_BANDS = (3, 2, 1)  # B4, B3, B2 in the benchmark's band order
REPORTED = ("f1", "precision", "recall", "iou")


# ---- configuration checks that the schema cannot express ----

def check_config(study: dict) -> None:
    """Names must refer to existing entries and the pseudo-label thresholds be ordered. InputError, one line."""
    for name, run in study["ladder"].items():
        if run["model"] not in study["models"]:
            raise InputError(f"key 'refine.ladder.{name}.model': '{run['model']}' is not in refine.models")
    for name in study["ensemble"]:
        if name not in study["ladder"]:
            raise InputError(f"key 'refine.ensemble': '{name}' is not in refine.ladder")
    if study["pseudo"]["background_threshold"] >= study["pseudo"]["threshold"]:
        raise InputError("key 'refine.pseudo': background_threshold must be below threshold")


# ---- file layout the Snakemake rules use ----

def l4s_root(study: dict) -> str:
    """Where the benchmark is read from: resources/l4s/<source> for synthetic and zenodo, else the path."""
    if study["source"] in ("synthetic", "zenodo"):
        return f"resources/l4s/{study['source']}"
    return study["source"]


def l4s_inputs(study: dict) -> list[str]:
    """The data a job depends on: one folder per downloaded split, else the benchmark root."""
    if study["source"] == "zenodo":
        return [f"{l4s_root(study)}/{folder}" for folder in SPLIT_DIRS.values()]
    return [l4s_root(study)]


def data_root_of(inputs: list[str]) -> str:
    """The benchmark root from a job's data inputs (a root, or split folders inside one)."""
    first = Path(inputs[0])
    return str(first.parent) if first.name in SPLIT_DIRS.values() else str(first)


def train_inputs(study: dict, round_index: int) -> dict:
    """Round r > 0 also needs round r-1's ensemble, whose pseudo-labels it trains on."""
    inputs = {"data": l4s_inputs(study)}
    if round_index > 0:
        inputs["previous"] = f"results/refine/rounds/round{round_index - 1}/ensemble.npz"
    return inputs


def run_targets(study: dict) -> list[str]:
    """Every training run's metrics: the whole ladder in round 0, the ensemble members in later rounds."""
    runs = [f"results/refine/runs/round0/{name}/metrics.json" for name in study["ladder"]]
    for round_index in range(1, study["rounds"] + 1):
        runs += [f"results/refine/runs/round{round_index}/{name}/metrics.json" for name in study["ensemble"]]
    return runs


def job_study(study: dict, name: str) -> dict:
    """The part of the study config that defines run `name`: a training job's params.

    Snakemake reruns a job whose params changed; passing only what the run depends on means that adding a
    round, a ladder entry or a figure option retrains nothing that already exists.
    """
    if name not in study["ladder"]:
        raise InputError(f"refine run '{name}' is not in refine.ladder")
    unrelated = ("rounds", "figure_patches", "ensemble", "zenodo", "synthetic", "source")
    trimmed = {key: value for key, value in study.items() if key not in unrelated}
    trimmed["ladder"] = {name: study["ladder"][name]}
    trimmed["models"] = {study["ladder"][name]["model"]: study["models"][study["ladder"][name]["model"]]}
    return trimmed


def run_spec(study: dict, name: str) -> dict:
    """A ladder entry with its model config and loss resolved."""
    run = dict(study["ladder"][name])
    run["name"] = name
    run["label"] = run["label"] or name
    run["loss"] = run["loss"] or study["training"]["loss"]
    run["model_config"] = study["models"][run["model"]]
    return run


# ---- scale promotion and model construction ----

class ScaledModel(nn.Module):
    """Scale promotion: resize the input by `scale`, run the network, resize the logits back.

    Small landslides cover few pixels at 128x128; enlarging the patch gives them more of the network's
    receptive field. Logits come back at the input size, so losses and metrics always see 128x128.
    """

    def __init__(self, model: nn.Module, scale: float) -> None:
        super().__init__()
        self.model, self.scale = model, float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.scale == 1.0:
            return self.model(x)
        size = x.shape[-2:]
        big = F.interpolate(x, size=scaled_size(size[0], self.scale), mode="bilinear", align_corners=False)
        logits = self.model(big)
        return F.interpolate(logits, size=tuple(size), mode="bilinear", align_corners=False)


def scaled_size(size: int, scale: float) -> tuple[int, int]:
    side = int(round(size * scale))
    return side, side


def build_model(model_config: dict, scale: float, in_channels: int = 14) -> ScaledModel:
    """The configured network wrapped for scale promotion.

    Swin encoders (timm `tu-swin*`) need their input size when they are built; the shared factory does not
    pass it, so they are built here directly with the same conventions (random init, 2 classes).
    """
    encoder = model_config["encoder"]
    if "swin" in encoder:
        side = scaled_size(PATCH_SIZE, scale)[0]
        try:
            net = smp.Unet(encoder_name=encoder, encoder_weights=None, in_channels=in_channels, classes=2,
                           encoder_depth=model_config.get("encoder_depth", 5),
                           decoder_channels=model_config.get("decoder_channels") or (256, 128, 64, 32, 16),
                           img_size=side)
        except (KeyError, ValueError, RuntimeError) as err:
            raise InputError(f"cannot build unet with encoder '{encoder}': {err}") from err
        if model_config.get("weights"):
            load_local_weights(net, Path(model_config["weights"]))
    else:
        net = build_from_config(model_config, in_channels)
    return ScaledModel(net, scale)


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


def domain_stats(mode: str, images: dict[str, np.ndarray]) -> dict[str, BandStats]:
    """Normalization statistics per domain name ('train', 'val', 'test', 'samples').

    source: the train statistics for everything; joint: statistics pooled over train, val and test;
    separated: every domain its own statistics (Zhao et al.'s separated normalization).
    """
    own = {name: compute_band_stats(x) for name, x in images.items()}
    if mode == "separated":
        return own
    if mode == "source":
        return {name: own["train"] for name in images}
    joint = own["train"]
    for name in ("val", "test"):
        joint = pooled_stats(joint, own[name])
    return {name: joint for name in images}


def normalized_images(mode: str, splits: dict[str, L4SSplit], samples: L4SSplit | None) -> dict:
    images = {name: split.images for name, split in splits.items()}
    if samples is not None:
        images["samples"] = samples.images
    stats = domain_stats(mode, images)
    return {name: torch.from_numpy(normalize(x, stats[name].mean, stats[name].std)) for name, x in images.items()}


def _mask_target(split: L4SSplit) -> np.ndarray:
    return split.masks.astype(np.int64)


def pseudo_labelled(previous: Path, splits: dict[str, L4SSplit], pseudo: dict) -> dict[str, np.ndarray]:
    """Pseudo-labels per target split from the previous round's ensemble file."""
    ensemble = np.load(previous)
    labels = {}
    for split in pseudo["target_splits"]:
        key = f"{split}_prob"
        if key not in ensemble or not np.array_equal(ensemble[f"{split}_ids"], splits[split].ids):
            raise InputError(f"{previous}: no {split} probabilities for the patches of this data set")
        labels[split] = pseudo_labels(ensemble[key], pseudo["threshold"], pseudo["background_threshold"])
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


def run_training(data_root: str | Path, name: str, study: dict, run_dir: Path, *, round_index: int,
                 previous: Path | None = None, threads: int = 1, device_name: str = "auto",
                 deterministic: bool = True) -> dict:
    """Train ladder entry `name` in round `round_index`; write metrics.json, predictions.npz, model.pt."""
    started = time.perf_counter()
    spec = run_spec(study, name)
    device = select_device(device_name)
    configure_torch(threads, device, deterministic)
    run_dir = Path(run_dir)

    splits = read_benchmark(data_root)
    samples = read_samples(study["sample_patches"])
    images = normalized_images(spec["normalization"], splits, samples)
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
    train = Split(torch.cat(train_images), torch.from_numpy(target))
    val = Split(images["val"], torch.from_numpy(_mask_target(splits["val"])))

    training = dict(study["training"], loss=spec["loss"], epochs=epochs_for(study, len(train)))
    torch.manual_seed(study["seed"])  # initialization depends on the seed only
    model = build_model(spec["model_config"], spec["scale"])
    loss_fn = build_loss(spec["loss"], **study["loss_params"].get(spec["loss"], {}))
    run_id = {"spec": {k: v for k, v in spec.items() if k != "label"}, "round": round_index,
              "augment": study["augment"], "pseudo": study["pseudo"] if round_index else None,
              "data": data_fingerprint(train.images, target)}
    result = fit(model, train, val, training, run_dir, seed=study["seed"], loss_fn=loss_fn, device=device,
                 augment=build_l4s_augmentation(study["augment"]), run_id=run_id)

    batch = training["eval_batch_size"]
    prob = {split: predict(model, images[split], batch, device).numpy() for split in images}
    metrics = {split: split_metrics(prob[split], splits[split].masks) for split in TARGET_SPLITS}
    write_predictions(run_dir / "predictions.npz", prob, splits, samples)
    torch.save({"model": model.state_dict(), "spec": spec, "normalization": spec["normalization"]},
               run_dir / "model.pt")
    result_json = {
        "params": {"run": name, "round": round_index, "label": spec["label"], "model": spec["model"],
                   "normalization": spec["normalization"], "loss": spec["loss"], "scale": spec["scale"]},
        "epochs": training["epochs"], "best_epoch": result.best_epoch, "n_train_patches": len(train),
        "pseudo_labels": pseudo_info, "val": metrics["val"], "test": metrics["test"],
        "device": str(device), "wall_seconds": round(time.perf_counter() - started, 2),
    }
    write_json(result_json, run_dir / "metrics.json")
    return result_json


def write_predictions(path: Path, prob: dict, splits: dict[str, L4SSplit], samples: L4SSplit | None) -> None:
    """Probabilities (float16: plenty for a 0.7 threshold), labels and patch ids of val, test, samples."""
    arrays = {}
    for split in TARGET_SPLITS:
        arrays[f"{split}_prob"] = prob[split].astype(np.float16)
        arrays[f"{split}_ids"] = np.asarray(splits[split].ids)
        if splits[split].masks is not None:
            arrays[f"{split}_label"] = splits[split].masks
    if samples is not None:
        arrays["samples_prob"] = prob["samples"].astype(np.float16)
        arrays["samples_ids"] = np.asarray(samples.ids)
    np.savez_compressed(path, **arrays)


def write_json(obj, path: Path) -> None:
    tmp = Path(path).with_name(Path(path).name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, default=float))
    tmp.replace(path)


# ---- ensemble of one round ----

def run_ensemble(member_files: list[str | Path], round_index: int, members: list[str], out_npz: Path,
                 out_metrics: Path) -> dict:
    """Average the members' probabilities; score the ensemble on val and test."""
    loaded = [np.load(path) for path in member_files]
    first = loaded[0]
    arrays, result = {}, {"params": {"run": "ensemble", "round": round_index, "members": members}}
    for key in ("val", "test", "samples"):
        if f"{key}_prob" not in first:
            continue
        for path, data in zip(member_files, loaded, strict=True):
            if f"{key}_prob" not in data or not np.array_equal(data[f"{key}_ids"], first[f"{key}_ids"]):
                raise InputError(f"{path}: {key} predictions do not cover the same patches as {member_files[0]}")
        prob = ensemble_mean([data[f"{key}_prob"].astype(np.float32) for data in loaded])
        arrays[f"{key}_prob"], arrays[f"{key}_ids"] = prob.astype(np.float16), first[f"{key}_ids"]
        if f"{key}_label" in first:
            arrays[f"{key}_label"] = first[f"{key}_label"]
        if key in TARGET_SPLITS:
            result[key] = split_metrics(prob, first[f"{key}_label"] if f"{key}_label" in first else None)
    np.savez_compressed(out_npz, **arrays)
    write_json(result, Path(out_metrics))
    return result


# ---- Table 1 and Table 2 ----

def _percent(metrics: dict, key: str) -> float:
    value = (metrics or {}).get(key)
    return round(100.0 * value, 2) if isinstance(value, int | float) and not math.isnan(value) else float("nan")


def _published_run(params: dict) -> float:
    """The paper's validation F1 for a run with this configuration, NaN where it reports none."""
    if params["round"] == 0:
        key = ("separated" if params["normalization"] == "separated" else "plain", params["loss"],
               float(params["scale"]), params["model"])
        return REFINE["ladder_val_f1"].get(key, float("nan"))
    return REFINE["round_model_val_f1"].get((params["round"], params["model"]), float("nan"))


def ladder_table(runs: list[dict], ensembles: list[dict]) -> pd.DataFrame:
    """Table 1: every run (ladder = round 0, then the members of later rounds) and every round's ensemble."""
    rows = []
    for run in sorted(runs, key=lambda r: r["params"]["round"]):
        p = run["params"]
        rows.append({
            "refinement": f"round {p['round']}", "experiment": p["label"],
            "SN": "yes" if p["normalization"] == "separated" else f"no ({p['normalization']})",
            "SLO": "yes" if p["loss"] == "slo" else f"no ({p['loss']})", "SP": f"x{p['scale']:g}", "model": p["model"],
            **_scores(run), "published val F1 (%)": _published_run(p),
        })
    for ens in sorted(ensembles, key=lambda r: r["params"]["round"]):
        r = ens["params"]["round"]
        rows.append({"refinement": f"round {r}", "experiment": "ensemble", "SN": "", "SLO": "", "SP": "",
                     "model": " + ".join(ens["params"]["members"]), **_scores(ens),
                     "published val F1 (%)": REFINE["ensemble_val_f1"].get(r, float("nan"))})
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


def write_tables(table1: pd.DataFrame, table2: pd.DataFrame, csv_path: Path, md_path: Path, note: str) -> None:
    both = pd.concat([table1.assign(table="Table 1"), table2.assign(table="Table 2")], ignore_index=True)
    both.insert(0, "table", both.pop("table"))
    both.to_csv(csv_path, index=False)
    shown1 = [c for c in table1.columns if not c.startswith("test ") or c == "test f1 (%)"]
    text = ["# Refine: Landslide4Sense, progressive label refinement (Zhao et al.)", "",
            "## Table 1: ablation ladder and refinement rounds (F1 etc. of the landslide class, %)", "",
            table1[shown1].to_markdown(index=False, floatfmt=".2f"), "",
            "## Table 2: ensemble F1 per refinement round (%)", "",
            table2.to_markdown(index=False, floatfmt=".2f"), "", note, ""]
    Path(md_path).write_text("\n".join(text))


def comparison(table1: pd.DataFrame, table2: pd.DataFrame) -> pd.DataFrame:
    """The report's published-vs-reproduced rows: Table 1 on validation, Table 2 on test (F1 in %)."""
    rows = []
    for _, row in table1[table1["published val F1 (%)"].notna()].iterrows():
        rows.append({"experiment": f"{row['experiment']} ({row['refinement']})", "split": "val",
                     "published": row["published val F1 (%)"], "reproduced": row["val f1 (%)"]})
    for _, row in table2[table2["published test F1 (%)"].notna()].iterrows():
        round_name = "round 0" if row["refinement"].startswith("baseline") else row["refinement"]
        rows.append({"experiment": f"ensemble ({round_name})", "split": "test",
                     "published": row["published test F1 (%)"], "reproduced": row["test F1 (%)"]})
    frame = pd.DataFrame(rows, columns=["experiment", "split", "published", "reproduced"])
    return frame.assign(study="refine", metric="f1 (%)", std=float("nan"), n=1)


# ---- figures ----

def plot_f1_rounds(runs: list[dict], ensembles: list[dict], png: str, pdf: str) -> None:
    """Ensemble F1 per round on val and test (lines), members (dots), the paper's test F1 (dashed)."""
    fig, ax = plt.subplots(figsize=(5.5, 3.5))
    rounds = [e["params"]["round"] for e in ensembles]
    members = set(ensembles[0]["params"]["members"]) if ensembles else set()
    for split, color in (("val", "#1b9e77"), ("test", "#d95f02")):
        ax.plot(rounds, [_percent(e.get(split), "f1") for e in ensembles], "o-", color=color,
                label=f"ensemble, {split}")
        member_runs = [r for r in runs if r["params"]["run"] in members]
        ax.plot([r["params"]["round"] + (0.05 if split == "test" else -0.05) for r in member_runs],
                [_percent(r.get(split), "f1") for r in member_runs], ".", color=color, alpha=0.5,
                label=f"members, {split}")
    published = sorted(REFINE["ensemble_test_f1"].items())
    ax.plot([r for r, _ in published], [v for _, v in published], "s--", color="#7570b3",
            label="published ensemble, test leaderboard")
    ax.set_xlabel("refinement round (0 = source only)")
    ax.set_ylabel("F1 of the landslide class (%)")
    ax.set_xticks(range(0, max(rounds + [r for r, _ in published]) + 1))
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    ax.set_title("Progressive label refinement", fontsize=9)
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
                     pdf: str) -> None:
    """Test patches with the most landslide pixels (val when test has no labels): RGB, label, the
    ensemble probability of the first and the last round."""
    first, last = np.load(ensemble_files[0]), np.load(ensemble_files[-1])
    split = "test" if "test_label" in first else "val"
    labels = first[f"{split}_label"]
    landslide_pixels = labels.reshape(len(labels), -1).sum(1, dtype=np.int64)
    chosen = np.argsort(-landslide_pixels, kind="stable")[:n_patches]
    images = read_split(data_root, split, require_masks=False).images
    rows = [("RGB (B4, B3, B2)", None), ("label", None), ("round 0 ensemble", first),
            (f"round {len(ensemble_files) - 1} ensemble", last)]
    fig, axes = plt.subplots(len(rows), len(chosen), figsize=(1.7 * len(chosen), 1.8 * len(rows)), squeeze=False)
    im = None
    for col, i in enumerate(chosen):
        patch_id = first[f"{split}_ids"][i]
        _panel(axes[0, col], rgb(images[i]), f"{split} patch {patch_id}")
        _panel(axes[1, col], labels[i], "label", cmap="gray", vmin=0, vmax=1)
        for row, (title, data) in enumerate(rows[2:], start=2):
            im = _panel(axes[row, col], data[f"{split}_prob"][i].astype(np.float32), title, cmap="magma",
                        vmin=0, vmax=1)
    fig.colorbar(im, ax=axes, shrink=0.5, label="landslide probability")
    fig.suptitle(f"{PATCH_EXTENT}, north up", fontsize=8)
    save_figure(fig, png, pdf)


def plot_sample_maps(ensemble_files: list[str], sample_path: str | Path | None, png: str, pdf: str) -> None:
    """The real sample patches (no labels exist): RGB beside the round-0 and last-round probability."""
    samples = read_samples(sample_path)
    last = np.load(ensemble_files[-1])
    if samples is None or "samples_prob" not in last:
        fig, ax = plt.subplots(figsize=(5, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, f"real sample patches not found at {sample_path}: no maps", ha="center", fontsize=8)
        save_figure(fig, png, pdf)
        return
    first = np.load(ensemble_files[0])
    per_row = 2  # samples per figure row, three panels each
    n = len(samples)
    n_rows = math.ceil(n / per_row)
    fig, axes = plt.subplots(n_rows, 3 * per_row, figsize=(1.6 * 3 * per_row, 1.7 * n_rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    im = None
    for k in range(n):
        row, col = divmod(k, per_row)
        cells = axes[row, 3 * col : 3 * col + 3]
        _panel(cells[0], rgb(samples.images[k]), f"sample {samples.ids[k]} RGB")
        _panel(cells[1], first["samples_prob"][k].astype(np.float32), "round 0", cmap="magma", vmin=0, vmax=1)
        im = _panel(cells[2], last["samples_prob"][k].astype(np.float32), f"round {len(ensemble_files) - 1}",
                    cmap="magma", vmin=0, vmax=1)
    fig.colorbar(im, ax=axes, shrink=0.4, label="landslide probability (ensemble)")
    fig.suptitle(f"Real Landslide4Sense sample patches (no labels): ensemble maps\n{PATCH_EXTENT}, north up",
                 fontsize=9)
    save_figure(fig, png, pdf)


def read_results(paths: list[str | Path]) -> list[dict]:
    return [json.loads(Path(p).read_text()) for p in paths]
