"""Segmentation losses for landslide detection, all with the same call: loss(logits, target) -> scalar.

`logits` is (N, C, H, W) float (C = 2: background, landslide), `target` (N, H, W) int64 with class ids;
pixels equal to `ignore_index` (255) are left out of every loss. A batch without any valid pixel gives a
zero loss that is still connected to `logits` (so backward() works and changes nothing).

Definitions implemented (exactly what the tests check):
- cross_entropy: mean over valid pixels of -log p_y.
- soft_cross_entropy: label smoothing, q = (1 - eps) * onehot(y) + eps / C, loss = mean of -sum_k q_k log p_k
  = (1 - eps) * CE + eps * mean over pixels of mean_k(-log p_k).
- ohem_cross_entropy: CE over the hard pixels only (see its docstring for the selection rule).
- lovasz_softmax / lovasz_hinge: Lovasz extension of the Jaccard loss (Berman et al., CVPR 2018).
- dice_loss: 1 - (2 sum(p g) + smooth) / (sum p + sum g + smooth), p = landslide probability, whole batch.
- slo_loss: weighted sum of soft CE, Lovasz-softmax and OHEM CE (Zhao et al.'s "SLO").
"""

import functools
import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from landslides.errors import InputError

IGNORE_INDEX = 255
LANDSLIDE = 1


def _check(logits: Tensor, target: Tensor) -> Tensor:
    """Validate shapes and return target as int64."""
    if logits.ndim != 4:
        raise ValueError(f"logits must be (N, C, H, W), got shape {tuple(logits.shape)}")
    n, _, h, w = logits.shape
    if tuple(target.shape) != (n, h, w):
        raise ValueError(f"target must be {(n, h, w)} to match logits, got {tuple(target.shape)}")
    if target.is_floating_point():
        raise ValueError(f"target must hold integer class ids, got dtype {target.dtype}")
    return target.long()


def _zero(logits: Tensor) -> Tensor:
    # Zero that keeps the graph: backward() gives zero gradients instead of failing.
    return logits.sum() * 0.0


def _valid_pixels(logits: Tensor, target: Tensor, ignore_index: int) -> tuple[Tensor, Tensor]:
    """Flatten to (P, C) logits and (P,) labels of the valid (not ignored) pixels."""
    target = _check(logits, target)
    c = logits.shape[1]
    flat_logits = logits.permute(0, 2, 3, 1).reshape(-1, c)
    flat_target = target.reshape(-1)
    valid = flat_target != ignore_index
    labels = flat_target[valid]
    if labels.numel() and (labels.min() < 0 or labels.max() >= c):
        raise ValueError(f"target has class ids outside 0..{c - 1} (and not ignore_index={ignore_index})")
    return flat_logits[valid], labels


def _pixel_nll(logits: Tensor, labels: Tensor) -> Tensor:
    """-log p_y per pixel for (P, C) logits."""
    return -F.log_softmax(logits, dim=1).gather(1, labels[:, None])[:, 0]


