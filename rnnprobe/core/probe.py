"""Build the Keras RNN that a ProbeSpec describes, seed it, run it on a Batch.

This is the only module that imports TensorFlow, and it does so lazily (`load_keras`).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core import progress
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.result import (
    WEIGHT_NAMES,
    Batch,
    Cell,
    CompareResult,
    KerasLayer,
    Layer,
    MergeMode,
    ProbeResult,
    ProbeSpec,
    Style,
    Tensor,
    identifier,
)

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


@dataclass
class Model:
    """The Keras layers of a probe, in the order the data flows through them."""

    embedding: Any  # layers.Embedding, or None
    recurrent: list[Any]  # the recurrent layers, called in turn
    head: Any  # layers.Dense or TimeDistributed(Dense), or None


def build(keras: Any, spec: ProbeSpec, vocab_size: int) -> Model:
    """The Keras layers of the probe, constructed in the order the data flows.

    The order matters: Keras draws each initializer's seed when a layer is constructed, and
    the `--code` script constructs them in the same order. Cell style without bidirectional
    is one `layers.RNN` over one cell or a stack of cells. Otherwise each layer of a stack
    is its own layer (the cell style wraps each cell in `layers.RNN`), and bidirectional
    wraps each layer, so that a second layer sees both directions of the first.
    """
    layers = keras.layers
    embedding = None
    stage = spec.embedding(vocab_size)
    if stage is not None:
        if stage.onehot:
            constant = keras.initializers.Constant(np.eye(stage.vocab_size, dtype=np.float32))
            embedding = layers.Embedding(
                stage.vocab_size,
                stage.width,
                embeddings_initializer=constant,
                trainable=False,
                mask_zero=True,
            )
        else:
            embedding = layers.Embedding(stage.vocab_size, stage.width, mask_zero=True)
    recurrent = _build_recurrent(layers, spec)
    head = None
    if spec.head is not None:
        head = layers.Dense(spec.head)
        if spec.each_step:
            head = layers.TimeDistributed(head)
    return Model(embedding=embedding, recurrent=recurrent, head=head)


def _build_recurrent(layers: Any, spec: ProbeSpec) -> list[Any]:
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
    if isinstance(nested, list | tuple):
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
    layers: Any, planned: tuple[Layer, ...], model: Model
) -> list[tuple[str, Any, Any]]:
    """(name, Keras variable, dims) for every weight, in the order the data flows."""
    found: list[tuple[str, Any, Any]] = []
    if model.embedding is not None:
        found.append(("embedding/embeddings", model.embedding.embeddings, ("vocab", "embedding")))
    places = [(layer, d) for layer in planned for d in layer.directions]
    cells = _keras_cells(layers, model.recurrent)
    if len(cells) != len(places):
        raise AssertionError(f"Keras built {len(cells)} cells, expected {len(places)}")
    for (layer, direction), cell in zip(places, cells, strict=True):
        by_name = {variable.name.split("/")[-1]: variable for variable in cell.weights}
        for name in WEIGHT_NAMES:
            found.append((layer.prefix(direction) + name, by_name[name], layer.weight_dims(name)))
    if model.head is not None:
        dense = getattr(model.head, "layer", model.head)  # inside TimeDistributed
        axis = planned[-1].output_width
        width = "2*hidden" if axis != planned[-1].units else "hidden"
        found.append(("head/kernel", dense.kernel, (width, "class")))
        found.append(("head/bias", dense.bias, ("class",)))
    return found


@contextlib.contextmanager
def _variables_deferred(keras: Any) -> Iterator[None]:
    """Layers built in here get Keras variables that hold no TensorFlow variable yet.

    A probe's weights are read once and then only passed in (`_initial_values`,
    `_with_values`): creating a TensorFlow variable for each, and reading it back at
    every step, would cost more than the eager call itself. Keras notes such variables
    for a later initialisation; that note is put back as it was, so nothing of a probe
    is left behind in Keras's state.
    """
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    pending = list(global_state.get_global_attribute(key, []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, pending)


def _initial_values(named: list[tuple[str, Any, Any]]) -> list[Any]:
    """Each variable's initial value, drawn as Keras would draw it when creating it."""
    return [
        variable._initializer(variable._shape, dtype=variable._dtype) for _, variable, _ in named
    ]


