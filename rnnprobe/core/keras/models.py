"""Probing a user's whole Keras model: its preprocessing in front run as Keras runs it,
then each layer called in turn and named as `rnnprobe run` names what a network gives
(the recurrent layers through `user.probe_layer`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.keras import env, private
from rnnprobe.core.keras.heads import read_head
from rnnprobe.core.keras.user import flat_states, held, numpy_of, plain_dims, probe_layer
from rnnprobe.core.result import Batch, ProbeResult, Tensor
from rnnprobe.core.stages import (
    Embedding,
    GivenInput,
    KerasLayer,
    Network,
    Stage,
    TokenIds,
)

ACCEPTED_MODELS = (
    "a keras.Sequential, or a functional model with one input, built from Embedding, "
    "SimpleRNN, LSTM, GRU, RNN(cell), Bidirectional, Dense, TimeDistributed, Dropout, "
    "Activation and Softmax "
    "(after preprocessing such as StringLookup, TextVectorization or Normalization)"
)
# Layers that turn what a user has into what the network reads: run as Keras runs them,
# before the layers rnnprobe names one by one.
FRONT_LAYERS = (
    "StringLookup",
    "IntegerLookup",
    "TextVectorization",
    "Normalization",
    "Rescaling",
    "Hashing",
)


def layer_class(layers: Any, layer: Any) -> str:
    """`Bidirectional(LSTM)`, `RNN(GRUCell)`, `TimeDistributed(Dense)`, `Embedding`..."""
    if isinstance(layer, layers.Bidirectional):
        return f"Bidirectional({layer_class(layers, layer.forward_layer)})"
    if isinstance(layer, layers.TimeDistributed):
        return f"TimeDistributed({type(layer.layer).__name__})"
    if type(layer) is layers.RNN:
        cell = layer.cell
        cells = list(cell.cells) if isinstance(cell, layers.StackedRNNCells) else [cell]
        inner = ", ".join(type(c).__name__ for c in cells)
        return f"RNN([{inner}])" if len(cells) > 1 else f"RNN({inner})"
    return type(layer).__name__


def _taken(layers: Any) -> tuple[type, ...]:
    return (layers.Embedding, layers.RNN, layers.Bidirectional, layers.Dense, layers.Dropout,
            layers.Activation, layers.Softmax)  # fmt: skip


def summary_rows(keras: Any, model: Any) -> list[Any]:
    """What `summary()` lists: a functional model's layers and operations (its `ops` calls),
    a Sequential's layers."""
    found = None if isinstance(model, keras.Sequential) else getattr(model, "operations", None)
    return list(found or model.layers)


def operations(keras: Any, model: Any) -> list[Any]:
    """The model's layers and operations in the order Keras lists them in `summary()`,
    without its input layers and the operations that make masks."""
    return [
        op
        for op in summary_rows(keras, model)
        if not isinstance(op, keras.layers.InputLayer) and not _mask_op(keras, op)
    ]


def _mask_op(keras: Any, op: Any) -> bool:
    """An operation that makes a mask (booleans, such as the `NotEqual` Keras records for an
    Embedding's mask_zero): the probe takes masks from the Embedding itself."""
    if isinstance(op, keras.layers.Layer):
        return False
    try:
        return all(str(t.dtype) == "bool" for t in keras.tree.flatten(op.output))
    except (AttributeError, ValueError):
        return False


def _front(keras: Any, op: Any) -> bool:
    """Preprocessing: a lookup or scaling layer, or an operation that is no layer."""
    return type(op).__name__ in FRONT_LAYERS or not isinstance(op, keras.layers.Layer)


def unsupported_layers(keras: Any, model: Any) -> list[Any]:
    """The layers (and operations) of `model` that `probe` cannot name: any after the
    preprocessing in front that is not one of the layers it takes."""
    layers = keras.layers
    found = []
    front = True
    for layer in operations(keras, model):
        if front and _front(keras, layer):
            continue
        front = False
        inner = layer.layer if isinstance(layer, layers.TimeDistributed) else layer
        if not isinstance(inner, _taken(layers)) or isinstance(inner, layers.TimeDistributed):
            found.append(layer)
    return found


def _model_chain(keras: Any, model: Any) -> tuple[list[Any], list[Any]]:
    """The model's preprocessing in front, and then its layers in the order the data
    flows, each of a kind rnnprobe takes."""
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
    refused = unsupported_layers(keras, model)
    if refused:
        layer = refused[0]
        raise InputError(
            f"rnnprobe.probe takes {ACCEPTED_MODELS}; layer {layer.name!r} is "
            f"{layer_class(layers, layer)}"
        )
    chain = operations(keras, model)
    front = []
    while chain and _front(keras, chain[0]):
        front.append(chain.pop(0))
    if not any(_recurrent_layer(layers, layer) for layer in chain):
        raise InputError(f"rnnprobe.probe takes {ACCEPTED_MODELS}; this model has no RNN")
    return front, chain


