"""A training setup as landslides.benchmark measures it: one kind of training job as a study's run function
builds it (network, input size and channels, training section, loss, augmentation, target), and the work the
grid gives it. Each study's bench.py builds its setups with its own train.py functions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from torch import nn

from landslides.train import landslide_probability

# --tiny: every setup shrunk so that the whole harness runs on a CPU in minutes.
TINY_SIZE, TINY_BATCH = 64, 2


@dataclass
class Work:
    """Jobs that train a setup alike: each `epochs` epochs of `train` samples, validating on `val` samples
    after every epoch and predicting `predict` samples at the end."""

    jobs: int
    epochs: int
    train: int
    val: int
    predict: int
    note: str = ""


@dataclass
class Setup:
    name: str
    study: str
    model: str  # a short description
    build: Callable[[], nn.Module]  # the seeded network, on the CPU
    channels: int
    size: int  # input side in pixels
    training: dict  # the training section the job's fit gets
    loss_fn: Callable
    target: str  # mask, chip, patch or image (see landslides.benchmark.synthetic_split)
    augment: Callable[[], nn.Module | None] = lambda: None
    output: Callable = landslide_probability  # what predict keeps of the logits
    work: list[Work] = field(default_factory=list)
    # Cross-sensor normalization: the target's share of a refine round's mixed training set. The loop then
    # trains on mixed batches (each split into its source and target part), as rounds >= 1 do; round 0's
    # one-domain batches cost what BatchNorm costs.
    target_share: float = 0.0

    @property
    def data_bytes_per_sample(self) -> int:
        """The job's data set on the device, per sample (images and target)."""
        image = self.channels * self.size * self.size * 4
        return image + {"mask": self.size * self.size * 8, "chip": 4, "patch": 8, "image": 0}[self.target]


def shrunk(training: dict, tiny: bool) -> dict:
    """A training section, with --tiny's batch sizes."""
    training = dict(training)
    if tiny:
        training.update(batch_size=min(training["batch_size"], TINY_BATCH),
                        eval_batch_size=min(training["eval_batch_size"], TINY_BATCH))
    return training


def input_size(size: int, tiny: bool) -> int:
    """An input side, with --tiny's."""
    return min(size, TINY_SIZE) if tiny else size
