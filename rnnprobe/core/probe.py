"""Build the Keras RNN that a ProbeSpec describes, seed it, run it on a Batch.

This is the only module that imports TensorFlow, and it does so lazily (`load_keras`).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.result import (
    WEIGHT_NAMES,
    Batch,
    Cell,
    CompareResult,
    Layer,
    MergeMode,
    ProbeResult,
    ProbeSpec,
    Style,
    Tensor,
)
from rnnprobe.show import progress

_keras: Any = None
_load_lock = threading.Lock()
# Keras keeps its random seed in process-wide state: one probe at a time seeds and builds.
_build_lock = threading.Lock()


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


@contextlib.contextmanager
def _tensorflow_logs_quiet() -> Iterator[None]:
    """Keep TensorFlow's Python warnings off stderr while a probe runs.

    Each probe that runs as a graph traces its own tf.function, and TensorFlow warns about
    "retracing" after a few; the warning is about TensorFlow's use, not the user's input.
    The logger's level is put back afterwards, so a notebook keeps its own settings.
    """
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


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


def build(layers: Any, spec: ProbeSpec) -> list[Any]:
    """The Keras layers of the probe, in the order they are called.

    Cell style without bidirectional is one `layers.RNN` over one cell or a stack of
    cells. Otherwise each layer of a stack is its own layer (the cell style wraps each
    cell in `layers.RNN`), and bidirectional wraps each layer, so that a second layer
    sees both directions of the first in both styles.
    """
    planned = spec.layers(0)
    if spec.style is Style.cell and not spec.bidirectional:
        cells = [getattr(layers, spec.cell.keras_cell)(layer.units) for layer in planned]
        return [
            layers.RNN(
                cells if len(cells) > 1 else cells[0],
                return_sequences=spec.return_sequences,
                return_state=spec.return_state,
            )
        ]
    built = []
    for layer in planned:
        returns = {
            "return_sequences": layer.return_sequences,
            "return_state": spec.return_state,
        }
        if spec.style is Style.cell:
            keras_layer = layers.RNN(getattr(layers, spec.cell.keras_cell)(layer.units), **returns)
        else:
            keras_layer = getattr(layers, spec.cell.keras_layer)(layer.units, **returns)
        if spec.bidirectional:
            keras_layer = layers.Bidirectional(keras_layer, merge_mode=spec.merge_mode.value)
        built.append(keras_layer)
    return built


def _flatten(nested: Any) -> list[Any]:
    if isinstance(nested, (list, tuple)):
        return [leaf for item in nested for leaf in _flatten(item)]
    return [nested]


def _keras_cells(layers: Any, built: list[Any]) -> list[Any]:
    """Every Keras cell, in the order of the layers and directions of `ProbeSpec.layers`."""
    found = []
    for keras_layer in built:
        if isinstance(keras_layer, layers.Bidirectional):
            found += [keras_layer.forward_layer.cell, keras_layer.backward_layer.cell]
        elif hasattr(keras_layer.cell, "cells"):  # StackedRNNCells: one cell per layer
            found += list(keras_layer.cell.cells)
        else:
            found.append(keras_layer.cell)
    return found


def _named_variables(
    layers: Any, planned: tuple[Layer, ...], built: list[Any]
) -> list[tuple[str, Any, Layer]]:
    """(name, Keras variable, layer) for every weight, in the order Keras built them."""
    places = [(layer, d) for layer in planned for d in layer.directions]
    cells = _keras_cells(layers, built)
    if len(cells) != len(places):
        raise AssertionError(f"Keras built {len(cells)} cells, expected {len(places)}")
    found = []
    for (layer, direction), cell in zip(places, cells, strict=True):
        by_name = {variable.name.split("/")[-1]: variable for variable in cell.weights}
        for name in WEIGHT_NAMES:
            found.append((layer.prefix(direction) + name, by_name[name], layer))
    return found


def _collect_weights(named: list[tuple[str, Any, Layer]]) -> tuple[Tensor, ...]:
    weights = []
    for name, variable, layer in named:
        array = np.asarray(variable.numpy(), dtype=np.float32)
        weights.append(Tensor(name, layer.weight_dims(name.rpartition("/")[2]), array))
    return tuple(weights)


def _assign_weights(named: list[tuple[str, Any, Layer]], source: tuple[Tensor, ...]) -> None:
    if [name for name, _, _ in named] != [w.name for w in source]:
        raise AssertionError("the two styles do not have the same weights")
    for (_, variable, _), weight in zip(named, source, strict=True):
        variable.assign(weight.array)


# How the layers are called: eagerly, or as one TensorFlow graph. The numbers are the same
# to the bit (tests pin it for every cell and structure); only the time differs. Keras's
# eager loop costs about 1 ms a step, a graph about 40 ms per layer to trace and then
# little per step. (Keras's `unroll` would be faster still for short words, but with a
# mask it gives a backward direction other numbers, so it is not used.)
EAGER, GRAPH = "eager", "graph"
GRAPH_FROM_STEPS = 64  # from this many steps on, a graph
RUNNERS_KEPT = 8


@dataclass
class _Runner:
    """Layers of one structure, traced once as a graph; each probe copies its weights in.

    A batch or a server runs the same structure again and again: the trace is paid once,
    and a probe's layers are still built (so its weights are what its seed gives), but
    called through this graph instead of Keras's eager loop.
    """

    built: list[Any]
    named: list[tuple[str, Any, Layer]]
    graph: Any


_runners: OrderedDict[tuple[Any, ...], _Runner] = OrderedDict()
_seen: set[tuple[Any, ...]] = set()


def _build_layers(built: list[Any], planned: tuple[Layer, ...], batch: Batch) -> None:
    """Create the weights now, exactly as a first call would, without calling."""
    rows, steps = batch.x_data.shape[:2]
    widths = (
        [planned[0].input_width] if len(built) < len(planned) else [p.input_width for p in planned]
    )
    for layer, width in zip(built, widths, strict=True):
        layer.build((rows, steps, width))


def _flow(built: list[Any], spec: ProbeSpec, x: Any, mask: Any) -> tuple[Any, list[Any]]:
    """Call the layers in turn: the last one's outputs, and every returned state."""
    flow = x
    states: list[Any] = []
    for layer in built:
        returned = layer(flow, mask=mask)
        if spec.return_state:
            flow, *rest = returned
            states.extend(_flatten(rest))
        else:
            flow = returned
    return flow, states


