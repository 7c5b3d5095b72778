"""Frozen result types that flow from vocab -> probe -> render/json."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class Style(str, Enum):
    """How the Keras RNN is written: a cell inside `layers.RNN`, or the fused layer."""

    layer = "layer"
    cell = "cell"


class Cell(str, Enum):
    """The recurrent cell."""

    simple = "simple"
    lstm = "lstm"
    gru = "gru"

    @property
    def gates(self) -> int:
        """Gate blocks side by side in the kernels: 1, LSTM 4 (i, f, c, o), GRU 3 (z, r, h)."""
        return {"simple": 1, "lstm": 4, "gru": 3}[self.value]

    @property
    def bias_rows(self) -> int:
        """Rows of the bias: GRU's default reset_after=True keeps input and recurrent rows."""
        return 2 if self is Cell.gru else 1


class MergeMode(str, Enum):
    """How `layers.Bidirectional` joins the forward and backward outputs."""

    concat = "concat"
    sum = "sum"
    mul = "mul"
    ave = "ave"


@dataclass(frozen=True)
class Tensor:
    """A named array together with the name of each of its axes."""

    name: str
    dims: tuple[str, ...]
    array: np.ndarray = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.dims) != self.array.ndim:
            raise ValueError(f"{self.name}: {len(self.dims)} axis names for {self.array.ndim} axes")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape)


@dataclass(frozen=True)
class Batch:
    """Words turned into a one-hot batch: `x_data` is (batch, time, vocab), float32."""

    words: tuple[str, ...]
    vocab: tuple[str, ...]
    lengths: tuple[int, ...]
    x_data: Tensor

    @property
    def padded(self) -> bool:
        """True when some word is shorter than the batch's time axis."""
        return min(self.lengths) < self.x_data.shape[1]

    @property
    def mask(self) -> np.ndarray:
        """(batch, time) booleans: True on a word's real steps, False on padding."""
        steps = np.arange(self.x_data.shape[1])
        return steps[None, :] < np.asarray(self.lengths)[:, None]


@dataclass(frozen=True)
class ProbeSpec:
    """Everything that decides which Keras RNN is built."""

    style: Style = Style.layer
    cell: Cell = Cell.simple
    hidden: tuple[int, ...] = (2,)
    return_sequences: bool = True
    return_state: bool = True
    bidirectional: bool = False
    merge_mode: MergeMode = MergeMode.concat

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states Keras returns after `outputs`, in its order, with their names."""
        per_cell: tuple[str, ...] = ("h", "c") if self.cell is Cell.lstm else ("h",)
        if self.bidirectional:
            per_cell = tuple(f"{d}_{s}" for d in ("forward", "backward") for s in per_cell)
        if not self.return_state:
            return ()
        if len(self.hidden) == 1:
            return per_cell
        return tuple(f"{i}/{s}" for i in range(1, len(self.hidden) + 1) for s in per_cell)


@dataclass(frozen=True)
class CheckResult:
    """`run --check`: the largest difference between Keras and rnnprobe's numpy."""

    max_abs_diff: float
    ok: bool


@dataclass(frozen=True)
class ProbeResult:
    """What one probe produced: the batch, the model's description and its tensors."""

    batch: Batch
    spec: ProbeSpec
    seed: int
    outputs: Tensor
    states: tuple[Tensor, ...]
    weights: tuple[Tensor, ...]
    check: CheckResult | None = None

    @property
    def params(self) -> int:
        """Trainable parameters: every number in every weight."""
        return sum(int(w.array.size) for w in self.weights)


IDENTICAL_WITHIN = 1e-6


@dataclass(frozen=True)
class CompareResult:
    """`rnnprobe compare`: the two styles run with the same weights."""

    cell: ProbeResult
    layer: ProbeResult
    max_abs_diff: dict[str, float]

    @property
    def identical(self) -> bool:
        return all(diff <= IDENTICAL_WITHIN for diff in self.max_abs_diff.values())
