"""`rnnprobe train`, the core of it: the task's data, the network trained by Keras, the
whole set before and after, and the check by backpropagation in numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rnnprobe.core import options
from rnnprobe.core.batch import Tensor
from rnnprobe.core.budget import check_probe_memory
from rnnprobe.core.commands import run as commands
from rnnprobe.core.commands.trained import Epoch, Snapshot, TrainCheck, TrainResult
from rnnprobe.core.inputs.tasks import TrainData, task_data, train_spec
from rnnprobe.core.keras import train as keras_train
from rnnprobe.core.options import DEFAULT_EPOCHS, DEFAULT_LR, default_every
from rnnprobe.core.stages import ProbeSpec


def train(
    words: Sequence[str],
    spec: ProbeSpec,
    *,
    labels: Sequence[str] | None = None,
    tagged: bool = False,
    vocab: str | None = None,
    seed: int | None = None,
    epochs: int = DEFAULT_EPOCHS,
    lr: float = DEFAULT_LR,
    batch_size: int | None = None,
    every: int | None = None,
    check: bool = False,
    probe: bool = False,
    data: TrainData | None = None,
    on_epoch: Any = None,
    torch: bool = False,
    window: int | None = None,
    stride: int = 1,
) -> TrainResult:
    """`rnnprobe train`: the task's data, the network trained with Adam, before and after.

    `check` recomputes the initial loss and gradients in numpy; `probe` runs the trained
    network on the words as `run` would (for `--diagram`). Returns a `TrainResult`.
    """
    checked_seed = options.check_seed(seed)
    if torch:
        commands.check_torch()
    if data is None:
        data = task_data(words, kind=spec.tokens, embedded=spec.embed is not None,
                         labels=labels, tagged=tagged, vocab=vocab, window=window,
                         stride=stride)  # fmt: skip
    full = train_spec(spec, data)
    batch = data.batch
    check_probe_memory(full, batch.rows, batch.time, batch.width)
    size = batch.rows if batch_size is None else min(batch_size, batch.rows)
    drawn = options.resolve_seed(checked_seed)
    layers = keras_train.prepared(data, full, drawn)
    fitted = keras_train.fit(data, layers, epochs=epochs, lr=lr, batch_size=size, on_epoch=on_epoch)
    result = TrainResult(
        data=data,
        spec=full,
        seed=drawn,
        epochs=epochs,
        lr=lr,
        batch_size=size,
        every=every or default_every(epochs),
        initial=snapshot(data, fitted.named, fitted.initial),
        final=snapshot(data, fitted.named, fitted.final),
        gradients=first_gradients(fitted),
        frozen=tuple(name for name, _, _ in fitted.named if name not in fitted.trainable),
        history=tuple(Epoch(**entry) for entry in fitted.history),
        stopped=fitted.stopped,
    )
    if check:
        result = replace(result, check=check_training(result))
    if torch:
        from rnnprobe.core.torch import twin

        twinned = twin.train(
            result.network,
            {w.name: w.array for w in result.initial.weights},
            (batch.input.array, batch.mask, data.targets.array),
            epochs=len(result.history), lr=lr, batch_size=size, frozen=result.frozen,
        )  # fmt: skip
        result = replace(result, torch=twinned)
    if probe:
        from rnnprobe.core.keras import probe as keras_probe

        model = replace(full, loss=False)
        found = keras_probe.run_probe(batch, model, drawn, weights_from=_as_probe(result))
        result = replace(result, probe=found)
    return result


def first_gradients(fitted: Any) -> tuple[Tensor, ...]:
    """The initial whole-set loss's gradient of every trainable weight, named."""
    trained = [n for n in fitted.named if n[0] in fitted.trainable]
    return tuple(
        Tensor(name, tuple(dims), gradient)
        for (name, _, dims), gradient in zip(trained, fitted.initial.gradients, strict=True)
    )


def _as_probe(result: Any) -> Any:
    """The final weights where `run_probe` reads a result's weights."""
    from types import SimpleNamespace

    return SimpleNamespace(weights=result.final.weights)


def snapshot(data: TrainData, named: Any, measured: Any) -> Snapshot:
    """The whole set at some weights: loss, accuracy, predictions, each -log p."""
    with np.errstate(all="ignore"):  # a training stopped by a NaN loss has NaN logits
        return _snapshot(data, named, measured)


def _snapshot(data: TrainData, named: Any, measured: Any) -> Snapshot:
    from rnnprobe.core.keras.probe import collect_weights
    from rnnprobe.core.numpy.equations import softmax

    logits = measured.logits.astype(np.float64)
    predicted = np.argmax(logits, axis=-1)
    right = predicted == data.targets.array
    if data.per_step:
        real = data.batch.mask
        accuracy = float(right[real].mean())
    else:
        accuracy = float(right.mean())
    dims = (*data.targets.dims, "class")
    probabilities = softmax(logits)
    every = -np.log(np.take_along_axis(probabilities, data.targets.array[..., None], -1)[..., 0])
    if data.per_step:
        real = data.batch.mask
        per_word = (every * real).sum(axis=1) / real.sum(axis=1)
    else:
        per_word = every
    return Snapshot(
        weights=collect_weights(named, measured.weights),
        loss=measured.loss,
        accuracy=accuracy,
        step_losses=Tensor("step_losses", data.targets.dims, measured.step_losses),
        probabilities=Tensor("probabilities", dims, probabilities.astype(np.float32)),
        predicted=predicted,
        plain_loss=float(every.mean()),
        sentence_loss=float(per_word.mean()),
    )


def check_training(result: TrainResult) -> TrainCheck:
    """The initial loss and every first gradient again, by backpropagation through
    rnnprobe's numpy engine, against what Keras's autodiff gave."""
    from rnnprobe.core.numpy.backprop import backprop

    data = result.data
    batch = data.batch
    found = backprop(
        result.spec, batch.input.array, np.asarray(batch.lengths),
        {w.name: w.array for w in result.initial.weights}, data.targets.array,
    )  # fmt: skip
    gradient_diff = max(
        (float(np.max(np.abs(g.array - found.gradients[g.name]))) for g in result.gradients),
        default=0.0,
    )
    return TrainCheck(loss_diff=abs(result.initial.loss - found.loss), gradient_diff=gradient_diff)
