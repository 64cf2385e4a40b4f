"""refine's setups for landslides.benchmark: every (model, scale) of the ladder, built with train.py's own
run, network, loss and epoch functions; and the benchmark's patch counts."""

from __future__ import annotations

from pathlib import Path

from landslides.l4s.augment import build_l4s_augmentation
from landslides.l4s.dataset import BAND_NAMES, PATCH_SIZE
from landslides.losses import build_loss
from landslides.models import build_model
from landslides.studies.refine.plan import SPLIT_DIRS, l4s_root
from landslides.studies.refine.train import epochs_for, model_spec, run_spec
from landslides.training_setup import Setup, Work, input_size, shrunk

# Landslide4Sense: 3799 / 245 / 800 patches (Zhao et al., Section 3).
REAL_SIZES = {"refine": {"train": 3799, "val": 245, "test": 800}}


def setups(study: dict, sizes: dict, tiny: bool) -> list[Setup]:
    training, size = shrunk(study["training"], tiny), input_size(PATCH_SIZE, tiny)
    n = sizes.get("refine")
    pseudo = sum(n[split] for split in study["pseudo"]["target_splits"]) if n else 0
    # The share of target (pseudo-labelled) samples in a round's training set; without sizes, the real data's.
    mix = n or REAL_SIZES["refine"]
    mixed = sum(mix[split] for split in study["pseudo"]["target_splits"])
    target_share = mixed / (mix["train"] + mixed)
    groups: dict[tuple[str, float], list[str]] = {}
    for name, run in study["ladder"].items():
        groups.setdefault((run["model"], float(run["scale"])), []).append(name)
    out = []
    for (model, scale), names in groups.items():
        run = run_spec(study, names[0])
        members = [name for name in names if name in study["ensemble"]]
        # A group's members retrained in rounds >= 1 train on mixed batches with cross-sensor normalization.
        with_csn = any(study["ladder"][name].get("csn") for name in members) and study["rounds"] > 0
        spec = model_spec({**run, "csn": with_csn}, input_size=size)
        work = []
        if n:
            every = n["train"] + n["val"] + n["test"]
            work.append(Work(len(names), epochs_for(study, n["train"]), n["train"], n["val"], every, "round 0"))
            if members and study["rounds"]:
                work.append(Work(len(members) * study["rounds"], epochs_for(study, n["train"] + pseudo),
                                 n["train"] + pseudo, n["val"], every, f"rounds 1-{study['rounds']}"))
        out.append(Setup(f"refine/{model}/x{scale:g}", "refine",
                         f"{run['model_config']['arch']} {run['model_config']['encoder']} x{scale:g}"
                         + (" csn" if with_csn else ""),
                         lambda spec=spec: build_model(spec), len(BAND_NAMES), size, training,
                         build_loss(run["loss"], **study["loss_params"].get(run["loss"], {})), "mask",
                         lambda: build_l4s_augmentation(study["augment"]), work=work,
                         target_share=target_share if with_csn else 0.0))
    return out


def data_sizes(config: dict, workdir: Path, open_store) -> dict[str, dict]:
    """Patches per split in the benchmark's folders under `workdir`, else the synthetic config's or the real
    data's."""
    study = config["refine"]
    root = workdir / l4s_root(study) if study["source"] in ("synthetic", "zenodo") else Path(study["source"])
    counted = {split: len(list((root / folder / "img").glob("*.h5"))) for split, folder in SPLIT_DIRS.items()}
    if all(counted.values()):
        return {"refine": counted}
    if study["source"] == "synthetic":
        synthetic = study["synthetic"]
        return {"refine": {"train": synthetic["n_train"], "val": synthetic["n_val"], "test": synthetic["n_test"]}}
    return {"refine": dict(REAL_SIZES["refine"])}
