"""The loss: one more stage after the head, what training adds to a network.

Sparse categorical cross-entropy from the head's logits (no softmax in the model): per word
for a head on the last step, per step for a head on every step, where the mean counts only
the real (unmasked) steps: padding adds nothing and does not count. A series' value head
is trained by the mean squared error instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnprobe.core.stages.base import Stage


class Objective(Stage):
    """What training minimises: a stage after the model's output (every loss is one)."""

    name: ClassVar[str] = "loss"
    text: ClassVar[str]
    target_dims: ClassVar[tuple[str, ...]]


@dataclass(frozen=True)
class Loss(Objective):
    """The mean over the words of -log p(the word's class)."""

    each_step: ClassVar[bool] = False
    text: ClassVar[str] = "sparse categorical cross-entropy from logits, the mean over the words"
    target_dims: ClassVar[tuple[str, ...]] = ("batch",)


@dataclass(frozen=True)
class StepLoss(Loss):
    """The masked mean over every real step of the batch of -log p(the step's target)."""

    each_step: ClassVar[bool] = True
    text: ClassVar[str] = (
        "sparse categorical cross-entropy from logits, masked: the mean over the real steps"
        " of the batch (padded steps add nothing and do not count)"
    )
    target_dims: ClassVar[tuple[str, ...]] = ("batch", "time")


@dataclass(frozen=True)
class SquaredLoss(Objective):
    """The mean over the windows of (prediction - target)^2: `mean_squared_error`."""

    text: ClassVar[str] = "mean squared error: the mean over the windows of (prediction - target)^2"
    target_dims: ClassVar[tuple[str, ...]] = ("batch", "target")