def _has_front(model: Any, first: Any) -> bool:
    """Whether the first named layer reads something else than the model's input (a
    functional model's operations in front, such as a scaling)."""
    inputs = getattr(model, "inputs", None) if getattr(model, "built", False) else None
    if not inputs:
        return False
    try:
        read = first.input
    except (AttributeError, ValueError):  # a layer of several calls: no single input
        return False
    return bool(read is not inputs[0])


def _through_front(keras: Any, model: Any, first: Any, x: Any) -> np.ndarray:
    """What the model's preprocessing makes of `x`: the input of its first named layer."""
    try:
        front = keras.Model(model.inputs, first.input)
        return np.asarray(front([x]))
    except Exception as error:  # the input does not fit the preprocessing
        from rnnprobe.core.keras.saving import whole_words

        reason = whole_words(error).rstrip(".")
        raise InputError(f"the model's preprocessing refused the input: {reason}") from None


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


def _call_layer(layers: Any, layer: Any, flow: Any, mask: Any,
                reset: bool = False) -> tuple[Any, ProbeResult | None]:  # fmt: skip
    """The layer's output (and, for a recurrent layer, its probe with outputs and states).

    A stateful layer runs from the state it holds (`reset`: from zeros), and so does its
    copy: the copy's probe reports that state as `initial_state`."""
    if _recurrent_layer(layers, layer):
        stateful = bool(getattr(layer, "stateful", False))
        before = held(layer, tuple(np.shape(flow)), reset) if stateful else None
        out = layer(flow, mask=mask)  # builds the user's layer, if it was not yet
        if isinstance(out, list | tuple):  # return_state: the outputs flow on
            out = out[0]
        copy = _with_state(layer)
        copy(flow, mask=mask)  # builds the copy
        copy.set_weights(layer.get_weights())
        if before is not None:  # the copy starts where the user's layer started
            for variable, value in zip(flat_states(copy), before, strict=True):
                variable.assign(value)
        found = probe_layer(copy, np.asarray(flow), None if mask is None else np.asarray(mask))
        return out, found
    if mask is not None and private.takes_mask(layer):
        return layer(flow, mask=mask), None
    return layer(flow), None


def probe_model(model: Any, x: Any, reset: bool = False) -> ProbeResult:
    """Call a user's model layer by layer on its input; name every layer's output.

    The recurrent layers' outputs and states come from a copy of each that returns its
    states (same weights); the last one's are the result's `outputs` and `states`. The
    model's head is read by its activation (`heads.py`): `logits` and `probabilities`, or a
    regression's `predictions`.
    """
    keras = env.load_keras()
    layers = keras.layers
    front, chain = _model_chain(keras, model)
    given = np.asarray(x)
    if front or _has_front(model, chain[0]):
        with env.tensorflow_logs_quiet():
            given = _through_front(keras, model, chain[0], given)
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
    flows: list[Any] = []  # what each layer read
    with env.tensorflow_logs_quiet():
        for layer in chain:
            flows.append(flow)
            try:
                out, found = _call_layer(layers, layer, flow, mask, reset)
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
                    Tensor(f"{layer.name}/{v.name.split('/')[-1]}", plain_dims(v), numpy_of(v))
                    for v in layer.weights
                ]
            if isinstance(layer, layers.Embedding):
                embedding = Tensor("embedding", ("batch", "time", "embedding"), numpy_of(out))
            new_mask = layer.compute_mask(flow, mask)
            if isinstance(new_mask, list | tuple):
                new_mask = new_mask[0]
            shape = tuple(int(n) for n in np.shape(out))
            rows.append(
                KerasLayer(layer.name, layer_class(layers, layer), shape,
                           new_mask is not None, int(layer.count_params()))
            )  # fmt: skip
            flow, mask = out, new_mask
        reading = read_head(layers, chain, flows, numpy_of(flow), given.shape[1])
    last = recurrent[-1]
    states = tuple(
        replace(s, name=f"{n}/{s.name}") if several else s
        for n, found in enumerate(recurrent, start=1)
        for s in found.states
    )
    batch = Batch(
        words=None,
        vocab=None,
        lengths=last.batch.lengths,
        x_data=None if ids else Tensor("x_data", ("batch", "time", "input"), numpy_of(given)),
        ids=Tensor("ids", ("batch", "time"), given.astype(np.int32)) if ids else None,
    )
    summary = ", ".join(row.keras_class for row in rows)
    network = _model_network(layers, chain, last, given, reading.stages(last.network.recurrent))
    logits, probabilities, predictions = reading.tensors()
    return replace(
        last,
        model_network=network,
        batch=batch,
        states=states,
        weights=tuple(weights),
        embedding=embedding,
        logits=logits,
        probabilities=probabilities,
        predictions=predictions,
        model_layers=tuple(rows),
        layer_lines=(f"model = {type(model).__name__}([{summary}])  # your model {model.name!r}",),
        call_lines=(f"logits = model({'ids' if ids else 'x_data'})", *(last.call_lines or ())),
    )


def _model_network(
    layers: Any, chain: list[Any], last: ProbeResult, given: np.ndarray, ends: tuple[Stage, ...]
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
    stages += ends  # the head, read by its activation (`heads.py`)
    return Network(tuple(stages))
