"""The papers' claims, written once as data: each claim of each paper's abstract and conclusion (and the
result statements they summarise), in the paper's words, with where it stands in the paper, the two arms it
compares, the metric, the paper's own effect where it gives numbers, and the direction it claims.

An arm selects runs by the `params` each run's metrics.json records (values compared as text) and a split.
`per`: one comparison for each value of that run parameter (pretrain: at each training size). `steps`: the
arm is each value of that parameter and the baseline the value before it (refine: each round against the
previous one). `predict_nothing`: the baseline is a prediction of "no landslide" everywhere on the arm's own
test set (how far a method is above doing nothing).

Effects are arm minus baseline in the metric's own unit (fractions; the papers' F1 in % is divided by 100).
Sources: the papers' texts, cited by section and line of their plain-text versions (docs/sources.md lists
the papers)."""

from __future__ import annotations

from dataclasses import dataclass, field

PAPERS = {
    "transfer": "Prapas et al., Regional transferability of deep learning models for landslide detection with SAR data",
    "pretrain": "Boehm et al., SAR-based landslide classification pretraining leads to better segmentation",
    "ridgei": "Kimura (Ridge-i), DNN-based landslide detection",
    "refine": "Zhao et al., Progressive label refinement-based distribution adaptation for landslide detection",
}


@dataclass(frozen=True)
class Arm:
    label: str
    params: dict = field(default_factory=dict)
    split: str = "test"
    predict_nothing: bool = False


@dataclass(frozen=True)
class Claim:
    id: str
    study: str
    text: str            # the paper's words
    where: str           # section and line in the paper's text
    metric: str          # a key of the runs' metrics.json split block
    arm: Arm
    baseline: Arm
    direction: int       # +1: the arm is higher; -1: lower
    published: float | dict | None = None   # the paper's effect (arm - baseline); per step value for `steps`
    per: str | None = None
    steps: str | None = None
    note: str = ""


SAR, SAR_AUG = {"features": "sar", "augmentation": "off"}, {"features": "sar", "augmentation": "on"}
DEM, DEM_AUG = {"features": "sar_dem", "augmentation": "off"}, {"features": "sar_dem", "augmentation": "on"}

