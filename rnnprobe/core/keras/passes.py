"""Passes over a whole set in batches: memory grows with the batch, never with the set.

`predict` calls a network's model stages (no loss) on every row, batch by batch, and keeps
only the tensors asked for (a series' outputs, states and predictions); `measure` gives the
loss of the whole set and, if asked, its gradients: each batch's loss counts as much as
what its mean divides by (its rows, or its real steps), as Keras's `evaluate` adds batches
up. A set that fits in one batch is one call, as before; a larger one goes through one
traced graph, batch after batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core import progress
from rnnprobe.core.keras import build

Prepared = Any  # a network's layers to call (`train.Prepared`, which imports this module)

PASS_ROWS = 1024  # rows of a batch of a whole-set pass (at least the training batch)
PASS_FLOATS = 1 << 20  # at most this many output numbers a pass's batch (4 MB in float32)


def slices(rows: int, size: int) -> list[slice]:
    """Consecutive batches of `size` rows (the last may be smaller)."""
    return [slice(start, min(start + size, rows)) for start in range(0, rows, size)]


def batched(arrays: Sequence[np.ndarray]) -> list[Any]:
    """The signature of one graph for every batch of these arrays, the last (smaller) one
    too: any number of rows, the other axes as they are."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    return [tf.TensorSpec((None, *a.shape[1:]), tf.as_dtype(a.dtype)) for a in arrays]


