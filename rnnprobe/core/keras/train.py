"""Training in Keras: the network's stages built with real variables, the loss stage after
the head, `GradientTape` and Adam, batch after batch in the words' order.

One training step is one TensorFlow graph, traced once (`tf.function`), the loop the
`--code` script runs too; the whole set is measured eagerly before and after training.
The traced step of a structure is kept with its layers and its Adam: a later training of
the same structure (a server, a batch, a notebook) copies its own seeded weights into those
layers, starts Adam afresh and reuses the trace, then copies the trained weights back.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnprobe.core import progress
from rnnprobe.core.inputs.tasks import TrainData
from rnnprobe.core.keras import build, env, passes, runner
from rnnprobe.core.keras.passes import Measured, measured
from rnnprobe.core.stages import ProbeSpec
from rnnprobe.core.stages.network import Network

EAGER_STEPS_UP_TO = 10  # training steps; more are traced into one graph
STEPS_KEPT = 8  # structures whose traced training step is kept


@dataclass(frozen=True)
class Fitted:
    """What training gave: the weights' names and axes, the whole set before and after, and
    every epoch's loss and accuracy."""

    named: list[tuple[str, Any, Any]]
    trainable: list[str]
    initial: Measured
    final: Measured
    history: list[dict[str, Any]]  # per epoch: epoch, loss, and accuracy or what is measured
    stopped: str | None
    model: Prepared


def correct(
    data: TrainData, logits: np.ndarray, rows: Any, real: np.ndarray | None
) -> tuple[int, int]:
    """How many of these rows' real steps (or words) the logits get right, and of how many;
    `real`: the mask of every row (made once, not per batch), or None for a class per row."""
    predicted = np.argmax(logits, axis=-1)
    targets = data.targets.array[rows]
    if real is None:
        return int(np.sum(predicted == targets)), len(targets)
    return int(np.sum((predicted == targets) & real[rows])), int(real[rows].sum())


@dataclass(frozen=True)
class Prepared:
    """A network's Keras layers with real variables, seeded as `run` seeds them, and how to
    call them: `forward(*arrays)` gives the named tensors (`loss`, `step_losses`, `logits`),
    `arrays` the whole set (each with a row per word or pair, the targets last)."""

    models: tuple[build.Model, ...]
    named: list[tuple[str, Any, Any]]
    trainable: list[Any]
    forward: Callable[..., dict[str, Any]]
    arrays: tuple[np.ndarray, ...]
    network: Hashable  # the description the layers were built from
    rebuild: Callable[[], Prepared]  # the same layers anew (the caller holds the build lock)
    output: str = "logits"  # the model's output, as its stages name it (`predictions`)
    # The graphs of whole-set passes over these layers, traced once and kept (`passes`).
    graphs: dict[Hashable, Any] = field(default_factory=dict, compare=False, repr=False)

    def structure(self) -> Hashable:
        """What a traced step depends on: the network, the arrays' shapes past the batch
        axis (the time a short sentence is unrolled over) and the weights' shapes."""
        given = tuple((a.shape[1:], a.dtype.str) for a in self.arrays)
        weights = tuple((tuple(v.shape), v.trainable) for _, v, _ in self.named)
        padded = len(self.arrays) == 3 and not bool(np.all(self.arrays[1]))
        return (self.network, given, weights, padded)

    @property
    def built(self) -> build.Model:
        return self.models[0]


def prepared(data: TrainData, spec: ProbeSpec, seed: int) -> Prepared:
    """Seed Keras and build the layers as `run` builds them: the same initial weights; the
    arrays they train on are the training rows' (all but the held-out ones)."""
    arrays = data.arrays() if data.held_out is None else data.arrays(data.trained_rows)
    return prepared_arrays(spec.network(data.batch.width), arrays, seed)


def prepared_arrays(
    network: Network, arrays: tuple[np.ndarray, ...], seed: int, *, output: str = "logits"
) -> Prepared:
    """Seed Keras and build the network's layers for these arrays: (input, mask, targets),
    or (input, targets) for rows that are never padded (a series' windows)."""
    keras = env.load_keras()
    with env.build_lock, env.tensorflow_logs_quiet():
        env.seed_keras(seed)
        return _layers(keras, network, arrays, output)