def _graph(built: list[Any], spec: ProbeSpec) -> Any:
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    # No autograph: Keras writes its loop with tf.while_loop, and converting the code
    # would double the time a trace takes.
    return tf.function(lambda x, mask: _flow(built, spec, x, mask), autograph=False)


def _call(
    built: list[Any], spec: ProbeSpec, batch: Batch, *, strategy: str
) -> tuple[Any, list[Any]]:
    """Call the layers on x_data (with its mask when a word is padded), by `strategy`."""
    x = batch.x_data.array
    mask = batch.mask if batch.padded else None
    if strategy != GRAPH:
        return _flow(built, spec, x, mask)
    return _graph(built, spec)(x, mask)


def _call_by_size(
    built: list[Any], named: list[tuple[str, Any, Layer]], spec: ProbeSpec, batch: Batch
) -> tuple[Any, list[Any]]:
    """Call through the runner kept for this structure, making one when it pays.

    A long word gets one at once; a short one the second time its structure comes.
    """
    key = (spec, batch.x_data.shape, batch.padded)
    runner = _runners.get(key)
    mask = batch.mask if batch.padded else None
    if runner is not None:
        _runners.move_to_end(key)
        for (_, target, _), (_, source, _) in zip(runner.named, named, strict=True):
            target.assign(source)
        return runner.graph(batch.x_data.array, mask)
    long = batch.x_data.shape[1] >= GRAPH_FROM_STEPS
    if not long and key not in _seen:
        _seen.add(key)
        return _call(built, spec, batch, strategy=EAGER)
    runner = _Runner(built=built, named=named, graph=_graph(built, spec))
    _runners[key] = runner
    while len(_runners) > RUNNERS_KEPT:
        _runners.popitem(last=False)
    return runner.graph(batch.x_data.array, mask)


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
    batch: Batch,
    spec: ProbeSpec,
    seed: int,
    *,
    weights_from: ProbeResult | None = None,
    strategy: str | None = None,
) -> ProbeResult:
    """Seed Keras, build the RNN, call it on the batch with its mask, collect the tensors.

    With `weights_from`, the freshly built layers take that result's weights (same names,
    same shapes) before the call. `strategy` is how the call runs (`EAGER` or `GRAPH`); by
    default the size of the work picks it, and a structure that comes again runs through
    a graph traced once for it (`_call_by_size`).
    """
    keras = load_keras()
    layers = keras.layers
    planned = spec.layers(batch.x_data.shape[2])
    with _build_lock:
        seed_keras(seed)
        built = build(layers, spec)
        _build_layers(built, planned, batch)
        named = _named_variables(layers, planned, built)
        if weights_from is not None:
            _assign_weights(named, weights_from.weights)
        with _tensorflow_logs_quiet():
            if strategy is None:
                flow, returned_states = _call_by_size(built, named, spec, batch)
            else:
                flow, returned_states = _call(built, spec, batch, strategy=strategy)
        weights = _collect_weights(named)
    return _result(batch, spec, seed, flow, list(spec.state_names), returned_states, weights)


