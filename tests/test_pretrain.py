"""The pretrain study: frozen stage 1, sparse training-set drawing, count errors, and a tiny end to end."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
import torch
import xarray as xr

from landslides.config import load_schema, validate_config
from landslides.errors import InputError
from landslides.losses import build_loss
from landslides.metrics import classification_metrics
from landslides.runs import RunFiles, load_model
from landslides.sar.selection import chip_partition
from landslides.siamese import AuthorsEncoder, ChipClassifier, Segmenter
from landslides.studies.pretrain import figures as pretrain_figures
from landslides.studies.pretrain import tables as pretrain_tables
from landslides.studies.pretrain import train as pretrain_train
from landslides.train import Split, fit, select_device

TRAINING = {"epochs": 2, "batch_size": 4, "eval_batch_size": 8, "optimizer": "adamw", "lr": 1e-2,
            "weight_decay": 1e-4, "scheduler": "none", "loss": "ce", "grad_clip": 0.5,
            "selection_metric": "auprc", "threads": 1}


def hand_store(n=24, size=32, seed=0, region="hokkaido") -> xr.Dataset:
    """A chip store of the real schema: half the chips hold a bright-after square landslide."""
    rng = np.random.default_rng(seed)
    channels = ["vv_before", "vv_after", "vh_before", "vh_after", "dem_aspect", "dem_slope_radians",
                "dem_curvature"]
    image = rng.normal(0, 1, (n, len(channels), size, size)).astype(np.float32)
    label = np.zeros((n, size, size), np.uint8)
    has = np.arange(n) % 2 == 0
    for i in np.flatnonzero(has):
        r, c = rng.integers(0, size - 8, 2)
        label[i, r:r + 8, c:c + 8] = 1
    image[:, [1, 3]] -= 2.0 * label[:, None]  # the post-event backscatter drops inside landslides
    valid = np.ones_like(label)
    valid[:, 0, :] = 0
    splits = np.array(["train", "train", "val", "test"])[np.arange(n) // 2 % 4]
    return xr.Dataset(
        {"image": (("chip", "channel", "y", "x"), image), "label": (("chip", "y", "x"), label),
         "valid": (("chip", "y", "x"), valid),
         "whole_mean": (("channel",), np.zeros(len(channels))), "whole_std": (("channel",), np.ones(len(channels)))},
        coords={"chip": np.arange(n), "channel": channels, "row": ("chip", np.arange(n) * size),
                "col": ("chip", np.zeros(n, int)), "landslide_fraction": ("chip", label.mean(axis=(1, 2))),
                "has_landslide": ("chip", has), "split_positive": ("chip", np.where(has, splits, "")),
                "split_all": ("chip", splits),
                "transform": (("chip", "affine"), np.tile([0.0, 10.0, 0.0, 0.0, 0.0, -10.0], (n, 1)))},
        attrs={"crs": "", "region": region},
    )


def _without_loss() -> dict:
    """The stages' training blocks take no loss key: stage 1 has `stage1.loss`, stage 2 `stage2.loss`."""
    return {k: v for k, v in TRAINING.items() if k != "loss"}


def study_config(**pretrain_overrides) -> dict:
    config = {"studies": ["pretrain"], "sar": {"regions": {r: {"event_date": ["20200101", "20200102"]}
                                                           for r in ("hokkaido", "kaikoura")}},
              "pretrain": {"test_chips": {"landslide": None, "landslide_free": None}, "min_epoch_chips": 8,
                           "stage1": {"width": 4, "embedding_channels": 4, "training": _without_loss()},
                           "stage2": {"width": 8, "training": _without_loss()}, **pretrain_overrides}}
    config["pretrain"]["stage1"]["training"]["selection_metric"] = "auroc"
    return validate_config(config, load_schema())["pretrain"]


def test_schema_defaults_and_cross_check():
    study = study_config()
    assert study["pretraining"] == ["none", "hokkaido", "kaikoura"] and study["stage2"]["loss"] == "dice"
    assert study["sizes"] == [2, 5, 10, 20, "all"]
    bad = {"studies": ["pretrain"], "sar": {"regions": {"hokkaido": {"event_date": ["20200101", "20200102"]}}},
           "pretrain": {"pretraining": ["none", "kaikoura"]}}
    with pytest.raises(InputError, match="pretrain.pretraining"):
        validate_config(bad, load_schema())
    with pytest.raises(InputError, match="sizes"):
        validate_config({**bad, "pretrain": {"sizes": [1]}}, load_schema())


def test_stage1_output_shape_and_embeddings():
    model = ChipClassifier(pair_channels=2, width=4, embedding_channels=6)
    x = torch.randn(3, 4, 32, 32)
    assert model(x).shape == (3,)
    assert model.embed(x).shape == (3, 12, 32, 32)