def cross_entropy(logits: Tensor, target: Tensor, *, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Mean -log p_y over valid pixels."""
    v_logits, labels = _valid_pixels(logits, target, ignore_index)
    if labels.numel() == 0:
        return _zero(logits)
    return _pixel_nll(v_logits, labels).mean()


def soft_cross_entropy(
    logits: Tensor, target: Tensor, *, smoothing: float = 0.1, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Label-smoothed CE: targets (1 - eps) on the true class plus eps / C spread over all C classes.

    Zhao et al. use it against noisy pseudo-labels: the model is never pushed to full certainty.
    """
    v_logits, labels = _valid_pixels(logits, target, ignore_index)
    if labels.numel() == 0:
        return _zero(logits)
    log_p = F.log_softmax(v_logits, dim=1)
    nll = -log_p.gather(1, labels[:, None])[:, 0]
    uniform = -log_p.mean(dim=1)  # cross-entropy against the uniform distribution over classes
    return ((1.0 - smoothing) * nll + smoothing * uniform).mean()


def default_min_kept(n_valid: int) -> int:
    """OHEM's minimum number of kept pixels: 10 % of the valid pixels in the batch, at least 1.

    Common segmentation code keeps at least 100000 pixels of a Cityscapes batch (about 10 % of two
    1024x512 crops). A fixed count makes no sense on 128x128 chips (16384 pixels each), so the same
    fraction is applied to whatever batch and chip size arrives.
    """
    return max(1, int(0.1 * n_valid))


def ohem_cross_entropy(
    logits: Tensor,
    target: Tensor,
    *,
    thresh: float = 0.7,
    min_kept: int | None = None,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """CE averaged over hard pixels: those whose true-class probability p_y < thresh.

    If fewer than `min_kept` pixels are that hard, the `min_kept` pixels with the lowest p_y are kept
    instead. Equivalently: keep p_y < max(thresh, the min_kept-th smallest p_y), with ties at that value
    broken by pixel order (stable sort) so exactly max(#hard, min_kept) pixels are kept.
    `min_kept=None` uses default_min_kept(number of valid pixels).
    """
    v_logits, labels = _valid_pixels(logits, target, ignore_index)
    n_valid = labels.numel()
    if n_valid == 0:
        return _zero(logits)
    nll = _pixel_nll(v_logits, labels)
    p_true = torch.exp(-nll.detach())  # selection only: no gradient through the choice
    want = default_min_kept(n_valid) if min_kept is None else min(int(min_kept), n_valid)
    n_keep = max(int((p_true < thresh).sum()), want)
    if n_keep == 0:
        return _zero(logits)
    kept = torch.argsort(p_true, stable=True)[:n_keep]
    return nll[kept].mean()


def _lovasz_gradient(gt_sorted: Tensor) -> Tensor:
    """Weights of the Lovasz extension of the Jaccard loss for pixels sorted by decreasing error.

    Treating the first i pixels as mispredicted, the Jaccard loss of that set is
        J_i = 1 - (G - pos_i) / (G + neg_i),
    with G the number of ground-truth pixels of the class, pos_i / neg_i the number of ground-truth /
    non-ground-truth pixels among the first i (missed positives leave the intersection, false positives
    join the union). The extension is sum_i e_(i) (J_i - J_(i-1)) with J_0 = 0, so the weights are the
    increments of J. The union is never 0: with G = 0 every pixel is a negative, so neg_1 = 1.
    """
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.cumsum(0)
    union = gts + (1.0 - gt_sorted).cumsum(0)
    jaccard = 1.0 - intersection / union
    return torch.cat([jaccard[:1], jaccard[1:] - jaccard[:-1]])


def _lovasz_softmax_flat(probs: Tensor, labels: Tensor, only_present: bool) -> Tensor | None:
    """Mean over classes of the Lovasz-Jaccard loss for (P, C) probabilities; None if no class counted."""
    losses = []
    for c in range(probs.shape[1]):
        fg = (labels == c).to(probs.dtype)
        if only_present and fg.sum() == 0:
            continue  # a class absent from the image would only add its false-positive mass
        errors = (fg - probs[:, c]).abs()
        errors_sorted, order = torch.sort(errors, descending=True, stable=True)
        losses.append(torch.dot(errors_sorted, _lovasz_gradient(fg[order])))
    return torch.stack(losses).mean() if losses else None


def _mean_or_zero(losses: list, like: Tensor) -> Tensor:
    losses = [x for x in losses if x is not None]
    return torch.stack(losses).mean() if losses else _zero(like)


def _lovasz_softmax_group(
    probs: Tensor, target: Tensor, only_present: bool, ignore_index: int
) -> Tensor | None:
    """Lovasz-softmax of one group of images pooled together; None if it has no valid pixel."""
    v_probs, labels = _valid_pixels(probs, target, ignore_index)
    if labels.numel() == 0:
        return None
    return _lovasz_softmax_flat(v_probs, labels, only_present)


def lovasz_softmax_probs(
    probs: Tensor,
    target: Tensor,
    *,
    per_image: bool = False,
    only_present: bool = True,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Lovasz-softmax on probabilities (N, C, H, W): per batch, or averaged over images if `per_image`.

    Images without valid pixels are left out of the per-image mean.
    """
    target = _check(probs, target)
    if per_image:
        parts = [
            _lovasz_softmax_group(p[None], t[None], only_present, ignore_index)
            for p, t in zip(probs, target, strict=True)
        ]
    else:
        parts = [_lovasz_softmax_group(probs, target, only_present, ignore_index)]
    return _mean_or_zero(parts, probs)


def lovasz_softmax(
    logits: Tensor,
    target: Tensor,
    *,
    per_image: bool = False,
    only_present: bool = True,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Lovasz-softmax loss on softmax(logits), averaged over the classes present in the target."""
    return lovasz_softmax_probs(
        F.softmax(logits, dim=1), target, per_image=per_image, only_present=only_present,
        ignore_index=ignore_index,
    )


def _binary_scores(logits: Tensor) -> Tensor:
    """Landslide score per pixel: the logit margin for 2-class logits, the logit itself for 1 channel."""
    if logits.shape[1] == 2:
        return logits[:, 1] - logits[:, 0]
    if logits.shape[1] == 1:
        return logits[:, 0]
    raise ValueError(f"lovasz_hinge needs 1 or 2 channels, got {logits.shape[1]}")


def _lovasz_hinge_flat(scores: Tensor, labels: Tensor) -> Tensor:
    """Lovasz hinge for (P,) scores and (P,) 0/1 labels: errors are hinge margins 1 - s * sign."""
    fg = labels.to(scores.dtype)
    errors = 1.0 - scores * (2.0 * fg - 1.0)
    errors_sorted, order = torch.sort(errors, descending=True, stable=True)
    return torch.dot(F.relu(errors_sorted), _lovasz_gradient(fg[order]))


def lovasz_hinge(
    logits: Tensor, target: Tensor, *, per_image: bool = True, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Binary Lovasz hinge (landslide class = 1), per image (averaged) or over the whole batch."""
    target = _check(logits, target)
    scores = _binary_scores(logits)
    if target.numel() and ((target != ignore_index) & (target > 1)).any():
        raise ValueError("lovasz_hinge needs 0/1 targets (or ignore_index)")
    if not per_image:
        valid = target != ignore_index
        if not valid.any():
            return _zero(logits)
        return _lovasz_hinge_flat(scores[valid], target[valid])
    parts = []
    for s, t in zip(scores, target, strict=True):
        valid = t != ignore_index
        parts.append(_lovasz_hinge_flat(s[valid], t[valid]) if valid.any() else None)
    return _mean_or_zero(parts, logits)


def dice_loss(
    logits: Tensor, target: Tensor, *, smooth: float = 1.0, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """1 - soft Dice of the landslide class over all valid pixels of the batch (softmax probability)."""
    v_logits, labels = _valid_pixels(logits, target, ignore_index)
    if labels.numel() == 0:
        return _zero(logits)
    p = F.softmax(v_logits, dim=1)[:, LANDSLIDE]
    g = (labels == LANDSLIDE).to(p.dtype)
    return 1.0 - (2.0 * (p * g).sum() + smooth) / (p.sum() + g.sum() + smooth)


def slo_loss(
    logits: Tensor,
    target: Tensor,
    *,
    soft_weight: float = 1.0,
    lovasz_weight: float = 1.0,
    ohem_weight: float = 1.0,
    smoothing: float = 0.1,
    thresh: float = 0.7,
    min_kept: int | None = None,
    per_image: bool = False,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Zhao et al.'s SLO: soft_weight * soft CE + lovasz_weight * Lovasz-softmax + ohem_weight * OHEM CE."""
    soft = soft_cross_entropy(logits, target, smoothing=smoothing, ignore_index=ignore_index)
    lovasz = lovasz_softmax(logits, target, per_image=per_image, ignore_index=ignore_index)
    ohem = ohem_cross_entropy(logits, target, thresh=thresh, min_kept=min_kept, ignore_index=ignore_index)
    return soft_weight * soft + lovasz_weight * lovasz + ohem_weight * ohem


LOSSES: dict[str, Callable[..., Tensor]] = {
    "ce": cross_entropy,
    "soft_ce": soft_cross_entropy,
    "ohem": ohem_cross_entropy,
    "lovasz": lovasz_softmax,
    "lovasz_hinge": lovasz_hinge,
    "dice": dice_loss,
    "slo": slo_loss,
}


def build_loss(name: str, **params) -> Callable[[Tensor, Tensor], Tensor]:
    """Loss by config name with its keyword parameters bound; unknown names or parameters -> InputError."""
    if name not in LOSSES:
        raise InputError(f"unknown loss {name!r}; valid: {', '.join(LOSSES)}")
    fn = LOSSES[name]
    allowed = [p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise InputError(
            f"loss {name!r} has no parameter(s) {', '.join(unknown)}; valid: {', '.join(allowed)}"
        )
    return functools.partial(fn, **params)
