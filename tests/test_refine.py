"""The refine study: scale promotion, augmentations, pseudo-labels, ensemble, and one tiny run end to end."""

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from landslides import csn
from landslides.config import validate_config
from landslides.errors import InputError
from landslides.l4s.augment import N_SPECTRAL, L4SAugmentation, color_perturbation, random_flips, random_rot90
from landslides.l4s.pseudo import IGNORE_INDEX, ensemble_mean, label_summary, pseudo_labels
from landslides.l4s.synthetic import write_synthetic_l4s
from landslides.models import ScaledModel, build_model
from landslides.normalization import domain_stats
from landslides.runs import RunFiles, load_model, read_predictions
from landslides.studies.refine import figures as refine_figures
from landslides.studies.refine import tables as refine_tables
from landslides.studies.refine import train as refine_train
from landslides.studies.refine.plan import job_params as job_study

AUGMENT = {"flip": True, "rot90": True, "color": {"p": 1.0, "gain": 0.2, "offset": 0.3, "band_jitter": 0.1}}


def default_study(**overrides) -> dict:
    """The refine block as the schema fills it, with test overrides."""
    sar = {"regions": {"hokkaido": {"event_date": ["20180905", "20180907"]}}}
    config = validate_config({"studies": ["refine"], "sar": sar, "refine": overrides})
    return config["refine"]


# ---- scale promotion ----

@pytest.mark.parametrize("scale", [1, 2.5, 4])
def test_scaled_model_returns_128_logits(scale):
    model_config = {"arch": "unet", "encoder": "resnet18", "encoder_depth": 3, "decoder_channels": [8, 8, 8]}
    model = build_model(refine_train.model_spec({"model_config": model_config, "scale": scale}))
    if scale == 1:  # no promotion: the network itself, no wrapper
        assert not isinstance(model, ScaledModel)
        return
    seen = []
    model.model.register_forward_hook(lambda _m, inputs, _o: seen.append(inputs[0].shape[-1]))
    with torch.no_grad():
        logits = model(torch.randn(2, 14, 128, 128))
    assert logits.shape == (2, 2, 128, 128)
    assert seen == [round(128 * scale)]  # the network itself saw the promoted size


@pytest.mark.parametrize("name", ["resnet", "efficientnet", "segformer", "swin"])
def test_every_paper_model_family_builds_offline(name):
    """U-Net ResNet, U-Net EfficientNet, SegFormer (MiT) and a Swin encoder, random init, no download.
    The paper-sized encoders of config/paper.yaml are built; small ones of the same family run forward."""
    paper = yaml.safe_load(Path("config/paper.yaml").read_text())["refine"]["models"][name]
    model = build_model(refine_train.model_spec({"model_config": dict(paper, encoder_depth=5, decoder_channels=None),
                                           "scale": 4}))
    assert sum(p.numel() for p in model.parameters()) > 1_000_000
    small = {"resnet": "resnet18", "efficientnet": "efficientnet-b0", "segformer": "mit_b0",
             "swin": "tu-swin_tiny_patch4_window7_224"}[name]
    model = build_model(refine_train.model_spec({"model_config": {"arch": paper["arch"], "encoder": small},
                                           "scale": 1}))
    with torch.no_grad():
        assert model(torch.randn(1, 14, 128, 128)).shape == (1, 2, 128, 128)


def test_scaled_model_resizes_input_and_logits_back():
    net = torch.nn.Conv2d(14, 2, 1)
    x = torch.randn(1, 14, 128, 128)
    assert ScaledModel(net, 2)(x).shape == (1, 2, 128, 128)


# ---- augmentations ----

def marked_batch(n=6, size=16):
    """Images whose every band carries the pixel's index, and targets equal to that index modulo 256."""
    index = torch.arange(size * size, dtype=torch.float32).view(size, size)
    images = index.expand(n, 14, size, size).clone() + torch.arange(14.0).view(1, 14, 1, 1) * 1000
    target = index.long().expand(n, size, size).clone()
    return images, target


@pytest.mark.parametrize("transform", [random_flips, random_rot90])
def test_geometric_transforms_keep_image_and_mask_aligned(transform):
    torch.manual_seed(0)
    images, target = marked_batch()
    out_images, out_target = transform(images, target)
    # Band 0 holds the pixel index itself: after the transform it must still equal the target everywhere.
    assert torch.equal(out_images[:, 0].long(), out_target)
    assert torch.equal(out_images[:, 5] - out_images[:, 0], torch.full_like(out_images[:, 0], 5000.0))
    # Something actually moved in a batch of 6 patches (each has a 3/4 or 1/2 chance of moving).
    assert not torch.equal(out_target, target)


def test_rot90_draws_all_four_rotations():
    torch.manual_seed(1)
    images, target = marked_batch(n=64)
    _, out = random_rot90(images, target)
    corners = {int(t[0, 0]) for t in out}
    assert corners == {0, 15, 255, 240}  # the top-left pixel of each of the 4 rotations


