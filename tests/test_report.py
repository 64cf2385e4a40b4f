"""The report's printing rules, overview, sanity checks, data-source lines and HTML pages, without Snakemake."""

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from landslides import aggregate, display, report

NAN_WORD = re.compile(r"\bnan\b", re.IGNORECASE)


def test_numbers_print_without_nan_and_integers_without_decimals():
    assert aggregate.format_number(float("nan")) == aggregate.NA
    assert aggregate.format_number(None, na="not reported") == "not reported"
    assert aggregate.format_number(120979.0) == "120979"
    assert aggregate.format_number(0.5) == "0.500"
    assert aggregate.format_number(1.0) == "1.000"  # a rate of 1 is no count
    frame = pd.DataFrame({"pixels": [120979.0, 393216.0], "auprc": [0.84812, np.nan], "n": [1, 2]})
    printed = aggregate.format_frame(frame)
    assert printed["pixels"].tolist() == ["120979", "393216"]
    assert printed["auprc"].tolist() == ["0.848", aggregate.NA] and printed["n"].tolist() == ["1", "2"]
    assert not NAN_WORD.search(aggregate.markdown_table(frame))


def test_one_seed_prints_a_plain_value():
    assert aggregate.format_mean_std(0.8481, float("nan")) == "0.848"
    assert aggregate.format_mean_std(0.8481, 0.01, n=1) == "0.848"
    assert aggregate.format_mean_std(0.8481, 0.0441, n=2) == "0.848 ± 0.044"
    assert aggregate.format_mean_std(float("nan"), float("nan"), na="undefined") == "undefined"
    assert "±" not in aggregate.seeds_phrase(1) and "2 seeds" in aggregate.seeds_phrase([0, 1])


def _tidy(n_seeds):
    rows = []
    for seed in range(n_seeds):
        rows += [{"features": "sar", "split": "test", "metric": "pixels", "value": 120979.0, "seed": seed},
                 {"features": "sar", "split": "test", "metric": "auprc", "value": 0.8 + 0.01 * seed, "seed": seed},
                 {"features": "sar", "split": "test", "metric": "precision", "value": np.nan, "seed": seed}]
    tidy = pd.DataFrame(rows)
    return tidy.groupby(["features", "split", "metric"], sort=False)["value"].agg(
        mean="mean", std="std", n_seeds="count").reset_index()


def test_tidy_table_one_seed_has_one_value_column():
    printed = report.printed_tidy(_tidy(1))
    assert "value" in printed and "std" not in printed and "mean ± std" not in printed
    assert printed["value"].tolist() == ["120979", "0.8000", "undefined"]
    text = aggregate.markdown_table(printed)
    assert not NAN_WORD.search(text) and "±" not in text


def test_tidy_table_several_seeds_gives_the_spread():
    printed = report.printed_tidy(_tidy(2))
    assert printed["mean ± std"].tolist()[1] == "0.8050 ± 0.0071" and printed["seeds"].tolist()[0] == "2"
    assert printed["mean ± std"].tolist()[0] == "120979"  # the same count in every seed: no spread to print


def test_overview_names_figure_only_and_units():
    transfer = pd.DataFrame([{"study": "transfer", "experiment": "SAR", "split": "test", "metric": "auprc",
                              "published": 0.421, "reproduced": 0.872, "std": np.nan, "n": 1, "unit": "fraction"}])
    pretrain = pd.DataFrame([{"study": "pretrain", "experiment": "none", "split": "test", "metric": "auprc",
                              "published": np.nan, "reproduced": 0.96, "std": np.nan, "n": 1,
                              "published_note": display.FIGURE_ONLY, "unit": "fraction"}])
    ridgei = pd.DataFrame([{"study": "ridgei", "experiment": "ResNet50 (test)", "split": "test", "metric": "precision",
                            "published": 54.2, "reproduced": np.nan, "std": np.nan, "n": 0, "unit": "%"}])
    frame = report.overview([transfer, pretrain, ridgei])
    printed = report.printed_overview(frame)
    # The figure-only row has nothing to compare: one pointer line of the note instead of a row of dashes.
    assert printed["published"].tolist() == ["0.421", "54.20"]
    assert printed["reproduced"].tolist() == ["0.872", "undefined"]
    assert printed["difference"].tolist()[0] == "+0.451" and printed["unit"].tolist() == ["fraction", "%"]
    assert printed["metric"].tolist() == ["pixel AUPRC", "precision"]  # in words, not the column names
    assert not NAN_WORD.search(aggregate.markdown_table(printed))
    note = report.overview_note(True, frame).splitlines()
    pointer = [line for line in note if line.startswith("pretrain:")]
    assert len(pointer) == 1 and "figures only" in pointer[0] and "results/tables/pretrain.md" in pointer[0]
    assert any("SYNTHETIC" in line for line in note)