@contextlib.contextmanager
def _with_values(named: list[tuple[str, Any, Any]], values: list[Any]) -> Iterator[None]:
    """Calls in here read each variable as the value given for it."""
    mapping = [(variable, value) for (_, variable, _), value in zip(named, values, strict=True)]
    with _keras.StatelessScope(state_mapping=mapping, initialize_variables=False):
        yield


def _collect_weights(named: list[tuple[str, Any, Any]], values: list[Any]) -> tuple[Tensor, ...]:
    return tuple(
        Tensor(name, tuple(dims), np.array(value, dtype=np.float32))  # a writable copy
        for (name, _, dims), value in zip(named, values, strict=True)
    )


def _values_from(named: list[tuple[str, Any, Any]], source: tuple[Tensor, ...]) -> list[Any]:
    if [name for name, _, _ in named] != [w.name for w in source]:
        raise AssertionError("the two styles do not have the same weights")
    return [weight.array for weight in source]


# How the layers are called: eagerly, or through a TensorFlow graph traced once for the
# structure. The numbers are the same to the bit (tests pin it for every cell and
# structure); only the time differs. Keras's eager loop costs about 2 ms a step; a trace
# costs about as much as 16 short eager calls, and then each call through it little.
EAGER, GRAPH = "eager", "graph"
GRAPH_FROM_STEPS = 64  # from this many steps on, a graph at once
RUNNERS_KEPT = 8
EAGER_CALLS_BEFORE_GRAPH = 16  # a structure that comes this often gets its graph
GRAPH_WHEN_EXPECTED = 16  # ... and at once when this many probes of it are known to come


def structure(spec: ProbeSpec) -> ProbeSpec:
    """What a traced graph depends on: the spec with its hidden sizes left open.

    The sizes of the input, the words, the vocabulary and the weights are all open in
    the graph. GRU keeps its hidden sizes: its cell slices its weights by them.
    """
    if spec.cell is Cell.gru:
        return spec
    return replace(spec, hidden=tuple(0 for _ in spec.hidden))


@dataclass
class _Runner:
    """One structure's layers traced as a graph, every size left open.

    The layers are those of the probe that traced it; they hold no TensorFlow variable:
    each call passes its probe's weights in, and the graph reads them where the layers
    read their variables. A batch or a server runs the same structure again and again:
    the trace is paid once, and each probe's layers are still built (so its weights are
    what its seed gives), but called through this graph instead of Keras's eager loop.
    """

    graph: Any


_runners: OrderedDict[tuple[Any, ...], _Runner] = OrderedDict()
_seen: Counter[tuple[Any, ...]] = Counter()


def _build_layers(model: Model, planned: tuple[Layer, ...], rows: int, steps: int) -> None:
    """Create the weights now, exactly as a first call would, without calling."""
    if model.embedding is not None:
        model.embedding.build((rows, steps))
    built = model.recurrent
    widths = (
        [planned[0].input_width] if len(built) < len(planned) else [p.input_width for p in planned]
    )
    for layer, width in zip(built, widths, strict=True):
        layer.build((rows, steps, width))
    if model.head is not None:
        top = planned[-1]
        shape = (
            (rows, steps, top.output_width) if top.return_sequences else (rows, top.output_width)
        )
        model.head.build(shape)


Flowed = tuple[Any, list[Any], dict[str, Any]]


def _flow(model: Model, spec: ProbeSpec, x: Any, mask: Any, initial: Any = None) -> Flowed:
    """Call the layers in turn: the last recurrent layer's outputs, every returned state,
    and the Embedding's output, the head's logits and their softmax where there are some.

    `initial`: each recurrent layer's initial states (else Keras makes its zeros)."""
    extras: dict[str, Any] = {}
    flow = x
    if model.embedding is not None:
        flow = extras["embedding"] = model.embedding(x)
    states: list[Any] = []
    for number, layer in enumerate(model.recurrent):
        given = {} if initial is None else {"initial_state": initial[number]}
        returned = layer(flow, mask=mask, **given)
        if spec.return_state:
            flow, *rest = returned
            states.extend(_flatten(rest))
        else:
            flow = returned
    if model.head is not None:
        logits = extras["logits"] = model.head(flow)
        extras["probabilities"] = _keras.ops.softmax(logits, axis=-1)
    return flow, states, extras


@contextlib.contextmanager
def _borrowed(named: list[tuple[str, Any, Any]], values: Any) -> Iterator[None]:
    """While a graph is traced, its layers read the weights it is given as their variables."""
    kept = [variable._value for _, variable, _ in named]
    for (_, variable, _), value in zip(named, values, strict=True):
        variable._value = value
    try:
        yield
    finally:
        for (_, variable, _), value in zip(named, kept, strict=True):
            variable._value = value


