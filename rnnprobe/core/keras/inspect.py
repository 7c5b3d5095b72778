"""A saved Keras model read as `model.summary()` reads it, and more: every layer with its
class, output shape, mask, parameters (trainable and not) and, for a recurrent layer, its
settings; the model's inputs; and what `probe` cannot run.

The rows come from the loaded model's own layers (their symbolic outputs and the mask
Keras attaches to them), never from rnnprobe's description of a network.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from rnnprobe.core.errors import InputError
from rnnprobe.core.inputs.model_input import InputKind
from rnnprobe.core.keras import models, private

Shape = tuple[int | None, ...]


@dataclass(frozen=True)
class LayerRow:
    """One layer of a saved model."""

    name: str
    keras_class: str
    output_shape: tuple[Shape, ...]  # one shape per output (a recurrent layer's states too)
    mask: bool  # its output carries a mask
    trainable: int
    non_trainable: int
    settings: tuple[tuple[str, Any], ...] = ()  # a recurrent layer's, in a fixed order

    @property
    def params(self) -> int:
        return self.trainable + self.non_trainable


@dataclass(frozen=True)
class ModelInput:
    """One input of the model: its name, shape (None where any size goes) and dtype."""

    name: str
    shape: Shape
    dtype: str


@dataclass(frozen=True)
class ModelLayers:
    """A saved model's structure."""

    name: str
    keras_class: str
    inputs: tuple[ModelInput, ...]
    rows: tuple[LayerRow, ...]
    unsupported: tuple[tuple[str, str], ...]  # (name, class) of layers probe cannot run

    @property
    def trainable(self) -> int:
        return sum(row.trainable for row in self.rows)

    @property
    def non_trainable(self) -> int:
        return sum(row.non_trainable for row in self.rows)


def _count(weights: Any) -> int:
    return sum(math.prod(int(n) for n in weight.shape) for weight in weights)


def _shape(tensor: Any) -> Shape:
    return tuple(None if n is None else int(n) for n in tensor.shape)


def _outputs(keras: Any, layer: Any) -> list[Any]:
    try:
        return list(keras.tree.flatten(layer.output))
    except (AttributeError, ValueError):  # never called, or called on several inputs
        return []


def _activation(value: Any) -> str:
    if isinstance(value, dict):  # a serialized activation
        return str(value.get("config", {}).get("name") or value.get("class_name"))
    return str(value)


def recurrent_settings(layers: Any, layer: Any) -> tuple[tuple[str, Any], ...]:
    """Units, cell, return flags, activations (and a bidirectional layer's merge mode)."""
    if isinstance(layer, layers.Bidirectional):
        inner = recurrent_settings(layers, layer.forward_layer)
        return (*inner, ("merge_mode", layer.merge_mode))
    if not isinstance(layer, layers.RNN):
        return ()
    cell = layer.cell
    cells = list(cell.cells) if isinstance(cell, layers.StackedRNNCells) else [cell]
    configs = [c.get_config() for c in cells]
    # A convolutional cell (ConvLSTM1D/2D/3D) has filters where the others have units.
    size = "units" if all(hasattr(c, "units") for c in cells) else "filters"
    units: Any = [int(getattr(c, size, 0)) for c in cells]
    first = configs[0]
    found: list[tuple[str, Any]] = [
        (size, units[0] if len(units) == 1 else units),
        ("cell", ", ".join(type(c).__name__ for c in cells)),
        ("return_sequences", bool(layer.return_sequences)),
        ("return_state", bool(layer.return_state)),
        ("activation", _activation(first.get("activation"))),
    ]
    if "recurrent_activation" in first:
        found.append(("recurrent_activation", _activation(first["recurrent_activation"])))
    found += [("go_backwards", bool(layer.go_backwards)), ("stateful", bool(layer.stateful))]
    # What changes the numbers without showing in the shapes.
    hidden = ("use_bias", "dropout", "recurrent_dropout", "reset_after", "kernel_size")
    found += [(key, first[key]) for key in hidden if key in first]
    found.append(("unroll", bool(getattr(layer, "unroll", False))))
    return tuple(found)


def model_layers(keras: Any, model: Any) -> ModelLayers:
    """Every layer of `model` in the order Keras's `summary()` lists it."""
    layers = keras.layers
    rows = []
    for layer in models.summary_rows(keras, model):
        outputs = _outputs(keras, layer)
        rows.append(
            LayerRow(
                name=layer.name,
                keras_class=models.layer_class(layers, layer),
                output_shape=tuple(_shape(t) for t in outputs),
                mask=any(private.keras_mask(t) is not None for t in outputs[:1]),
                trainable=_count(getattr(layer, "trainable_weights", [])),
                non_trainable=_count(getattr(layer, "non_trainable_weights", [])),
                settings=recurrent_settings(layers, layer),
            )
        )
    inputs = tuple(
        ModelInput(str(t.name), _shape(t), str(t.dtype))
        for t in (getattr(model, "inputs", None) or [])
    )
    refused = models.unsupported_layers(keras, model)
    return ModelLayers(
        name=str(model.name),
        keras_class=type(model).__name__,
        inputs=inputs,
        rows=tuple(rows),
        unsupported=tuple((layer.name, models.layer_class(layers, layer)) for layer in refused),
    )


def input_kind(keras: Any, model: Any, split: str | None = None) -> InputKind:
    """What the model's (first) input holds, for `--input` and `--random`: token strings
    (a StringLookup or TextVectorization in front), token ids (an Embedding first, or
    whole numbers), or numbers (batch, time, features). `split` is how a saved rnnprobe
    network cuts a text (char or word)."""
    layers = keras.layers
    inputs = getattr(model, "inputs", None) or []
    chain = [layer for layer in model.layers if not isinstance(layer, layers.InputLayer)]
    if not chain:
        raise InputError("the model has no layers: it cannot be run")
    if not inputs:  # a Sequential saved before it was called as a whole: any shape
        first = chain[0]
        if isinstance(first, layers.Embedding):
            return InputKind("ids", (None,), "int32", ids=int(first.input_dim))
        return InputKind("values", (None, None), "float32")
    tensor = inputs[0]
    shape = _shape(tensor)[1:]
    dtype = str(tensor.dtype)
    first = chain[0]
    if dtype == "string":
        if isinstance(first, layers.TextVectorization):
            return InputKind("strings", shape, dtype, "text", _vocabulary(first))
        return InputKind("strings", shape, dtype, split or "word", _vocabulary(first))
    if isinstance(first, layers.Embedding) or "int" in dtype or len(shape) == 1:
        size = int(first.input_dim) if isinstance(first, layers.Embedding) else 0
        return InputKind("ids", shape, dtype, ids=size)
    return InputKind("values", shape, dtype)


def _vocabulary(layer: Any) -> tuple[str, ...]:
    """The tokens a lookup knows, without its padding and out-of-vocabulary entries."""
    if not hasattr(layer, "get_vocabulary"):
        return ()
    found = [str(token) for token in layer.get_vocabulary()]
    skipped = {"", "[UNK]", "<unk>"}
    return tuple(token for token in found if token not in skipped)
