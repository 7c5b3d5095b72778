"""Probing what a user built: their own recurrent layer, or their whole Keras model.

The values are those of calling the user's objects directly; names, axes and weights are
given as `rnnprobe run` gives them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.keras import env, private
from rnnprobe.core.kinds import Cell, MergeMode, Style, identifier
from rnnprobe.core.result import Batch, ProbeResult, Tensor
from rnnprobe.core.stages import (
    Embedding,
    GivenInput,
    Head,
    KerasLayer,
    Network,
    ProbeSpec,
    Stage,
    StepHead,
    TokenIds,
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
        if rnn.stateful:
            raise _refuse("got a stateful layer (a call would change its state)")
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


def probe_layer(layer: Any, x_data: Any, mask: Any = None) -> ProbeResult:
    """Call the user's own recurrent layer once on x_data; name what it returned.

    The values are those of calling the layer directly; names, axes and weights are
    given as `rnnprobe run` gives them (`outputs`, then `h`, `c`, `forward_h`, `1/h`...).
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
    with env.build_lock, env.tensorflow_logs_quiet():
        try:
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
    return _result(batch, spec, flow, flat_names, states, tuple(weights),
                   layer_lines=layer_lines, call_lines=call_lines)  # fmt: skip


ACCEPTED_MODELS = (
    "a keras.Sequential, or a functional model with one input, built from Embedding, "
    "SimpleRNN, LSTM, GRU, RNN(cell), Bidirectional, Dense, TimeDistributed and Dropout"
)


def _layer_class(layers: Any, layer: Any) -> str:
    """`Bidirectional(LSTM)`, `RNN(GRUCell)`, `TimeDistributed(Dense)`, `Embedding`..."""
    if isinstance(layer, layers.Bidirectional):
        return f"Bidirectional({_layer_class(layers, layer.forward_layer)})"
    if isinstance(layer, layers.TimeDistributed):
        return f"TimeDistributed({type(layer.layer).__name__})"
    if type(layer) is layers.RNN:
        cell = layer.cell
        cells = list(cell.cells) if isinstance(cell, layers.StackedRNNCells) else [cell]
        inner = ", ".join(type(c).__name__ for c in cells)
        return f"RNN([{inner}])" if len(cells) > 1 else f"RNN({inner})"
    return type(layer).__name__


def _model_chain(keras: Any, model: Any) -> list[Any]:
    """The model's layers in the order the data flows, each of a kind rnnprobe takes."""
    layers = keras.layers
    if not isinstance(model, keras.Model):
        raise InputError(f"rnnprobe.probe takes {ACCEPTED_MODELS}; got {type(model).__name__}")
    if not isinstance(model, keras.Sequential):
        inputs = getattr(model, "inputs", None) or []
        if len(inputs) != 1 or len(model.outputs) != 1:
            raise InputError(
                f"rnnprobe.probe takes {ACCEPTED_MODELS}; got a model with "
                f"{len(inputs)} inputs and {len(getattr(model, 'outputs', None) or [])} outputs"
            )
    taken = (layers.Embedding, layers.RNN, layers.Bidirectional, layers.Dense, layers.Dropout)
    chain = []
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        inner = layer.layer if isinstance(layer, layers.TimeDistributed) else layer
        if not isinstance(inner, taken) or isinstance(inner, layers.TimeDistributed):
            raise InputError(
                f"rnnprobe.probe takes {ACCEPTED_MODELS}; layer {layer.name!r} is "
                f"{_layer_class(layers, layer)}"
            )
        chain.append(layer)
    if not any(_recurrent_layer(layers, layer) for layer in chain):
        raise InputError(f"rnnprobe.probe takes {ACCEPTED_MODELS}; this model has no RNN")
    return chain


def _recurrent_layer(layers: Any, layer: Any) -> bool:
    return isinstance(layer, layers.RNN | layers.Bidirectional)


def _with_state(layer: Any) -> Any:
    """A copy of a recurrent layer that also returns its states, with the same weights."""
    config = layer.get_config()
    if "layer" in config:  # Bidirectional: the wrapped layer (and a backward one, if given)
        config["layer"]["config"]["return_state"] = True
        if config.get("backward_layer"):
            config["backward_layer"]["config"]["return_state"] = True
    else:
        config["return_state"] = True
    config["name"] = f"{layer.name}_with_state"
    return type(layer).from_config(config)


def _call_layer(layers: Any, layer: Any, flow: Any, mask: Any) -> tuple[Any, ProbeResult | None]:
    """The layer's output (and, for a recurrent layer, its probe with outputs and states)."""
    if _recurrent_layer(layers, layer):
        out = layer(flow, mask=mask)  # builds the user's layer, if it was not yet
        copy = _with_state(layer)
        copy(flow, mask=mask)  # builds the copy
        copy.set_weights(layer.get_weights())
        found = probe_layer(copy, np.asarray(flow), None if mask is None else np.asarray(mask))
        return out, found
    if mask is not None and private.takes_mask(layer):
        return layer(flow, mask=mask), None
    return layer(flow), None