def test_authors_stage1_encoder_computes_what_smps_depth_1_unet_does():
    """AuthorsEncoder is the authors' smp.Unet("resnet34", encoder_depth=1, decoder_channels=[32]) written
    out: with smp's weights copied in (the parameters it runs, in order), the same outputs."""
    smp = pytest.importorskip("segmentation_models_pytorch")
    torch.manual_seed(0)
    reference = smp.Unet(encoder_name="resnet34", encoder_depth=1, decoder_channels=[8], encoder_weights=None,
                         in_channels=2, classes=6, activation="identity")
    ours = AuthorsEncoder(2, 8, 6)
    used = {k: v for k, v in reference.state_dict().items() if not k.startswith("encoder.layer")}
    assert [v.shape for v in used.values()] == [v.shape for v in ours.state_dict().values()]
    ours.load_state_dict(dict(zip(ours.state_dict(), used.values(), strict=True)))
    x = torch.randn(3, 2, 32, 32)
    for mode in (True, False):  # batch statistics, then running statistics
        reference.train(mode), ours.train(mode)
        torch.testing.assert_close(ours(x), reference(x))


def test_authors_networks_shapes_and_sigmoid_logit():
    """Stage 1: 8x8 "valid" head, one logit per chip; stage 2: one logit z returned as the pair (0, z), whose
    softmax is the authors' sigmoid."""
    torch.manual_seed(0)
    stage1 = ChipClassifier(2, 8, 6, network="authors")
    x = torch.randn(3, 4, 32, 32)
    assert stage1(x).shape == (3,) and stage1.embed(x).shape == (3, 12, 32, 32)
    assert stage1.head(stage1.embed(x)).shape == (3, 1, 25, 25)
    model = Segmenter(4, 8, stage1, network="authors")
    logits = model(x)
    assert logits.shape == (3, 2, 32, 32) and not logits[:, 0].any()
    torch.testing.assert_close(torch.softmax(logits, 1)[:, 1], torch.sigmoid(logits[:, 1]))
    with pytest.raises(ValueError, match="unknown pretrain network"):
        Segmenter(4, 8, network="authors_v2")


