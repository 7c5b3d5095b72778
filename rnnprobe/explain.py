"""Where each tensor's numbers come from, and how many parameters each layer holds.

Text only, from the spec and the shapes the tensors carry: nothing is recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnprobe.result import Cell, ProbeResult, ProbeSpec, Tensor

GATE_NAMES = {
    Cell.simple: "",
    Cell.lstm: "4 gates (i, f, c, o) x ",
    Cell.gru: "3 gates (z, r, h) x ",
}


def _input_name(tensor: Tensor) -> str:
    return "vocab" if tensor.dims[0] == "vocab" else "input"


def weight_note(spec: ProbeSpec, tensor: Tensor) -> str:
    """e.g. `vocab x 4 gates (i, f, c, o) x hidden` for an LSTM kernel."""
    gates = GATE_NAMES[spec.cell]
    short = tensor.name.rpartition("/")[2]
    if short == "kernel":
        return f"{_input_name(tensor)} x {gates}hidden: input to every gate"
    if short == "recurrent_kernel":
        return f"hidden x {gates}hidden: h(t-1) to every gate"
    if tensor.array.ndim == 2:
        return f"input/recurrent rows x {gates}hidden (reset_after=True)"
    return f"{gates}hidden: added to every gate"


def tensor_note(spec: ProbeSpec, tensor: Tensor) -> str:
    """Where an input, output or state comes from."""
    if tensor.name == "x_data":
        return "one-hot rows of the characters of each word; zero rows after its end"
    if tensor.name == "outputs":
        if spec.bidirectional:
            joined = f"forward and backward h joined by {spec.merge_mode.value}"
            return joined + (" at every step" if spec.return_sequences else " at the last step")
        if spec.return_sequences:
            return "h at every step; a padded step repeats the word's last h"
        return "h at each word's last real step"
    name = tensor.name.rpartition("/")[2]
    kind = "cell state c" if name.endswith("c") else "hidden state h"
    backward = name.startswith("backward")
    where = "after reading the word backwards" if backward else "after the word's last real step"
    return f"{kind} {where}"


@dataclass(frozen=True)
class LayerParams:
    """One recurrent layer's parameter count and the formula that gives it."""

    layer: int
    formula: str
    count: int


def layer_params(result: ProbeResult) -> list[LayerParams]:
    """Per layer: e.g. `4 x (vocab 4 + hidden 2 + 1) x hidden 2 = 56`."""
    spec = result.spec
    gates, bias_rows = spec.cell.gates, spec.cell.bias_rows
    directions = 2 if spec.bidirectional else 1
    stacked = len(spec.hidden) > 1
    found = []
    for number in range(1, len(spec.hidden) + 1):
        prefix = f"{number}/" if stacked else ""
        prefix += "forward/" if spec.bidirectional else ""
        kernel = next(w for w in result.weights if w.name == prefix + "kernel")
        size, units = kernel.shape[0], kernel.shape[1] // gates
        body = f"({_input_name(kernel)} {size} + hidden {units} + {bias_rows}) x hidden {units}"
        formula = (f"{gates} x " if gates > 1 else "") + body
        if directions == 2:
            formula = f"2 directions x {formula}"
        count = directions * gates * (size + units + bias_rows) * units
        found.append(LayerParams(number, formula, count))
    return found
