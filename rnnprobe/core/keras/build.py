"""The Keras face of the stages: one function per stage kind to make its Keras layers, to
create their weights, to list their variables (named as the stage names its weights) and to
call them on what flows in.

`model()` constructs the layers in the order the data flows; the order matters: Keras draws
each initializer's seed when a layer is constructed, and the `--code` script constructs
them in the same order. Cell style without bidirectional is one `layers.RNN` over one cell
or a stack of cells. Otherwise each layer of a stack is its own layer (the cell style wraps
each cell in `layers.RNN`), and bidirectional wraps each layer, so that a second layer sees
both directions of the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.keras import env
from rnnprobe.core.kinds import Style
from rnnprobe.core.stages import (
    Attention,
    Embedding,
    Head,
    Loss,
    Network,
    OneHotEmbedding,
    Recurrent,
    SquaredLoss,
    Stage,
    StepHead,
    StepLoss,
    ValueHead,
)

Named = list[tuple[str, Any, Any]]  # (weight name, Keras variable, axis names)


@dataclass
class Model:
    """The Keras layers of each stage (None for an input), in the order the data flows."""

    network: Network
    made: tuple[Any, ...]

    @property
    def pairs(self) -> list[tuple[Stage, Any]]:
        return list(zip(self.network.stages, self.made, strict=True))

    @property
    def recurrent(self) -> list[Any]:
        """The recurrent stage's Keras layers, called in turn."""
        return next(made for stage, made in self.pairs if isinstance(stage, Recurrent))


@dataclass
class Flow:
    """What passes from stage to stage in a call."""

    value: Any  # the tensor the next stage reads
    mask: Any  # (batch, time) booleans, or None
    found: dict[str, Any] = field(default_factory=dict)  # named tensors, as stages made them
    initial: list[Any] | None = None  # each recurrent Keras layer's initial states
    attend: Any = None  # attention: a function of the state, (weights, context) per step
    unmasked: bool = False  # every step is real: the recurrent layers need no mask


def model(keras: Any, network: Network) -> Model:
    """The Keras layers of every stage, constructed in the order Keras draws their seeds."""
    made = {id(stage): make(stage, keras) for stage in network.construction_order}
    return Model(network, tuple(made[id(stage)] for stage in network.stages))


def build_weights(built: Model, rows: int, steps: int) -> None:
    """Create every weight now, exactly as a first call would, without calling."""
    for stage, made in built.pairs:
        create(stage, made, rows, steps)


def assign(built: Sequence[Model], weights: Sequence[Tensor]) -> None:
    """Every weight of the built models from `weights`, by rnnprobe's names."""
    named = [n for model in built for n in named_variables(model)]
    values = {w.name: w.array for w in weights}
    if sorted(values) != sorted(name for name, _, _ in named):
        raise AssertionError("the weights given are not the network's")
    for name, variable, _ in named:
        variable.assign(values[name])


def named_variables(built: Model) -> Named:
    """(name, Keras variable, dims) for every weight, in the order the data flows."""
    found: Named = []
    made_by = {id(stage): made for stage, made in built.pairs}
    for stage in built.network.construction_order:
        made = made_by[id(stage)]
        weights = stage.weights()
        held = variables(stage, made)
        if len(held) != len(weights):
            raise AssertionError(f"Keras built {len(held)} weights for {stage.name}, "
                                 f"expected {len(weights)}")  # fmt: skip
        found += [(w.name, v, w.dims) for w, v in zip(weights, held, strict=True)]
    return found


def call(built: Model, flow: Flow) -> Flow:
    """Call every stage in turn on what flows in."""
    for stage, made in built.pairs:
        flow = call_stage(stage, made, flow)
    return flow


# -- make: the Keras layers of a stage -------------------------------------------------------
@singledispatch
def make(stage: Stage, keras: Any) -> Any:
    return None  # an input: nothing to build


@make.register
def _(stage: Embedding, keras: Any) -> Any:
    return keras.layers.Embedding(stage.vocab_size, stage.width, mask_zero=True)


@make.register
def _(stage: OneHotEmbedding, keras: Any) -> Any:
    constant = keras.initializers.Constant(np.eye(stage.vocab_size, dtype=np.float32))
    return keras.layers.Embedding(
        stage.vocab_size,
        stage.width,
        embeddings_initializer=constant,
        trainable=False,
        mask_zero=True,
    )


@make.register
def _(stage: Recurrent, keras: Any) -> Any:
    layers = keras.layers
    built = []
    for group in stage.keras_groups:
        returns = {
            "return_sequences": group[-1].return_sequences,
            "return_state": stage.return_state,
        }
        if stage.style is Style.cell:
            cells = [getattr(layers, stage.cell.keras_cell)(layer.units) for layer in group]
            keras_layer = layers.RNN(cells if len(cells) > 1 else cells[0], **returns)
        else:
            keras_layer = getattr(layers, stage.cell.keras_layer)(group[0].units, **returns)
        if stage.bidirectional:
            keras_layer = layers.Bidirectional(keras_layer, merge_mode=stage.merge_mode.value)
        built.append(keras_layer)
    return built


