"""rnnprobe's numpy backpropagation: a trained network's loss, and its gradient with respect
to every weight and to every state h_t, through the stages, in float64.

Independent of TensorFlow's (and PyTorch's) autodiff: each stage kind has a forward that
keeps what its backward needs, and a backward written out from the equations of
`equations.py`. Through time, dL/dh_t is the total derivative: what reaches h_t from the
loss through the outputs and through every later step of the recurrence (backpropagation
through time). A padded step keeps the state (h_t = h_(t-1)), so what reaches it passes on
to the last real step; its own dL/dh_t is reported as 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.kinds import WEIGHT_NAMES, Cell
from rnnprobe.core.numpy.cell_steps import STEPS
from rnnprobe.core.numpy.equations import activate, activation_slope
from rnnprobe.core.stages import (
    Embedding,
    Head,
    Layer,
    Loss,
    Objective,
    OneHotInput,
    ProbeSpec,
    Recurrent,
    SquaredLoss,
    Stage,
    StepLoss,
    TokenIds,
    ValueHead,
)


@dataclass
class Pass:
    """What flows forward through the stages, what each keeps, and what flows back."""

    value: Any
    mask: np.ndarray  # (batch, time) booleans: the real steps
    weights: Mapping[str, np.ndarray]  # float64, by name
    targets: np.ndarray  # class ids, (batch,) or (batch, time)
    loss_weights: np.ndarray | None  # how much each target counts, or None: as the loss says
    kept: dict[int, Any] = field(default_factory=dict)  # per stage (by id), for its backward
    found: dict[str, np.ndarray] = field(default_factory=dict)  # logits, loss, step_losses
    gradients: dict[str, np.ndarray] = field(default_factory=dict)  # by weight name
    state_gradients: dict[str, np.ndarray] = field(default_factory=dict)  # by state name
    starts: Mapping[str, np.ndarray] | None = None  # `--initial-state`, by state name

    def add(self, name: str, gradient: np.ndarray) -> None:
        self.gradients[name] = self.gradients.get(name, 0.0) + gradient


@dataclass(frozen=True)
class Gradients:
    """The loss at the given weights, and its gradients."""

    loss: float
    step_losses: np.ndarray  # -log p(target): (batch,) or (batch, time), 0 at padded steps
    logits: np.ndarray  # the model's output: logits, or a value head's predictions
    gradients: dict[str, np.ndarray]  # every weight, frozen ones too
    state_gradients: dict[str, np.ndarray]  # dL/dh_t (batch, time, hidden) per layer, direction


def backprop(
    spec: ProbeSpec,
    x_data: np.ndarray,
    lengths: Any,
    weights: Mapping[str, np.ndarray],
    targets: np.ndarray,
    *,
    loss_weights: np.ndarray | None = None,
    starts: Mapping[str, np.ndarray] | None = None,
) -> Gradients:
    """The loss of the network `spec` describes (with its loss stage) on its input, and
    every gradient. `loss_weights` replaces how much each target counts (`--at T`);
    `starts` (`--initial-state`) is every state's start, by name (zeros without)."""
    from rnnprobe.core.numpy.engine import vocabulary_size

    w64 = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    network = spec.network(vocabulary_size(spec.network(0), x_data, w64))
    time = np.shape(x_data)[1]
    mask = np.arange(time)[None, :] < np.asarray(lengths)[:, None]
    flow = Pass(np.asarray(x_data), mask, w64, np.asarray(targets), loss_weights, starts=starts)
    for stage in network.stages:
        forward(stage, flow)
    back: Any = None
    for stage in reversed(network.stages):
        back = backward(stage, flow, back)
    return Gradients(
        loss=float(flow.found["loss"]),
        step_losses=flow.found["step_losses"],
        logits=flow.found["logits"] if "logits" in flow.found else flow.found["predictions"],
        gradients=flow.gradients,
        state_gradients=flow.state_gradients,
    )


