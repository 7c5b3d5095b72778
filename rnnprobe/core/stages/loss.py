"""The loss: one more stage after the head, what training adds to a network.

Sparse categorical cross-entropy from the head's logits (no softmax in the model): per word
for a head on the last step, per step for a head on every step, where the mean counts only
the real (unmasked) steps: padding adds nothing and does not count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnprobe.core.stages.base import Stage


@dataclass(frozen=True)
class Loss(Stage):
    """The mean over the words of -log p(the word's class)."""

    name: ClassVar[str] = "loss"
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