@pytest.mark.parametrize("network", ["tiny_unet", "authors"])
def test_frozen_means_frozen(network):
    """Weights and BatchNorm running statistics of stage 1 are identical after stage-2 training steps."""
    torch.manual_seed(0)
    stage1 = ChipClassifier(2, 4, 4, network=network)
    stage1.train()
    stage1(torch.randn(4, 4, 16, 16) * 3 + 1)  # move BN statistics away from their initial values
    before = copy.deepcopy(stage1.state_dict())
    model = Segmenter(4, 8, stage1, network=network)
    model.train()
    assert model.training and not stage1.training  # train() keeps stage 1 in eval mode
    assert not any(p.requires_grad for p in stage1.parameters())
    base_before = copy.deepcopy(model.base.state_dict())
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1, weight_decay=0.1)
    target = (torch.rand(4, 16, 16) > 0.5).long()
    for _ in range(3):
        loss = build_loss("dice")(model(torch.randn(4, 4, 16, 16) * 5 - 2), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    for key, value in stage1.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert any(not torch.equal(v, base_before[k]) for k, v in model.base.state_dict().items())
    assert model(torch.randn(2, 4, 16, 16)).shape == (2, 2, 16, 16)


def test_stage1_batchnorm_in_training_mode_as_the_authors_code():
    """stage1_batchnorm "train": the stage-1 weights stay frozen, its BatchNorm running statistics follow the
    stage-2 batches (Lightning's train() put the authors' frozen classifier back in training mode)."""
    torch.manual_seed(0)
    stage1 = ChipClassifier(2, 4, 4, network="authors")
    before = copy.deepcopy(stage1.state_dict())
    model = Segmenter(4, 8, stage1, network="authors", stage1_batchnorm="train")
    model.train()
    assert stage1.training
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    target = (torch.rand(4, 16, 16) > 0.5).long()
    loss = build_loss("dice")(model(torch.randn(4, 4, 16, 16) * 5 - 2), target)
    loss.backward()
    optimizer.step()
    changed = {k for k, v in stage1.state_dict().items() if not torch.equal(v, before[k])}
    assert changed and all("running" in k or "num_batches" in k for k in changed)
    with pytest.raises(ValueError, match="stage1_batchnorm"):
        Segmenter(4, 8, stage1, stage1_batchnorm="eval")


def test_frozen_through_fit(tmp_path):
    """The same through the shared training loop, whose optimizer gets every parameter."""
    torch.manual_seed(0)
    stage1 = ChipClassifier(2, 4, 4)
    before = copy.deepcopy(stage1.state_dict())
    model = Segmenter(4, 8, stage1)
    images = torch.randn(8, 4, 16, 16)
    target = (images[:, 3] < 0).long()
    fit(model, Split(images, target), Split(images, target), TRAINING, checkpoint=tmp_path / "state.pt",
        history_path=tmp_path / "history.csv", seed=0,
        loss_fn=build_loss("dice"), device=select_device("cpu"))
    for key, value in model.stage1.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_sparse_drawing():
    pos, neg = np.arange(0, 40), np.arange(100, 130)
    for size in (2, 5, 10, 20):
        drawn = pretrain_train.draw_training_chips(pos, neg, size, seed=3)
        assert len(drawn) == size and len(set(drawn)) == size
        assert np.isin(drawn, neg).sum() == size // 2  # half without landslides
    draw = pretrain_train.draw_training_chips
    assert np.array_equal(draw(pos, neg, 10, 3), draw(pos, neg, 10, 3))
    assert not np.array_equal(pretrain_train.draw_training_chips(pos, neg, 10, 3),
                              pretrain_train.draw_training_chips(pos, neg, 10, 4))
    assert set(draw(pos, neg, 5, 3)) <= set(draw(pos, neg, 10, 3))
    everything = pretrain_train.draw_training_chips(pos, neg, "all", seed=0)
    assert len(everything) == 60 and np.isin(everything, neg).sum() == 30
    with pytest.raises(InputError, match="training size 70"):
        pretrain_train.draw_training_chips(pos, neg, 70, seed=0)


def test_count_errors_by_hand():
    prob = np.zeros((3, 2, 2), np.float32)
    prob[0] = 0.5  # sums to 2.0 over 4 pixels, 1.5 over the 3 valid ones
    prob[1, 0, 0] = 1.0
    prob[2] = 0.25
    label = np.zeros((3, 2, 2), np.uint8)
    label[0, 0, :] = 1
    label[1, :, :] = 1
    valid = np.ones((3, 2, 2), bool)
    valid[0, 1, 1] = False
    errors = pretrain_train.count_errors(prob, label, valid)
    np.testing.assert_allclose(errors, [1.5 - 2, 1 - 4, 1.0 - 0])
    has = np.array([True, True, False])
    m = pretrain_train.count_error_metrics(prob, label, valid, has)
    assert m["count_abs_all"] == pytest.approx((0.5 + 3 + 1) / 3)
    assert m["count_signed_all"] == pytest.approx((-0.5 - 3 + 1) / 3)
    assert m["count_abs_landslide"] == pytest.approx(1.75) and m["count_signed_landslide"] == pytest.approx(-1.75)
    assert m["count_signed_landslide_free"] == pytest.approx(1.0)
    assert m["median_signed_landslide_free"] == pytest.approx(1.0)
    seg = pretrain_train.segmentation_test_metrics(prob, label, valid, has)
    assert seg["fpr_landslide_free"] == 0.0  # 0.25 < 0.5 everywhere on the landslide-free chip


def test_chip_metrics_and_quirk_loss():
    m = classification_metrics(np.array([0.9, 0.6, 0.4, 0.1]), np.array([1, 0, 1, 0]))
    assert m["accuracy"] == 0.5 and m["precision"] == 0.5 and m["recall"] == 0.5 and m["auroc"] == 0.75
    logits, target = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0])
    quirk = pretrain_train.stage1_loss("batch_softmax_ce")(logits, target)
    assert quirk.item() == pytest.approx(-torch.log_softmax(logits, 0)[0].item())


def test_partition_and_test_set():
    store = hand_store()
    part = chip_partition(store)
    assert set(part) == {"train", "val", "test"}
    test = pretrain_train.test_indices(store, landslide=2, landslide_free=None)
    has = store["has_landslide"].values
    assert has[test].sum() == 2 and (~has[test]).sum() == (~has & (part == "test")).sum()
    assert np.array_equal(test, pretrain_train.test_indices(store, landslide=2, landslide_free=None))
    with pytest.raises(InputError, match="test split has"):
        pretrain_train.test_indices(store, landslide=99, landslide_free=None)