# -- forward, keeping what the backward needs ------------------------------------------------
@singledispatch
def forward(stage: Stage, flow: Pass) -> None:
    raise TypeError(f"no numpy backpropagation through {type(stage).__name__}")


@singledispatch
def backward(stage: Stage, flow: Pass, d: Any) -> Any:
    raise TypeError(f"no numpy backpropagation through {type(stage).__name__}")


@forward.register
def _(stage: OneHotInput, flow: Pass) -> None:
    flow.value = np.asarray(flow.value, dtype=np.float64)


@backward.register
def _(stage: OneHotInput, flow: Pass, d: Any) -> Any:
    return None  # the input has no weights


@forward.register
def _(stage: TokenIds, flow: Pass) -> None:
    flow.value = np.asarray(flow.value, dtype=np.int64)


@backward.register
def _(stage: TokenIds, flow: Pass, d: Any) -> Any:
    return None


@forward.register
def _(stage: Embedding, flow: Pass) -> None:
    (weight,) = stage.weights()
    flow.kept[id(stage)] = flow.value
    flow.value = flow.weights[weight.name][flow.value]


@backward.register
def _(stage: Embedding, flow: Pass, d: np.ndarray) -> Any:
    (weight,) = stage.weights()
    table = np.zeros_like(flow.weights[weight.name])
    np.add.at(table, flow.kept[id(stage)], d)  # each row: the sum over where its id appears
    flow.add(weight.name, table)
    return None


@forward.register
def _(stage: Head, flow: Pass) -> None:
    kernel, bias = (flow.weights[w.name] for w in stage.weights())
    flow.kept[id(stage)] = flow.value
    flow.value = flow.found["logits"] = flow.value @ kernel + bias


@backward.register
def _(stage: Head, flow: Pass, d: np.ndarray) -> np.ndarray:
    kernel_w, bias_w = stage.weights()
    given = flow.kept[id(stage)]
    rows = given.reshape(-1, given.shape[-1])
    flow.add(kernel_w.name, rows.T @ d.reshape(-1, d.shape[-1]))
    flow.add(bias_w.name, d.reshape(-1, d.shape[-1]).sum(axis=0))
    d_in: np.ndarray = d @ flow.weights[kernel_w.name].T
    return d_in


@forward.register
def _(stage: ValueHead, flow: Pass) -> None:
    kernel, bias = (flow.weights[w.name] for w in stage.weights())
    out = activate(stage.activation, flow.value @ kernel + bias)
    flow.kept[id(stage)] = (flow.value, out)
    flow.value = flow.found["predictions"] = out


@backward.register
def _(stage: ValueHead, flow: Pass, d: np.ndarray) -> np.ndarray:
    kernel_w, bias_w = stage.weights()
    given, out = flow.kept[id(stage)]
    d_pre = d * activation_slope(stage.activation, out)
    flow.add(kernel_w.name, given.T @ d_pre)
    flow.add(bias_w.name, d_pre.sum(axis=0))
    d_in: np.ndarray = d_pre @ flow.weights[kernel_w.name].T
    return d_in


@forward.register
def _(stage: SquaredLoss, flow: Pass) -> None:
    """(prediction - target)^2 per window, and their weighted sum: the mean by default."""
    diff = flow.value - flow.targets.astype(np.float64)
    losses = np.mean(diff**2, axis=-1)
    rows = losses.shape[0]
    counted = flow.loss_weights if flow.loss_weights is not None else np.full(rows, 1.0 / rows)
    flow.found["step_losses"] = losses
    flow.found["loss"] = np.asarray(np.sum(losses * counted))
    flow.kept[id(stage)] = (diff, counted)


@backward.register
def _(stage: SquaredLoss, flow: Pass, d: Any) -> np.ndarray:
    diff, counted = flow.kept[id(stage)]
    result: np.ndarray = 2.0 * diff / diff.shape[-1] * counted[:, None]
    return result


