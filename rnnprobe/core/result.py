"""What flows from vocab -> probe -> render/json: batches, named tensors and results.

The network's description is `stages.py`; a result keeps the spec it was made from and
reads its stages from there.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.kinds import IDENTICAL_WITHIN, TOLERANCE
from rnnprobe.core.stages import KerasLayer, Layer, Network, ProbeSpec

__all__ = [
    "Batch", "CheckResult", "CompareResult", "ProbeResult", "StepTrace", "Steps", "Tensor",
    "TorchTwin",
]  # fmt: skip

if TYPE_CHECKING:  # numpy is imported where arrays are made: `--help` needs none
    import numpy as np


@dataclass(frozen=True)
class CheckResult:
    """`run --check`: the largest difference between Keras and rnnprobe's numpy."""

    max_abs_diff: float
    ok: bool


# A line of worked arithmetic: text, and the vectors it shows, in reading order.
Worked = tuple["str | np.ndarray", ...]


@dataclass(frozen=True)
class StepTrace:
    """One recurrent layer and direction, step by step, from rnnprobe's numpy engine.

    Each tensor is (batch, time, hidden) in word order (index t is character t, also for a
    backward direction); h and c are the state after step t, every other quantity is NaN
    at a padded step, which discards it.
    """

    layer: int
    direction: str | None
    equations: tuple[str, ...]
    tensors: tuple[Tensor, ...]
    worked: tuple[Worked, ...]  # word 1 at step `Steps.at`, written out with its numbers


@dataclass(frozen=True)
class Steps:
    """`run --steps`: every layer and direction, in Keras order, checked against Keras."""

    at: int
    traces: tuple[StepTrace, ...]
    max_abs_diff: float


@dataclass(frozen=True)
class TorchTwin:
    """The same network in PyTorch, weights converted from Keras, run on the same input.

    `output` is batch first (batch, time, directions x hidden); `h_n` and `c_n` hold one
    tensor per PyTorch module ((layers x directions, batch, hidden) each: one module for
    a stack of equal sizes, one per layer otherwise).
    """

    modules: tuple[str, ...]  # each module's constructor, as Python
    state_dict: tuple[Tensor, ...]
    rules: tuple[str, ...]  # the conversion rules applied, one line each
    output: Tensor
    h_n: tuple[Tensor, ...]
    c_n: tuple[Tensor, ...]
    slices: tuple[str, ...]  # which slice of h_n (c_n) is which Keras state
    calls: tuple[str, ...]  # the lines that call it, with the unpacking that works
    max_abs_diff: float
    compared: tuple[str, ...]  # what was compared with Keras
    embedding: Tensor | None = None
    logits: Tensor | None = None

    @property
    def ok(self) -> bool:
        return self.max_abs_diff < TOLERANCE


@dataclass(frozen=True)
class ProbeResult:
    """What one probe produced: the batch, the model's description and its tensors."""

    batch: Batch
    spec: ProbeSpec
    seed: int | None  # None for a layer the user built (its weights are its own)
    outputs: Tensor
    states: tuple[Tensor, ...]
    weights: tuple[Tensor, ...]
    check: CheckResult | None = None
    steps: Steps | None = None
    # The code shown for a layer the user built, instead of the code of the spec.
    layer_lines: tuple[str, ...] | None = None
    call_lines: tuple[str, ...] | None = None
    embedding: Tensor | None = None  # the Embedding's output (batch, time, embedding)
    logits: Tensor | None = None  # the head's output (batch, class) or (batch, time, class)
    probabilities: Tensor | None = None  # softmax of the logits over the classes
    predictions: Tensor | None = None  # a value head's output (batch, target): a series
    # The layers of a model the user built, and its stages, instead of those of the spec.
    model_layers: tuple[KerasLayer, ...] | None = None
    model_network: Network | None = None
    torch: TorchTwin | None = None  # `--torch`: the same network in PyTorch (core/torch/twin.py)
    initial_state: tuple[Tensor, ...] | None = None  # `--initial-state`: every state's start
    chunks: Any = None  # `--chunks`: the run again chunk by chunk (commands/chunks.py)
    stateful: bool = False  # a user's stateful layer: the call changed the state it holds

    @property
    def params(self) -> int:
        """Every number in every weight: what Keras's `count_params()` counts."""
        return sum(int(w.array.size) for w in self.weights)

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.spec.layers(self.batch.width)

    @property
    def returned(self) -> tuple[Tensor, ...]:
        """The tensors the recurrent layer returns, then the head's: what `compare` pairs."""
        extra = (t for t in (self.logits, self.probabilities, self.predictions) if t is not None)
        return (self.outputs, *self.states, *extra)

    @property
    def network(self) -> Network:
        """The stages this result went through (a user's x_data is read as given)."""
        if self.model_network is not None:
            return self.model_network
        return self.spec.network(self.batch.width, given=self.batch.vocab is None)

    @property
    def mask(self) -> Tensor | None:
        """(batch, time) booleans, when an Embedding makes the mask (id 0 is padding)."""
        if self.batch.ids is None:
            return None
        return Tensor("mask", ("batch", "time"), self.batch.mask)

    @functools.cached_property
    def keras_layers(self) -> tuple[KerasLayer, ...]:
        """The Keras layers in the order the data flows, as `model.summary()` lists them."""
        if self.model_layers is not None:
            return self.model_layers
        batch = self.batch
        return self.network.keras_rows(batch.rows, batch.time, batch.padded)


@dataclass(frozen=True)
class CompareResult:
    """`rnnprobe compare`: the two styles run with the same weights."""

    cell: ProbeResult
    layer: ProbeResult
    max_abs_diff: dict[str, float]

    @property
    def identical(self) -> bool:
        return all(diff <= IDENTICAL_WITHIN for diff in self.max_abs_diff.values())
