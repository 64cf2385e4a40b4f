"""Cross-sensor normalization (CSN): BatchNorm with running statistics per domain and one shared affine.

Zhao et al. replace the BatchNorm layers of their networks with the cross-sensor normalization of LoveCS
(Wang et al. 2022, github.com/Junjue-Wang/LoveCS, `module/csn.py`), so that a network trained on the
source domain (Landslide4Sense's TrainData) and the pseudo-labelled target domain (ValidData, TestData)
normalizes each domain's features with that domain's statistics. As in LoveCS, each layer keeps a running
mean and variance per domain and shares the learned scale and shift between the domains.

How the domain reaches a layer (written for this project's training loop, which mixes source and target
samples in one shuffled batch where LoveCS forwards a source batch and a target batch separately):

- training: by default every sample is from the source (round 0: the plain `F.batch_norm` path,
  bit-identical to `nn.BatchNorm2d`); `set_train_mixed(layers, n)` says the batch's first n samples are
  from the source and the rest from the target (`source_first` orders a batch so): each part is
  normalized with its own batch statistics, which update that domain's running statistics (n = 0: a
  target-only batch). The split point is a host integer, so a GPU step reads nothing back;
- evaluation: `set_eval_domain(model, d)`: the running statistics of domain d. The target's are used
  only once a training batch held target samples; until then (a round-0 model, trained on the source
  alone) the target domain is normalized with the source statistics, as LoveCS copies the source
  statistics to the target when adaptation starts.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

SOURCE, TARGET = 0, 1
DOMAINS = 2


class CrossSensorNorm2d(nn.Module):
    """BatchNorm2d with a running mean and variance per domain (rows SOURCE, TARGET) and one affine.

    `act` and `drop` keep what a timm BatchNormAct2d applies after its normalization."""

    def __init__(self, num_features: int, *, eps: float = 1e-5, momentum: float = 0.1,
                 act: nn.Module | None = None, drop: nn.Module | None = None) -> None:
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(DOMAINS, num_features))
        self.register_buffer("running_var", torch.ones(DOMAINS, num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))
        self.register_buffer("target_seen", torch.tensor(False))  # has a training batch held target samples?
        self.drop = drop if drop is not None else nn.Identity()
        self.act = act if act is not None else nn.Identity()
        self.n_source: int | None = None  # the training batch's first n_source samples are the source's (None: all)
        self.eval_domain: int = SOURCE

    @classmethod
    def from_batchnorm(cls, bn: nn.BatchNorm2d) -> CrossSensorNorm2d:
        """A CSN layer with `bn`'s affine and its running statistics in both domains (as LoveCS converts)."""
        if not (bn.affine and bn.track_running_stats) or bn.momentum is None:
            raise ValueError(f"cross-sensor normalization needs an affine BatchNorm with running statistics "
                             f"and a momentum, got {bn}")
        layer = cls(bn.num_features, eps=bn.eps, momentum=bn.momentum, act=getattr(bn, "act", None),
                    drop=getattr(bn, "drop", None))
        with torch.no_grad():
            layer.weight.copy_(bn.weight)
            layer.bias.copy_(bn.bias)
            layer.running_mean.copy_(bn.running_mean.expand(DOMAINS, -1))
            layer.running_var.copy_(bn.running_var.expand(DOMAINS, -1))
            layer.num_batches_tracked.copy_(bn.num_batches_tracked)
        return layer.to(bn.weight.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return self.act(self.drop(self._evaluate(x)))
        self.num_batches_tracked.add_(1)
        n_source = len(x) if self.n_source is None else min(self.n_source, len(x))
        if n_source in (0, len(x)):
            y = self._train_one_domain(x, SOURCE if n_source else TARGET)
        else:  # each domain's part with its own batch statistics (two BatchNorm calls, then one copy)
            y = torch.cat([self._train_one_domain(x[:n_source], SOURCE), self._train_one_domain(x[n_source:], TARGET)])
        return self.act(self.drop(y))

    def _evaluate(self, x: torch.Tensor) -> torch.Tensor:
        mean, var = self.running_mean[self.eval_domain], self.running_var[self.eval_domain]
        if self.eval_domain != SOURCE:  # a target never trained on: the source statistics
            mean = torch.where(self.target_seen, mean, self.running_mean[SOURCE])
            var = torch.where(self.target_seen, var, self.running_var[SOURCE])
        return F.batch_norm(x, mean, var, self.weight, self.bias, False, 0.0, self.eps)

    def _train_one_domain(self, x: torch.Tensor, domain: int) -> torch.Tensor:
        # The row views are contiguous, so batch_norm updates the domain's running statistics in place.
        if domain != SOURCE:
            self.target_seen.fill_(True)
        return F.batch_norm(x, self.running_mean[domain], self.running_var[domain], self.weight, self.bias,
                            True, self.momentum, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, domains={DOMAINS}"


def convert(model: nn.Module) -> nn.Module:
    """`model` with every BatchNorm2d (timm's BatchNormAct2d included) replaced by a CSN layer, in place."""
    if isinstance(model, nn.BatchNorm2d):
        return CrossSensorNorm2d.from_batchnorm(model)
    for name, child in model.named_children():
        setattr(model, name, convert(child))
    return model


def layers(model: nn.Module) -> list[CrossSensorNorm2d]:
    return [m for m in model.modules() if isinstance(m, CrossSensorNorm2d)]


def set_train_mixed(norms: list[CrossSensorNorm2d], n_source: int) -> None:
    """The next training batch holds `n_source` source samples first, then target samples."""
    for layer in norms:
        layer.n_source = n_source


def source_first(batches: list[torch.Tensor], domain: torch.Tensor) -> tuple[list[torch.Tensor], list[int]]:
    """Each batch of sample indices (on the CPU) reordered so its source samples come first (otherwise in
    their drawn order), and the number of source samples of each: what `set_train_mixed` needs."""
    ordered, n_source = [], []
    for index in batches:
        of_batch = domain[index]
        ordered.append(index[torch.argsort(of_batch, stable=True)])
        n_source.append(int((of_batch == SOURCE).sum()))
    return ordered, n_source


def set_eval_domain(model: nn.Module, domain: int) -> None:
    """The domain whose running statistics evaluation uses (the source's while the target is unseen)."""
    if domain not in (SOURCE, TARGET):
        raise ValueError(f"domain must be {SOURCE} (source) or {TARGET} (target), got {domain!r}")
    for layer in layers(model):
        layer.eval_domain = domain
