"""Build the Keras RNN that a ProbeSpec describes, seed it, run it on a Batch.

This is the only module that imports TensorFlow, and it does so lazily (`load_keras`).
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from rnnprobe import progress
from rnnprobe.budget import FLOAT_BYTES, ensure_fits, human
from rnnprobe.keras_code import KERAS_CELL, KERAS_LAYER
from rnnprobe.result import (
    Batch,
    Cell,
    CompareResult,
    MergeMode,
    ProbeResult,
    ProbeSpec,
    Style,
    Tensor,
)

MAX_SEED = 2**32 - 1

_keras: Any = None
_load_lock = threading.Lock()
# Keras keeps its random seed in process-wide state: one probe at a time seeds and builds.
_build_lock = threading.Lock()


def new_seed() -> int:
    """A seed for a run that was given none; it is reported so the run can be repeated."""
    return secrets.randbelow(2**31)


@contextlib.contextmanager
def _stderr_fd_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ logging bypasses sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def load_keras() -> Any:
    """Import `tensorflow.keras` once, silencing what TensorFlow logs while it starts."""
    global _keras
    with _load_lock:
        if _keras is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            with progress.spinner("Loading TensorFlow…"), _stderr_fd_silenced():
                # Lazy on purpose: importing TensorFlow takes seconds, and `--help`,
                # `--version` and `vocab` must answer without paying for it.
                import tensorflow as tf
                from tensorflow import keras

                # The first device query and the first op log about CUDA and CPU features.
                tf.config.list_physical_devices()
                tf.zeros((1,)).numpy()
            _keras = keras
    return _keras


def estimate_bytes(spec: ProbeSpec, batch: int, time: int, vocab: int) -> tuple[int, str]:
    """Rough peak memory of a probe, and its largest single weight, before anything exists.

    Weights count four times (the orthogonal initializer works on copies), tensors three
    times (the recurrent loop keeps every step, and results are copied once to numpy).
    """
    gates = spec.cell.gates
    directions = 2 if spec.bidirectional else 1
    weights = 0
    largest = (0, "")
    width = vocab
    for units in spec.hidden:
        kernel, recurrent = width * gates * units, units * gates * units
        bias = gates * units * spec.cell.bias_rows
        weights += directions * (kernel + recurrent + bias)
        largest = max(
            largest,
            (recurrent, f"recurrent_kernel {(units, gates * units)}"),
            (kernel, f"kernel {(width, gates * units)}"),
        )
        concat = spec.bidirectional and spec.merge_mode is MergeMode.concat
        width = units * (2 if concat else 1)
    tensors = batch * time * vocab + sum(batch * time * n * directions for n in spec.hidden)
    total = FLOAT_BYTES * (4 * weights + 3 * tensors)
    return total, f"{largest[1]} alone is {human(FLOAT_BYTES * largest[0])}"


def check_memory(spec: ProbeSpec, batch: int, time: int, vocab: int) -> None:
    """Refuse, as a usage error, a probe that would not fit in memory."""
    total, detail = estimate_bytes(spec, batch, time, vocab)
    ensure_fits(total, "this probe", detail)


# The Keras class names come from keras_code, so the code shown is the code that runs.
def _cell(layers: Any, cell: Cell, units: int) -> Any:
    return getattr(layers, KERAS_CELL[cell.value])(units)


def _layer(layers: Any, cell: Cell, units: int, **returns: bool) -> Any:
    return getattr(layers, KERAS_LAYER[cell.value])(units, **returns)


def build(layers: Any, spec: ProbeSpec) -> list[Any]:
    """The recurrent layers of the probe, in the order they are called.

    Cell style without `--bidirectional` is one `layers.RNN` over one cell or a stack of
    cells. Otherwise each layer of a stack is its own layer (the cell style wraps each
    cell in `layers.RNN`), and `--bidirectional` wraps each layer, so that a second layer
    sees both directions of the first in both styles.
    """
    if spec.style is Style.cell and not spec.bidirectional:
        cells = [_cell(layers, spec.cell, n) for n in spec.hidden]
        return [
            layers.RNN(
                cells if len(cells) > 1 else cells[0],
                return_sequences=spec.return_sequences,
                return_state=spec.return_state,
            )
        ]
    built = []
    for number, units in enumerate(spec.hidden, start=1):
        returns = {
            "return_sequences": spec.return_sequences if number == len(spec.hidden) else True,
            "return_state": spec.return_state,
        }
        if spec.style is Style.cell:
            layer = layers.RNN(_cell(layers, spec.cell, units), **returns)
        else:
            layer = _layer(layers, spec.cell, units, **returns)
        if spec.bidirectional:
            layer = layers.Bidirectional(layer, merge_mode=spec.merge_mode.value)
        built.append(layer)
    return built


def _flatten(nested: Any) -> list[Any]:
    if isinstance(nested, (list, tuple)):
        return [leaf for item in nested for leaf in _flatten(item)]
    return [nested]


def _cells(layers: Any, built: list[Any]) -> list[tuple[int, str, Any]]:
    """(layer number, direction, cell) for every cell, in the order Keras built them."""
    found = []
    for number, layer in enumerate(built, start=1):
        if isinstance(layer, layers.Bidirectional):
            found.append((number, "forward", layer.forward_layer.cell))
            found.append((number, "backward", layer.backward_layer.cell))
        elif hasattr(layer.cell, "cells"):  # StackedRNNCells: one layer number per cell
            found.extend((i, "", c) for i, c in enumerate(layer.cell.cells, start=1))
        else:
            found.append((number, "", layer.cell))
    return found


def _weight_dims(spec: ProbeSpec, name: str, ndim: int, layer_number: int) -> tuple[str, ...]:
    gates = spec.cell.gates
    columns = "hidden" if gates == 1 else f"{gates}*hidden"
    if name == "kernel":
        return ("vocab" if layer_number == 1 else "input", columns)
    if name == "recurrent_kernel":
        return ("hidden", columns)
    return ("input/recurrent", columns) if ndim == 2 else (columns,)


def _named_variables(layers: Any, spec: ProbeSpec, built: list[Any]) -> list[tuple[str, Any, int]]:
    """(name, Keras variable, layer number) for every weight, in the order Keras built them."""
    stacked = len(spec.hidden) > 1
    found = []
    for number, direction, cell in _cells(layers, built):
        for variable in cell.weights:
            short = variable.name.split("/")[-1]
            name = "/".join(p for p in (str(number) if stacked else "", direction, short) if p)
            found.append((name, variable, number))
    return found


def _collect_weights(layers: Any, spec: ProbeSpec, built: list[Any]) -> tuple[Tensor, ...]:
    weights = []
    for name, variable, number in _named_variables(layers, spec, built):
        array = np.asarray(variable.numpy(), dtype=np.float32)
        short = name.rpartition("/")[2]
        weights.append(Tensor(name, _weight_dims(spec, short, array.ndim, number), array))
    return tuple(weights)


def _assign_weights(layers: Any, spec: ProbeSpec, built: list[Any], source: tuple[Tensor, ...]):
    targets = _named_variables(layers, spec, built)
    if [name for name, _, _ in targets] != [w.name for w in source]:
        raise AssertionError("the two styles do not have the same weights")
    for (_, variable, _), weight in zip(targets, source, strict=True):
        variable.assign(weight.array)


def _call(built: list[Any], spec: ProbeSpec, batch: Batch) -> tuple[Any, list[Any]]:
    """Call the layers in turn on x_data (with its mask when a word is padded)."""
    flow: Any = batch.x_data.array
    mask = batch.mask if batch.padded else None
    states: list[Any] = []
    for layer in built:
        returned = layer(flow, mask=mask)
        if spec.return_state:
            flow, *rest = returned
            states.extend(_flatten(rest))
        else:
            flow = returned
    return flow, states


def seed_keras(seed: int) -> None:
    """Seed what a probe's weights depend on, as `keras.utils.set_random_seed` would.

    Keras draws each initializer's seed from Python's `random` when a layer is constructed,
    so Python's and NumPy's generators are all a probe needs (a test pins the equivalence
    with `keras.utils.set_random_seed`, which the `--code` script calls). TensorFlow's
    global seed is left alone on purpose: `tf.random.set_seed` clears TensorFlow's kernel
    cache, which made every later probe in the same process about 40 % slower.
    """
    random.seed(seed)
    np.random.seed(seed)


def run_probe(
    batch: Batch, spec: ProbeSpec, seed: int, *, weights_from: ProbeResult | None = None
) -> ProbeResult:
    """Seed Keras, build the RNN, call it on the batch with its mask, collect the tensors.

    With `weights_from`, the freshly built layers take that result's weights (same names,
    same shapes) before the call whose tensors are reported.
    """
    keras = load_keras()
    layers = keras.layers
    with _build_lock:
        seed_keras(seed)
        built = build(layers, spec)
        flow, returned_states = _call(built, spec, batch)
        if weights_from is not None:
            _assign_weights(layers, spec, built, weights_from.weights)
            flow, returned_states = _call(built, spec, batch)
        weights = _collect_weights(layers, spec, built)
    names = spec.state_names
    if len(names) != len(returned_states):
        raise AssertionError(f"Keras returned {len(returned_states)} states, expected {names}")
    concat = spec.bidirectional and spec.merge_mode is MergeMode.concat
    hidden_axis = "2*hidden" if concat else "hidden"
    out_dims = ("batch", "time", hidden_axis) if spec.return_sequences else ("batch", hidden_axis)
    return ProbeResult(
        batch=batch,
        spec=spec,
        seed=seed,
        outputs=Tensor("outputs", out_dims, np.asarray(flow, dtype=np.float32)),
        states=tuple(
            Tensor(name, ("batch", "hidden"), np.asarray(state, dtype=np.float32))
            for name, state in zip(names, returned_states, strict=True)
        ),
        weights=weights,
    )


def compare_styles(batch: Batch, spec: ProbeSpec, seed: int) -> CompareResult:
    """Cell style and layer style with the same (copied) weights, tensor by tensor."""
    cell = run_probe(batch, replace(spec, style=Style.cell), seed)
    layer = run_probe(batch, replace(spec, style=Style.layer), seed, weights_from=cell)
    diffs = {
        a.name: float(np.max(np.abs(a.array - b.array), initial=0.0))
        for a, b in zip((cell.outputs, *cell.states), (layer.outputs, *layer.states), strict=True)
    }
    return CompareResult(cell=cell, layer=layer, max_abs_diff=diffs)
