"""A probe: seed Keras, build the network's stages, call them on a Batch, name what came out."""

from __future__ import annotations

from dataclasses import replace
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.keras import build, env, private, runner
from rnnprobe.core.kinds import Style
from rnnprobe.core.result import Batch, CompareResult, ProbeResult, Tensor
from rnnprobe.core.stages import Embedding, Head, ProbeSpec, Recurrent, Stage, ValueHead


def collect_weights(named: build.Named, values: list[Any]) -> tuple[Tensor, ...]:
    return tuple(
        Tensor(name, tuple(dims), np.array(value, dtype=np.float32))  # a writable copy
        for (name, _, dims), value in zip(named, values, strict=True)
    )


def _values_from(named: build.Named, source: tuple[Tensor, ...]) -> list[Any]:
    if [name for name, _, _ in named] != [w.name for w in source]:
        raise AssertionError("the two styles do not have the same weights")
    return [weight.array for weight in source]


def run_probe(
    batch: Batch,
    spec: ProbeSpec,
    seed: int,
    *,
    weights_from: Any = None,
    strategy: str | None = None,
    expected: int = 1,
    initial: tuple[Tensor, ...] | None = None,
) -> ProbeResult:
    """Seed Keras, build the model, call it on the batch with its mask, collect the tensors.

    With `weights_from`, the freshly built layers take that result's weights (same names,
    same shapes) before the call. `strategy` is how the call runs (`runner.EAGER`,
    `UNROLLED` or `GRAPH`); by default the size of the work picks it, and a structure that
    comes often runs through a graph traced once for it (`runner.call_by_size`).
    `expected`: how many probes of this structure, this one included, the caller knows are
    coming (a batch counts its lines). `initial` (`--initial-state`): every state the layers
    start from, in Keras's order; such a call runs eagerly.
    """
    keras = env.load_keras()
    network = spec.network(batch.width)
    with env.build_lock:
        env.seed_keras(seed)
        with private.variables_deferred(keras):
            built = build.model(keras, network)
            build.build_weights(built, batch.rows, batch.time)
        named = build.named_variables(built)
        if weights_from is None:
            values = private.initial_values(named)
        else:
            values = _values_from(named, weights_from.weights)
        with env.tensorflow_logs_quiet():
            if initial is not None:
                starts = [t.array for t in initial]
                way = runner.UNROLLED if batch.time <= runner.UNROLL_UP_TO else runner.EAGER
                found = runner.call(built, named, values, spec, batch,
                                    strategy=strategy or way, initial=starts)  # fmt: skip
            elif strategy is None:
                found = runner.call_by_size(built, named, values, spec, batch, expected)
            else:
                found = runner.call(built, named, values, spec, batch, strategy=strategy)
        weights = collect_weights(named, values)
    tensors: dict[str, Any] = {}
    for stage in network.stages:
        tensors.update(named_tensors(stage, found))
    return ProbeResult(batch=batch, spec=spec, seed=seed, weights=weights,
                       initial_state=initial, **tensors)  # fmt: skip


def _array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


@singledispatch
def named_tensors(stage: Stage, found: dict[str, Any]) -> dict[str, Any]:
    """What a stage made in a call, as the result's named tensors (keyword: Tensor)."""
    return {}


@named_tensors.register
def _(stage: Embedding, found: dict[str, Any]) -> dict[str, Any]:
    dims = ("batch", "time", "embedding")
    return {"embedding": Tensor("embedding", dims, _array(found["embedding"]))}


@named_tensors.register
def _(stage: Recurrent, found: dict[str, Any]) -> dict[str, Any]:
    names, states = stage.state_names, found["states"]
    if len(names) != len(states):
        raise AssertionError(f"Keras returned {len(states)} states, expected {names}")
    axis = stage.output_axis
    dims = ("batch", "time", axis) if stage.return_sequences else ("batch", axis)
    return {
        "outputs": Tensor("outputs", dims, _array(found["outputs"])),
        "states": tuple(
            Tensor(name, ("batch", "hidden"), _array(state))
            for name, state in zip(names, states, strict=True)
        ),
    }


@named_tensors.register
def _(stage: Head, found: dict[str, Any]) -> dict[str, Any]:
    return {
        name: Tensor(name, stage.dims, _array(found[name])) for name in ("logits", "probabilities")
    }


@named_tensors.register
def _(stage: ValueHead, found: dict[str, Any]) -> dict[str, Any]:
    return {"predictions": Tensor("predictions", stage.dims, _array(found["predictions"]))}


def compare_styles(batch: Batch, spec: ProbeSpec, seed: int,
                   initial: tuple[Tensor, ...] | None = None) -> CompareResult:  # fmt: skip
    """Cell style and layer style with the same (copied) weights and the same initial
    state, tensor by tensor."""
    cell = run_probe(batch, replace(spec, style=Style.cell), seed, initial=initial)
    layer = run_probe(batch, replace(spec, style=Style.layer), seed, weights_from=cell,
                      initial=initial)  # fmt: skip
    diffs = {
        a.name: float(np.max(np.abs(a.array - b.array), initial=0.0))
        for a, b in zip(cell.returned, layer.returned, strict=True)
    }
    return CompareResult(cell=cell, layer=layer, max_abs_diff=diffs)
