"""rnnprobe's numpy engine: the forward pass through the stages, the one engine behind
`--check`, `--steps` and the encoder-decoder's check.

It reads only the model's input, the word lengths and the named weights, never the Keras
call path; each stage kind has its numpy face here (`forward`), and the cells' equations
are in `equations.py`. Everything is float64.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.kinds import WEIGHT_NAMES, Cell
from rnnprobe.core.numpy.equations import (
    QUANTITIES,
    STATES,
    CellWeights,
    activate,
    attention_scores,
    cell_step,
    softmax,
)
from rnnprobe.core.stages import (
    Attention,
    Embedding,
    Head,
    Layer,
    Network,
    OneHotInput,
    ProbeSpec,
    Recurrent,
    Stage,
    TokenIds,
    ValueHead,
)

Attend = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # h -> (weights, context)


@dataclass
class DirectionTrace:
    """One layer and direction, step by step, in word order (index t is character t)."""

    layer: Layer
    direction: str
    weights: Mapping[str, np.ndarray]  # kernel, recurrent_kernel, bias
    inputs: np.ndarray  # (batch, time, width): what this layer reads
    quantities: dict[str, np.ndarray] = field(default_factory=dict)  # (batch, time, units)
    outputs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # what Keras returns, per step
    finals: list[np.ndarray] = field(default_factory=list)  # the final states, h first
    starts: dict[str, np.ndarray] = field(default_factory=dict)  # h (and c) before step one


@dataclass
class Trace:
    """Every layer and direction of a probe, and what Keras returns, recomputed."""

    traces: list[DirectionTrace]
    computed: dict[str, np.ndarray]  # "outputs" and each returned state, by name
    mask: np.ndarray


@dataclass
class NumpyFlow:
    """What passes from stage to stage in the numpy engine."""

    value: np.ndarray
    mask: np.ndarray
    weights: Mapping[str, np.ndarray]  # every weight by name, float64
    keep: bool  # every step's quantities too (`--steps`)
    computed: dict[str, np.ndarray] = field(default_factory=dict)
    traces: list[DirectionTrace] = field(default_factory=list)
    initial: Sequence[np.ndarray] | None = None  # the first layer's initial state
    memory: tuple[np.ndarray, np.ndarray] | None = None  # encoder outputs and source mask
    attend: Attend | None = None
    starts: Sequence[np.ndarray] | None = None  # `--initial-state`: every state, Keras's order


def direction(
    cell: Cell,
    trace: DirectionTrace,
    mask: np.ndarray,
    *,
    reverse: bool,
    zero_masked: bool,
    keep: bool,
    initial: Sequence[np.ndarray] | None = None,
    attend: Attend | None = None,
) -> dict[str, np.ndarray]:
    """Run one direction, filling `trace`; with `keep`, every step's quantities too.

    The loop over time is the recurrence itself; everything else is done for all steps
    at once, and a step where every word is real skips the masking. `initial` is the
    state to start from (h, and c for an LSTM); zeros without it. `attend` (a decoder
    with attention) gives each step a context from the state it reads, which joins the
    step's input; its weights and contexts per step are returned.
    """
    w = CellWeights.of(cell, trace.weights)
    x = trace.inputs
    batch, time, width = x.shape
    n = w.recurrent.shape[0]
    x_product = x @ w.kernel[:width]  # every step's input product at once
    all_real: list[bool] = np.all(mask, axis=0).tolist()
    names = QUANTITIES[cell] if keep else ()
    found = {name: np.zeros((batch, time, n)) for name in names}
    h = np.zeros((batch, n)) if initial is None else np.asarray(initial[0], dtype=np.float64)
    c = np.zeros((batch, n))
    if initial is not None and cell is Cell.lstm:
        c = np.asarray(initial[1], dtype=np.float64)
    trace.starts = {"h": h, "c": c}
    previous = np.zeros((batch, n))  # Keras's output before the first step: zeros
    outputs = np.zeros((batch, time, n))
    attended: dict[str, list[np.ndarray]] = {"attention_weights": [], "context": []}
    for t in reversed(range(time)) if reverse else range(time):
        step_input = x_product[:, t]
        if attend is not None:
            weights, context = attend(h)
            attended["attention_weights"].append(weights)
            attended["context"].append(context)
            step_input = step_input + context @ w.kernel[width:]
        new_h, new_c, step = cell_step(w, step_input, h, c, keep=keep)
        if all_real[t]:
            h, c = new_h, new_c
            outputs[:, t] = new_h
            previous = new_h
        else:
            real = mask[:, t][:, None]
            h = np.where(real, new_h, h)
            c = np.where(real, new_c, c)
            outputs[:, t] = np.where(real, new_h, 0.0 if zero_masked else previous)
            previous = np.where(real, new_h, previous)
        if keep:
            step["h"], step["c"] = h, c
            for name in names:
                found[name][:, t] = step[name]
    for name in names:
        if name not in STATES:
            found[name][~mask] = np.nan  # a padded step discards what it computed
    trace.quantities = found
    trace.outputs = outputs
    trace.finals = [h, c] if cell is Cell.lstm else [h]
    if attend is None:
        return {}
    return {name: np.stack(values, axis=1) for name, values in attended.items()}


def vocabulary_size(network: Network, x_data: np.ndarray, weights: Mapping[str, Any]) -> int:
    """The vocabulary's size: x_data's last axis, or the rows of a weight over the vocab."""
    if np.ndim(x_data) == 3:
        return int(np.shape(x_data)[2])
    rows = [np.shape(weights[w.name])[0] for w in network.weights() if w.dims[0] == "vocab"]
    return int(rows[0]) if rows else 0


def trace(
    spec: ProbeSpec,
    x_data: np.ndarray,
    lengths: np.ndarray,
    weights: Mapping[str, np.ndarray],
    *,
    keep_steps: bool = True,
    initial: Sequence[np.ndarray] | None = None,
    memory: tuple[np.ndarray, np.ndarray] | None = None,
    starts: Sequence[np.ndarray] | None = None,
) -> Trace:
    """Every stage, every layer and direction step by step, from the model's input (one-hot
    x_data, or token ids), the lengths and the named weights.

    Without `keep_steps` only what Keras returns is kept (what `--check` compares).
    `initial` is the first layer's initial state (a decoder's, handed over by an encoder);
    `memory` the encoder's outputs and source mask that attention reads; `starts` every
    layer's and direction's initial states (`--initial-state`), in Keras's order.
    """
    w64 = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    network = spec.network(vocabulary_size(spec.network(0), x_data, w64))
    time = np.shape(x_data)[1]
    mask = np.arange(time)[None, :] < np.asarray(lengths)[:, None]
    flow = NumpyFlow(np.asarray(x_data), mask, w64, keep_steps, initial=initial, memory=memory,
                     starts=starts)  # fmt: skip
    for stage in network.stages:
        flow = forward(stage, flow)
    return Trace(traces=flow.traces, computed=flow.computed, mask=mask)


def recompute(
    spec: ProbeSpec,
    x_data: np.ndarray,
    lengths: np.ndarray,
    weights: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """`outputs` and every state by name (and `embedding`, `logits`, `probabilities` where
    the model has them), from its input, the lengths and the named weights."""
    return trace(spec, x_data, lengths, weights, keep_steps=False).computed


# -- the numpy face of each stage kind -------------------------------------------------------
@singledispatch
def forward(stage: Stage, flow: NumpyFlow) -> NumpyFlow:
    return flow  # a stage that makes nothing here (a loss: see `backprop.py`)


@forward.register
def _(stage: OneHotInput, flow: NumpyFlow) -> NumpyFlow:
    """One-hot or given x_data: read as float64."""
    flow.value = np.asarray(flow.value, dtype=np.float64)
    return flow


@forward.register
def _(stage: TokenIds, flow: NumpyFlow) -> NumpyFlow:
    flow.value = np.asarray(flow.value, dtype=np.int64)
    return flow


@forward.register
def _(stage: Embedding, flow: NumpyFlow) -> NumpyFlow:
    (table,) = (flow.weights[w.name] for w in stage.weights())
    flow.value = flow.computed["embedding"] = table[flow.value]
    return flow


@forward.register
def _(stage: Attention, flow: NumpyFlow) -> NumpyFlow:
    assert flow.memory is not None
    memory, source_mask = flow.memory
    weights = {w.name: flow.weights[w.name] for w in stage.weights()}
    enc = np.asarray(memory, dtype=np.float64)
    flow.attend = lambda h: attention_scores(weights, enc, h, source_mask)
    return flow


@forward.register
def _(stage: Recurrent, flow: NumpyFlow) -> NumpyFlow:
    value, last = flow.value, flow.value[:, -1]
    finals: list[np.ndarray] = []
    given = iter(flow.starts or ())
    for layer in stage.layers:
        # Bidirectional zeroes a masked step's output whenever the layer returns sequences.
        zero_masked = layer.bidirectional and layer.return_sequences
        runs = []
        for side in layer.directions:
            one = DirectionTrace(
                layer=layer,
                direction=side,
                weights={
                    k: flow.weights[w.name]
                    for k, w in zip(WEIGHT_NAMES, layer.weights(side), strict=True)
                },
                inputs=value,
            )
            starts = layer.first and not side
            own = [next(given) for _ in stage.cell.state_names] if flow.starts else None
            flow.computed.update(direction(
                stage.cell, one, flow.mask, reverse=side == "backward",
                zero_masked=zero_masked, keep=flow.keep,
                initial=flow.initial if starts and flow.initial is not None else own,
                attend=flow.attend if starts else None,
            ))  # fmt: skip
            runs.append(one)
            finals.extend(one.finals)
        flow.traces.extend(runs)
        if layer.bidirectional:
            value = stage.merge_mode.merge(runs[0].outputs, runs[1].outputs, _concatenate)
            last = stage.merge_mode.merge(runs[0].finals[0], runs[1].finals[0], _concatenate)
        else:
            value, last = runs[0].outputs, runs[0].finals[0]
    flow.value = flow.computed["outputs"] = value if stage.return_sequences else last
    if stage.return_state:
        flow.computed.update(zip(stage.state_names, finals, strict=True))
    return flow


def _concatenate(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    return np.concatenate([forward, backward], axis=-1)


@forward.register
def _(stage: Head, flow: NumpyFlow) -> NumpyFlow:
    """Dense runs on every step it is given, padded ones too."""
    kernel, bias = (flow.weights[w.name] for w in stage.weights())
    logits = flow.value @ kernel + bias
    flow.value = flow.computed["logits"] = logits
    given = activate("sigmoid", logits) if stage.activation == "sigmoid" else softmax(logits)
    flow.computed["probabilities"] = given
    return flow


@forward.register
def _(stage: ValueHead, flow: NumpyFlow) -> NumpyFlow:
    """One number per window from the last step: activation(outputs @ kernel + bias)."""
    kernel, bias = (flow.weights[w.name] for w in stage.weights())
    flow.value = flow.computed["predictions"] = activate(
        stage.activation, flow.value @ kernel + bias
    )
    return flow