@make.register
def _(stage: Head, keras: Any) -> Any:
    return keras.layers.Dense(stage.units)


@make.register
def _(stage: StepHead, keras: Any) -> Any:
    return keras.layers.TimeDistributed(keras.layers.Dense(stage.units))


@make.register
def _(stage: ValueHead, keras: Any) -> Any:
    activation = None if stage.activation == "linear" else stage.activation
    return keras.layers.Dense(stage.units, activation=activation)


@make.register
def _(stage: Attention, keras: Any) -> Any:
    return {name: keras.layers.Dense(stage.dense_units(name)) for name in stage.layer_names}


# -- create: the weights, as a first call would ----------------------------------------------
@singledispatch
def create(stage: Stage, made: Any, rows: int, steps: int) -> None:
    return None


@create.register
def _(stage: Embedding, made: Any, rows: int, steps: int) -> None:
    made.build((rows, steps))


@create.register
def _(stage: Recurrent, made: Any, rows: int, steps: int) -> None:
    for keras_layer, group in zip(made, stage.keras_groups, strict=True):
        keras_layer.build((rows, steps, group[0].input_width))


@create.register
def _(stage: Head, made: Any, rows: int, steps: int) -> None:
    made.build((rows, stage.input_width))


@create.register
def _(stage: StepHead, made: Any, rows: int, steps: int) -> None:
    made.build((rows, steps, stage.input_width))


@create.register
def _(stage: ValueHead, made: Any, rows: int, steps: int) -> None:
    made.build((rows, stage.input_width))


@create.register
def _(stage: Attention, made: Any, rows: int, steps: int) -> None:
    for dense in made.values():
        dense.build((rows, steps, stage.units))


# -- variables: in the order of the stage's weights ------------------------------------------
@singledispatch
def variables(stage: Stage, made: Any) -> list[Any]:
    return []


@variables.register
def _(stage: Embedding, made: Any) -> list[Any]:
    return [made.embeddings]


def keras_cells(layers: Any, built: list[Any]) -> list[Any]:
    """Every Keras cell, in the order of the layers and directions of `Recurrent.places`."""
    found = []
    for keras_layer in built:
        if isinstance(keras_layer, layers.Bidirectional):
            found += [keras_layer.forward_layer.cell, keras_layer.backward_layer.cell]
        elif hasattr(keras_layer.cell, "cells"):  # StackedRNNCells: one cell per layer
            found += list(keras_layer.cell.cells)
        else:
            found.append(keras_layer.cell)
    return found


@variables.register
def _(stage: Recurrent, made: Any) -> list[Any]:
    cells = keras_cells(env.keras().layers, made)
    if len(cells) != len(stage.places):
        raise AssertionError(f"Keras built {len(cells)} cells, expected {len(stage.places)}")
    found = []
    for (layer, direction), cell in zip(stage.places, cells, strict=True):
        by_name = {variable.name.split("/")[-1]: variable for variable in cell.weights}
        found += [by_name[w.name.rpartition("/")[2]] for w in layer.weights(direction)]
    return found


@variables.register
def _(stage: Head, made: Any) -> list[Any]:
    dense = getattr(made, "layer", made)  # inside TimeDistributed
    return [dense.kernel, dense.bias]


@variables.register
def _(stage: ValueHead, made: Any) -> list[Any]:
    return [made.kernel, made.bias]


@variables.register
def _(stage: Attention, made: Any) -> list[Any]:
    return [v for name in stage.layer_names for v in (made[name].kernel, made[name].bias)]


# -- call: what each stage does to what flows in ---------------------------------------------
def flatten(nested: Any) -> list[Any]:
    if isinstance(nested, list | tuple):
        return [leaf for item in nested for leaf in flatten(item)]
    return [nested]


@singledispatch
def call_stage(stage: Stage, made: Any, flow: Flow) -> Flow:
    return flow  # an input passes through as it is


@call_stage.register
def _(stage: Embedding, made: Any, flow: Flow) -> Flow:
    flow.value = flow.found["embedding"] = made(flow.value)
    return flow


@call_stage.register
def _(stage: Recurrent, made: Any, flow: Flow) -> Flow:
    if flow.attend is not None:
        return _attended(stage, made, flow)
    states: list[Any] = []
    value = flow.value
    for number, layer in enumerate(made):
        given = {} if flow.initial is None else {"initial_state": flow.initial[number]}
        returned = layer(value, mask=None if flow.unmasked else flow.mask, **given)
        if stage.return_state:
            value, *rest = returned
            states.extend(flatten(rest))
        else:
            value = returned
    flow.value = flow.found["outputs"] = value
    flow.found["states"] = states
    return flow