def test_overview_marks_a_flagged_run_in_its_rows_and_footer():
    ridgei = pd.DataFrame([{"study": "ridgei", "experiment": name, "split": "test", "metric": "miou",
                            "published": 81.05, "reproduced": 65.7, "std": np.nan, "n": 1, "unit": "%", "flag": flag}
                           for name, flag in (("DeepLabv3+", "selected epoch 0"), ("Anomaly U-Net", ""))])
    frame = report.overview([ridgei])
    assert report.printed_overview(frame)["experiment"].tolist() == ["DeepLabv3+ (flagged)", "Anomaly U-Net"]
    refine = pd.DataFrame([{"study": "refine", "experiment": "+SN+SLO (round 0)", "split": "val", "metric": "f1 (%)",
                            "published": 73.2, "reproduced": 23.3, "std": np.nan, "n": 1, "unit": "%"}])
    note = report.overview_note(False, report.overview([refine]))
    assert "SN: separated normalization" in note and "SLO: the Lovasz" in note and "SP:" not in note
    assert [line for line in report.overview_note(False, frame).splitlines() if "flagged" in line] == [
        "(flagged) ridgei, DeepLabv3+: selected epoch 0; its numbers do not measure the method (4 Sanity checks)."]


def test_landing_page_opens_with_the_data_banner_and_short_checksums():
    provenance = {"config": {"studies": ["transfer"]}, "git_commit": "a" * 40 + "+dirty",
                  "datasets": {"x.zarr": {"source": "synthetic", "study": "transfer", "region": "x",
                                          "checksum": "sha256:" + "f" * 64}}}
    text = report.introduction_rst(provenance, report.overview([]), pd.DataFrame(columns=report.CHECK_COLUMNS), [])
    body = re.sub(r"<style>.*?</style>", "", text, flags=re.S)
    sections = [line for line in body.splitlines() if line.startswith((".. warning::", "What was run", "Contents",
                                                                       "Data\n", "Published vs"))]
    assert sections[:3] == [".. warning::", "What was run", "Contents"]
    assert "sha256:" + "f" * 12 + "…" in text and "f" * 13 not in text
    assert "a" * 12 + "+dirty" in text and "a" * 13 not in text
    real = dict(provenance, datasets={"x.zarr": {"source": "zenodo", "study": "transfer", "region": "x"}})
    real_text = report.introduction_rst(real, report.overview([]), pd.DataFrame(columns=report.CHECK_COLUMNS), [])
    assert ".. note::" in real_text and ".. warning::" not in real_text


def _run(folder, history, metrics, best_epoch):
    folder.mkdir(parents=True)
    pd.DataFrame(history).to_csv(folder / "history.csv", index=False)
    (folder / "metrics.json").write_text(json.dumps({"params": {"region": "x"}, "best_epoch": best_epoch,
                                                     "val": metrics, "test": metrics}))
    return folder / "metrics.json"


def test_sanity_checks_flag_a_run_that_learned_nothing(tmp_path):
    config = {"pretrain": {"stage1": {"training": {"selection_metric": "auroc"}}}}
    stuck = _run(tmp_path / "results" / "pretrain" / "stage1" / "hokkaido",
                 {"epoch": range(5), "val_auroc": [0.5] * 5, "val_accuracy": [0.5, 0.75, 0.75, 0.5, 0.75]},
                 {"accuracy": 0.5, "precision": float("nan"), "recall": 0.0, "auroc": 0.5}, best_epoch=0)
    fine = _run(tmp_path / "results" / "pretrain" / "stage1" / "kaikoura",
                {"epoch": range(5), "val_auroc": [0.5, 0.6, 0.8, 0.7, 0.75], "val_accuracy": [0.5] * 5},
                {"accuracy": 0.75, "precision": 1.0, "recall": 0.5, "auroc": 0.8}, best_epoch=2)
    checks = report.sanity_checks([stuck, fine], config)
    assert set(checks["run"]) == {str(stuck.parent)}
    assert set(checks["check"]) == {"validation metric flat", "selected epoch 0", "constant prediction"}
    assert "auroc stayed at its initial value 0.500 in all 5 epochs" in " ".join(checks["detail"])
    flags = report.run_flags([stuck, fine], config)
    assert list(flags) == [str(stuck.parent)]
    markdown = report.checks_markdown(checks)
    assert "4 problem(s) in 1 run(s)" in markdown  # constant on val and on test and not NAN_WORD.search(markdown)


def test_constant_probability_map_is_flagged(tmp_path):
    metrics = _run(tmp_path / "results" / "transfer" / "runs" / "a", {"epoch": [0, 1], "val_auprc": [0.2, 0.3]},
                   {"auprc": 0.3, "recall": 0.4, "precision": 0.5}, best_epoch=1)
    np.savez(metrics.with_name("predictions.npz"), test_prob=np.full((2, 4, 4), 0.25, np.float16),
             test_id=np.arange(2))
    checks = report.check_run(metrics, "auprc")
    assert checks == [("constant prediction", "test: the same probability 0.250 everywhere")]


