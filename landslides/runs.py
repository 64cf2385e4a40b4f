"""What every training job shares, from the rule's output paths to its last file.

A job script builds `RunFiles` from the rule's declared outputs (the library never invents file names
the rule also declares), calls `start_job` (device, threads, timer), trains with `train.fit` writing
the checkpoint and history named there, and ends with `Job.finish`, which writes metrics.json last (the
file Snakemake targets) and removes the checkpoint.

Two layouts are shared by every study:

- model.pt (`save_model`/`load_model`): the weights with everything needed to apply them to new data:
  the network spec (`landslides.models.build_model`), input channel names, the normalization
  (mode and statistics), the study, a hash of the config that trained it and study extras (a decision
  threshold, say). `landslides.predict` uses it.
- predictions.npz (`write_predictions`/`read_predictions`): per split `<split>_prob` (N, H, W) float32,
  `<split>_id` (chip or patch ids) and, where known, `<split>_label` uint8, `<split>_valid` bool and
  other per-sample arrays such as `<split>_has_landslide`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from landslides import runlock
from landslides.csn import TARGET, set_eval_domain
from landslides.errors import InputError
from landslides.files import save_npz, save_torch, write_json
from landslides.models import build_model
from landslides.train import configure_torch, fingerprint, select_device

MODEL_FORMAT = "landslides-model/1"


@dataclass(frozen=True)
class RunFiles:
    """The files of one training run. `checkpoint` is not a rule output: it lives only while the job
    runs (and after an interruption, to resume from) and is removed when the job succeeds."""

    metrics: Path
    model: Path
    history: Path
    predictions: Path | None = None

    @property
    def checkpoint(self) -> Path:
        return self.metrics.with_name("state.pt")

    @classmethod
    def in_folder(cls, folder: str | Path) -> RunFiles:
        """All files in one folder under the names the workflow's rules give them, for use outside
        Snakemake (tests, notebooks); the folder is created."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / "metrics.json", folder / "model.pt", folder / "history.csv", folder / "predictions.npz")

    @classmethod
    def from_outputs(cls, output) -> RunFiles:
        """From a Snakemake job's named outputs (metrics, model, history, optionally predictions)."""
        names = set(output.keys())
        return cls(Path(output.metrics), Path(output.model), Path(output.history),
                   Path(output.predictions) if "predictions" in names else None)


@dataclass
class Job:
    device: torch.device
    started: float
    lock: Path | None = None

    def finish(self, metrics: dict, files: RunFiles) -> dict:
        """Write metrics.json (with device and wall time) last, drop the checkpoint, release the run."""
        metrics = {**metrics, "device": str(self.device),
                   "wall_seconds": round(time.perf_counter() - self.started, 2)}
        write_json(metrics, files.metrics)
        files.checkpoint.unlink(missing_ok=True)
        if self.lock is not None:
            runlock.release(self.lock)
        return metrics


def start_job(threads: int, device_name: str = "auto", deterministic: bool | None = None,
              files: RunFiles | None = None) -> Job:
    """Device and threads for a training job; with `files`, also the run folder's lock (landslides.runlock),
    so that a job left behind by a killed snakemake never trains the same run at the same time."""
    lock = runlock.acquire(files.metrics.parent) if files is not None else None
    device = select_device(device_name)
    configure_torch(threads, device, deterministic)
    return Job(device, time.perf_counter(), lock)


# ---- model.pt ----

def save_model(path: Path, model: nn.Module, *, study: str, spec: dict, channels: list[str],
               normalization: dict, config: dict, extra: dict | None = None) -> None:
    """normalization: {"mode": ..., "mean": [...], "std": [...]} (statistics per input channel, in the
    order of `channels`); mode says how new data are normalized (see landslides.predict)."""
    save_torch({"format": MODEL_FORMAT, "study": study, "spec": spec, "channels": list(channels),
                "normalization": normalization, "config_hash": fingerprint(config), "config": config,
                "extra": extra or {}, "state_dict": model.state_dict()}, path)


def load_model(path: str | Path) -> tuple[nn.Module, dict]:
    """The trained network (CPU, eval mode; cross-sensor normalization set to the target domain) and the
    rest of its model file."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # torch raises many kinds; all mean the file is not usable
        raise InputError(f"{path}: cannot read model file ({type(err).__name__}: {err})") from err
    if not isinstance(saved, dict) or saved.get("format") != MODEL_FORMAT:
        raise InputError(f"{path}: not a model file of this workflow (format {MODEL_FORMAT} expected)")
    model = build_model(saved["spec"])
    try:
        model.load_state_dict(saved["state_dict"])
    except RuntimeError as err:
        raise InputError(f"{path}: weights do not fit the stored network spec ({err})") from err
    # New data meet a network with cross-sensor normalization as its target domain does (the domain it was
    # adapted to); a network that never trained on target samples uses its source statistics for them.
    set_eval_domain(model, TARGET)
    return model.eval(), saved


# ---- predictions.npz ----

PREDICTION_FIELDS = ("prob", "id", "label", "valid")


def write_predictions(path: Path, splits: dict[str, dict[str, np.ndarray]]) -> None:
    """splits: split name -> {"prob": (N, H, W), "id": (N,), optional "label", "valid", other (N, ...)}."""
    arrays = {}
    for split, fields in splits.items():
        if "prob" not in fields or "id" not in fields:
            raise ValueError(f"predictions of split {split!r} need 'prob' and 'id'")
        for name, value in fields.items():
            if value is None:
                continue
            value = np.asarray(value)
            if name == "prob":
                # float32, as computed: refine's ensembles and pseudo-labels threshold these values, and
                # float16 would round values within 1.2e-4 below 0.5 (or 0.7) up onto the threshold.
                value = value.astype(np.float32)
            elif name == "label":
                value = value.astype(np.uint8)
            arrays[f"{split}_{name}"] = value
    save_npz(path, **arrays)


def read_predictions(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """The inverse of write_predictions; probabilities come back as float32."""
    with np.load(path) as data:
        out: dict[str, dict[str, np.ndarray]] = {}
        for key in data.files:
            split, _, name = key.partition("_")
            value = data[key]
            out.setdefault(split, {})[name] = value.astype(np.float32) if name == "prob" else value
    return out
