"""What flows from vocab -> probe -> render/json: the network's description and the results.

`ProbeSpec.layers()` is the one description of the recurrent layers as they are built:
the builder, the weight names, the numpy check, the shown code, the parameter counts and
the memory estimate all read it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where arrays are made: `--help` needs none
    import numpy as np

MAX_SEED = 2**32 - 1  # seeds are what numpy's generator takes: 0 to 2**32 - 1
SHOWN_WORDS = 8  # per-word tables a view shows before it summarises the rest


class Style(str, Enum):
    """How the Keras RNN is written: a cell inside `layers.RNN`, or the fused layer."""

    layer = "layer"
    cell = "cell"


class Cell(str, Enum):
    """The recurrent cell, with what Keras calls it and how its weights are laid out."""

    simple = "simple"
    lstm = "lstm"
    gru = "gru"

    @property
    def keras_layer(self) -> str:
        """The fused layer's class in `keras.layers`."""
        return {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[self.value]

    @property
    def keras_cell(self) -> str:
        """The cell's class in `keras.layers`."""
        return f"{self.keras_layer}Cell"

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The gate blocks side by side in the kernels, in Keras's order and naming."""
        return {"simple": (), "lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}[self.value]

    @property
    def gates(self) -> int:
        """How many blocks of `hidden` columns the kernels have: 1, LSTM 4, GRU 3."""
        return max(1, len(self.gate_names))

    @property
    def bias_rows(self) -> int:
        """Rows of the bias: GRU's default reset_after=True keeps input and recurrent rows."""
        return 2 if self is Cell.gru else 1

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states the cell carries from step to step, in Keras's order."""
        return ("h", "c") if self is Cell.lstm else ("h",)


class MergeMode(str, Enum):
    """How `layers.Bidirectional` joins the forward and backward outputs."""

    concat = "concat"
    sum = "sum"
    mul = "mul"
    ave = "ave"


WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")


@dataclass(frozen=True)
class Layer:
    """One recurrent layer of a probe as Keras builds it (one or two directions)."""

    number: int
    units: int
    input_width: int
    cell: Cell
    stacked: bool
    bidirectional: bool
    merge_mode: MergeMode
    return_sequences: bool

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def input_axis(self) -> str:
        """What the kernel's rows stand for: the vocabulary, or the layer below."""
        return "vocab" if self.first else "input"

    @property
    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.bidirectional else ("",)

    @property
    def output_width(self) -> int:
        """Width of what the layer passes up (and returns as outputs)."""
        concat = self.bidirectional and self.merge_mode is MergeMode.concat
        return self.units * (2 if concat else 1)

    def prefix(self, direction: str) -> str:
        """The weight-name prefix: "", "forward/", "1/", "1/backward/"."""
        return "".join(f"{p}/" for p in (str(self.number) if self.stacked else "", direction) if p)

    def state_names(self, direction: str) -> tuple[str, ...]:
        """e.g. ("h", "c"), ("forward_h",), ("2/backward_h", "2/backward_c")."""
        layer = f"{self.number}/" if self.stacked else ""
        side = f"{direction}_" if direction else ""
        return tuple(f"{layer}{side}{name}" for name in self.cell.state_names)

    @property
    def all_state_names(self) -> tuple[str, ...]:
        return tuple(name for d in self.directions for name in self.state_names(d))

    def weight_shape(self, name: str) -> tuple[int, ...]:
        columns = self.cell.gates * self.units
        if name == "kernel":
            return (self.input_width, columns)
        if name == "recurrent_kernel":
            return (self.units, columns)
        return (self.cell.bias_rows, columns) if self.cell.bias_rows > 1 else (columns,)

    def weight_dims(self, name: str) -> tuple[str, ...]:
        gates = self.cell.gates
        columns = "hidden" if gates == 1 else f"{gates}*hidden"
        if name == "kernel":
            return (self.input_axis, columns)
        if name == "recurrent_kernel":
            return ("hidden", columns)
        return ("input/recurrent", columns) if self.cell.bias_rows > 1 else (columns,)

    @property
    def params(self) -> int:
        per_direction = self.cell.gates * (self.input_width + self.units + self.cell.bias_rows)
        return len(self.directions) * per_direction * self.units

    @property
    def formula(self) -> str:
        """e.g. `2 directions x 4 x (vocab 4 + hidden 2 + 1) x hidden 2`."""
        gates = self.cell.gates
        body = (
            f"({self.input_axis} {self.input_width} + hidden {self.units} + "
            f"{self.cell.bias_rows}) x hidden {self.units}"
        )
        formula = (f"{gates} x " if gates > 1 else "") + body
        return f"2 directions x {formula}" if self.bidirectional else formula


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

    def layers(self, vocab_size: int) -> tuple[Layer, ...]:
        """The recurrent layers in the order they run, each reading the one below."""
        found = []
        width = vocab_size
        for number, units in enumerate(self.hidden, start=1):
            layer = Layer(
                number=number,
                units=units,
                input_width=width,
                cell=self.cell,
                stacked=len(self.hidden) > 1,
                bidirectional=self.bidirectional,
                merge_mode=self.merge_mode,
                return_sequences=self.return_sequences if number == len(self.hidden) else True,
            )
            found.append(layer)
            width = layer.output_width
        return tuple(found)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states Keras returns after `outputs`, in its order, with their names."""
        if not self.return_state:
            return ()
        return tuple(name for layer in self.layers(0) for name in layer.all_state_names)

    @property
    def output_axis(self) -> str:
        """The last axis of `outputs`: `2*hidden` when the directions are concatenated."""
        return (
            "2*hidden" if self.bidirectional and self.merge_mode is MergeMode.concat else "hidden"
        )


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
    """Words turned into a one-hot batch: `x_data` is (batch, time, vocab), float32.

    A batch the user brought (`rnnprobe.probe`) has no words and no vocabulary: its
    x_data is (batch, time, input) as given, and `lengths` come from its mask.
    """

    words: tuple[str, ...] | None
    vocab: tuple[str, ...] | None
    lengths: tuple[int, ...]
    x_data: Tensor

    @property
    def padded(self) -> bool:
        """True when some word is shorter than the batch's time axis."""
        return min(self.lengths) < self.x_data.shape[1]

    @property
    def mask(self) -> np.ndarray:
        """(batch, time) booleans: True on a word's real steps, False on padding."""
        import numpy as np

        steps = np.arange(self.x_data.shape[1])
        return steps[None, :] < np.asarray(self.lengths)[:, None]


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

    @property
    def params(self) -> int:
        """Trainable parameters: every number in every weight."""
        return sum(int(w.array.size) for w in self.weights)

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.spec.layers(self.batch.x_data.shape[2])

    @functools.cached_property
    def in_outputs(self) -> dict[str, tuple[str, ...]]:
        """Per state, per word: the slice of outputs it equals, or why it is in none.

        Found by comparing the arrays when first asked for: the tables ask, JSON does not.
        """
        from rnnprobe.core.outputs import where_in_outputs

        return where_in_outputs(self)


IDENTICAL_WITHIN = 1e-6  # `compare`: the two styles agree
TOLERANCE = 1e-5  # `--check` and `--steps`: rnnprobe's numpy agrees with Keras


@dataclass(frozen=True)
class CompareResult:
    """`rnnprobe compare`: the two styles run with the same weights."""

    cell: ProbeResult
    layer: ProbeResult
    max_abs_diff: dict[str, float]

    @property
    def identical(self) -> bool:
        return all(diff <= IDENTICAL_WITHIN for diff in self.max_abs_diff.values())