def test_selection_metric_follows_the_run_folder():
    config = {"transfer": {"training": {"selection_metric": "auprc"}},
              "pretrain": {"stage1": {"training": {"selection_metric": "auroc"}},
                           "stage2": {"training": {"selection_metric": "f1"}}},
              "ridgei": {"deeplab": {"training": {"selection_metric": "miou"}}}}
    assert report.selection_metric(config, "results/transfer/runs/features~sar/seed~0") == "auprc"
    assert report.selection_metric(config, "results/pretrain/stage1/hokkaido") == "auroc"
    assert report.selection_metric(config, "results/pretrain/runs/pretraining~none/size~5/seed~0") == "f1"
    assert report.selection_metric(config, "results/ridgei/runs/method~deeplab/seed~0") == "miou"
    assert report.selection_metric(config, "results/ridgei/runs/method~anomaly/seed~0") == "neg_mse"


def test_data_source_lines_say_synthetic_or_real():
    synthetic = {"resources/chips/hokkaido.zarr": {"region": "hokkaido", "source": "synthetic", "seed": 1,
                                                   "height": 64, "width": 64}}
    line = report.data_source_line("transfer", synthetic)
    assert line.startswith("Data: SYNTHETIC") and "hokkaido: synthetic SAR datacube (seed 1, 64x64 px)" in line
    real = {"resources/l4s/zenodo/TrainData": {"source": "zenodo"}}
    assert report.data_source_line("refine", real).startswith("Data: real: real Landslide4Sense benchmark")
    scene = {"a.tif": {"source": "geotiff", "image": "a.tif", "label": "b.tif"}}
    assert "optical scene a.tif" in report.data_source_line("ridgei", scene)


def test_markdown_pages_become_html(tmp_path):
    table = tmp_path / "table.md"
    aggregate.write_markdown(pd.DataFrame({"arm": ["SAR"], "AUPRC": [0.5]}), table, title="Transfer", note="Data: x.")
    (tmp_path / "table.csv").write_text("arm,AUPRC\nSAR,0.5\n")
    page = report.tables_page("transfer", [table], [tmp_path / "table.csv"])
    assert "<h1>Transfer</h1>" in page and "<td class=num>0.500</td>" in page and "<p>Data: x.</p>" in page
    assert 'download="table.csv" href="data:text/csv;base64,' in page


def test_introduction_states_data_code_device_and_compute():
    provenance = {"config": {"studies": ["transfer"], "device": "auto", "transfer": {"seeds": [0]}},
                  "git_commit": "abc123", "python": "3.11", "platform": "Linux", "packages": {"torch": "2"},
                  "datasets": {"resources/chips/hokkaido.zarr": {"region": "hokkaido", "source": "synthetic",
                                                                "seed": 1, "study": "transfer",
                                                                "checksum": "sha256:ff"}},
                  "runs": [{"run": "r", "device": "cpu", "wall_s": 90.0, "cpu_s": 80.0, "max_rss_mb": 1024.0}]}
    overview = report.overview([pd.DataFrame([{"study": "transfer", "experiment": "SAR", "split": "test",
                                               "metric": "auprc", "published": 0.421, "reproduced": 0.8, "std": 0.1,
                                               "n": 2}])])
    checks = pd.DataFrame(columns=report.CHECK_COLUMNS)
    text = report.introduction_rst(provenance, overview, checks, ["tests/data/tiny.yaml"])
    for expected in ("SYNTHETIC", "sha256:ff", "abc123", "cpu (1 training jobs)", "1 min 30 s", "0.800 ± 0.100",
                     "Published vs reproduced", "tests/data/tiny.yaml"):
        assert expected in text, expected
    assert not NAN_WORD.search(text)
    docutils = pytest.importorskip("docutils.core")
    body = docutils.publish_parts(text.replace("{% raw %}", "").replace("{% endraw %}", ""),
                                  writer="html")["html_body"]
    assert "sha256:ff" in body and "System Message" not in body


def test_percent_of_missing_is_missing():
    assert math.isnan(aggregate.percent(float("nan"))) and aggregate.percent(0.5) == 50.0


def test_all_positive_prediction_is_flagged_with_the_selection_hint(tmp_path):
    """Issue #32: a classifier that calls every patch landslide (recall 1, false-positive rate 1)."""
    metrics = _run(tmp_path / "results" / "ridgei" / "runs" / "a", {"epoch": [0, 1], "val_f1": [0.2, 0.1]},
                   {"auprc": 0.1, "recall": 1.0, "fpr": 1.0, "precision": 0.08}, best_epoch=1)
    checks = report.check_run(metrics, "f1")
    assert [split for _, split in checks] == [
        f"{split}: every sample called landslide (recall 1, false-positive rate 1); with selection on f1 or "
        "accuracy such an epoch can win: select on auprc" for split in ("val", "test")]
    assert {check for check, _ in checks} == {"constant prediction"}
