"""transfer's setups for landslides.benchmark: each feature set with and without augmentation, built with
train.py's own network and augmentation functions; and the grid's data-set sizes."""

from __future__ import annotations

from pathlib import Path

from landslides.losses import build_loss
from landslides.models import build_model
from landslides.studies.transfer.plan import train_inputs
from landslides.studies.transfer.train import network_spec, sar_augmentation
from landslides.training_setup import Setup, Work, input_size, shrunk

# The real data's sizes (docs/sources.md): Prapas et al.'s 309 positive Hokkaido chips, split 216 / 61 / 32;
# tested on 61 Talakmau chips.
REAL_SIZES = {"transfer": {"train": 216, "val": 61, "test": 61}}
CHIP_SIZE = 128


def setups(study: dict, sizes: dict, tiny: bool) -> list[Setup]:
    training, size = shrunk(study["training"], tiny), input_size(CHIP_SIZE, tiny)
    n = sizes.get("transfer", {})
    out = []
    for features, channels in study["features"].items():
        for augmentation in study["augmentation"]:
            spec = network_spec(study, channels)

            def augment(channels=channels, augmentation=augmentation):
                return sar_augmentation(study, augmentation, size, channels, [1.0] * len(channels))

            work = [Work(len(study["seeds"]), training["epochs"], n["train"], n["val"], n["val"] + n["test"])] \
                if n else []
            out.append(Setup(f"transfer/{features}/aug-{augmentation}", "transfer",
                             f"{study['model']['arch']} {study['model']['encoder']}",
                             lambda spec=spec: build_model(spec), len(channels), size, training,
                             build_loss(training["loss"]), "mask", augment, work=work))
    return out


def data_sizes(config: dict, workdir: Path, open_store) -> dict[str, dict]:
    """Chips per split from the chip stores under `workdir`, else the real data's for downloaded cubes."""
    study, regions = config["transfer"], config.get("sar", {}).get("regions", {})
    inputs = train_inputs(study)
    train, test = open_store(workdir / inputs["train_store"]), open_store(workdir / inputs["test_store"])
    if train is not None and test is not None:
        split = train["split_positive"].values.astype(str)
        return {"transfer": {"train": int((split == "train").sum()), "val": int((split == "val").sum()),
                             "test": int(test["has_landslide"].values.astype(bool).sum())}}
    if regions.get(study["train_region"], {}).get("source") == "zenodo":
        return {"transfer": dict(REAL_SIZES["transfer"])}
    return {}