def test_color_perturbation_never_touches_slope_and_dem():
    torch.manual_seed(0)
    images = torch.randn(8, 14, 16, 16)
    out = color_perturbation(images, p=1.0, gain=0.5, offset=0.5, band_jitter=0.2)
    assert torch.equal(out[:, N_SPECTRAL:], images[:, N_SPECTRAL:])
    assert not torch.allclose(out[:, :N_SPECTRAL], images[:, :N_SPECTRAL])


def test_full_augmentation_keeps_terrain_values_and_mask_alignment():
    torch.manual_seed(2)
    images, target = marked_batch()
    out_images, out_target = L4SAugmentation(AUGMENT)(images, target)
    # Slope/DEM bands (12, 13) only moved geometrically, exactly like the mask.
    assert torch.equal(out_images[:, 12].long() - 12000, out_target)
    assert torch.equal(out_images[:, 13].long() - 13000, out_target)


# ---- pseudo-labels and ensemble ----

def test_pseudo_labels_on_hand_made_probabilities():
    prob = np.array([[0.0, 0.29, 0.3, 0.31], [0.5, 0.69, 0.7, 1.0]], np.float32)
    labels = pseudo_labels(prob, threshold=0.7, background_threshold=0.3)
    expected = np.array([[0, 0, 0, IGNORE_INDEX], [IGNORE_INDEX, IGNORE_INDEX, 1, 1]])
    np.testing.assert_array_equal(labels, expected)
    assert labels.dtype == np.int64
    summary = label_summary(labels)
    assert summary["labelled_fraction"] == 5 / 8 and summary["landslide_fraction"] == 2 / 5


def test_pseudo_labels_reject_crossed_thresholds():
    with pytest.raises(InputError):
        pseudo_labels(np.zeros(3), threshold=0.3, background_threshold=0.7)


def test_ensemble_averages_probabilities():
    a = np.array([[0.2, 0.9]], np.float16)
    b = np.array([[0.4, 0.5]], np.float16)
    np.testing.assert_allclose(ensemble_mean([a, b]), [[0.3, 0.7]], atol=1e-3)
    with pytest.raises(InputError):
        ensemble_mean([a, np.zeros((2, 2))])


# ---- normalization modes ----

def test_domain_stats_modes():
    rng = np.random.default_rng(0)
    images = {"train": rng.normal(0, 1, (2, 14, 4, 4)), "val": rng.normal(5, 2, (2, 14, 4, 4)),
              "test": rng.normal(-3, 1, (2, 14, 4, 4))}
    separated = domain_stats("separated", images)
    np.testing.assert_allclose(separated["val"].mean, images["val"].mean(axis=(0, 2, 3)))
    source = domain_stats("source", images)
    np.testing.assert_allclose(source["test"].mean, images["train"].mean(axis=(0, 2, 3)))
    joint = domain_stats("joint", images)
    everything = np.concatenate(list(images.values()))
    np.testing.assert_allclose(joint["train"].std, everything.std(axis=(0, 2, 3)))


# ---- config ----

def test_config_checks_name_references():
    """The cross-field checks run with the config validation, before any job."""
    with pytest.raises(InputError, match="refine.ensemble"):
        default_study(ensemble=["nope"])
    with pytest.raises(InputError, match="background_threshold"):
        default_study(pseudo={"threshold": 0.5, "background_threshold": 0.6, "target_splits": ["val"]})
    default_study()


def test_job_study_keeps_only_what_defines_the_run():
    study = default_study()
    job = job_study(study, "sn")
    assert list(job["ladder"]) == ["sn"] and list(job["models"]) == ["resnet"]
    assert "rounds" not in job and "ensemble" not in job
    assert job_study(dict(study, rounds=5), "sn") == job


def test_default_config_documented_in_config_markdown():
    """Every key of the refine block appears in config/README.md."""
    text = Path("config/README.md").read_text()
    for key in default_study():
        assert f"`refine.{key}`" in text, key


# ---- a tiny run of the whole study, without Snakemake ----

