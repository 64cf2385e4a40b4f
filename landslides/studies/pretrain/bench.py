"""pretrain's setups for landslides.benchmark: stage 1 and stage 2 (with and without a stage-1 network
inside), built with train.py's own network, loss and epoch-size functions; and the grid's data-set sizes."""

from __future__ import annotations

from pathlib import Path

from landslides.losses import build_loss
from landslides.models import build_model
from landslides.sar.selection import class_indices
from landslides.studies.pretrain.plan import regions
from landslides.studies.pretrain.train import build_segmenter, chip_spec, epoch_repeats, stage1_loss
from landslides.train import chip_probability
from landslides.training_setup import Setup, Work, input_size, shrunk
from landslides.workflow_layout import chip_store

# The real data's sizes (docs/sources.md). Assumed: balanced Hokkaido chips, about 400 in the training
# partition (docs/deviations.md), val and test in the 0.7/0.2/0.1 proportion; Kaikoura taken alike.
# Stage 2: `all` training chips, every chip of the val partition (assumed as many as stage 1's), the fixed
# test set of 32 + 24 chips.
REAL_SIZES = {
    "pretrain/hokkaido": {"train": 400, "val": 114, "test": 57},
    "pretrain/kaikoura": {"train": 400, "val": 114, "test": 57},
    "pretrain/stage2": {"all": 400, "val": 114, "test": 56},
}
CHIP_SIZE = 128


def setups(study: dict, sizes: dict, tiny: bool) -> list[Setup]:
    size, channels = input_size(CHIP_SIZE, tiny), len(study["pre"]) + len(study["post"])
    first, second = study["stage1"], study["stage2"]
    pretraining = regions(study)
    out = []
    stage1 = shrunk(first["training"], tiny)
    work = []
    for region in pretraining:
        n = sizes.get(f"pretrain/{region}")
        if n:
            work.append(Work(1, stage1["epochs"], n["train"], n["val"], n["test"], region))
    if pretraining:
        out.append(Setup("pretrain/stage1", "pretrain",
                         f"siamese chip classifier ({first['network']}) width {first['width']}",
                         lambda: build_model(chip_spec(study)), channels, size, stage1,
                         stage1_loss(first["loss"]), "chip", output=chip_probability, work=work))
    stage2 = shrunk(second["training"], tiny)
    n = sizes.get("pretrain/stage2")
    for arm, with_stage1 in (("pretrained", True), ("none", False)):
        arms = pretraining if with_stage1 else [a for a in study["pretraining"] if a == "none"]
        if not arms:
            continue
        work = []
        if n:
            for train_size in study["sizes"]:
                chips = n["all"] if train_size == "all" else int(train_size)
                per_epoch = chips * epoch_repeats(chips, study["min_epoch_chips"])
                work.append(Work(len(arms) * len(study["seeds"]), stage2["epochs"], per_epoch, n["val"], n["test"],
                                 f"size {train_size}" + (", epochs at most (early stopping)"
                                                         if second["training"]["early_stopping"] else "")))
        out.append(Setup(f"pretrain/stage2/{arm}", "pretrain",
                         f"sparse segmenter ({second['network']}) width {second['width']}"
                         + (" + stage 1" if with_stage1 else ""),
                         lambda with_stage1=with_stage1: build_segmenter(
                             study, build_model(chip_spec(study)) if with_stage1 else None),
                         channels, size, stage2, build_loss(second["loss"], **second["loss_params"]), "mask",
                         work=work))
    return out


def data_sizes(config: dict, workdir: Path, open_store) -> dict[str, dict]:
    """Balanced chips per split of each stage-1 region and stage 2's sizes, from the chip stores under
    `workdir`, else the real data's for downloaded cubes."""
    study, source = config["pretrain"], config.get("sar", {}).get("regions", {})
    sizes = {}
    for region in regions(study) + [study["stage2_region"]]:
        chips = open_store(workdir / chip_store(region))
        if chips is not None:
            counts = {split: [len(index) for index in class_indices(chips, split)]
                      for split in ("train", "val", "test")}
            sizes[f"pretrain/{region}"] = {split: 2 * min(pos, neg) for split, (pos, neg) in counts.items()}
            if region == study["stage2_region"]:
                test = study["test_chips"]
                sizes["pretrain/stage2"] = {
                    "all": sum(counts["train"]), "val": sum(counts["val"]),
                    "test": min(counts["test"][0], test["landslide"] or counts["test"][0])
                    + min(counts["test"][1], test["landslide_free"] or counts["test"][1])}
        elif source.get(region, {}).get("source") == "zenodo":
            sizes[f"pretrain/{region}"] = dict(REAL_SIZES.get(f"pretrain/{region}", REAL_SIZES["pretrain/hokkaido"]))
            if region == study["stage2_region"]:
                sizes["pretrain/stage2"] = dict(REAL_SIZES["pretrain/stage2"])
    return sizes