CLAIMS = (
    # ---- Prapas et al. (transfer): Table 1 (lines 33-41), results (line 50), conclusion (line 52) ----
    Claim("transfer-aug-sar", "transfer",
          "we find that simple augmentations designed to work with SAR data help us train more robust models "
          "across different regions",
          "conclusion, line 52; Table 1, lines 37 and 39", "auprc",
          Arm("SAR (AUG), Talakmau", SAR_AUG), Arm("SAR, Talakmau", SAR), +1, published=0.456 - 0.421),
    Claim("transfer-aug-sar-dem", "transfer",
          "when adding the augmentations, [...] it is consistently improved in the Mount Talakmau dataset (test "
          "region)", "results, line 50; Table 1, lines 38 and 40", "auprc",
          Arm("SAR & DEM (AUG), Talakmau", DEM_AUG), Arm("SAR & DEM, Talakmau", DEM), +1, published=0.402 - 0.388),
    Claim("transfer-dem-test", "transfer",
          "While DEM-derived features seem helpful when training and testing in the same region [12], using them "
          "lowers the generalizability of the models", "conclusion, line 52; Table 1, lines 37-38", "auprc",
          Arm("SAR & DEM, Talakmau", DEM), Arm("SAR, Talakmau", SAR), -1, published=0.388 - 0.421),
    Claim("transfer-dem-val", "transfer",
          "the DEM-derived features are helpful for the region where the training has occurred",
          "results, line 50; Table 1, lines 37-38", "auprc",
          Arm("SAR & DEM, Hokkaido", DEM, split="val"), Arm("SAR, Hokkaido", SAR, split="val"), +1,
          published=0.639 - 0.618),
    Claim("transfer-region", "transfer",
          "conclusions drawn in isolation and the skill of such models do not necessarily transfer between regions",
          "introduction, line 27; conclusion, line 52; Table 1, line 37", "auprc",
          Arm("SAR, Talakmau (test region)", SAR), Arm("SAR, Hokkaido (training region)", SAR, split="val"), -1,
          published=0.421 - 0.618, note="different test sets (val chips vs test chips): samples unpaired"),
    # ---- Boehm et al. (pretrain): abstract, line 13; stage 2 on Hokkaido at each training size ----
    Claim("pretrain-auprc", "pretrain",
          "We find that it leads to minor improvements in the Area Under the Precision-Recall Curve",
          "abstract, line 13", "auprc",
          Arm("stage-1 pretraining (Hokkaido)", {"pretraining": "hokkaido"}), Arm("no pretraining",
                                                                                 {"pretraining": "none"}),
          +1, per="size"),
    Claim("pretrain-fpr", "pretrain",
          "but also to a significantly lower false positive rate in areas without landslides",
          "abstract, line 13", "fpr_landslide_free",
          Arm("stage-1 pretraining (Hokkaido)", {"pretraining": "hokkaido"}), Arm("no pretraining",
                                                                                 {"pretraining": "none"}),
          -1, per="size"),
    Claim("pretrain-count", "pretrain",
          "and an improved estimate of the average number of landslide pixels in a chip",
          "abstract, line 13", "count_abs_all",
          Arm("stage-1 pretraining (Hokkaido)", {"pretraining": "hokkaido"}), Arm("no pretraining",
                                                                                 {"pretraining": "none"}),
          -1, per="size", note="metric: mean absolute error of the predicted landslide pixel count per chip"),
    Claim("pretrain-other-region", "pretrain",
          "deep learning algorithms for landslide segmentation on SAR products can benefit from pretraining on "
          "a simpler task and from data from different regions", "abstract, line 13", "auprc",
          Arm("stage-1 pretraining (Kaikoura)", {"pretraining": "kaikoura"}), Arm("no pretraining",
                                                                                 {"pretraining": "none"}),
          +1, per="size"),
    # ---- Kimura (ridgei): method section (line 33), Table 2 and its caption (lines 79-83) ----
    Claim("ridgei-deeplab-anomaly", "ridgei",
          "DeepLabv3+ can detect landslide areas with high accuracy [...] Despite these accuracy limitations "
          "however, the Anomaly U-Net permits a rough damage assessment", "Table 2 caption, line 79; Table 2, "
          "lines 82-83", "miou",
          Arm("DeepLabv3+", {"method": "deeplab"}), Arm("anomaly U-Net", {"method": "anomaly"}), +1,
          published=0.8105 - 0.7102),
    Claim("ridgei-deeplab-classifier", "ridgei",
          "With the disadvantage of higher annotation costs compared to the baseline, it allows more precise "
          "predictions", "semantic segmentation, line 33", "f1",
          Arm("DeepLabv3+", {"method": "deeplab"}), Arm("ResNet50 patch classifier", {"method": "classifier"}), +1,
          note="pixel F1 (DeepLabv3+) against patch F1 (classifier), each in its own unit as in the paper"),
    Claim("ridgei-anomaly-skill", "ridgei",
          "the Anomaly U-Net permits a rough damage assessment without label information",
          "Table 2 caption, line 79", "miou",
          Arm("anomaly U-Net", {"method": "anomaly"}), Arm("no landslide anywhere", {"method": "anomaly"},
                                                           predict_nothing=True), +1),
    # ---- Zhao et al. (refine): abstract (line 9), results (lines 101-103), Tables 1-2, conclusion (line 139) ----
    Claim("refine-sn", "refine",
          "the separated normalization and pseudo label refinement were proposed to encode the statistical "
          "inconsistency for reducing the distribution differences", "abstract, line 9; results, line 101; "
          "Table 1, lines 109-110", "f1",
          Arm("+SN", {"run": "sn", "round": 0}, split="val"), Arm("baseline", {"run": "baseline", "round": 0},
                                                                 split="val"),
          +1, published=(72.71 - 63.52) / 100),
    Claim("refine-slo", "refine",
          "The scale promotion, Lovasz loss, and online hard example mining strategy are adopted to alleviate the "
          "class imbalance", "abstract, line 9; Table 1, lines 110-111", "f1",
          Arm("+SN+SLO", {"run": "sn_slo", "round": 0}, split="val"), Arm("+SN", {"run": "sn", "round": 0},
                                                                         split="val"),
          +1, published=(73.20 - 72.71) / 100),
    Claim("refine-scale", "refine",
          "The scale promotion [...] adopted to alleviate the class imbalance", "abstract, line 9; Table 1, "
          "lines 112-113", "f1",
          Arm("+SN+SLO x2.5", {"run": "scale2_5", "round": 0}, split="val"),
          Arm("+SN+SLO", {"run": "sn_slo", "round": 0}, split="val"),
          +1, published=(75.98 - 75.29) / 100,
          note="the paper's pair is a round-1 ResNet at x1 and x2.5; ours is the round-0 ladder"),
    Claim("refine-rounds", "refine",
          "Through multiple rounds of pseudo-label optimization and separately normalization, the performance of "
          "the model continues to improve", "conclusion, line 139; results, line 103; Table 2, lines 134-137",
          "f1", Arm("ensemble", {"run": "ensemble"}), Arm("ensemble", {"run": "ensemble"}),
          +1, steps="round", published={1: (73.62 - 73.07) / 100, 2: (74.03 - 73.62) / 100,
                                        3: (74.54 - 74.03) / 100}),
)


def study_claims(study: str) -> list[Claim]:
    return [claim for claim in CLAIMS if claim.study == study]
