"""Probing what a user built: their own recurrent layer (a whole model: `models.py`).

The values are those of calling the user's objects directly; names, axes and weights are
given as `rnnprobe run` gives them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.keras import env
from rnnprobe.core.kinds import Cell, MergeMode, Style, identifier
from rnnprobe.core.result import Batch, ProbeResult, Tensor
from rnnprobe.core.stages import (
    ProbeSpec,
)

ACCEPTED_LAYERS = (
    "a Keras recurrent layer: SimpleRNN, LSTM, GRU, layers.RNN over one cell or a list of "
    "cells (SimpleRNNCell, LSTMCell or GRUCell, all of one kind), or Bidirectional over one "
    "of these"
)


def _cell_kind(layers: Any, cell: Any) -> Cell | None:
    for kind, cls in (
        (Cell.lstm, layers.LSTMCell),
        (Cell.gru, layers.GRUCell),
        (Cell.simple, layers.SimpleRNNCell),
    ):
        if isinstance(cell, cls):
            return kind
    return None


def _refuse(what: str) -> InputError:
    return InputError(f"rnnprobe.probe takes {ACCEPTED_LAYERS}; {what}")


def user_structure(layers: Any, layer: Any) -> tuple[ProbeSpec, list[list[Any]]]:
    """The spec a user's layer stands for, and the cells of each of its directions."""
    bidirectional = isinstance(layer, layers.Bidirectional)
    rnns = [layer.forward_layer, layer.backward_layer] if bidirectional else [layer]
    if not all(isinstance(rnn, layers.RNN) for rnn in rnns):
        inner = type(getattr(layer, "forward_layer", None)).__name__ if bidirectional else ""
        shown = f"Bidirectional over {inner}" if bidirectional else type(layer).__name__
        raise _refuse(f"got {shown}")
    if bidirectional and layer.merge_mode is None:
        raise _refuse("got Bidirectional with merge_mode=None (give it a merge mode)")
    cells_per_rnn = []
    for rnn in rnns:
        if rnn.stateful and bidirectional:
            raise _refuse("got a stateful Bidirectional layer (give a stateful layer of one "
                          "direction)")  # fmt: skip
        cell = rnn.cell
        cells_per_rnn.append(
            list(cell.cells) if isinstance(cell, layers.StackedRNNCells) else [cell]
        )
    kinds = {_cell_kind(layers, cell) for cell in cells_per_rnn[0]}
    if None in kinds:
        names = ", ".join(type(cell).__name__ for cell in cells_per_rnn[0])
        raise _refuse(f"got cells {names}")
    if len(kinds) > 1:
        raise _refuse("got cells of more than one kind")
    if not all(getattr(cell, "use_bias", True) for cell in cells_per_rnn[0]):
        raise _refuse("got a cell with use_bias=False")
    top = rnns[0]
    spec = ProbeSpec(
        style=Style.cell if type(top) is layers.RNN else Style.layer,
        cell=kinds.pop(),  # type: ignore[arg-type]
        hidden=tuple(int(cell.units) for cell in cells_per_rnn[0]),
        return_sequences=bool(top.return_sequences),
        return_state=bool(top.return_state),
        bidirectional=bidirectional,
        merge_mode=MergeMode(layer.merge_mode) if bidirectional else MergeMode.concat,
    )
    return spec, cells_per_rnn


def _user_layer_code(layer: Any, spec: ProbeSpec, names: list[list[str]], masked: bool):
    """The layer as Keras code, and the call with the unpacking its returns take."""
    keras_class = type(layer.forward_layer if spec.bidirectional else layer).__name__
    units = [str(n) for n in spec.hidden]
    if spec.style is Style.cell:
        cells = [f"layers.{spec.cell.keras_cell}({n})" for n in units]
        inner = f"layers.RNN({cells[0] if len(cells) == 1 else '[' + ', '.join(cells) + ']'}"
    else:
        inner = f"layers.{keras_class}({units[0]}"
    flags = [f for f, on in (("return_sequences=True", spec.return_sequences),
                             ("return_state=True", spec.return_state)) if on]  # fmt: skip
    built = inner + "".join(", " + f for f in flags) + ")"
    if spec.bidirectional:
        built = f"layers.Bidirectional({built}{spec.merge_mode.keras_argument})"
    line = f"rnn = {built}  # your layer {layer.name!r}"
    if len(spec.hidden) > 1:  # stacked cells: a list of states per cell
        groups = ["[" + ", ".join(identifier(n) for n in group) + "]" for group in names]
    else:
        groups = [identifier(n) for group in names for n in group]
    call = f"{', '.join(['outputs', *groups])} = rnn(x_data{', mask=mask' if masked else ''})"
    return (line,), (call,)


def _user_weight_dims(array: np.ndarray, gates: int) -> tuple[str, ...]:
    columns = "hidden" if gates == 1 else f"{gates}*hidden"
    return {1: (columns,), 2: ("input", columns)}[array.ndim]


