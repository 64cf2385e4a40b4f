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
- dice_loss: 1 - (2 sum(p g) + smooth) / (sum p + sum g + smooth), p = landslide probability, whole batch;
  with skip_empty, 0 for a batch without landslide pixels (segmentation-models-pytorch's DiceLoss).
- slo_loss: weighted sum of soft CE, Lovasz-softmax and OHEM CE (Zhao et al.'s "SLO").

No host synchronisation: every loss is a fixed sequence of tensor operations whose shapes depend only on
the input shapes, so on a GPU the CPU never waits for a result while the training step is queued. Ignored
pixels are masked by weight instead of being selected (`x[mask]` has a data-dependent shape), means divide
by a count clamped at 1 instead of branching on "no valid pixel", OHEM keeps the first `n_keep` entries of a
sort of all pixels (ignored ones sorted last) with `n_keep` a tensor, the Lovasz losses sort all pixels with
ignored ones last (they add nothing to the sums) and weight classes or images 0/1 instead of skipping them,
and the class-id check runs on the device (`_require`). `tests/test_losses.py` holds the former
boolean-indexing implementations as the specification and compares values and gradients;
`tests/test_sync_free.py` runs every loss on the meta device, where any read of a value fails.
"""

import functools
import inspect
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from landslides.constants import IGNORE_INDEX
from landslides.errors import InputError

LANDSLIDE = 1
DICE_EPS = 1e-7  # segmentation-models-pytorch's DiceLoss clamps its denominator here


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


def _require(bad: Tensor, message: str) -> None:
    """Raise ValueError(message) if the 0-d bool tensor `bad` is true, without stopping a GPU step.

    On the CPU this is a plain check. On any other device, reading `bad` on the host would wait for every
    queued kernel, so the check is queued on the device instead (`torch._assert_async`): a violation aborts
    the step with a device-side assert, as an out-of-range class id would in the loss kernels anyway.
    Under torch.compile the queued check is used on the CPU too (it raises RuntimeError there), so the
    graph has no Python branch on a tensor value.
    """
    if bad.device.type == "cpu" and not torch.compiler.is_compiling():
        if bad:
            raise ValueError(message)
    else:
        torch._assert_async(~bad, message)


def _valid_target(logits: Tensor, target: Tensor, ignore_index: int) -> tuple[Tensor, Tensor]:
    """Checked int64 target (N, H, W) and its valid-pixel mask (target != ignore_index)."""
    target = _check(logits, target)
    valid = target != ignore_index
    c = logits.shape[1]
    _require((valid & ((target < 0) | (target >= c))).any(),
             f"target has class ids outside 0..{c - 1} (and not ignore_index={ignore_index})")
    return target, valid


def _masked_mean(values: Tensor, weight: Tensor) -> Tensor:
    """Mean of `values` where the bool `weight` is true; 0 (still connected to the graph) where it never is."""
    return torch.where(weight, values, 0.0).sum() / weight.sum().clamp_min(1)


def _log_probs(logits: Tensor, target: Tensor, valid: Tensor) -> tuple[Tensor, Tensor]:
    """log p (N, C, H, W) and -log p_y (N, H, W); -log p_y is 0 at ignored pixels (class 0 stands in)."""
    log_p = F.log_softmax(logits, dim=1)
    labels = torch.where(valid, target, 0)
    nll = -log_p.gather(1, labels[:, None])[:, 0]
    return log_p, torch.where(valid, nll, 0.0)


def cross_entropy(logits: Tensor, target: Tensor, *, ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Mean -log p_y over valid pixels."""
    target, valid = _valid_target(logits, target, ignore_index)
    _, nll = _log_probs(logits, target, valid)
    return _masked_mean(nll, valid)


def soft_cross_entropy(
    logits: Tensor, target: Tensor, *, smoothing: float = 0.1, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Label-smoothed CE: targets (1 - eps) on the true class plus eps / C spread over all C classes.

    Zhao et al. use it against noisy pseudo-labels: the model is never pushed to full certainty.
    """
    target, valid = _valid_target(logits, target, ignore_index)
    log_p, nll = _log_probs(logits, target, valid)
    uniform = -log_p.mean(dim=1)  # cross-entropy against the uniform distribution over classes
    return _masked_mean((1.0 - smoothing) * nll + smoothing * uniform, valid)


def _stable_argsort(key: Tensor, *, descending: bool = False) -> Tensor:
    """Indices of a stable sort of each row (last dim) of `key`: equal keys keep their pixel order.

    On the CPU torch sorts a 1-D int32 tensor with a radix sort, about 6x faster than its float sort
    (65536 pixels, 1 thread: 0.7 ms against 4.7 ms), and sorts 2-D tensors or floats by comparison. A
    float32's bits read as int32, with the magnitude bits of negative ones flipped, order exactly as the
    floats do, so on the CPU each row is sorted that way: the same permutation, the same loss. Elsewhere
    (CUDA sorts floats by radix already; the meta device) the float sort is used as it is.
    """
    if key.device.type != "cpu" or key.dtype != torch.float32 or key.numel() == 0:
        return torch.sort(key, dim=-1, descending=descending, stable=True).indices
    bits = (key.detach() + 0.0).view(torch.int32)  # + 0.0: -0.0 becomes 0.0, equal floats get equal bits
    ordered = torch.where(bits < 0, bits ^ 0x7FFFFFFF, bits)
    if descending:
        ordered = ~ordered  # -x - 1: reverses the order and cannot overflow
    rows = ordered.reshape(-1, key.shape[-1])
    order = torch.stack([torch.sort(row, stable=True).indices for row in rows])  # 1-D: the radix sort
    return order.reshape(key.shape)


def default_min_kept(n_valid: int | Tensor) -> int | Tensor:
    """OHEM's minimum number of kept pixels: 10 % of the valid pixels in the batch, at least 1.

    Common segmentation code keeps at least 100000 pixels of a Cityscapes batch (about 10 % of two
    1024x512 crops). A fixed count makes no sense on 128x128 chips (16384 pixels each), so the same
    fraction is applied to whatever batch and chip size arrives. A 0-d integer tensor gives a tensor
    (n // 10, equal to int(0.1 * n) for every count), so the count never has to leave the device.
    """
    if isinstance(n_valid, Tensor):
        return torch.div(n_valid, 10, rounding_mode="floor").clamp_min(1)
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

    Computed as: a stable ascending sort of p_y over all pixels, ignored ones last (key +inf), and the
    mean over the first n_keep = max(#hard, min(min_kept, #valid)) sorted positions, n_keep a tensor.
    """
    target, valid = _valid_target(logits, target, ignore_index)
    _, nll = _log_probs(logits, target, valid)
    nll, valid = nll.reshape(-1), valid.reshape(-1)
    n_valid = valid.sum()
    p_true = torch.exp(-nll.detach())  # selection only: no gradient through the choice
    want = default_min_kept(n_valid) if min_kept is None else n_valid.clamp_max(int(min_kept))
    n_keep = torch.maximum((valid & (p_true < thresh)).sum(), want)
    order = _stable_argsort(torch.where(valid, p_true, torch.inf))
    rank = torch.arange(order.numel(), device=order.device)
    kept = (rank < n_keep) & valid.gather(0, order)  # the "& valid" matters only when no pixel is valid
    return _masked_mean(nll.gather(0, order), kept)


def _lovasz_gradient(gt_sorted: Tensor, valid_sorted: Tensor) -> Tensor:
    """Weights of the Lovasz extension of the Jaccard loss for pixels sorted by decreasing error.

    Treating the first i pixels as mispredicted, the Jaccard loss of that set is
        J_i = 1 - (G - pos_i) / (G + neg_i),
    with G the number of ground-truth pixels of the class, pos_i / neg_i the number of ground-truth /
    non-ground-truth pixels among the first i (missed positives leave the intersection, false positives
    join the union). The extension is sum_i e_(i) (J_i - J_(i-1)) with J_0 = 0, so the weights are the
    increments of J. The union is never 0: with G = 0 every pixel is a negative, so neg_1 = 1.

    Rows (last dim) may end with ignored pixels (valid_sorted 0, gt_sorted 0): they change neither count,
    so their weights are 0. The union is clamped at 1 only for a row without any valid pixel, where it is 0.
    """
    gts = gt_sorted.sum(-1, keepdim=True)
    intersection = gts - gt_sorted.cumsum(-1)
    union = gts + (valid_sorted - gt_sorted).cumsum(-1)
    jaccard = 1.0 - intersection / union.clamp_min(1.0)
    return torch.cat([jaccard[..., :1], jaccard[..., 1:] - jaccard[..., :-1]], dim=-1)


def _lovasz_rows(errors: Tensor, fg: Tensor, valid: Tensor, *, hinge: bool = False) -> Tensor:
    """Lovasz extension of each row of (..., P) errors over its valid entries -> (...).

    `fg` is 0/1 (0 where not valid). Entries are sorted by decreasing error (stable, as in the
    definition), ignored ones last, so each row's sum is the one over its valid pixels alone. `hinge`
    applies relu to the sorted errors (the Lovasz hinge sorts the raw margins). A row without a valid
    entry gives 0.
    """
    order = _stable_argsort(torch.where(valid, errors, -torch.inf), descending=True)
    errors_sorted = errors.gather(-1, order)
    valid_sorted = valid.gather(-1, order)
    weights = _lovasz_gradient(fg.gather(-1, order), valid_sorted.to(errors.dtype))
    if hinge:
        errors_sorted = F.relu(errors_sorted)
    return (torch.where(valid_sorted, errors_sorted, 0.0) * weights).sum(-1)


def lovasz_softmax_probs(
    probs: Tensor,
    target: Tensor,
    *,
    per_image: bool = False,
    only_present: bool = True,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """Lovasz-softmax on probabilities (N, C, H, W): per batch, or averaged over images if `per_image`.

    Per group (the batch, or each image) the mean over classes of the Lovasz-Jaccard loss; with
    `only_present` a class absent from the group's valid pixels is left out of that mean (it would only
    add its false-positive mass). Groups without valid pixels are left out of the mean over groups;
    nothing valid at all gives 0.
    """
    target, valid = _valid_target(probs, target, ignore_index)
    n, c = probs.shape[:2]
    if per_image:  # groups = images: (N, C, H*W)
        p, t, v = probs.reshape(n, c, -1), target.reshape(n, 1, -1), valid.reshape(n, 1, -1)
    else:  # one group, pixels in (n, h, w) order as the definition's stable sort needs: (1, C, N*H*W)
        p, t, v = probs.transpose(0, 1).reshape(1, c, -1), target.reshape(1, 1, -1), valid.reshape(1, 1, -1)
    classes = torch.arange(c, device=probs.device).view(1, c, 1)
    fg = (t == classes) & v  # (G, C, P)
    fg_f = fg.to(probs.dtype)
    losses = _lovasz_rows((fg_f - p).abs(), fg_f, v.expand_as(fg))  # (G, C)
    group_valid = v.any(-1)  # (G, 1)
    counted = fg.any(-1) if only_present else group_valid.expand(-1, c)  # (G, C)
    per_group = torch.where(counted, losses, 0.0).sum(-1) / counted.sum(-1).clamp_min(1)
    return _masked_mean(per_group, group_valid[:, 0])


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


def lovasz_hinge(
    logits: Tensor, target: Tensor, *, per_image: bool = True, ignore_index: int = IGNORE_INDEX
) -> Tensor:
    """Binary Lovasz hinge (landslide class = 1), per image (averaged) or over the whole batch.

    Errors are the hinge margins 1 - s * sign(y), s the landslide score; images without valid pixels are
    left out of the per-image mean.
    """
    target = _check(logits, target)
    scores = _binary_scores(logits)
    valid = target != ignore_index
    _require((valid & ((target < 0) | (target > 1))).any(), "lovasz_hinge needs 0/1 targets (or ignore_index)")
    n = scores.shape[0]
    shape = (n, -1) if per_image else (1, -1)  # groups: images, or the whole batch in (n, h, w) order
    s, t, v = scores.reshape(shape), target.reshape(shape), valid.reshape(shape)
    fg = ((t == 1) & v).to(s.dtype)
    losses = _lovasz_rows(1.0 - s * (2.0 * fg - 1.0), fg, v, hinge=True)
    return _masked_mean(losses, v.any(-1))


def dice_loss(
    logits: Tensor, target: Tensor, *, smooth: float = 1.0, skip_empty: bool = False,
    ignore_index: int = IGNORE_INDEX,
) -> Tensor:
    """1 - soft Dice of the landslide class over all valid pixels of the batch (softmax probability).

    `smooth: 0, skip_empty: true` is segmentation-models-pytorch's binary DiceLoss, which the pretrain
    authors used: no smoothing, the denominator clamped at DICE_EPS, and 0 for a batch without landslide
    pixels (whose Dice would otherwise be 0 whatever the prediction).
    """
    target, valid = _valid_target(logits, target, ignore_index)
    p = torch.where(valid, F.softmax(logits, dim=1)[:, LANDSLIDE], 0.0)
    g = ((target == LANDSLIDE) & valid).to(p.dtype)
    any_valid, positives = valid.any(), g.sum()
    total = torch.where(any_valid, p.sum() + positives + smooth, 1.0)  # 1 stands in when nothing is valid
    dice = 1.0 - (2.0 * (p * g).sum() + smooth) / total.clamp_min(DICE_EPS)
    counted = (positives > 0) & any_valid if skip_empty else any_valid
    return dice * counted.to(dice.dtype)  # not counted: 0, still connected to logits


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