@forward.register
def _(stage: Loss, flow: Pass) -> None:
    """-log p(target) for each word (or step), and their weighted sum: the mean over the
    words, or the masked mean over the real steps."""
    logits = flow.value
    shifted = logits - np.max(logits, axis=-1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))
    targets = flow.targets.astype(np.int64)
    losses = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    counted = flow.loss_weights if flow.loss_weights is not None else loss_weights(stage, flow.mask)
    real = np.ones_like(losses) if not stage.each_step else flow.mask.astype(np.float64)
    flow.found["step_losses"] = losses * real
    flow.found["loss"] = np.asarray(np.sum(losses * counted))
    flow.kept[id(stage)] = (np.exp(log_p), targets, counted)


@backward.register
def _(stage: Loss, flow: Pass, d: Any) -> np.ndarray:
    probabilities, targets, counted = flow.kept[id(stage)]
    d_logits = probabilities.copy()
    np.put_along_axis(
        d_logits, targets[..., None],
        np.take_along_axis(d_logits, targets[..., None], axis=-1) - 1.0, axis=-1,
    )  # fmt: skip
    result: np.ndarray = d_logits * counted[..., None]
    return result


@singledispatch
def loss_weights(stage: Objective, mask: np.ndarray) -> np.ndarray:
    """How much each word counts: 1/B."""
    rows = mask.shape[0]
    return np.full(rows, 1.0 / rows)


@loss_weights.register
def _(stage: StepLoss, mask: np.ndarray) -> np.ndarray:
    """How much each step counts: 1/(the number of real steps) at a real step, else 0."""
    real = mask.astype(np.float64)
    counted: np.ndarray = real / real.sum()
    return counted