def probe_layer(layer: Any, x_data: Any, mask: Any = None, reset: bool = False) -> ProbeResult:
    """Call the user's own recurrent layer once on x_data; name what it returned.

    The values are those of calling the layer directly; names, axes and weights are
    given as `rnnprobe run` gives them (`outputs`, then `h`, `c`, `forward_h`, `1/h`...).
    A stateful layer starts from the state it holds (reported as `initial_state`; with
    `reset`, `reset_state()` first), and the call leaves it holding its final states.
    """
    keras = env.load_keras()
    layers = keras.layers
    x = np.asarray(x_data, dtype=np.float32)
    if x.ndim != 3 or 0 in x.shape:
        raise InputError(
            Param("x_data"), f" has shape {tuple(x.shape)}: give (batch, time, features)"
        )
    lengths = [x.shape[1]] * x.shape[0]
    if mask is not None:
        given = np.asarray(mask, dtype=bool)
        steps = np.arange(x.shape[1])
        lengths = given.sum(axis=1).tolist() if given.shape == x.shape[:2] else []
        prefix = lengths and np.array_equal(given, steps[None, :] < np.array(lengths)[:, None])
        if not prefix or min(lengths) < 1:
            raise InputError(
                Param("mask"),
                f" must be (batch, time) = {x.shape[:2]}, True on each sequence's first steps"
                " (at least one) and False after them",
            )
    spec, cells_per_rnn = user_structure(layers, layer)
    batch = Batch(
        words=None,
        vocab=None,
        lengths=tuple(int(n) for n in lengths),
        x_data=Tensor("x_data", ("batch", "time", "input"), x),
    )
    stateful = bool(getattr(layer, "stateful", False))
    with env.build_lock, env.tensorflow_logs_quiet():
        try:
            before = held(layer, x.shape, reset) if stateful else None
            returned = layer(x, mask=batch.mask if batch.padded else None)
        except Exception as error:  # a layer built for other inputs, say
            raise InputError(f"the layer refused x_data {tuple(x.shape)}: {error}") from None
    flow, states = (
        (returned[0], _flatten(list(returned[1:]))) if spec.return_state else (returned, [])
    )
    sides = ["forward", "backward"] if spec.bidirectional else [""]
    names, weights = [], []
    for side, cells in zip(sides, cells_per_rnn, strict=True):  # Keras's order of states
        for planned, cell in zip(spec.layers(x.shape[2]), cells, strict=True):
            names.append(list(planned.state_names(side)))
            by_name = {v.name.split("/")[-1]: v for v in cell.weights}
            for weight in planned.weights(side):
                array = np.asarray(by_name[weight.name.rpartition("/")[2]].numpy(), np.float32)
                weights.append(Tensor(weight.name, _user_weight_dims(array, spec.cell.gates),
                                      array))  # fmt: skip
    flat_names = [n for group in names for n in group] if spec.return_state else []
    layer_lines, call_lines = _user_layer_code(
        layer, spec, names if spec.return_state else [], batch.padded
    )
    started = None
    if before is not None:
        every = [n for group in names for n in group]
        started = tuple(Tensor(n, ("batch", "hidden"), v) for n, v in zip(every, before,
                                                                         strict=True))  # fmt: skip
    return _result(batch, spec, flow, flat_names, states, tuple(weights),
                   layer_lines=layer_lines, call_lines=call_lines, initial_state=started,
                   stateful=stateful)  # fmt: skip


def flat_states(layer: Any) -> list[Any]:
    """A stateful layer's state variables, in Keras's order (a stack of cells nests them)."""
    return _flatten(list(layer.states))


def reset_states(layer: Any) -> None:
    """`layer.reset_state()`; over a stack of cells, whose states Keras nests per cell and
    then cannot reset (Keras 3.15: "'ListWrapper' object has no attribute 'assign'"), each
    state set to zeros as `reset_state` does."""
    if hasattr(layer.cell, "cells"):
        for variable in flat_states(layer):
            variable.assign(np.zeros(variable.shape, dtype=np.float32))
        return
    layer.reset_state()


def held(layer: Any, shape: tuple[int, ...], reset: bool) -> list[np.ndarray]:
    """What a stateful layer holds before the call (built for this batch size first; with
    `reset`, reset to zeros first)."""
    if not layer.built:
        layer.build(shape)
    if reset:
        reset_states(layer)
    return [numpy_of(v) for v in flat_states(layer)]


def numpy_of(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def plain_dims(variable: Any) -> tuple[str, ...]:
    rank = len(variable.shape)
    return {1: ("units",), 2: ("input", "units")}.get(rank, tuple(f"axis {i}" for i in range(rank)))


def _flatten(nested: Any) -> list[Any]:
    if isinstance(nested, list | tuple):
        return [leaf for item in nested for leaf in _flatten(item)]
    return [nested]


def _result(
    batch: Batch,
    spec: ProbeSpec,
    flow: Any,
    names: list[str],
    states: list[Any],
    weights: tuple[Tensor, ...],
    **shown: Any,
) -> ProbeResult:
    """What a user's layer returned, as named tensors with their axes."""
    if len(names) != len(states):
        raise AssertionError(f"Keras returned {len(states)} states, expected {names}")
    axis = spec.output_axis
    out_dims = ("batch", "time", axis) if spec.return_sequences else ("batch", axis)
    return ProbeResult(
        batch=batch,
        spec=spec,
        seed=None,
        outputs=Tensor("outputs", out_dims, numpy_of(flow)),
        states=tuple(
            Tensor(name, ("batch", "hidden"), numpy_of(state))
            for name, state in zip(names, states, strict=True)
        ),
        weights=weights,
        **shown,
    )
