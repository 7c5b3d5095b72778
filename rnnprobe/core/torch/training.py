"""The PyTorch twin, differentiated and trained: `grads --torch` and `train --torch`.

The twin's modules (`conversion.py`) hold the converted weights; here each layer and
direction runs step by step through a PyTorch cell that shares those parameters, masked as
Keras masks (a padded step keeps the state), with every h_t kept (`retain_grad()`). The
loss is the same stage as Keras's (`loss_of`); the gradients come back to Keras's names
through the conversion rules read backwards (`keras_named`). Training uses
`torch.optim.Adam` with Keras's epsilon (1e-07, put where PyTorch adds it: `keras_epsilon`;
PyTorch's default is 1e-08), on the same batches in the same order. torch itself is passed
in by `twin.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.kinds import Cell
from rnnprobe.core.stages import (
    Embedding,
    Head,
    Layer,
    Loss,
    Network,
    Recurrent,
    Stage,
    StepLoss,
    TokenIds,
)
from rnnprobe.core.torch import conversion

KERAS_EPSILON = 1e-7  # Keras's Adam; PyTorch's default is 1e-08
BETA_2 = 0.999  # both Adams' default


def keras_epsilon(step: int) -> float:
    """The epsilon PyTorch's Adam needs at `step` (from 1) to take Keras's step.

    Keras divides by sqrt(v) + eps and then corrects the bias; PyTorch corrects the bias
    of sqrt(v) first and adds eps after: eps / sqrt(1 - beta_2^t) in PyTorch's place is
    Keras's eps in Keras's.
    """
    return KERAS_EPSILON / (1.0 - BETA_2**step) ** 0.5


@dataclass
class Step:
    """What flows through the twin's stepwise pass."""

    value: Any
    mask: Any  # (batch, time) bool tensor
    targets: Any
    loss_weights: Any
    found: dict[str, Any]
    states: dict[str, list[Any]]  # h_t per step, retained, by Keras's state name
    starts: dict[str, np.ndarray] | None = None  # `--initial-state`, by Keras's state name


def _cell(torch: Any, layer: Layer, module: Any, suffix: str) -> Any:
    """A PyTorch cell that shares one layer and direction's parameters with the module."""
    made = getattr(torch.nn, f"{layer.cell.torch_class}Cell")(layer.input_width, layer.units)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(made, name, getattr(module, f"{name}_{suffix}"))
    return made


def _places(stage: Recurrent) -> list[tuple[Layer, str, str, str]]:
    """(layer, direction, module name, parameter suffix) for every layer and direction."""
    found = []
    for group in conversion.groups(stage):
        for k, layer in enumerate(group.layers):
            for side in layer.directions:
                suffix = f"l{k}" + ("_reverse" if side == "backward" else "")
                found.append((layer, side, group.name, suffix))
    return found