def probe_model(model: Any, x: Any) -> ProbeResult:
    """Call a user's model layer by layer on its input; name every layer's output.

    The recurrent layers' outputs and states come from a copy of each that returns its
    states (same weights); the last one's are the result's `outputs` and `states`. The
    model's final output is `logits`, its softmax `probabilities`.
    """
    keras = env.load_keras()
    layers = keras.layers
    chain = _model_chain(keras, model)
    given = np.asarray(x)
    if given.ndim not in (2, 3) or 0 in given.shape:
        raise InputError(
            Param("x"), f" has shape {tuple(given.shape)}: give token ids (batch, time) or "
            "(batch, time, features)"
        )  # fmt: skip
    ids = given.ndim == 2
    flow: Any = given.astype(np.int32 if ids else np.float32)
    mask: Any = None
    rows: list[KerasLayer] = []
    weights: list[Tensor] = []
    embedding = None
    recurrent: list[ProbeResult] = []
    several = sum(_recurrent_layer(layers, layer) for layer in chain) > 1
    with env.tensorflow_logs_quiet():
        for layer in chain:
            try:
                out, found = _call_layer(layers, layer, flow, mask)
            except InputError:
                raise
            except Exception as error:  # a model built for other inputs, say
                raise InputError(
                    f"layer {layer.name!r} refused its input {tuple(np.shape(flow))}: {error}"
                ) from None
            if found is not None:
                recurrent.append(found)
                prefix = f"{len(recurrent)}/" if several else ""
                weights += [replace(w, name=prefix + w.name) for w in found.weights]
            else:
                weights += [
                    Tensor(f"{layer.name}/{v.name.split('/')[-1]}", _plain_dims(v), _numpy(v))
                    for v in layer.weights
                ]
            if isinstance(layer, layers.Embedding):
                embedding = Tensor("embedding", ("batch", "time", "embedding"), _numpy(out))
            new_mask = layer.compute_mask(flow, mask)
            if isinstance(new_mask, list | tuple):
                new_mask = new_mask[0]
            shape = tuple(int(n) for n in np.shape(out))
            rows.append(
                KerasLayer(layer.name, _layer_class(layers, layer), shape,
                           new_mask is not None, int(layer.count_params()))
            )  # fmt: skip
            flow, mask = out, new_mask
        logits = _numpy(flow)
        probabilities = _numpy(keras.ops.softmax(flow, axis=-1))
    last = recurrent[-1]
    time = given.shape[1]
    classes = ("batch", "time", "class") if logits.ndim == 3 else ("batch", "class")
    states = tuple(
        replace(s, name=f"{n}/{s.name}") if several else s
        for n, found in enumerate(recurrent, start=1)
        for s in found.states
    )
    batch = Batch(
        words=None,
        vocab=None,
        lengths=last.batch.lengths,
        x_data=None if ids else Tensor("x_data", ("batch", "time", "input"), _numpy(given)),
        ids=Tensor("ids", ("batch", "time"), given.astype(np.int32)) if ids else None,
    )
    summary = ", ".join(row.keras_class for row in rows)
    per_step = logits.ndim == 3 and logits.shape[1] == time
    usable = logits.ndim == 2 or per_step
    network = _model_network(layers, chain, last, given, logits if usable else None)
    return replace(
        last,
        model_network=network,
        batch=batch,
        states=states,
        weights=tuple(weights),
        embedding=embedding,
        logits=Tensor("logits", classes, logits) if usable else None,
        probabilities=Tensor("probabilities", classes, probabilities) if usable else None,
        model_layers=tuple(rows),
        layer_lines=(f"model = {type(model).__name__}([{summary}])  # your model {model.name!r}",),
        call_lines=(f"logits = model({'ids' if ids else 'x_data'})", *(last.call_lines or ())),
    )


def _model_network(
    layers: Any, chain: list[Any], last: ProbeResult, given: np.ndarray, logits: Any
) -> Network:
    """The stages a user's model stands for: its input, its Embedding (if any), its last
    recurrent layer, and its output as a head (when it is per word or per step)."""
    recurrent = last.network.recurrent
    embedding = next((layer for layer in chain if isinstance(layer, layers.Embedding)), None)
    stages: list[Stage] = []
    if given.ndim == 2:
        size = int(embedding.input_dim) if embedding is not None else int(given.max()) + 1
        stages.append(TokenIds(size))
    else:
        stages.append(GivenInput(int(given.shape[2])))
    if embedding is not None:
        stages.append(Embedding(int(embedding.input_dim), int(embedding.output_dim),
                                f"{embedding.name}/"))  # fmt: skip
    stages.append(recurrent)
    if logits is not None:
        kind = StepHead if logits.ndim == 3 else Head
        stages.append(kind(int(logits.shape[-1]), recurrent.output_width, recurrent.output_axis))
    return Network(tuple(stages))


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _plain_dims(variable: Any) -> tuple[str, ...]:
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
        outputs=Tensor("outputs", out_dims, _numpy(flow)),
        states=tuple(
            Tensor(name, ("batch", "hidden"), _numpy(state))
            for name, state in zip(names, states, strict=True)
        ),
        weights=weights,
        **shown,
    )
