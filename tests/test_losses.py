"""Losses against hand computations on tiny tensors, ignore_index and gradients."""

import math

import pytest
import torch

from landslides.errors import InputError
from landslides.losses import (
    LOSSES,
    build_loss,
    cross_entropy,
    dice_loss,
    lovasz_hinge,
    lovasz_softmax,
    lovasz_softmax_probs,
    ohem_cross_entropy,
    slo_loss,
    soft_cross_entropy,
)


def _logits_for(p_landslide: list[float]) -> torch.Tensor:
    """(1, 2, 1, P) logits whose softmax gives landslide probability p: (0, log(p / (1 - p)))."""
    margin = torch.tensor([math.log(p / (1 - p)) for p in p_landslide], dtype=torch.float64)
    return torch.stack([torch.zeros_like(margin), margin])[None, :, None, :]


def _target(labels: list[int]) -> torch.Tensor:
    return torch.tensor(labels, dtype=torch.int64)[None, None, :]


# Two pixels used throughout: pixel a has p(landslide) = 3/4 and is a landslide,
# pixel b has p = 1/2 and is background. -log p_y: a -> log(4/3), b -> log 2.
LOGITS = _logits_for([0.75, 0.5])
TARGET = _target([1, 0])


def test_cross_entropy_by_hand():
    expected = (math.log(4 / 3) + math.log(2)) / 2
    assert cross_entropy(LOGITS, TARGET).item() == pytest.approx(expected)


def test_ignore_index_excludes_pixels():
    assert cross_entropy(LOGITS, _target([1, 255])).item() == pytest.approx(math.log(4 / 3))
    assert dice_loss(LOGITS, _target([255, 0])).item() == pytest.approx(1 - 1 / 1.5)  # p=1/2, g=0
    for name in LOSSES:
        loss = build_loss(name)(LOGITS, _target([255, 255]))  # nothing valid: zero, still backward-able
        assert loss.item() == 0.0, name


def test_soft_cross_entropy_is_smoothed_targets():
    # eps = 0.1, C = 2: q = (0.05, 0.95) for a, (0.95, 0.05) for b.
    # a: 0.05 * (-log 1/4) + 0.95 * (-log 3/4); b: both classes have -log p = log 2.
    a = 0.05 * math.log(4) + 0.95 * math.log(4 / 3)
    b = math.log(2)
    assert soft_cross_entropy(LOGITS, TARGET, smoothing=0.1).item() == pytest.approx((a + b) / 2)
    # Same as (1 - eps) * CE + eps * mean over pixels of mean_k(-log p_k).
    uniform = ((math.log(4) + math.log(4 / 3)) / 2 + math.log(2)) / 2
    ce = cross_entropy(LOGITS, TARGET).item()
    assert soft_cross_entropy(LOGITS, TARGET).item() == pytest.approx(0.9 * ce + 0.1 * uniform)
    assert soft_cross_entropy(LOGITS, TARGET, smoothing=0.0).item() == pytest.approx(ce)


def test_ohem_keeps_expected_pixels():
    # All landslide pixels, true-class probabilities 0.9, 0.6, 0.3, 0.8.
    logits, target = _logits_for([0.9, 0.6, 0.3, 0.8]), _target([1, 1, 1, 1])
    hard = (-math.log(0.6) - math.log(0.3)) / 2  # p < 0.7: the 0.6 and 0.3 pixels
    assert ohem_cross_entropy(logits, target, thresh=0.7, min_kept=1).item() == pytest.approx(hard)
    # Default min_kept = max(1, int(0.1 * 4)) = 1: same two pixels.
    assert ohem_cross_entropy(logits, target).item() == pytest.approx(hard)
    # min_kept = 3 beats the threshold: the three lowest (0.3, 0.6, 0.8).
    three = (-math.log(0.3) - math.log(0.6) - math.log(0.8)) / 3
    assert ohem_cross_entropy(logits, target, min_kept=3).item() == pytest.approx(three)
    assert ohem_cross_entropy(logits, target, thresh=0.5, min_kept=0).item() == pytest.approx(-math.log(0.3))
    assert ohem_cross_entropy(logits, target, thresh=0.2, min_kept=0).item() == 0.0


def test_lovasz_softmax_equals_jaccard_loss_on_hard_predictions():
    # target 1 1 0 0, predicted landslide only on the first pixel.
    # Landslide IoU = 1/2, background IoU = |{3,4}| / |{2,3,4}| = 2/3 -> mean Jaccard loss = (1/2 + 1/3) / 2.
    p1 = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    probs = torch.stack([1 - p1, p1])[None, :, None, :]
    loss = lovasz_softmax_probs(probs, _target([1, 1, 0, 0]))
    assert loss.item() == pytest.approx(5 / 12)


