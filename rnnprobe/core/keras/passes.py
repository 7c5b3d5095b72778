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

from rnnprobe.core.keras import build

Prepared = Any  # a network's layers to call (`train.Prepared`, which imports this module)

PASS_ROWS = 1024  # rows of a batch of a whole-set pass (at least the training batch)


def slices(rows: int, size: int) -> list[slice]:
    """Consecutive batches of `size` rows (the last may be smaller)."""
    return [slice(start, min(start + size, rows)) for start in range(0, rows, size)]


def pass_rows(batch_size: int) -> int:
    """The rows of a whole-set pass's batch: the training batch, or PASS_ROWS if more."""
    return max(batch_size, PASS_ROWS)


@dataclass(frozen=True)
class Measured:
    """The whole set at some weights, as Keras computes it."""

    weights: list[np.ndarray]
    loss: float
    step_losses: np.ndarray
    logits: np.ndarray  # the model's output: logits, or a value head's predictions
    gradients: list[np.ndarray]  # of every trainable weight


def measured(weights: list[np.ndarray], loss: Any, step_losses: Any, logits: Any,
             grads: Any) -> Measured:  # fmt: skip
    return Measured(
        weights=weights,
        loss=float(loss),
        step_losses=np.asarray(step_losses, dtype=np.float32),
        logits=np.asarray(logits, dtype=np.float32),
        gradients=[np.asarray(g, dtype=np.float32) for g in grads],
    )


def measure(
    model: Prepared,
    arrays: Sequence[np.ndarray],
    *,
    gradients: bool = True,
    size: int = PASS_ROWS,
) -> Measured:
    """The loss of every row of `arrays` (and its gradients), at the weights as they are."""
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    rows = len(arrays[0])
    values = [np.array(v.numpy(), dtype=np.float32) for _, v, _ in model.named]

    def one(*given: Any) -> tuple[Any, ...]:
        with tf.GradientTape() as tape:
            found = model.forward(*given)
        grads = tape.gradient(found["loss"], model.trainable) if gradients else []
        grads = [tf.convert_to_tensor(g) for g in grads]  # an Embedding's are sparse
        return found["loss"], found["loss_count"], found["step_losses"], found[model.output], grads

    if rows <= size:
        loss, _, step_losses, output, grads = one(*arrays)
        return measured(values, loss, step_losses, output, grads)
    # One graph for every batch (the last, smaller one, may trace a second time).
    step = tf.function(one, autograph=False, reduce_retracing=True)
    total, counted = 0.0, 0.0
    summed: list[np.ndarray] = []
    losses, outputs = [], []
    for part in slices(rows, size):
        loss, count, step_losses, output, grads = step(*(a[part] for a in arrays))
        weight = float(count)
        total, counted = total + float(loss) * weight, counted + weight
        grads = [np.asarray(g, dtype=np.float64) * weight for g in grads]
        summed = grads if not summed else [a + b for a, b in zip(summed, grads, strict=True)]
        losses.append(np.asarray(step_losses, dtype=np.float32))
        outputs.append(np.asarray(output, dtype=np.float32))
    return measured(values, total / counted, np.concatenate(losses), np.concatenate(outputs),
                    [g / counted for g in summed])  # fmt: skip


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
    import tensorflow as tf  # loaded already by load_keras; lazy like every TF import here

    built = model.built
    stages = built.network.model
    modelled = build.Model(stages, built.made[: len(stages.stages)])

    def one(*given: Any) -> dict[str, Any]:
        found = build.call(modelled, build.Flow(given[0], given[1] if len(given) > 1 else None))
        return {name: found.found[name] for name in keep}

    arrays = [x] if mask is None else [x, mask]
    rows = len(x)
    call: Callable[..., dict[str, Any]] = one
    if rows > size:  # one graph for every batch (the last may trace a second time)
        call = tf.function(one, autograph=False, reduce_retracing=True)
    found: dict[str, list[Any]] = {name: [] for name in keep}
    for part in slices(rows, size):
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
