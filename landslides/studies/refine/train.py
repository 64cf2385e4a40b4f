"""refine: one training run of the ladder or of a pseudo-label round, and a round's ensemble (Zhao et al.)."""

from __future__ import annotations

import hashlib
import logging
import math
from pathlib import Path

import numpy as np
import torch

from landslides.csn import SOURCE, TARGET, set_eval_domain
from landslides.errors import InputError
from landslides.files import write_json
from landslides.l4s.augment import build_l4s_augmentation
from landslides.l4s.dataset import (
    BAND_NAMES,
    PATCH_SIZE,
    L4SSplit,
    read_folder,
    read_split,
)
from landslides.l4s.pseudo import ensemble_mean, label_summary, pseudo_labels
from landslides.losses import build_loss
from landslides.metrics import SegmentationMetrics
from landslides.models import build_model, segmentation_spec
from landslides.normalization import domain_stats, normalize
from landslides.runs import RunFiles, read_predictions, save_model, start_job, write_predictions
from landslides.studies.refine.plan import TARGET_SPLITS
from landslides.train import Split, fit, predict

log = logging.getLogger(__name__)




def run_spec(study: dict, name: str) -> dict:
    """A ladder entry with its model config and loss resolved."""
    run = dict(study["ladder"][name])
    run["name"] = name
    run["label"] = run["label"] or name
    run["loss"] = run["loss"] or study["training"]["loss"]
    run["model_config"] = study["models"][run["model"]]
    return run


def model_spec(spec: dict, input_size: int = PATCH_SIZE) -> dict:
    """The network of a ladder entry: its model block at the entry's scale (14 bands in, 2 classes out),
    with cross-sensor normalization if the entry asks for it."""
    return segmentation_spec(spec["model_config"], len(BAND_NAMES), scale=spec["scale"], input_size=input_size,
                             csn=spec.get("csn", False))


def read_benchmark(root: str | Path) -> dict[str, L4SSplit]:
    """Train (masks required), val (masks required: scored every epoch, and the selected epoch under
    `training.selection: best`), test (optional)."""
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