def _layers(keras: Any, network: Network, arrays: tuple[np.ndarray, ...], output: str) -> Prepared:
    """The network's layers with new variables; the caller seeds Keras and holds the lock."""
    rows, time = arrays[0].shape[:2]
    built = build.model(keras, network)
    build.build_weights(built, rows, time)
    if time <= runner.UNROLL_UP_TO:
        runner.unroll_forward(built)  # short words: a faster step (to float precision)
    named = build.named_variables(built)
    # Without padding the recurrent layers need no mask (the same numbers, and a trace
    # and steps about a third cheaper); the loss still reads it.
    unmasked = len(arrays) == 3 and bool(np.all(arrays[1]))

    def forward(x: Any, *rest: Any) -> dict[str, Any]:
        *mask, targets = rest  # no mask: every step is real
        flow = build.Flow(x, mask[0] if mask else None, found={"targets": targets},
                          unmasked=unmasked)  # fmt: skip
        return build.call(built, flow).found

    return Prepared(
        (built,), named, [variable for _, variable, _ in named if variable.trainable], forward,
        arrays, network, functools.partial(_layers, keras, network, arrays, output), output,
    )  # fmt: skip


@dataclass
class _Kept:
    """A structure's layers, their Adam and the traced step that updates them."""

    model: Prepared
    optimizer: Any
    step: Any


_kept: OrderedDict[Hashable, _Kept] = OrderedDict()


def _step(model: Prepared, optimizer: Any) -> Callable[..., tuple[Any, ...]]:
    """One training step on `model`'s layers: the loss, its gradients, Adam's update."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    def step(*given: Any) -> tuple[Any, ...]:
        with tf.GradientTape() as tape:
            found = model.forward(*given)
        # An Embedding's gradient comes as slices, one per token: Keras's Adam would
        # square each slice of a repeated token, not their sum, and take another step
        # than Adam's. Made dense, it is Adam's (and PyTorch's) step.
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(found["loss"], model.trainable)]
        optimizer.apply_gradients(zip(grads, model.trainable, strict=True))
        return found["loss"], found[model.output], found["step_losses"], grads

    return step


def _adam(keras: Any, model: Prepared, lr: float) -> Any:
    optimizer = keras.optimizers.Adam(learning_rate=lr)
    optimizer.build(model.trainable)
    return optimizer


def _traced(keras: Any, model: Prepared, lr: float) -> _Kept:
    """The kept step of `model`'s structure, its layers holding `model`'s weights and its
    Adam as new; traced (and kept) if the structure has none. The caller holds the lock."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    key = model.structure()
    kept = _kept.pop(key, None)
    if kept is None:
        # Layers of the kept step's own: the caller's stay the caller's, to read after
        # training while another training of the structure may run.
        own = model.rebuild()
        optimizer = _adam(keras, own, lr)
        signature = [
            tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in model.arrays
        ]
        # No autograph: the step has no Python control flow on tensors, and converting
        # Keras's code would take longer than fifty steps of training.
        step = tf.function(_step(own, optimizer), input_signature=signature, autograph=False)
        kept = _Kept(own, optimizer, step)
    else:
        for variable in kept.optimizer.variables:  # its step count, moments, learning rate
            variable.assign(np.zeros(variable.shape, variable.dtype))
        kept.optimizer.learning_rate = lr
    _copy(model, kept.model)
    _kept[key] = kept
    while len(_kept) > STEPS_KEPT:
        _kept.popitem(last=False)
    return kept


def _copy(source: Prepared, target: Prepared) -> None:
    """Every weight's value, bit for bit, from one set of layers into another's."""
    for (_, given, _), (_, kept, _) in zip(source.named, target.named, strict=True):
        kept.assign(given.value)