def test_lovasz_softmax_random_hard_predictions_match_iou():
    gen = torch.Generator().manual_seed(0)
    pred = torch.randint(0, 2, (1, 6, 7), generator=gen)
    target = torch.randint(0, 2, (1, 6, 7), generator=gen)
    probs = torch.stack([1 - pred, pred], dim=1).double()
    ious = [((pred == c) & (target == c)).sum() / ((pred == c) | (target == c)).sum() for c in (0, 1)]
    expected = 1 - (ious[0] + ious[1]).item() / 2
    assert lovasz_softmax_probs(probs, target).item() == pytest.approx(expected)


def test_lovasz_softmax_fractional_by_hand():
    # target (1, 0), p(landslide) = (0.8, 0.3).
    # Landslide class: errors (0.2, 0.3) -> sorted b (neg), a (pos); G = 1:
    #   J_1 = 1 - 1/2 = 1/2, J_2 = 1 - 0/2 = 1 -> weights (1/2, 1/2) -> 0.3/2 + 0.2/2 = 0.25.
    # Background: p0 = (0.2, 0.7), errors (0.2, 0.3) -> sorted b (pos), a (neg); G = 1:
    #   J_1 = 1 - 0/1 = 1, J_2 = 1 -> weights (1, 0) -> 0.3.  Mean: 0.275.
    loss = lovasz_softmax(_logits_for([0.8, 0.3]), _target([1, 0]))
    assert loss.item() == pytest.approx(0.275)


def test_lovasz_softmax_per_image_versus_batch():
    # Image 1 is the 0.275 case above. Image 2: target (0, 0), p = (0.5, 0.5): only background is present,
    # errors (0.5, 0.5), G = 2: J = (1/2, 1) -> 0.5 * 1/2 + 0.5 * 1/2 = 0.5.
    logits = torch.cat([_logits_for([0.8, 0.3]), _logits_for([0.5, 0.5])])
    target = torch.cat([_target([1, 0]), _target([0, 0])])
    assert lovasz_softmax(logits, target, per_image=True).item() == pytest.approx((0.275 + 0.5) / 2)
    # Pooled: landslide errors (.2,.3,.5,.5), G=1: J = 1/2, 2/3, 3/4, 1
    #   -> .5*.5 + .5/6 + .3/12 + .2/4 = 49/120;
    # background errors (.2,.3,.5,.5) with positives .3,.5,.5, G=3: J = 1/3, 2/3, 1, 1 -> 1.3/3 = 52/120.
    assert lovasz_softmax(logits, target, per_image=False).item() == pytest.approx(101 / 240)


def test_lovasz_hinge_by_hand():
    # margins (2, 0.5), target (1, 0): hinge errors 1 - 2 = -1 and 1 + 0.5 = 1.5.
    # Sorted: b (neg, 1.5), a (pos, -1); G = 1: J = (1/2, 1) -> relu(1.5)/2 + relu(-1)/2 = 0.75.
    logits = torch.tensor([[0.0, 0.0], [2.0, 0.5]], dtype=torch.float64)[None, :, None, :]
    assert lovasz_hinge(logits, _target([1, 0])).item() == pytest.approx(0.75)
    assert lovasz_hinge(logits[:, 1:] - logits[:, :1], _target([1, 0])).item() == pytest.approx(0.75)


def test_dice_by_hand():
    # p = (3/4, 1/2), g = (1, 0): 1 - (2 * 3/4 + 1) / (5/4 + 1 + 1) = 1 - 2.5 / 3.25 = 3/13.
    assert dice_loss(LOGITS, TARGET).item() == pytest.approx(3 / 13)


def test_slo_is_weighted_sum():
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(2, 2, 5, 5, generator=gen)
    target = torch.randint(0, 2, (2, 5, 5), generator=gen)
    expected = (
        0.5 * soft_cross_entropy(logits, target)
        + 2.0 * lovasz_softmax(logits, target)
        + 1.0 * ohem_cross_entropy(logits, target)
    )
    loss = slo_loss(logits, target, soft_weight=0.5, lovasz_weight=2.0)
    assert loss.item() == pytest.approx(expected.item())


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_gradients_finite_and_deterministic(name):
    gen = torch.Generator().manual_seed(2)
    logits = (torch.randn(2, 2, 8, 8, generator=gen) * 30).requires_grad_()  # includes saturated pixels
    target = torch.randint(0, 2, (2, 8, 8), generator=gen)
    target[0, :3] = 255
    loss_fn = build_loss(name)
    loss = loss_fn(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert logits.grad[0, :, :3].abs().sum() == 0  # ignored pixels get no gradient
    assert loss_fn(logits, target).item() == loss.item()


def test_build_loss_errors_and_parameters():
    with pytest.raises(InputError, match="unknown loss 'focal'; valid: ce, soft_ce, ohem, lovasz"):
        build_loss("focal")
    with pytest.raises(InputError, match="no parameter\\(s\\) gamma"):
        build_loss("ce", gamma=2.0)
    loss = build_loss("soft_ce", smoothing=0.0)
    assert loss(LOGITS, TARGET).item() == pytest.approx(cross_entropy(LOGITS, TARGET).item())
