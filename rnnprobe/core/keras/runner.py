"""How a probe's layers are called: eagerly, eagerly unrolled, or through a TensorFlow graph
traced once for the structure and kept.

The numbers are the same to the bit (tests pin it for every cell and structure); only the
time differs. Keras's eager loop costs about 2 ms a step; a trace costs about as much as 16
short eager calls, and then each call through it little.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from dataclasses import dataclass, replace
from typing import Any

from rnnprobe.core.keras import build, env, private
from rnnprobe.core.kinds import Cell
from rnnprobe.core.result import Batch
from rnnprobe.core.stages import ProbeSpec

EAGER, UNROLLED, GRAPH = "eager", "unrolled", "graph"
GRAPH_FROM_STEPS = 64  # from this many steps on, a graph at once
RUNNERS_KEPT = 8
EAGER_CALLS_BEFORE_GRAPH = 16  # a structure that comes this often gets its graph
GRAPH_WHEN_EXPECTED = 16  # ... and at once when this many probes of it are known to come
UNROLL_UP_TO = 16  # steps: a short word's eager call, unrolled, is about a third faster


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


def per_layer(built: build.Model, states_of: Any) -> list[Any]:
    """Each recurrent Keras layer's `initial_state`, from `states_of(cell, count)` (a cell's
    states, `count` of them), in Keras's order of cells: a Bidirectional takes the forward
    cell's then the backward cell's, a stack of cells a list per cell."""
    layers = env.keras().layers

    def states(cell: Any) -> list[Any]:
        count = len(cell.state_size) if isinstance(cell.state_size, list | tuple) else 1
        return list(states_of(cell, count))

    found: list[Any] = []
    for layer in built.recurrent:
        if isinstance(layer, layers.Bidirectional):
            found.append([*states(layer.forward_layer.cell), *states(layer.backward_layer.cell)])
        elif hasattr(layer.cell, "cells"):  # StackedRNNCells: a list of states per cell
            found.append([states(cell) for cell in layer.cell.cells])
        else:
            found.append(states(layer.cell))
    return found


def _zero_states(built: build.Model, rows: Any, units: list[Any]) -> list[Any]:
    """Each recurrent layer's initial states, the zeros Keras makes, sized by the weights.

    Keras sizes its zeros by the cell's units, which the graph leaves open; `units` holds
    each cell's size (in the order of `build.keras_cells`), read from its recurrent kernel.
    """
    zeros = env.keras().ops.zeros
    sizes = iter(units)

    def made(cell: Any, count: int) -> list[Any]:
        size = next(sizes)
        return [zeros((rows, size)) for _ in range(count)]

    return per_layer(built, made)


def given_states(built: build.Model, states: list[Any]) -> list[Any]:
    """`--initial-state`: the states given (flat, in Keras's order of cells and of returned
    states), as each recurrent Keras layer takes its `initial_state`."""
    given = iter(states)
    return per_layer(built, lambda cell, count: [next(given) for _ in range(count)])


def _open_shape(spec: ProbeSpec, variable: Any, dims: tuple[str, ...]) -> tuple[Any, ...]:
    """A weight's shape in the graph: every axis open, but GRU's hidden axes (its cell
    splits its bias by their static sizes)."""
    if spec.cell is not Cell.gru:
        return (None,) * len(dims)
    return tuple(
        None if dim in ("vocab", "embedding", "input") else size
        for dim, size in zip(dims, variable.shape, strict=True)
    )


def _time(built: build.Model, batch: Batch) -> int | None:
    """The word length a graph is traced for: open, but where a stage needs it fixed."""
    return batch.time if built.network.fixed_time else None


def _new_runner(built: build.Model, named: build.Named, spec: ProbeSpec, batch: Batch) -> _Runner:
    """Trace the probe's layers as a graph that takes any sizes and the weights as inputs."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    given = batch.input.array
    time = _time(built, batch)
    signature = [
        tf.TensorSpec((None, time, *([None] * (given.ndim - 2))), tf.as_dtype(given.dtype)),
        tf.TensorSpec((None, time), tf.bool),
        *(
            tf.TensorSpec(_open_shape(spec, variable, dims), tf.float32)
            for _, variable, dims in named
        ),
    ]
    kernels = [n for n, (name, _, _) in enumerate(named) if name.endswith("recurrent_kernel")]

    def traced(x: Any, mask: Any, *weights: Any) -> dict[str, Any]:
        with private.borrowed(named, weights):
            units = [tf.shape(weights[n])[0] for n in kernels]
            initial = _zero_states(built, tf.shape(x)[0], units)
            return build.call(built, build.Flow(x, mask, initial=initial)).found

    # No autograph: Keras writes its loop with tf.while_loop, and converting the code
    # would double the time a trace takes.
    return _Runner(graph=tf.function(traced, input_signature=signature, autograph=False))


def _run_graph(runner: _Runner, values: list[Any], batch: Batch) -> dict[str, Any]:
    """Call the graph; a word that is not padded gets a mask of all True (the same bits)."""
    return dict(runner.graph(batch.input.array, batch.mask, *values))


def unroll_forward(built: build.Model) -> None:
    """Unroll the eager loop of forward layers over a short word: the same bits, faster.

    Only forward layers: inside `Bidirectional`, an unrolled backward direction with a
    mask gives other numbers. Keras reads `unroll` when called, so setting it after the
    layer is made takes effect (tests/test_graph.py pins that an unrolled call has the
    loop's bits for every cell and structure).
    """
    for layer in built.recurrent:
        if not hasattr(layer, "forward_layer"):
            layer.unroll = True


def call(
    built: build.Model,
    named: build.Named,
    values: list[Any],
    spec: ProbeSpec,
    batch: Batch,
    *,
    strategy: str,
    initial: list[Any] | None = None,
) -> dict[str, Any]:
    """Call the layers on the input (with its mask when a word is padded), by `strategy`;
    `initial`: the states they start from (flat, in Keras's order), eagerly."""
    if strategy == GRAPH and initial is None:
        return _run_graph(_new_runner(built, named, spec, batch), values, batch)
    if strategy == UNROLLED:
        unroll_forward(built)
    mask = batch.mask if batch.padded else None
    starts = None if initial is None else given_states(built, initial)
    with private.with_values(env.keras(), named, values):
        return build.call(built, build.Flow(batch.input.array, mask, initial=starts)).found


def call_by_size(
    built: build.Model,
    named: build.Named,
    values: list[Any],
    spec: ProbeSpec,
    batch: Batch,
    expected: int,
) -> dict[str, Any]:
    """Call through the graph kept for this structure, tracing one when it pays.

    A long word gets one at once; short words when the structure has come
    EAGER_CALLS_BEFORE_GRAPH times, or when `expected` (this probe and those known to
    follow it with the same structure) reaches GRAPH_WHEN_EXPECTED.
    """
    key = (structure(spec), _time(built, batch))
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
        strategy = UNROLLED if batch.time <= UNROLL_UP_TO else EAGER
        return call(built, named, values, spec, batch, strategy=strategy)
    runner = _runners[key] = _new_runner(built, named, spec, batch)
    while len(_runners) > RUNNERS_KEPT:
        _runners.popitem(last=False)
    return _run_graph(runner, values, batch)
