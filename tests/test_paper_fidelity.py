"""The papers' configs (config/paper.yaml, config/twin.yaml) keep the settings the papers and the authors' code
give where this project once chose otherwise (docs/deviations.md): refine starts from ImageNet weights and
never selects a model on the target domain's labels."""

from pathlib import Path

import pytest
import torch

from landslides import workflow_layout as layout
from landslides.config import load_config
from landslides.losses import build_loss
from landslides.models import build_model, segmentation_spec
from landslides.train import Split, fit

ROOT = Path(__file__).resolve().parents[1]
PAPER_CONFIGS = ["paper.yaml", "twin.yaml"]


def refine_block(name: str) -> dict:
    return load_config(ROOT / "config" / name)["refine"]


def validation_labels_choose(training: dict) -> list[str]:
    """What in a training section would let the validation split's labels change the kept model: in refine
    the validation split is target data (Landslide4Sense val), so any of these selects on target labels."""
    reasons = []
    if training["selection"] != "last":
        reasons.append(f"selection {training['selection']!r} keeps the epoch of best validation "
                       f"{training['selection_metric']}")
    if training["early_stopping"] is not None:
        reasons.append("early_stopping stops on the validation score")
    if training["scheduler"] == "plateau":
        reasons.append("scheduler plateau steps on the validation score")
    return reasons


@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_refine_never_selects_on_target_labels(name):
    """Zhao et al. trained every model a fixed 20k steps (Section 3) without the leaderboard's labels."""
    study = refine_block(name)
    assert validation_labels_choose(study["training"]) == []
    assert study["steps"] == 20000


def test_the_check_catches_selection_on_validation_labels():
    training = {"selection": "best", "selection_metric": "f1", "early_stopping": 5, "scheduler": "plateau"}
    assert len(validation_labels_choose(training)) == 3


@pytest.mark.parametrize("name", PAPER_CONFIGS)
def test_every_refine_run_starts_from_imagenet_weights(name):
    """Every ladder entry (the baseline and each ensemble member) names a model with ImageNet weights, and
    its training job takes the workflow's copy of them as an input."""
    study = refine_block(name)
    for entry, run in study["ladder"].items():
        model = study["models"][run["model"]]
        assert model.get("weights") == "imagenet", f"{name}: refine.ladder.{entry} ({run['model']}) is random-init"
        assert layout.imagenet_weights(model) == [f"resources/weights/{model['encoder']}.imagenet.safetensors"]
    assert set(study["ensemble"]) <= set(study["ladder"])


IMAGES = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def _tiny_fit(tmp_path, val_target: torch.Tensor, training: dict) -> dict:
    torch.manual_seed(0)
    model = build_model(segmentation_spec({"arch": "unet", "encoder": "resnet18", "encoder_depth": 3,
                                           "decoder_channels": [8, 8, 8]}, 3))
    fit(model, Split(IMAGES, (IMAGES[:, 0] > 0.5).long()), Split(IMAGES[:4], val_target), training,
        checkpoint=tmp_path / "state.pt", history_path=tmp_path / "history.csv", seed=0, loss_fn=build_loss("ce"),
        device=torch.device("cpu"))
    return model.state_dict()


@pytest.mark.parametrize("selection", ["last", "best"])
def test_selection_last_keeps_the_same_model_whatever_the_validation_labels(tmp_path, selection):
    """With paper.yaml's refine training section (selection last) the kept weights do not depend on the
    validation labels; with selection best they do (the test would notice a change back)."""
    training = dict(refine_block("paper.yaml")["training"], epochs=4, batch_size=4, eval_batch_size=4, lr=0.05,
                    selection=selection, threads=1)
    truth = (IMAGES[:4, 0] > 0.5).long()  # the rule the training labels follow: a later epoch scores best
    one = _tiny_fit(tmp_path / "a", truth, training)
    other = _tiny_fit(tmp_path / "b", torch.zeros_like(truth), training)  # no landslide: every epoch ties
    same = all(torch.equal(one[key], other[key]) for key in one)
    assert same == (selection == "last")