def _zero_states(model: Model, rows: Any, units: list[Any]) -> list[Any]:
    """Each recurrent layer's initial states, the zeros Keras makes, sized by the weights.

    Keras sizes its zeros by the cell's units, which the graph leaves open; `units` holds
    each cell's size (in the order of `_keras_cells`), read from its recurrent kernel.
    """
    layers = _keras.layers
    sizes = iter(units)

    def zeros(cell: Any) -> list[Any]:
        size = next(sizes)
        count = len(cell.state_size) if isinstance(cell.state_size, list | tuple) else 1
        return [_keras.ops.zeros((rows, size)) for _ in range(count)]

    found: list[Any] = []
    for layer in model.recurrent:
        if isinstance(layer, layers.Bidirectional):
            found.append([*zeros(layer.forward_layer.cell), *zeros(layer.backward_layer.cell)])
        elif hasattr(layer.cell, "cells"):  # StackedRNNCells: a list of states per cell
            found.append([zeros(cell) for cell in layer.cell.cells])
        else:
            found.append(zeros(layer.cell))
    return found


def _open_shape(spec: ProbeSpec, variable: Any, dims: tuple[str, ...]) -> tuple[Any, ...]:
    """A weight's shape in the graph: every axis open, but GRU's hidden axes (its cell
    splits its bias by their static sizes)."""
    if spec.cell is not Cell.gru:
        return (None,) * len(dims)
    return tuple(
        None if dim in ("vocab", "embedding", "input") else size
        for dim, size in zip(dims, variable._shape, strict=True)
    )