def test_end_to_end(tmp_path):
    store = hand_store()
    study = study_config(sizes=[2, "all"], seeds=[0])
    s1 = pretrain_train.train_stage1(store, study, RunFiles.in_folder(tmp_path / "stage1"), threads=1,
                                     device_name="cpu")
    assert set(s1["test"]) >= {"accuracy", "precision", "recall", "auroc"} and s1["chips"]["train"] == 12
    files = []
    for arm, size in (("none", "2"), ("hokkaido", "2"), ("none", "all"), ("hokkaido", "all")):
        run_dir = tmp_path / arm / size
        model = tmp_path / "stage1" / "model.pt" if arm != "none" else None
        m = pretrain_train.train_stage2(store, model, RunFiles.in_folder(run_dir), pretraining=arm, size=size, seed=0,
                                  study=study,
                                  threads=1, device_name="cpu")
        assert m["chips"]["train"] == (2 if size == "2" else 12)
        assert m["train_landslide_free"] == m["chips"]["train"] // 2
        assert 0 <= m["test"]["auprc"] <= 1 and "median_signed_landslide_free" in m["test"]
        files.append(run_dir / "metrics.json")
    tidy = pretrain_tables.runs_frame(files)
    table = pretrain_tables.build_table(tidy)
    assert list(table["pretraining"]) == ["none", "hokkaido", "none", "hokkaido"]
    assert list(table["size"]) == ["2", "2", "all", "all"]
    pretrain_figures.plot_metrics(tidy, tmp_path / "m.png", tmp_path / "m.pdf")
    runs = [json.loads(f.read_text()) for f in files]
    pretrain_figures.plot_maps([f.parent / "predictions.npz" for f in files], runs, 2, 10.0, tmp_path / "p.png",
                       tmp_path / "p.pdf")
    assert (tmp_path / "m.png").stat().st_size > 0 and (tmp_path / "p.pdf").stat().st_size > 0
    assert isinstance(pretrain_tables.stage1_table([tmp_path / "stage1" / "metrics.json"]), pd.DataFrame)


def test_end_to_end_with_the_authors_networks_loss_and_schedules(tmp_path):
    """paper.yaml's pretrain settings at toy size: the authors' layers in both stages, smp's Dice, their
    plateau schedules; model.pt rebuilds the authors' networks. An unknown loss parameter is one clear error."""
    store = hand_store()
    schedule = {"scheduler": "plateau_train_loss", "plateau_factor": 0.9, "plateau_patience": 0,
                "monitor": "val_loss", "early_stopping": 1}
    study = study_config(sizes=["all"], seeds=[0], invalid_pixels="score")
    study["stage1"].update(network="authors", loss="batch_softmax_ce")
    study["stage1"]["training"].update(schedule, scheduler="plateau")
    study["stage2"].update(network="authors", loss_params={"smooth": 0, "skip_empty": True}, stage1_batchnorm="train")
    study["stage2"]["training"].update(schedule)
    pretrain_train.train_stage1(store, study, RunFiles.in_folder(tmp_path / "stage1"), threads=1, device_name="cpu")
    stage1, spec = pretrain_train.load_stage1(tmp_path / "stage1" / "model.pt")
    assert spec["network"] == "authors" and isinstance(stage1.encoder, AuthorsEncoder)
    files = RunFiles.in_folder(tmp_path / "run")
    metrics = pretrain_train.train_stage2(store, tmp_path / "stage1" / "model.pt", files, pretraining="hokkaido",
                                    size="all", seed=0, study=study, threads=1, device_name="cpu")
    assert 0 <= metrics["test"]["auprc"] <= 1
    assert metrics["test"]["pixels"] == metrics["chips"]["test"] * 32 * 32  # "score": the invalid row counts too
    assert "val_loss" in (tmp_path / "stage1" / "history.csv").read_text().splitlines()[0]
    assert "val_loss" in files.history.read_text().splitlines()[0]
    model, saved = load_model(files.model)
    assert saved["spec"]["network"] == "authors" and saved["spec"]["stage1"]["network"] == "authors"
    assert model.head[-1].kernel_size == (8, 8) and model(torch.zeros(1, 4, 32, 32)).shape == (1, 2, 32, 32)
    study["stage2"]["loss_params"] = {"smoothing": 0}
    with pytest.raises(InputError, match="no parameter.*smoothing"):
        pretrain_train.train_stage2(store, None, RunFiles.in_folder(tmp_path / "bad"), pretraining="none",
                              size="all", seed=0, study=study, threads=1, device_name="cpu")
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_bad_stage1_file(tmp_path):
    bad = tmp_path / "model.pt"
    bad.write_text("not a model")
    with pytest.raises(InputError, match="model.pt"):
        pretrain_train.load_stage1(bad)


def test_equal_abs_and_signed_count_errors_are_explained():
    """Issue #33: identical mean-abs and mean-signed columns get a sentence saying why (every error >= 0)."""
    same = pd.DataFrame({f"count_{kind}_{group}_mean": [4268.0, 1836.0] for kind in ("abs", "signed")
                         for group in ("all", "landslide", "landslide_free")})
    stage1 = pd.DataFrame(columns=["pretraining region", "check"])
    study = {"stage2_region": "hokkaido", "seeds": [0]}
    assert "|error| = error" in pretrain_tables.table_note(study, stage1, table=same)
    differ = same.assign(count_signed_all_mean=[-10.0, 1836.0])
    assert "|error| = error" not in pretrain_tables.table_note(study, stage1, table=differ)
