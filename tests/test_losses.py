"""Losses against hand computations on tiny tensors, ignore_index and gradients, and against the former
boolean-indexing implementations (the specification) on random tensors and edge cases."""

import math

import pytest
import torch

from landslides.errors import InputError
from landslides.losses import (
    LOSSES,
    _stable_argsort,
    build_loss,
    cross_entropy,
    default_min_kept,
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


def test_invalid_class_ids_raise_value_error_on_cpu():
    target = _target([1, 2])
    for name in ("ce", "soft_ce", "ohem", "lovasz", "dice", "slo"):
        with pytest.raises(ValueError, match="class ids outside 0..1"):
            build_loss(name)(LOGITS, target)
    with pytest.raises(ValueError, match="0/1 targets"):
        lovasz_hinge(LOGITS, target)
    assert cross_entropy(LOGITS, _target([1, 255])).item() == pytest.approx(math.log(4 / 3))  # 255 is no id


# ---- the specification: the boolean-indexing implementations the losses had before they were made
# sync-free (landslides/losses.py at commit d6a53d9). They select the valid pixels with x[mask], skip absent
# classes and empty images in Python and sort only the selected pixels: simple to read, but every step
# waits for the GPU. The sync-free losses must give the same values and gradients on every input.


def _ref_valid_pixels(logits, target, ignore_index=255):
    c = logits.shape[1]
    flat_logits = logits.permute(0, 2, 3, 1).reshape(-1, c)
    flat_target = target.reshape(-1).long()
    valid = flat_target != ignore_index
    return flat_logits[valid], flat_target[valid]


def _ref_zero(logits):
    return logits.sum() * 0.0


def _ref_pixel_nll(logits, labels):
    return -torch.log_softmax(logits, dim=1).gather(1, labels[:, None])[:, 0]


def ref_cross_entropy(logits, target, *, ignore_index=255):
    v_logits, labels = _ref_valid_pixels(logits, target, ignore_index)
    if labels.numel() == 0:
        return _ref_zero(logits)
    return _ref_pixel_nll(v_logits, labels).mean()


def ref_soft_cross_entropy(logits, target, *, smoothing=0.1, ignore_index=255):
    v_logits, labels = _ref_valid_pixels(logits, target, ignore_index)
    if labels.numel() == 0:
        return _ref_zero(logits)
    log_p = torch.log_softmax(v_logits, dim=1)
    nll = -log_p.gather(1, labels[:, None])[:, 0]
    return ((1.0 - smoothing) * nll + smoothing * -log_p.mean(dim=1)).mean()


def ref_ohem_cross_entropy(logits, target, *, thresh=0.7, min_kept=None, ignore_index=255):
    v_logits, labels = _ref_valid_pixels(logits, target, ignore_index)
    n_valid = labels.numel()
    if n_valid == 0:
        return _ref_zero(logits)
    nll = _ref_pixel_nll(v_logits, labels)
    p_true = torch.exp(-nll.detach())
    want = max(1, int(0.1 * n_valid)) if min_kept is None else min(int(min_kept), n_valid)
    n_keep = max(int((p_true < thresh).sum()), want)
    if n_keep == 0:
        return _ref_zero(logits)
    kept = torch.argsort(p_true, stable=True)[:n_keep]
    return nll[kept].mean()


def _ref_lovasz_gradient(gt_sorted):
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1.0 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def _ref_lovasz_softmax_flat(probs, labels, only_present):
    losses = []
    for c in range(probs.shape[1]):
        fg = (labels == c).to(probs.dtype)
        if only_present and fg.sum() == 0:
            continue
        errors = (fg - probs[:, c]).abs()
        errors_sorted, order = torch.sort(errors, descending=True, stable=True)
        losses.append(torch.dot(errors_sorted, _ref_lovasz_gradient(fg[order])))
    return torch.stack(losses).mean() if losses else None


def _ref_mean_or_zero(losses, like):
    losses = [x for x in losses if x is not None]
    return torch.stack(losses).mean() if losses else _ref_zero(like)


def ref_lovasz_softmax_probs(probs, target, *, per_image=False, only_present=True, ignore_index=255):
    def group(p, t):
        v_probs, labels = _ref_valid_pixels(p, t, ignore_index)
        return None if labels.numel() == 0 else _ref_lovasz_softmax_flat(v_probs, labels, only_present)

    if per_image:
        return _ref_mean_or_zero([group(p[None], t[None]) for p, t in zip(probs, target, strict=True)], probs)
    return _ref_mean_or_zero([group(probs, target)], probs)


def ref_lovasz_softmax(logits, target, *, per_image=False, only_present=True, ignore_index=255):
    return ref_lovasz_softmax_probs(torch.softmax(logits, dim=1), target, per_image=per_image,
                                    only_present=only_present, ignore_index=ignore_index)


def _ref_lovasz_hinge_flat(scores, labels):
    fg = labels.to(scores.dtype)
    errors = 1.0 - scores * (2.0 * fg - 1.0)
    errors_sorted, order = torch.sort(errors, descending=True, stable=True)
    return torch.dot(torch.relu(errors_sorted), _ref_lovasz_gradient(fg[order]))


def ref_lovasz_hinge(logits, target, *, per_image=True, ignore_index=255):
    scores = logits[:, 1] - logits[:, 0] if logits.shape[1] == 2 else logits[:, 0]
    if not per_image:
        valid = target != ignore_index
        if not valid.any():
            return _ref_zero(logits)
        return _ref_lovasz_hinge_flat(scores[valid], target[valid])
    parts = []
    for s, t in zip(scores, target, strict=True):
        valid = t != ignore_index
        parts.append(_ref_lovasz_hinge_flat(s[valid], t[valid]) if valid.any() else None)
    return _ref_mean_or_zero(parts, logits)


def ref_dice_loss(logits, target, *, smooth=1.0, ignore_index=255):
    v_logits, labels = _ref_valid_pixels(logits, target, ignore_index)
    if labels.numel() == 0:
        return _ref_zero(logits)
    p = torch.softmax(v_logits, dim=1)[:, 1]
    g = (labels == 1).to(p.dtype)
    return 1.0 - (2.0 * (p * g).sum() + smooth) / (p.sum() + g.sum() + smooth)


def ref_slo_loss(logits, target, *, soft_weight=1.0, lovasz_weight=1.0, ohem_weight=1.0, smoothing=0.1,
                 thresh=0.7, min_kept=None, per_image=False, ignore_index=255):
    return (soft_weight * ref_soft_cross_entropy(logits, target, smoothing=smoothing, ignore_index=ignore_index)
            + lovasz_weight * ref_lovasz_softmax(logits, target, per_image=per_image, ignore_index=ignore_index)
            + ohem_weight * ref_ohem_cross_entropy(logits, target, thresh=thresh, min_kept=min_kept,
                                                   ignore_index=ignore_index))


REFERENCE = {
    "ce": ref_cross_entropy,
    "soft_ce": ref_soft_cross_entropy,
    "ohem": ref_ohem_cross_entropy,
    "lovasz": ref_lovasz_softmax,
    "lovasz_hinge": ref_lovasz_hinge,
    "dice": ref_dice_loss,
    "slo": ref_slo_loss,
}

# Every loss with its defaults and the parameters that change its code path.
PARAMS = [
    ("ce", {}),
    ("soft_ce", {}),
    ("soft_ce", {"smoothing": 0.0}),
    ("soft_ce", {"smoothing": 1.5}),
    ("ohem", {}),
    ("ohem", {"min_kept": 0}),
    ("ohem", {"min_kept": 10}),
    ("ohem", {"min_kept": 10**9}),  # more than there are valid pixels: all of them
    ("ohem", {"thresh": 0.2, "min_kept": 3}),
    ("ohem", {"thresh": 0.99, "min_kept": 1}),
    ("lovasz", {}),
    ("lovasz", {"per_image": True}),
    ("lovasz", {"only_present": False}),
    ("lovasz", {"per_image": True, "only_present": False}),
    ("lovasz_hinge", {}),
    ("lovasz_hinge", {"per_image": False}),
    ("dice", {}),
    ("dice", {"smooth": 0.0}),
    ("slo", {}),
    ("slo", {"per_image": True, "min_kept": 5, "soft_weight": 0.5}),
]


def _case(kind: str):
    """(logits, target) of one edge case: random scores, 255 = ignored."""
    gen = torch.Generator().manual_seed(sum(map(ord, kind)))
    n, h, w = (16, 32, 32) if kind == "large" else (3, 6, 7)
    logits = torch.randn(n, 2, h, w, generator=gen) * 3
    target = torch.randint(0, 2, (n, h, w), generator=gen)
    ignore = torch.rand(n, h, w, generator=gen) < 0.3
    if kind == "ties":  # logits on a coarse grid: many equal errors and probabilities (stable-sort order)
        logits = torch.randint(-6, 7, (n, 2, h, w), generator=gen) / 2.0
    elif kind == "saturated":
        logits = logits * 30
    elif kind == "float64":
        logits = logits.double()
    elif kind == "all_ignored":
        ignore[:] = True
    elif kind == "landslide_absent":
        target[:] = 0
    elif kind == "background_absent":
        target[:] = 1
    elif kind == "few_valid":  # 4 valid pixels: fewer than min_kept=10 and the default 10 %
        ignore[:] = True
        ignore[0, 0, :4] = False
    elif kind == "image_without_valid_pixel":
        ignore[1] = True
    elif kind == "one_class_per_image":
        target[0], target[1] = 0, 1
    target[ignore] = IGNORE
    return logits, target


IGNORE = 255
CASES = ["random", "large", "ties", "saturated", "float64", "all_ignored", "landslide_absent",
         "background_absent", "few_valid", "image_without_valid_pixel", "one_class_per_image"]


def _value_and_grad(fn, logits, target, params):
    logits = logits.clone().requires_grad_()
    loss = fn(logits, target, **params)
    (grad,) = torch.autograd.grad(loss, logits)
    return loss.detach(), grad


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize(("name", "params"), PARAMS, ids=[f"{n}-{p}" for n, p in PARAMS])
def test_matches_reference_values_and_gradients(name, params, kind):
    logits, target = _case(kind)
    value, grad = _value_and_grad(LOSSES[name], logits, target, params)
    ref_value, ref_grad = _value_and_grad(REFERENCE[name], logits, target, params)
    torch.testing.assert_close(value, ref_value, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-5, atol=1e-6)
    assert torch.isfinite(value) and torch.isfinite(grad).all()
    if kind == "all_ignored":  # defined as 0, with zero gradients (the former behaviour)
        assert value.item() == 0.0 and grad.abs().sum() == 0


def test_reference_table_covers_every_loss():
    assert set(REFERENCE) == set(LOSSES) == {name for name, _ in PARAMS}


def test_default_min_kept_on_tensors_equals_python():
    for n in [0, 1, 9, 10, 11, 99, 100, 101, 16384, 262143, 262144, 10**7 + 9]:
        assert int(default_min_kept(torch.tensor(n))) == default_min_kept(n), n


@pytest.mark.parametrize("descending", [False, True])
def test_cpu_radix_argsort_equals_float_stable_sort(descending):
    """The CPU path sorts float32 keys as int32 bits; it must give torch's stable float sort's permutation,
    ties (including -0.0 against 0.0), negatives and infinities included, row by row."""
    gen = torch.Generator().manual_seed(3)
    key = torch.randint(-5, 6, (3, 2, 500), generator=gen).float() / 4  # many ties, negatives
    key[0, 0, :20] = -0.0
    key[0, 0, 20:40] = 0.0
    key[1, 1, ::7] = torch.inf
    key[2, 0, ::5] = -torch.inf
    key[2, 1] = torch.randn(500, generator=gen) * 1e-30  # tiny magnitudes of both signs
    expected = torch.sort(key, dim=-1, descending=descending, stable=True).indices
    assert torch.equal(_stable_argsort(key, descending=descending), expected)


@pytest.mark.parametrize("positives", [True, False])
def test_dice_without_smoothing_is_smps_binary_dice_loss(positives):
    """`smooth: 0, skip_empty: true` on the logit pair (0, z) equals segmentation-models-pytorch's binary
    DiceLoss on z, the pretrain authors' loss; a batch without landslide pixels gives 0 in both."""
    smp = pytest.importorskip("segmentation_models_pytorch")
    torch.manual_seed(0)
    z = torch.randn(4, 1, 16, 16, requires_grad=True)
    target = (torch.rand(4, 16, 16) < (0.2 if positives else 0.0)).long()
    ours = dice_loss(torch.cat([torch.zeros_like(z), z], dim=1), target, smooth=0.0, skip_empty=True)
    reference = smp.losses.DiceLoss(mode="binary")(z, target[:, None].float())
    torch.testing.assert_close(ours, reference)
    torch.testing.assert_close(torch.autograd.grad(ours, z)[0], torch.autograd.grad(reference, z)[0])