def _new_runner(
    model: Model, named: list[tuple[str, Any, Any]], spec: ProbeSpec, batch: Batch
) -> _Runner:
    """Trace the probe's layers as a graph that takes any sizes and the weights as inputs."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    ids = spec.embed is not None
    time = batch.time if spec.each_step else None  # TimeDistributed needs to know the time
    signature = [
        tf.TensorSpec((None, time) if ids else (None, time, None), tf.int32 if ids else tf.float32),
        tf.TensorSpec((None, time), tf.bool),
        *(
            tf.TensorSpec(_open_shape(spec, variable, dims), tf.float32)
            for _, variable, dims in named
        ),
    ]
    kernels = [n for n, (name, _, _) in enumerate(named) if name.endswith("recurrent_kernel")]

    def traced(x: Any, mask: Any, *weights: Any) -> Flowed:
        with _borrowed(named, weights):
            units = [tf.shape(weights[n])[0] for n in kernels]
            initial = _zero_states(model, tf.shape(x)[0], units)
            return _flow(model, spec, x, mask, initial)

    # No autograph: Keras writes its loop with tf.while_loop, and converting the code
    # would double the time a trace takes.
    return _Runner(graph=tf.function(traced, input_signature=signature, autograph=False))


def _run_graph(runner: _Runner, values: list[Any], batch: Batch) -> Flowed:
    """Call the graph; a word that is not padded gets a mask of all True (the same bits)."""
    return runner.graph(batch.input.array, batch.mask, *values)


def _call(
    model: Model,
    named: list[tuple[str, Any, Any]],
    values: list[Any],
    spec: ProbeSpec,
    batch: Batch,
    *,
    strategy: str,
) -> Flowed:
    """Call the layers on the input (with its mask when a word is padded), by `strategy`."""
    if strategy == GRAPH:
        return _run_graph(_new_runner(model, named, spec, batch), values, batch)
    with _with_values(named, values):
        return _flow(model, spec, batch.input.array, batch.mask if batch.padded else None)


UNROLL_UP_TO = 16  # steps: a short word's eager call, unrolled, is about a third faster


def _unroll_forward(model: Model) -> None:
    """Unroll the eager loop of forward layers over a short word: the same bits, faster.

    Only forward layers: inside `Bidirectional`, an unrolled backward direction with a
    mask gives other numbers (tests pin that the unrolled call has the loop's bits).
    """
    for layer in model.recurrent:
        if not hasattr(layer, "forward_layer"):
            layer.unroll = True


def _call_by_size(
    model: Model,
    named: list[tuple[str, Any, Any]],
    values: list[Any],
    spec: ProbeSpec,
    batch: Batch,
    expected: int,
) -> Flowed:
    """Call through the graph kept for this structure, tracing one when it pays.

    A long word gets one at once; short words when the structure has come
    EAGER_CALLS_BEFORE_GRAPH times, or when `expected` (this probe and those known to
    follow it with the same structure) reaches GRAPH_WHEN_EXPECTED.
    """
    key = (structure(spec), batch.time if spec.each_step else None)
    runner = _runners.get(key)
    if runner is not None:
        _runners.move_to_end(key)
        return _run_graph(runner, values, batch)
    pays = (
        batch.time >= GRAPH_FROM_STEPS
        or _seen[key] >= EAGER_CALLS_BEFORE_GRAPH
        or expected >= GRAPH_WHEN_EXPECTED
    )
    if not pays:
        _seen[key] += 1
        if batch.time <= UNROLL_UP_TO:
            _unroll_forward(model)
        return _call(model, named, values, spec, batch, strategy=EAGER)
    runner = _runners[key] = _new_runner(model, named, spec, batch)
    while len(_runners) > RUNNERS_KEPT:
        _runners.popitem(last=False)
    return _run_graph(runner, values, batch)


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
    expected: int = 1,
) -> ProbeResult:
    """Seed Keras, build the model, call it on the batch with its mask, collect the tensors.

    With `weights_from`, the freshly built layers take that result's weights (same names,
    same shapes) before the call. `strategy` is how the call runs (`EAGER` or `GRAPH`); by
    default the size of the work picks it, and a structure that comes often runs through
    a graph traced once for it (`_call_by_size`). `expected`: how many probes of this
    structure, this one included, the caller knows are coming (a batch counts its lines).
    """
    keras = load_keras()
    planned = spec.layers(batch.width)
    with _build_lock:
        seed_keras(seed)
        with _variables_deferred(keras):
            model = build(keras, spec, batch.width)
            _build_layers(model, planned, batch.rows, batch.time)
        named = _named_variables(keras.layers, planned, model)
        if weights_from is None:
            values = _initial_values(named)
        else:
            values = _values_from(named, weights_from.weights)
        with _tensorflow_logs_quiet():
            if strategy is None:
                flowed = _call_by_size(model, named, values, spec, batch, expected)
            else:
                flowed = _call(model, named, values, spec, batch, strategy=strategy)
        flow, returned_states, extras = flowed
        weights = _collect_weights(named, values)
    return _result(
        batch,
        spec,
        seed,
        flow,
        list(spec.state_names),
        returned_states,
        weights,
        **_extra_tensors(spec, extras),
    )


def _extra_tensors(spec: ProbeSpec, extras: dict[str, Any]) -> dict[str, Tensor]:
    """The Embedding's output, the logits and the probabilities, as named tensors."""
    found = {}
    if "embedding" in extras:
        dims = ("batch", "time", "embedding")
        found["embedding"] = Tensor("embedding", dims, np.asarray(extras["embedding"], np.float32))
    classes = ("batch", "time", "class") if spec.each_step else ("batch", "class")
    for name in ("logits", "probabilities"):
        if name in extras:
            found[name] = Tensor(name, classes, np.asarray(extras[name], dtype=np.float32))
    return found


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
        for a, b in zip(cell.returned, layer.returned, strict=True)
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


ACCEPTED_MODELS = (
    "a keras.Sequential, or a functional model with one input, built from Embedding, "
    "SimpleRNN, LSTM, GRU, RNN(cell), Bidirectional, Dense, TimeDistributed and Dropout"
)


def _layer_class(layers: Any, layer: Any) -> str:
    """`Bidirectional(LSTM)`, `RNN(GRUCell)`, `TimeDistributed(Dense)`, `Embedding`..."""
    if isinstance(layer, layers.Bidirectional):
        return f"Bidirectional({_layer_class(layers, layer.forward_layer)})"
    if isinstance(layer, layers.TimeDistributed):
        return f"TimeDistributed({type(layer.layer).__name__})"
    if type(layer) is layers.RNN:
        cell = layer.cell
        cells = list(cell.cells) if isinstance(cell, layers.StackedRNNCells) else [cell]
        inner = ", ".join(type(c).__name__ for c in cells)
        return f"RNN([{inner}])" if len(cells) > 1 else f"RNN({inner})"
    return type(layer).__name__