def _graph(model: Prepared, kind: tuple[Any, ...], function: Callable[..., Any],
           arrays: Sequence[np.ndarray]) -> Any:  # fmt: skip
    """One graph of a pass over `model`'s layers, for any number of rows: traced at the
    first pass of its kind and kept with the layers (an epoch's held-out pass reuses it)."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    signature = batched(arrays)
    key = (*kind, tuple((spec.shape[1:], spec.dtype) for spec in signature))
    if key not in model.graphs:
        model.graphs[key] = tf.function(function, input_signature=signature, autograph=False)
    return model.graphs[key]


def pass_rows(batch_size: int, per_row: int = 1) -> int:
    """The rows of a whole-set pass's batch: PASS_ROWS, fewer when each row's output holds
    `per_row` numbers (a decoder's logits over a large vocabulary), never fewer than the
    training batch's."""
    return max(batch_size, min(PASS_ROWS, PASS_FLOATS // max(per_row, 1)))


# What a pass keeps of each batch's output (given its targets), by name: by default the
# output itself; a training keeps only its predicted classes and p(target) per step, so that
# a pass over a corpus never holds every row's logits.
Summarise = Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]]


def whole_output(output: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    return {"logits": output}


def classes_kept(output: Any, targets: Any) -> dict[str, Any]:
    """A training's summary of a batch of logits: the class each step predicts, and the
    probability it gives the target, never the logits themselves. TensorFlow ops, so that
    a pass computes it in its graph (on numpy arrays, eagerly); the log-softmax in float32
    as the loss takes it, its exponential in float64 (a tiny p stays above 0)."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    chosen = tf.cast(targets, tf.int32)
    picked = tf.gather(tf.nn.log_softmax(output), chosen, batch_dims=len(chosen.shape))
    return {
        "predicted": tf.argmax(output, axis=-1, output_type=tf.int32),
        "target_p": tf.exp(tf.cast(picked, tf.float64)),
    }


classes_kept.in_graph = True  # type: ignore[attr-defined]


def _kept(summarise: Summarise, output: Any, targets: np.ndarray) -> dict[str, np.ndarray]:
    if getattr(summarise, "in_graph", False):
        return {name: np.asarray(value) for name, value in summarise(output, targets).items()}
    return summarise(np.asarray(output, dtype=np.float32), targets)


@dataclass(frozen=True)
class Measured:
    """The whole set at some weights, as Keras computes it."""

    weights: list[np.ndarray]
    loss: float
    step_losses: np.ndarray
    kept: dict[str, np.ndarray]  # what the summary kept of the output, every row's
    gradients: list[np.ndarray]  # of every trainable weight

    @property
    def logits(self) -> np.ndarray:
        """The model's output (logits, or a value head's predictions), when it was kept."""
        return self.kept["logits"]


def measured(weights: list[np.ndarray], loss: Any, step_losses: Any, output: Any, grads: Any,
             targets: np.ndarray, summarise: Summarise = whole_output) -> Measured:  # fmt: skip
    return Measured(
        weights=weights,
        loss=float(loss),
        step_losses=np.asarray(step_losses, dtype=np.float32),
        kept=_kept(summarise, output, targets),
        gradients=[np.asarray(g, dtype=np.float32) for g in grads],
    )


def measure(
    model: Prepared,
    arrays: Sequence[np.ndarray],
    *,
    gradients: bool = True,
    size: int = PASS_ROWS,
    summarise: Summarise = whole_output,
) -> Measured:
    """The loss of every row of `arrays` (targets last), and its gradients, at the weights
    as they are; `summarise` keeps what is needed of each batch's output."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    rows = len(arrays[0])
    values = [np.array(v.numpy(), dtype=np.float32) for _, v, _ in model.named]

    in_graph = getattr(summarise, "in_graph", False)

    def forward(*given: Any) -> tuple[dict[str, Any], list[Any]]:
        with tf.GradientTape() as tape:
            found = model.forward(*given)
        grads = tape.gradient(found["loss"], model.trainable) if gradients else []
        return found, [tf.convert_to_tensor(g) for g in grads]  # an Embedding's are sparse

    def one(*given: Any) -> tuple[Any, ...]:
        found, grads = forward(*given)
        output = found[model.output]
        kept = summarise(output, given[-1]) if in_graph else output
        return found["loss"], found["loss_count"], found["step_losses"], kept, grads

    if rows <= size:
        found, grads = forward(*arrays)
        return measured(values, found["loss"], found["step_losses"], found[model.output], grads,
                        arrays[-1], summarise)  # fmt: skip
    step = _graph(model, ("measure", gradients, summarise if in_graph else None), one, arrays)
    total, counted = 0.0, 0.0
    summed: list[np.ndarray] = []
    # Every row's numbers, written in place batch by batch (never a list of batches joined:
    # that would hold them twice).
    whole: dict[str, np.ndarray] = {}
    parts = slices(rows, size)
    for done, part in enumerate(parts):
        progress.advance(done, len(parts))
        loss, count, step_losses, output, grads = step(*(a[part] for a in arrays))
        found = ({name: np.asarray(value) for name, value in output.items()} if in_graph
                 else summarise(np.asarray(output, np.float32), arrays[-1][part]))  # fmt: skip
        found[STEP_LOSSES] = np.asarray(step_losses, dtype=np.float32)
        weight = float(count)
        total, counted = total + float(loss) * weight, counted + weight
        grads = [np.asarray(g, dtype=np.float64) * weight for g in grads]
        summed = grads if not summed else [a + b for a, b in zip(summed, grads, strict=True)]
        for name, value in found.items():
            if name not in whole:
                whole[name] = np.empty((rows, *value.shape[1:]), dtype=value.dtype)
            whole[name][part] = value
    return Measured(
        weights=values, loss=total / counted, step_losses=whole.pop(STEP_LOSSES), kept=whole,
        gradients=[(g / counted).astype(np.float32) for g in summed],
    )  # fmt: skip


STEP_LOSSES = " step_losses"  # a measured pass's own name among the kept ones


def predict(
    model: Prepared,
    x: np.ndarray,
    mask: np.ndarray | None,
    keep: Sequence[str],
    *,
    size: int = PASS_ROWS,
) -> dict[str, Any]:
    """The model's stages (no loss) on every row of `x` (with its mask, if any), batch by
    batch; each tensor named in `keep` for every row, in order (`states`: a list)."""

    built = model.built
    stages = built.network.model
    modelled = build.Model(stages, built.made[: len(stages.stages)])

    def one(*given: Any) -> dict[str, Any]:
        found = build.call(modelled, build.Flow(given[0], given[1] if len(given) > 1 else None))
        return {name: found.found[name] for name in keep}

    arrays = [x] if mask is None else [x, mask]
    rows = len(x)
    call: Callable[..., dict[str, Any]] = one
    if rows > size:
        call = _graph(model, ("predict", tuple(keep)), one, arrays)
    found: dict[str, list[Any]] = {name: [] for name in keep}
    parts = slices(rows, size)
    for done, part in enumerate(parts):
        progress.advance(done, len(parts))
        given = call(*(np.ascontiguousarray(a[part]) for a in arrays))
        for name in keep:
            found[name].append(given[name])
    joined: dict[str, Any] = {}
    for name, parts in found.items():
        if parts and isinstance(parts[0], list | tuple):  # states: a list per batch
            joined[name] = [np.concatenate([np.asarray(p[i], dtype=np.float32) for p in parts])
                            for i in range(len(parts[0]))]  # fmt: skip
        else:
            joined[name] = np.concatenate([np.asarray(p, dtype=np.float32) for p in parts])
    return joined