def fit(
    data: TrainData | None,
    model: Prepared,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    order: Callable[[int], np.ndarray] | None = None,
    after_epoch: Callable[[Prepared], dict[str, float]] | None = None,
    on_epoch: Callable[[int], None] | None = None,
    on_batch: Callable[[int, int, float], None] | None = None,
    summarise: passes.Summarise = passes.whole_output,
) -> Fitted:
    """Train the layers of `model` with Adam on batches of `batch_size` rows of its arrays
    (words, pairs or windows) for `epochs` epochs: in order, or in the order `order(epoch)`
    gives. `data` names the targets (an epoch's accuracy); `after_epoch` measures more after
    each epoch's updates (a held-out loss), on the layers being trained; `on_batch` hears
    each batch (done, of how many in the epoch, the epoch's running loss); `summarise` says
    what whole-set passes keep of the output."""
    keras = env.load_keras()

    named, arrays = model.named, model.arrays
    rows_count = len(arrays[0])
    # Tracing the step into one graph costs about as much as ten steps of `train` and
    # fifteen of an encoder-decoder take eagerly: a short training runs eagerly (the same
    # numbers to float precision; the same bits for the same command).
    steps = epochs * -(-rows_count // batch_size)
    per_row = 1 if data is None else data.logits_per_row
    size = passes.pass_rows(batch_size, per_row)
    # A pass with gradients holds every step's activations for the backward pass too: half
    # the rows of a forward pass (about as fast per row, and far less memory).
    grad_size = passes.pass_rows(batch_size, 2 * per_row)
    with env.build_lock, env.tensorflow_logs_quiet():
        if steps <= EAGER_STEPS_UP_TO:
            working = model
            traced = _step(model, _adam(keras, model, lr))
        else:
            kept = _traced(keras, model, lr)
            working, traced = kept.model, kept.step

        weights = [np.array(v.numpy(), dtype=np.float32) for _, v, _ in named]
        # With every row in one batch, the first step measures the whole set before its
        # update; else the whole set is measured on its own.
        initial = (passes.measure(working, arrays, size=grad_size, summarise=summarise)
                   if batch_size < rows_count else None)  # fmt: skip
        batches = -(-rows_count // batch_size)
        history: list[dict[str, Any]] = []
        stopped = None
        trained = np.arange(rows_count) if data is None else data.trained_rows
        real = data.batch.mask if data is not None and data.per_step else None
        for epoch in range(1, epochs + 1):
            total, rights, counted = 0.0, 0, 0
            shuffled = None if order is None else order(epoch)
            for start in range(0, rows_count, batch_size):
                progress.check()  # a served training whose client left stops here
                rows: Any = slice(start, start + batch_size)
                if shuffled is not None:
                    rows = shuffled[rows]
                given = [a[rows] for a in arrays]
                loss, logits, step_losses, grads = traced(*given)
                value = float(loss)
                if initial is None:
                    initial = measured(weights, loss, step_losses, logits, grads, given[-1],
                                       summarise)  # fmt: skip
                if not np.isfinite(value):
                    stopped = (
                        f"the loss became {value} at epoch {epoch}: training stopped there "
                        "(a smaller --lr may help)"
                    )
                    break
                total += value * len(given[0])  # weighted by the batch's rows, as fit does
                if on_batch is not None:
                    done = start // batch_size + 1
                    on_batch(done, batches, total / min(start + batch_size, rows_count))
                if data is not None:
                    right, count = correct(data, np.asarray(logits), trained[rows], real)
                    rights, counted = rights + right, counted + count
            if stopped:
                break
            entry: dict[str, Any] = {"epoch": epoch, "loss": total / rows_count}
            if data is not None:
                entry["accuracy"] = rights / max(counted, 1)
            if after_epoch is not None:
                entry.update(after_epoch(working))
            history.append(entry)
            if on_epoch is not None:
                on_epoch(epoch)
        final = passes.measure(working, arrays, gradients=False, size=size, summarise=summarise)
        if working is not model:
            _copy(working, model)  # the caller's layers hold the trained weights
    assert initial is not None
    names = [n for n, v, _ in named if v.trainable]
    return Fitted(named, names, initial, final, history, stopped, model)