def test_tiny_study_end_to_end(tmp_path):
    root = tmp_path / "l4s"
    write_synthetic_l4s(root, n_train=6, n_val=3, n_test=3, seed=0)
    samples = tmp_path / "samples"
    write_synthetic_l4s(samples, n_train=2, n_val=1, n_test=1, seed=1)
    tiny = {"arch": "unet", "encoder": "resnet18", "encoder_depth": 3, "decoder_channels": [8, 8, 8]}
    study = default_study(
        models={"resnet": tiny}, ensemble=["sn_slo", "scaled"], rounds=1,
        sample_patches=str(samples / "TrainData"),
        ladder={"sn_slo": {"label": "+SN+SLO", "loss": "slo", "normalization": "joint"},
                "scaled": {"loss": "slo", "scale": 1.5, "csn": True}},
        training={"epochs": 1, "batch_size": 3, "eval_batch_size": 6, "threads": 1},
    )
    runs = []
    for name in study["ladder"]:
        run_dir = tmp_path / "runs" / "round0" / name
        runs.append(refine_train.run_training(root, name, copy.deepcopy(job_study(study, name)),
                                        RunFiles.in_folder(run_dir), round_index=0, device_name="cpu"))
        assert (run_dir / "metrics.json").exists() and (run_dir / "predictions.npz").exists()
        assert not (run_dir / "state.pt").exists()  # removed once the run's files are written
    ensembles = []
    for round_index in (0, 1):
        if round_index:
            for name in study["ensemble"]:
                run_dir = tmp_path / "runs" / "round1" / name
                runs.append(refine_train.run_training(root, name, job_study(study, name), RunFiles.in_folder(run_dir),
                                                round_index=1, previous=tmp_path / "round0.npz", device_name="cpu"))
        members = [tmp_path / "runs" / f"round{round_index}" / name / "predictions.npz" for name in study["ensemble"]]
        ensembles.append(refine_train.run_ensemble(members, round_index, study["ensemble"],
                                             tmp_path / f"round{round_index}.npz",
                                             tmp_path / f"round{round_index}.json"))

    for result in runs + ensembles:
        for split in ("val", "test"):
            assert isinstance(result[split]["f1"], float) and not math.isinf(result[split]["f1"])
    metrics = json.loads((tmp_path / "runs" / "round1" / "scaled" / "metrics.json").read_text())
    assert metrics["n_train_patches"] == 6 + 3 + 3  # train plus the pseudo-labelled val and test images
    assert set(metrics["pseudo_labels"]) == {"val", "test"}
    # Cross-sensor normalization: round 0 never saw a target sample, round 1 trained on both domains.
    for round_index, adapted in ((0, False), (1, True)):
        model, saved_model = load_model(tmp_path / "runs" / f"round{round_index}" / "scaled" / "model.pt")
        used = [layer for layer in csn.layers(model) if layer.num_batches_tracked > 0]  # depth 3: not all run
        assert saved_model["spec"]["csn"] and used and {bool(layer.target_seen) for layer in used} == {adapted}
    saved = read_predictions(tmp_path / "round1.npz")
    assert saved["samples"]["prob"].shape == (2, 128, 128) and saved["test"]["prob"].shape == (3, 128, 128)

    table1, table2 = refine_tables.ladder_table(runs, ensembles), refine_tables.rounds_table(ensembles)
    # runs + ensembles + the published round-4 ensemble and the official baseline, not run here
    assert len(table1) == 2 + 2 + 2 + 2 and len(table2) == 2
    assert table1["published val F1 (%)"].iloc[-1] == 57.82
    assert table2["published test F1 (%)"].tolist() == [73.07, 73.62]
    refine_tables.write_tables(table1, table2, tmp_path / "t.csv", tmp_path / "t.md", "note")
    assert "Table 2" in (tmp_path / "t.md").read_text()
    ensemble_files = [str(tmp_path / "round0.npz"), str(tmp_path / "round1.npz")]
    refine_figures.plot_f1_rounds(runs, ensembles, tmp_path / "f1.png", tmp_path / "f1.pdf")
    refine_figures.plot_predictions(ensemble_files, root, 2, tmp_path / "p.png", tmp_path / "p.pdf")
    refine_figures.plot_sample_maps(ensemble_files, samples / "TrainData", tmp_path / "s.png", tmp_path / "s.pdf")
    refine_figures.plot_sample_maps(ensemble_files, tmp_path / "absent", tmp_path / "n.png", tmp_path / "n.pdf")
    assert all((tmp_path / f).stat().st_size > 0 for f in ("f1.png", "p.pdf", "s.png", "n.png"))


def test_real_sample_patches_read_for_maps():
    samples = refine_train.read_samples(Path(__file__).resolve().parents[1] / "data" / "landslide4sense-samples")
    assert samples.images.shape == (len(samples.ids), 14, 128, 128)
    assert refine_figures.rgb(samples.images[0]).shape == (128, 128, 3)


def test_paper_settings_parse():
    """The refine block of config/paper.yaml validates against the schema."""
    study = default_study(**yaml.safe_load(Path("config/paper.yaml").read_text())["refine"])
    assert refine_train.epochs_for(study, 3799) == math.ceil(20000 * 16 / 3799)


def test_published_rows_attach_to_the_right_round():
    """Zhao Table 1: 75.29 and 75.98 are round-1 ResNet rows (x1, x2.5), not source-only ladder runs."""
    def published(round_index, scale, normalization="separated", loss="slo"):
        return refine_tables._published_run({"round": round_index, "model": "resnet", "scale": scale,
                                      "normalization": normalization, "loss": loss})
    assert math.isnan(published(0, 2.5))
    assert published(1, 2.5) == 75.98 and published(1, 1) == 75.29
    assert published(0, 1, "plain", "ce") == 63.52 and published(0, 1) == 73.20


def test_pseudo_labels_without_the_ignore_band():
    """background_threshold None: Zhao's plain 0.7 threshold, every pixel labelled."""
    labels = pseudo_labels(np.array([[0.1, 0.5, 0.69, 0.7, 0.9]]), threshold=0.7, background_threshold=None)
    assert labels.tolist() == [[0, 0, 0, 1, 1]]