# -- the recurrent stack ---------------------------------------------------------------------
def _concatenate(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    return np.concatenate([forward, backward], axis=-1)


@dataclass
class _Direction:
    """One layer and direction: its weights, what it read, and each step's cache."""

    layer: Layer
    side: str
    weights: dict[str, np.ndarray]  # kernel, recurrent_kernel, bias
    inputs: np.ndarray  # (batch, time, width)
    states: np.ndarray = field(default_factory=lambda: np.zeros(0))  # h after each step
    caches: dict[int, Any] = field(default_factory=dict)

    @property
    def order(self) -> list[int]:
        time = self.inputs.shape[1]
        return list(reversed(range(time))) if self.side == "backward" else list(range(time))

    @property
    def final(self) -> int:
        """The step whose state the direction ends with."""
        return self.order[-1]


@forward.register
def _(stage: Recurrent, flow: Pass) -> None:
    value, last = flow.value, None
    runs: list[list[_Direction]] = []
    for layer in stage.layers:
        zero_masked = layer.bidirectional and layer.return_sequences
        found = []
        for side in layer.directions:
            named = dict(zip(WEIGHT_NAMES, (flow.weights[w.name] for w in layer.weights(side)),
                             strict=True))  # fmt: skip
            run = _Direction(layer, side, named, value)
            begun = (
                None if flow.starts is None else [flow.starts[n] for n in layer.state_names(side)]
            )
            _run(stage.cell, run, flow.mask, begun)
            found.append(run)
        outs = [r.states * (flow.mask[..., None] if zero_masked else 1.0) for r in found]
        finals = [r.states[:, r.final] for r in found]
        if layer.bidirectional:
            value = stage.merge_mode.merge(outs[0], outs[1], _concatenate)
            last = stage.merge_mode.merge(finals[0], finals[1], _concatenate)
        else:
            value, last = outs[0], finals[0]
        runs.append(found)
    flow.kept[id(stage)] = runs
    flow.value = value if stage.return_sequences else last


@backward.register
def _(stage: Recurrent, flow: Pass, d: np.ndarray) -> np.ndarray:
    runs: list[list[_Direction]] = flow.kept[id(stage)]
    mask = flow.mask
    d_out: np.ndarray | None = d if stage.return_sequences else None
    d_last: np.ndarray | None = None if stage.return_sequences else d
    for layer, found in reversed(list(zip(stage.layers, runs, strict=True))):
        zero_masked = layer.bidirectional and layer.return_sequences
        outs = [r.states * (mask[..., None] if zero_masked else 1.0) for r in found]
        finals = [r.states[:, r.final] for r in found]
        per_out = _split(stage, layer, d_out, outs)
        per_last = _split(stage, layer, d_last, finals)
        d_in: np.ndarray | float = 0.0
        for run, out_d, last_d in zip(found, per_out, per_last, strict=True):
            d_states = np.zeros_like(run.states)
            if out_d is not None:
                d_states += out_d * (mask[..., None] if zero_masked else 1.0)
            if last_d is not None:
                d_states[:, run.final] += last_d
            d_in = d_in + _back(stage.cell, run, mask, d_states, flow)
        d_out, d_last = np.asarray(d_in), None
    assert d_out is not None
    return d_out


def _split(
    stage: Recurrent, layer: Layer, d: np.ndarray | None, parts: list[np.ndarray]
) -> list[np.ndarray | None]:
    """The gradient of what a layer passed on, split between its directions."""
    if d is None:
        return [None] * len(parts)
    if not layer.bidirectional:
        return [d]
    return list(stage.merge_mode.split_gradient(d, parts[0], parts[1]))


def _run(cell: Cell, run: _Direction, mask: np.ndarray,
         starts: list[np.ndarray] | None = None) -> None:  # fmt: skip
    """The direction's forward pass from `starts` (h, and c; zeros without), keeping every
    step's cache."""
    w = run.weights
    step = STEPS[(cell, w["bias"].ndim)][0]
    batch, time, _ = run.inputs.shape
    units = w["recurrent_kernel"].shape[0]
    products = run.inputs @ w["kernel"]
    h, c = np.zeros((batch, units)), np.zeros((batch, units))
    if starts is not None:
        h = np.asarray(starts[0], dtype=np.float64)
        c = np.asarray(starts[1], dtype=np.float64) if len(starts) > 1 else c
    run.states = np.zeros((batch, time, units))
    for t in run.order:
        new_h, new_c, cache = step(w, products[:, t], h, c)
        real = mask[:, t][:, None]
        h, c = np.where(real, new_h, h), np.where(real, new_c, c)
        run.states[:, t] = h
        run.caches[t] = cache


def _back(
    cell: Cell, run: _Direction, mask: np.ndarray, d_states: np.ndarray, flow: Pass
) -> np.ndarray:
    """Backpropagation through time for one direction: dL/dh_t at every step (kept by
    state name), the weights' gradients, and the gradient of what it read."""
    w = run.weights
    back = STEPS[(cell, w["bias"].ndim)][1]
    grads = {name: np.zeros_like(value) for name, value in w.items()}
    d_products = np.zeros((*run.inputs.shape[:2], w["kernel"].shape[1]))
    total = np.zeros_like(run.states)
    carry_h = np.zeros_like(run.states[:, 0])
    carry_c = np.zeros_like(carry_h)
    for t in reversed(run.order):
        real = mask[:, t][:, None].astype(np.float64)
        delta = d_states[:, t] + carry_h  # all that reaches h_t
        total[:, t] = delta * real
        d_x, d_h, d_c = back(w, run.caches[t], real * delta, real * carry_c, grads)
        d_products[:, t] = d_x
        carry_h = (1.0 - real) * delta + d_h
        carry_c = (1.0 - real) * carry_c + d_c
    grads["kernel"] += np.einsum("btw,btg->wg", run.inputs, d_products)
    x_bias_grad = d_products.sum(axis=(0, 1))
    if grads["bias"].ndim == 2:
        grads["bias"][0] += x_bias_grad
    else:
        grads["bias"] += x_bias_grad
    for weight in run.layer.weights(run.side):
        flow.add(weight.name, grads[weight.name.rpartition("/")[2]])
    flow.state_gradients[run.layer.state_names(run.side)[0]] = total
    d_in: np.ndarray = d_products @ w["kernel"].T
    return d_in