def _model_chain(keras: Any, model: Any) -> list[Any]:
    """The model's layers in the order the data flows, each of a kind rnnprobe takes."""
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
    taken = (layers.Embedding, layers.RNN, layers.Bidirectional, layers.Dense, layers.Dropout)
    chain = []
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        inner = layer.layer if isinstance(layer, layers.TimeDistributed) else layer
        if not isinstance(inner, taken) or isinstance(inner, layers.TimeDistributed):
            raise InputError(
                f"rnnprobe.probe takes {ACCEPTED_MODELS}; layer {layer.name!r} is "
                f"{_layer_class(layers, layer)}"
            )
        chain.append(layer)
    if not any(_recurrent_layer(layers, layer) for layer in chain):
        raise InputError(f"rnnprobe.probe takes {ACCEPTED_MODELS}; this model has no RNN")
    return chain


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


def _call_layer(layers: Any, layer: Any, flow: Any, mask: Any) -> tuple[Any, ProbeResult | None]:
    """The layer's output (and, for a recurrent layer, its probe with outputs and states)."""
    if _recurrent_layer(layers, layer):
        out = layer(flow, mask=mask)  # builds the user's layer, if it was not yet
        copy = _with_state(layer)
        copy(flow, mask=mask)  # builds the copy
        copy.set_weights(layer.get_weights())
        found = probe_layer(copy, np.asarray(flow), None if mask is None else np.asarray(mask))
        return out, found
    if mask is not None and getattr(layer, "_call_has_mask_arg", False):
        return layer(flow, mask=mask), None
    return layer(flow), None


def probe_model(model: Any, x: Any) -> ProbeResult:
    """Call a user's model layer by layer on its input; name every layer's output.

    The recurrent layers' outputs and states come from a copy of each that returns its
    states (same weights); the last one's are the result's `outputs` and `states`. The
    model's final output is `logits`, its softmax `probabilities`.
    """
    keras = load_keras()
    layers = keras.layers
    chain = _model_chain(keras, model)
    given = np.asarray(x)
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
    with _tensorflow_logs_quiet():
        for layer in chain:
            try:
                out, found = _call_layer(layers, layer, flow, mask)
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
                    Tensor(f"{layer.name}/{v.name.split('/')[-1]}", _plain_dims(v), _numpy(v))
                    for v in layer.weights
                ]
            if isinstance(layer, layers.Embedding):
                embedding = Tensor("embedding", ("batch", "time", "embedding"), _numpy(out))
            new_mask = layer.compute_mask(flow, mask)
            if isinstance(new_mask, list | tuple):
                new_mask = new_mask[0]
            shape = tuple(int(n) for n in np.shape(out))
            rows.append(
                KerasLayer(layer.name, _layer_class(layers, layer), shape,
                           new_mask is not None, int(layer.count_params()))
            )  # fmt: skip
            flow, mask = out, new_mask
        logits = _numpy(flow)
        probabilities = _numpy(keras.ops.softmax(flow, axis=-1))
    last = recurrent[-1]
    time = given.shape[1]
    classes = ("batch", "time", "class") if logits.ndim == 3 else ("batch", "class")
    states = tuple(
        replace(s, name=f"{n}/{s.name}") if several else s
        for n, found in enumerate(recurrent, start=1)
        for s in found.states
    )
    batch = Batch(
        words=None,
        vocab=None,
        lengths=last.batch.lengths,
        x_data=None if ids else Tensor("x_data", ("batch", "time", "input"), _numpy(given)),
        ids=Tensor("ids", ("batch", "time"), given.astype(np.int32)) if ids else None,
    )
    summary = ", ".join(row.keras_class for row in rows)
    per_step = logits.ndim == 3 and logits.shape[1] == time
    usable = logits.ndim == 2 or per_step
    return replace(
        last,
        batch=batch,
        states=states,
        weights=tuple(weights),
        embedding=embedding,
        logits=Tensor("logits", classes, logits) if usable else None,
        probabilities=Tensor("probabilities", classes, probabilities) if usable else None,
        model_layers=tuple(rows),
        layer_lines=(f"model = {type(model).__name__}([{summary}])  # your model {model.name!r}",),
        call_lines=(f"logits = model({'ids' if ids else 'x_data'})", *(last.call_lines or ())),
    )


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _plain_dims(variable: Any) -> tuple[str, ...]:
    rank = len(variable.shape)
    return {1: ("units",), 2: ("input", "units")}.get(rank, tuple(f"axis {i}" for i in range(rank)))
