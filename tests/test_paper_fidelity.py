"""The papers' configs (config/paper.yaml, config/twin.yaml) keep the settings the papers and the authors' code
give where this project once chose otherwise (docs/deviations.md): refine starts from ImageNet weights and
never selects a model on the target domain's labels."""

from pathlib import Path

import pandas as pd
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


def test_transfer_figure_shows_each_seed(tmp_path, monkeypatch):
    """The paper gives one run per arm; the table averages seeds, so the AUPRC figure marks every seed's value."""
    from landslides import plots
    from landslides.studies.transfer import figures as transfer_figures

    figures = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, png, pdf=None: figures.append(fig))
    rows = [{"features": "sar", "augmentation": augmentation, "seed": seed, "split": split, "metric": "auprc",
             "value": 0.1 * seed + (0.05 if augmentation == "on" else 0.0) + (0.01 if split == "test" else 0.0)}
            for augmentation in ("off", "on") for seed in (1, 2, 3) for split in ("val", "test")]
    rows += [{"features": "sar", "augmentation": "off", "seed": 1, "split": split, "metric": "no_skill",
              "value": 0.05} for split in ("val", "test")]
    transfer_figures.plot_auprc(pd.DataFrame(rows), str(tmp_path / "a.png"), None)
    for ax, split in zip(figures[0].axes, ("val", "test"), strict=True):
        dots = sorted(round(float(y), 6) for line in ax.lines if line.get_marker() == "o" for y in line.get_ydata())
        expected = sorted(round(r["value"], 6) for r in rows if r["metric"] == "auprc" and r["split"] == split)
        assert dots == expected