def _result(
    batch: Batch,
    spec: ProbeSpec,
    seed: int | None,
    flow: Any,
    names: list[str],
    states: list[Any],
    weights: tuple[Tensor, ...],
    **shown: Any,
) -> ProbeResult:
    """What a call returned, as named tensors with their axes."""
    if len(names) != len(states):
        raise AssertionError(f"Keras returned {len(states)} states, expected {names}")
    axis = spec.output_axis
    out_dims = ("batch", "time", axis) if spec.return_sequences else ("batch", axis)
    return ProbeResult(
        batch=batch,
        spec=spec,
        seed=seed,
        outputs=Tensor("outputs", out_dims, np.asarray(flow, dtype=np.float32)),
        states=tuple(
            Tensor(name, ("batch", "hidden"), np.asarray(state, dtype=np.float32))
            for name, state in zip(names, states, strict=True)
        ),
        weights=weights,
        **shown,
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


def _user_structure(layers: Any, layer: Any) -> tuple[ProbeSpec, list[list[Any]]]:
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
    from rnnprobe.show.keras_code import identifier

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
        merge = (
            "" if spec.merge_mode is MergeMode.concat else f", merge_mode={spec.merge_mode.value!r}"
        )
        built = f"layers.Bidirectional({built}{merge})"
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
    keras = load_keras()
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
    spec, cells_per_rnn = _user_structure(layers, layer)
    batch = Batch(
        words=None,
        vocab=None,
        lengths=tuple(int(n) for n in lengths),
        x_data=Tensor("x_data", ("batch", "time", "input"), x),
    )
    with _build_lock, _tensorflow_logs_quiet():
        try:
            returned = layer(x, mask=batch.mask if batch.padded else None)
        except Exception as error:  # a layer built for other inputs, say
            raise InputError(f"the layer refused x_data {tuple(x.shape)}: {error}") from None
    flow, states = (
        (returned[0], _flatten(list(returned[1:]))) if spec.return_state else (returned, [])
    )
    stacked = len(spec.hidden) > 1
    sides = ["forward", "backward"] if spec.bidirectional else [""]
    names, weights = [], []
    for side, cells in zip(sides, cells_per_rnn, strict=True):
        for number, cell in enumerate(cells, start=1):
            layer_prefix = f"{number}/" if stacked else ""
            names.append(
                [f"{layer_prefix}{side + '_' if side else ''}{s}" for s in spec.cell.state_names]
            )
            by_name = {v.name.split("/")[-1]: v for v in cell.weights}
            for short in WEIGHT_NAMES:
                array = np.asarray(by_name[short].numpy(), dtype=np.float32)
                name = layer_prefix + (f"{side}/" if side else "") + short
                weights.append(Tensor(name, _user_weight_dims(array, spec.cell.gates), array))
    flat_names = [n for group in names for n in group] if spec.return_state else []
    layer_lines, call_lines = _user_layer_code(
        layer, spec, names if spec.return_state else [], batch.padded
    )
    return _result(
        batch,
        spec,
        None,
        flow,
        flat_names,
        states,
        tuple(weights),
        layer_lines=layer_lines,
        call_lines=call_lines,
    )