@singledispatch
def stepwise(stage: Stage, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    flow.value = torch.from_numpy(np.asarray(flow.value, dtype=np.float32))


@stepwise.register
def _(stage: TokenIds, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    flow.value = torch.from_numpy(np.asarray(flow.value).astype(np.int64))


@stepwise.register
def _(stage: Embedding, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    flow.value = modules["embedding"](flow.value)


@stepwise.register
def _(stage: Recurrent, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    places = iter(_places(stage))
    value, last = flow.value, None
    for layer in stage.layers:
        runs = []
        for side in layer.directions:
            _, _, module, suffix = next(places)
            cell = _cell(torch, layer, modules[module], suffix)
            runs.append(_direction(torch, stage.cell, cell, layer, side, value, flow))
        join = conversion._concatenate(torch)
        if layer.bidirectional:
            value = stage.merge_mode.merge(runs[0][0], runs[1][0], join)
            last = stage.merge_mode.merge(runs[0][1], runs[1][1], join)
        else:
            value, last = runs[0]
    flow.found["output"], flow.found["final"] = value, last
    flow.value = value if stage.return_sequences else last


def _direction(torch: Any, kind: Cell, cell: Any, layer: Layer, side: str, x: Any,
               flow: Step) -> tuple[Any, Any]:  # fmt: skip
    rows, time = flow.mask.shape
    h = torch.zeros(rows, layer.units)
    c = torch.zeros(rows, layer.units)
    if flow.starts is not None:  # h0 (and c0), as the states table names them
        h, *rest = (torch.from_numpy(np.asarray(flow.starts[n], dtype=np.float32))
                    for n in layer.state_names(side))  # fmt: skip
        c = rest[0] if rest else c
    steps = range(time - 1, -1, -1) if side == "backward" else range(time)
    kept: list[Any] = [None] * time
    for t in steps:
        if kind is Cell.lstm:
            new_h, new_c = cell(x[:, t], (h, c))
        else:
            new_h, new_c = cell(x[:, t], h), c
        real = flow.mask[:, t][:, None]
        h, c = torch.where(real, new_h, h), torch.where(real, new_c, c)
        h.retain_grad()
        kept[t] = h
    flow.states[layer.state_names(side)[0]] = kept
    return torch.stack(kept, 1), kept[steps[-1]]


@stepwise.register
def _(stage: Head, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    flow.value = flow.found["logits"] = modules["head"](flow.value)


@stepwise.register
def _(stage: Loss, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    losses = _cross_entropy(torch, flow)
    if flow.loss_weights is None:
        flow.found["loss"] = losses.mean()
    else:
        flow.found["loss"] = (losses * flow.loss_weights).sum()


@stepwise.register
def _(stage: StepLoss, modules: dict[str, Any], flow: Step, torch: Any) -> None:
    losses = _cross_entropy(torch, flow)
    real = flow.mask.to(losses.dtype)
    if flow.loss_weights is None:
        flow.found["loss"] = (losses * real).sum() / real.sum()
    else:
        flow.found["loss"] = (losses * flow.loss_weights).sum()


def _cross_entropy(torch: Any, flow: Step) -> Any:
    logits = flow.value
    return torch.nn.functional.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), flow.targets.reshape(-1), reduction="none"
    ).reshape(flow.targets.shape)


def run(torch: Any, network: Network, modules: dict[str, Any], x: np.ndarray, mask: np.ndarray,
        targets: np.ndarray, loss_weights: np.ndarray | None = None,
        starts: dict[str, np.ndarray] | None = None) -> Step:  # fmt: skip
    """The twin's stepwise pass to the loss (with the graph kept for `backward()`), from
    `starts` (`--initial-state`, by state name) or zeros."""
    flow = Step(
        x, torch.from_numpy(np.asarray(mask)), torch.from_numpy(targets.astype(np.int64)),
        None if loss_weights is None else torch.from_numpy(loss_weights.astype(np.float32)),
        {}, {}, starts,
    )  # fmt: skip
    for stage in network.stages:
        stepwise(stage, modules, flow, torch)
    return flow


# -- the conversion rules, read backwards ----------------------------------------------------
@singledispatch
def keras_named(stage: Stage, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A stage's PyTorch tensors (weights or their gradients) under Keras's names."""
    return {}


@keras_named.register
def _(stage: Embedding, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    (weight,) = stage.weights()
    return {weight.name: state["embedding.weight"]} if "embedding.weight" in state else {}


def _keras_blocks(cell: Cell, array: np.ndarray, units: int) -> np.ndarray:
    """Columns in PyTorch's gate order back in Keras's."""
    order = cell.torch_gate_order
    back = [order.index(k) for k in range(len(order))]
    blocks = [array[..., k * units : (k + 1) * units] for k in range(len(order))]
    return np.concatenate([blocks[k] for k in back], axis=-1)


@keras_named.register
def _(stage: Recurrent, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    found = {}
    for layer, side, module, suffix in _places(stage):
        names = {w.name.rpartition("/")[2]: w for w in layer.weights(side)}
        prefix = f"{module}."
        found[names["kernel"].name] = _keras_blocks(
            stage.cell, state[f"{prefix}weight_ih_{suffix}"].T, layer.units
        )
        found[names["recurrent_kernel"].name] = _keras_blocks(
            stage.cell, state[f"{prefix}weight_hh_{suffix}"].T, layer.units
        )
        bias_ih = _keras_blocks(stage.cell, state[f"{prefix}bias_ih_{suffix}"], layer.units)
        bias_hh = _keras_blocks(stage.cell, state[f"{prefix}bias_hh_{suffix}"], layer.units)
        two = len(names["bias"].shape) == 2
        found[names["bias"].name] = np.stack([bias_ih, bias_hh]) if two else bias_ih + bias_hh
    return found


@keras_named.register
def _(stage: Head, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    kernel, bias = stage.weights()
    return {kernel.name: state["head.weight"].T, bias.name: state["head.bias"]}


def frozen_parameters(network: Network, modules: dict[str, Any],
                      frozen: Sequence[str]) -> list[str]:  # fmt: skip
    """The twin's parameters that Keras does not train: a frozen Embedding's table, and a
    single-bias cell's `bias_hh` (Keras has one bias: training both would double its step)."""
    found = ["embedding.weight"] if any(n.endswith("embeddings") for n in frozen) else []
    recurrent = network.recurrent
    for layer, _, module, suffix in _places(recurrent):
        if layer.cell.bias_rows == 1:
            found.append(f"{module}.bias_hh_{suffix}")
    return found
