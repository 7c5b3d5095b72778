"""Gradients through time in Keras: the whole-set loss, its gradient with respect to every
weight, and dL/dh_t at every step of every layer and direction.

dL/dh_t is the total derivative: what reaches the state after step t through the outputs
and through every later step. TensorFlow can only take a gradient with respect to a
tensor that goes in, so each direction runs its own Keras cell step by step
(`cell.call`, in a `tf.while_loop`, masked as Keras's RNN masks) with a zero tensor
added to the state it makes at every real step: the gradient with respect to that zero is
dL/dh_t (a padded step keeps the state, so its zero never counts: 0 there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.keras import build, env
from rnnprobe.core.stages import Layer, Recurrent, Stage, StepHead


@dataclass(frozen=True)
class Through:
    """The loss at the model's weights, and its gradients."""

    loss: float
    gradients: list[np.ndarray]  # every trainable weight, in the order of `named`
    state_gradients: dict[str, np.ndarray]  # dL/dh_t (batch, time, hidden), by state name


@dataclass
class Pass:
    """What flows through the stepwise pass: the value, the mask, what was found, and the
    zero added to each direction's states (by state name)."""

    value: Any
    mask: Any
    found: dict[str, Any]
    zeros: dict[str, Any]
    cells: list[Any]
    starts: dict[str, Any] | None = None  # `--initial-state`: every state's start, by name


def through_time(
    built: build.Model,
    trainable: list[Any],
    x: np.ndarray,
    mask: np.ndarray,
    targets: np.ndarray,
    loss_weights: np.ndarray | None = None,
    starts: Any = None,
) -> Through:
    """The whole-set loss (or the loss `loss_weights` weighs), every trainable weight's
    gradient and dL/dh_t at every step, at the weights the model holds now; `starts`
    (`--initial-state`): every state's start, in Keras's order."""
    keras = env.keras()
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    network = built.network
    recurrent = network.recurrent
    rows, time = mask.shape
    names = [layer.state_names(d)[0] for layer, d in recurrent.places]
    widths = [layer.units for layer, _ in recurrent.places]
    cells = build.keras_cells(keras.layers, built.recurrent)
    places = [name for name, _ in recurrent.initial_places]
    begun = None if starts is None else dict(zip(places, starts, strict=True))
    given = {"targets": targets}
    if loss_weights is not None:
        given["loss_weights"] = tf.constant(loss_weights, tf.float32)

    def run(x: Any, mask: Any, targets: Any, *zeros: Any) -> tuple[Any, ...]:
        with tf.GradientTape() as tape:
            for zero in zeros:
                tape.watch(zero)
            flow = Pass(x, mask, {**given, "targets": targets}, dict(zip(names, zeros,
                        strict=True)), cells, begun)  # fmt: skip
            for stage, made in built.pairs:
                stepwise(stage, made, flow)
            loss = flow.found["loss"]
        found = tape.gradient(loss, [*trainable, *zeros])
        return loss, *(tf.convert_to_tensor(g) for g in found)

    # No autograph: the loop is a tf.while_loop already, and converting Keras's code
    # would take longer than the pass itself.
    traced = tf.function(run, autograph=False)
    zeros = [tf.zeros((rows, time, width)) for width in widths]
    loss, *found = traced(x, mask, targets, *zeros)
    return Through(
        loss=float(loss),
        gradients=[np.asarray(g, dtype=np.float32) for g in found[: len(trainable)]],
        state_gradients={
            name: np.asarray(g, dtype=np.float32)
            for name, g in zip(names, found[len(trainable) :], strict=True)
        },
    )


@singledispatch
def stepwise(stage: Stage, made: Any, flow: Pass) -> None:
    """Every other stage as its Keras call makes it."""
    called = build.call_stage(stage, made, build.Flow(flow.value, flow.mask, flow.found))
    flow.value, flow.found = called.value, called.found


@stepwise.register
def _(stage: StepHead, made: Any, flow: Pass) -> None:
    """The head's Dense on every step at once: the same numbers as TimeDistributed, which
    Keras would loop over the steps of a long word."""
    logits = flow.found["logits"] = made.layer(flow.value)
    flow.found["probabilities"] = env.keras().ops.softmax(logits, axis=-1)
    flow.value = logits


@stepwise.register
def _(stage: Recurrent, made: Any, flow: Pass) -> None:
    import tensorflow as tf

    cells = iter(flow.cells)
    value, last = flow.value, None
    for layer in stage.layers:
        # Bidirectional zeroes a masked step's output whenever the layer returns sequences.
        zero_masked = layer.bidirectional and layer.return_sequences
        runs = [
            _direction(next(cells), layer, side, value, flow, zero_masked)
            for side in layer.directions
        ]
        if layer.bidirectional:
            joined: Callable[[Any, Any], Any] = lambda a, b: tf.concat([a, b], -1)  # noqa: E731
            value = stage.merge_mode.merge(runs[0][0], runs[1][0], joined)
            last = stage.merge_mode.merge(runs[0][1], runs[1][1], joined)
        else:
            value, last = runs[0]
    flow.value = flow.found["outputs"] = value if stage.return_sequences else last


def _direction(
    cell: Any, layer: Layer, side: str, x: Any, flow: Pass, zero_masked: bool
) -> tuple[Any, Any]:
    """One direction, step by step as Keras's RNN runs it: (outputs, final h)."""
    import tensorflow as tf

    zero = flow.zeros[layer.state_names(side)[0]]
    time = x.shape[1]
    rows = tf.shape(x)[0]
    count = len(cell.state_size) if isinstance(cell.state_size, list | tuple) else 1
    initial = [tf.zeros((rows, layer.units)) for _ in range(count)]
    if flow.starts is not None:
        initial = [tf.constant(flow.starts[name]) for name in layer.state_names(side)]
    backward = side == "backward"

    def body(i: Any, states: list[Any], previous: Any, outputs: Any) -> tuple[Any, ...]:
        t = time - 1 - i if backward else i
        out, new = cell.call(x[:, t], list(states))
        new = list(new) if isinstance(new, list | tuple) else [new]
        out = out + zero[:, t]  # the output is the state h, perturbed alike
        new[0] = new[0] + zero[:, t]
        real = flow.mask[:, t][:, None]
        states = [tf.where(real, made, kept) for made, kept in zip(new, states, strict=True)]
        shown = tf.where(real, out, tf.zeros_like(out) if zero_masked else previous)
        previous = tf.where(real, out, previous)
        return i + 1, states, previous, outputs.write(t, shown)

    _, states, _, outputs = tf.while_loop(
        lambda i, *_: i < time,
        body,
        (tf.constant(0), initial, initial[0], tf.TensorArray(tf.float32, size=time)),
    )
    return tf.transpose(outputs.stack(), [1, 0, 2]), states[0]
