"""The recurrent stack: its layers (one or two directions each) and how Keras holds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnprobe.core.kinds import WEIGHT_NAMES, Cell, MergeMode, Style
from rnnprobe.core.stages.base import KerasLayer, Stage, Weight


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
    input_name: str = "vocab"  # what the first layer reads: `vocab` (one-hot) or `embedding`
    scope: str = ""  # a prefix of every weight name: `encoder/` in an encoder-decoder

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def input_axis(self) -> str:
        """What the kernel's rows stand for: the vocabulary (or embedding), or the layer below."""
        return self.input_name if self.first else "input"

    @property
    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.bidirectional else ("",)

    @property
    def output_width(self) -> int:
        """Width of what the layer passes up (and returns as outputs)."""
        joined = self.bidirectional and self.merge_mode.widens
        return self.units * (2 if joined else 1)

    def prefix(self, direction: str) -> str:
        """The weight-name prefix: "", "forward/", "1/", "1/backward/" (after the scope)."""
        parts = (str(self.number) if self.stacked else "", direction)
        return self.scope + "".join(f"{p}/" for p in parts if p)

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

    def weights(self, direction: str) -> tuple[Weight, ...]:
        """One direction's kernel, recurrent kernel and bias, named as rnnprobe names them."""
        return tuple(
            Weight(self.prefix(direction) + n, self.weight_shape(n), self.weight_dims(n))
            for n in WEIGHT_NAMES
        )

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


# -- the recurrent stack ---------------------------------------------------------------------
@dataclass(frozen=True)
class Recurrent(Stage):
    """The recurrent layers, each reading the one below, as one or several Keras layers."""

    layers: tuple[Layer, ...]
    style: Style
    cell: Cell
    bidirectional: bool
    merge_mode: MergeMode
    return_sequences: bool
    return_state: bool
    name: ClassVar[str] = "rnn"
    option: ClassVar[str | None] = "hidden"

    @property
    def option_value(self) -> str:
        return ",".join(str(layer.units) for layer in self.layers)

    @property
    def one_keras_layer(self) -> bool:
        """True when the recurrent part is one Keras layer (cell style, or a single layer)."""
        return len(self.layers) == 1 or (self.style is Style.cell and not self.bidirectional)

    @property
    def keras_groups(self) -> tuple[tuple[Layer, ...], ...]:
        """The layers each Keras layer holds: all of them in one (a stack of cells), or one
        each."""
        if self.one_keras_layer:
            return (self.layers,)
        return tuple((layer,) for layer in self.layers)

    @property
    def keras_names(self) -> tuple[str, ...]:
        """`rnn` for one Keras layer, `rnn_1`, `rnn_2`... for several."""
        count = len(self.keras_groups)
        return ("rnn",) if count == 1 else tuple(f"rnn_{n}" for n in range(1, count + 1))

    def keras_class(self, group: tuple[Layer, ...] | None = None) -> str:
        """`SimpleRNN`, `Bidirectional(LSTM)`, `RNN(GRUCell)`, `RNN([GRUCell, GRUCell])`."""
        count = len(group if group is not None else self.keras_groups[0])
        if self.style is Style.cell:
            cells = ", ".join([self.cell.keras_cell] * count)
            inner = f"RNN([{cells}])" if count > 1 else f"RNN({cells})"
        else:
            inner = self.cell.keras_layer
        return f"Bidirectional({inner})" if self.bidirectional else inner

    def keras_code(self, *, state: bool = True) -> tuple[str, ...]:
        """The constructor of each Keras layer, in order (one for a stack of cells)."""
        found = []
        for group in self.keras_groups:
            top = group[-1]
            flags = ["return_sequences=True"] if top.return_sequences else []
            flags += ["return_state=True"] if self.return_state and state else []
            returns = "".join(", " + f for f in flags)
            if self.style is Style.cell:
                cells = [f"layers.{self.cell.keras_cell}({layer.units})" for layer in group]
                inner = cells[0] if len(cells) == 1 else "[" + ", ".join(cells) + "]"
                code = f"layers.RNN({inner}{returns})"
            else:
                code = f"layers.{self.cell.keras_layer}({group[0].units}{returns})"
            if self.bidirectional:
                code = f"layers.Bidirectional({code}{self.merge_mode.keras_argument})"
            found.append(code)
        return tuple(found)

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states Keras returns after `outputs`, in its order, with their names."""
        if not self.return_state:
            return ()
        return tuple(name for layer in self.layers for name in layer.all_state_names)

    @property
    def initial_places(self) -> tuple[tuple[str, int], ...]:
        """Every state a call can start from (`initial_state`), named as `state_names`
        names them, with its size, in Keras's order (whether or not they are returned)."""
        return tuple((name, layer.units) for layer in self.layers for name in layer.all_state_names)

    @property
    def top(self) -> Layer:
        return self.layers[-1]

    @property
    def output_width(self) -> int:
        return self.top.output_width

    @property
    def output_axis(self) -> str:
        """The last axis of `outputs`: `2*hidden` when the directions are concatenated."""
        return "2*hidden" if self.bidirectional and self.merge_mode.widens else "hidden"

    @property
    def places(self) -> tuple[tuple[Layer, str], ...]:
        """Every (layer, direction), in Keras's order of cells and of returned states."""
        return tuple((layer, d) for layer in self.layers for d in layer.directions)

    def weights(self) -> tuple[Weight, ...]:
        return tuple(w for layer, d in self.places for w in layer.weights(d))

    def counts(self) -> tuple[tuple[str, str, int], ...]:
        return tuple((f"layer {n.number}", n.formula, n.params) for n in self.layers)

    def floats(self, rows: int, time: int) -> int:
        return sum(rows * time * layer.units * len(layer.directions) for layer in self.layers)

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        found = []
        groups = self.keras_groups
        for name, group in zip(self.keras_names, groups, strict=True):
            top = group[-1]
            width = top.output_width
            shape = (rows, time, width) if top.return_sequences else (rows, width)
            masked = masked and top.return_sequences
            keras_class = self.keras_class(None if len(groups) == 1 else group)
            found.append(KerasLayer(name, keras_class, shape, masked, sum(g.params for g in group)))
        return found, masked