def _attended(stage: Recurrent, made: Any, flow: Flow) -> Flow:
    """A decoder with attention, step by step: each step reads [embedding_t, context_t],
    and a padded step keeps the state (as Keras's masked loop does)."""
    ops = env.keras().ops
    cell = made[0].cell
    assert flow.initial is not None
    states = list(flow.initial[0])
    previous = ops.zeros_like(states[0])
    outputs, weights, contexts = [], [], []
    mask = ops.convert_to_tensor(flow.mask)  # an array, or a traced step's tensor
    for t in range(mask.shape[1]):
        weight, context = flow.attend(states[0])
        x_t = ops.concatenate([flow.value[:, t], context], axis=-1)
        output, new_states = cell(x_t, states)
        real = mask[:, t, None]
        states = [ops.where(real, new, old) for new, old in zip(new_states, states, strict=True)]
        previous = ops.where(real, output, previous)
        outputs.append(previous)
        weights.append(weight)
        contexts.append(context)
    flow.value = flow.found["outputs"] = ops.stack(outputs, axis=1)
    flow.found["states"] = states
    flow.found["attention_weights"] = ops.stack(weights, axis=1)
    flow.found["context"] = ops.stack(contexts, axis=1)
    return flow


@call_stage.register
def _(stage: Head, made: Any, flow: Flow) -> Flow:
    logits = flow.found["logits"] = made(flow.value)
    flow.found["probabilities"] = env.keras().ops.softmax(logits, axis=-1)
    flow.value = logits
    return flow


@call_stage.register
def _(stage: ValueHead, made: Any, flow: Flow) -> Flow:
    flow.value = flow.found["predictions"] = made(flow.value)
    return flow


@call_stage.register
def _(stage: Loss, made: Any, flow: Flow) -> Flow:
    """The mean over the words of -log p(class), from the logits."""
    ops = env.keras().ops
    losses = _cross_entropy(flow)
    flow.found["step_losses"] = losses
    counted = flow.found.get("loss_weights")
    flow.found["loss"] = ops.mean(losses) if counted is None else ops.sum(losses * counted)
    flow.found["loss_count"] = ops.shape(losses)[0]  # what the mean divides by
    return flow


@call_stage.register
def _(stage: SquaredLoss, made: Any, flow: Flow) -> Flow:
    """The mean over the windows of (prediction - target)^2, as `mean_squared_error`."""
    ops = env.keras().ops
    losses = ops.mean(ops.square(flow.value - flow.found["targets"]), axis=-1)
    flow.found["step_losses"] = losses
    counted = flow.found.get("loss_weights")
    flow.found["loss"] = ops.mean(losses) if counted is None else ops.sum(losses * counted)
    flow.found["loss_count"] = ops.shape(losses)[0]
    return flow


@call_stage.register
def _(stage: StepLoss, made: Any, flow: Flow) -> Flow:
    """The masked mean over the real steps: padded steps add nothing and do not count."""
    ops = env.keras().ops
    losses = _cross_entropy(flow)
    real = ops.cast(flow.mask, losses.dtype)
    flow.found["step_losses"] = losses * real
    counted = flow.found.get("loss_weights")
    if counted is None:
        flow.found["loss"] = ops.sum(losses * real) / ops.sum(real)
    else:
        flow.found["loss"] = ops.sum(losses * counted)
    flow.found["loss_count"] = ops.sum(real)  # the real steps the mean divides by
    return flow


def _cross_entropy(flow: Flow) -> Any:
    keras = env.keras()
    return keras.losses.sparse_categorical_crossentropy(
        flow.found["targets"], flow.value, from_logits=True
    )


@call_stage.register
def _(stage: Attention, made: Any, flow: Flow) -> Flow:
    """Attention reads the encoder's outputs (`flow.found["memory"]`, handed over) at every
    step of the recurrent stage that follows: it leaves that stage a function of the state."""
    ops = env.keras().ops
    memory, source_mask = flow.found["memory"]
    keys = made["W1"](memory)  # the same at every step
    real_source = ops.convert_to_tensor(source_mask)[:, :, None]

    def attend(h: Any) -> tuple[Any, Any]:
        query = made["W2"](ops.expand_dims(h, 1))
        score = made["V"](ops.tanh(keys + query))  # (batch, source_time, 1)
        score = ops.where(real_source, score, -np.inf)  # padded source words: no weight
        weight = ops.softmax(score, axis=1)
        return weight[..., 0], ops.sum(weight * memory, axis=1)

    flow.attend = attend
    return flow
