"""The ridgei study table shows every metric of every method beside no skill (issue #32)."""

import pandas as pd

from landslides.studies.ridgei import tables


def _tidy() -> pd.DataFrame:
    values = {"auprc": 0.30, "f1": 0.28, "precision": 0.25, "recall": 0.32, "iou": 0.16, "miou": 0.55,
              "accuracy": 0.9, "no_skill": 0.08}
    rows = [{"method": method, "seed": 0, "split": split, "metric": metric, "value": value, "run": method}
            for method in ("classifier", "deeplab", "anomaly") for split in ("train", "test")
            for metric, value in values.items()]
    return pd.DataFrame(rows)


def test_table3_lists_every_metric_and_no_skill():
    markdown = tables.table_markdown(tables.build_table(_tidy()))
    line = next(row for row in markdown.splitlines() if row.startswith("| DeepLabv3+ | pixels |"))
    assert line == "| DeepLabv3+ | pixels | 30.00 | 28.00 | 25.00 | 32.00 | 16.00 | 55.00 |"
    no_skill = next(row for row in markdown.splitlines() if row.startswith("| no skill (DeepLabv3+"))
    # p = 0.08: AUPRC 8, F1 2p/(1+p) = 14.81, precision 8, recall 100, IoU 8, mIoU 4.
    assert no_skill.endswith("| pixels | 8.00 | 14.81 | 8.00 | 100.00 | 8.00 | 4.00 |")
    assert "| ResNet50 classifier | patches | 30.00 |" in markdown


def test_table3_repeats_no_published_number():
    table = tables.build_table(_tidy())
    assert table[table["table"] == "Table 3"]["published"].isna().all()
    assert len(tables.comparison(table)) == table[table["table"] != "Table 3"]["published"].notna().sum()
