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
    shuffle: bool | None = None,
    validation: float | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
    check: bool = False,
    probe: bool = False,
    data: TrainData | None = None,
    on_epoch: Any = None,
    on_batch: Any = None,
    torch: bool = False,
    window: int | None = None,
    stride: int = 1,
    start: Any = None,
) -> TrainResult:
    """`rnnprobe train`: the task's data, the network trained with Adam, before and after.

    `shuffle` (by default: whenever there is more than one batch) takes the training rows
    in a new order every epoch, drawn from the seed; `validation` holds a fraction of the
    rows out of training and measures them after every epoch. `check` recomputes the
    initial loss and gradients in numpy; `probe` runs the trained network on the words as
    `run` would (for `--diagram`). `start` (a network `--load` read, its vocabulary and
    classes those of `data`) gives the initial weights, and the epochs go on from its
    history's. Returns a `TrainResult`.
    """
    from rnnprobe.core.inputs import split
    from rnnprobe.core.keras import passes

    drawn = options.resolve_seed(options.check_seed(seed))
    if torch:
        commands.check_torch()
    if data is None:
        data = task_data(words, kind=spec.tokens, embedded=spec.embed is not None,
                         labels=labels, tagged=tagged, vocab=vocab, window=window,
                         stride=stride, validation=validation, seed=drawn,
                         max_vocab=max_vocab, min_count=min_count)  # fmt: skip
    full = train_spec(spec, data)
    batch = data.batch
    rows = data.trained_rows
    check_probe_memory(full, min(len(rows), batch_size or len(rows)), batch.time, batch.width,
                       ("hidden", "embed"))  # fmt: skip
    size = len(rows) if batch_size is None else min(batch_size, len(rows))
    shuffles = split.shuffled(shuffle, len(rows), size)
    order = split.orders(drawn, len(rows)) if shuffles else None
    layers = keras_train.prepared(data, full, drawn)
    if start is not None:  # the saved weights, by name, in place of the seeded ones
        saved = {weight.name: weight.array for weight in start.weights}
        for name, variable, _ in layers.named:
            variable.assign(saved[name])
    offset = 0 if start is None else start.epochs
    summarise = passes.classes_kept
    held = data.held_out

    last: list[Any] = []  # the held-out rows measured after the last epoch

    def held_out(model: Any) -> Any:
        found = passes.measure(model, data.arrays(held), gradients=False, summarise=summarise,
                               size=passes.pass_rows(size, data.logits_per_row))  # fmt: skip
        last[:] = [found]
        return found

    def scores(found: Any) -> dict[str, float]:
        return {"val_loss": found.loss, "val_accuracy": accuracy(data, found, held)}

    before = held_out(layers) if held is not None else None  # at the initial weights
    fitted = keras_train.fit(
        data, layers, epochs=epochs, lr=lr, batch_size=size, order=order,
        after_epoch=(lambda model: scores(held_out(model))) if held is not None else None,
        on_epoch=on_epoch, on_batch=on_batch, summarise=summarise,
    )  # fmt: skip
    if before is not None:
        # A training stopped mid-epoch moved on from the last epoch's measurement.
        after = last[0] if fitted.history and not fitted.stopped else held_out(layers)
        initial = snapshot(data, fitted.named, _joined(data, fitted.initial, before),
                           **scores(before))  # fmt: skip
        final = snapshot(data, fitted.named, _joined(data, fitted.final, after), **scores(after))
    else:
        initial = snapshot(data, fitted.named, fitted.initial)
        final = snapshot(data, fitted.named, fitted.final)
    result = TrainResult(
        data=data,
        spec=full,
        seed=drawn,
        epochs=epochs,
        lr=lr,
        batch_size=size,
        every=every or default_every(epochs),
        shuffle=shuffles,
        initial=initial,
        final=final,
        gradients=first_gradients(fitted),
        frozen=tuple(name for name, _, _ in fitted.named if name not in fitted.trainable),
        history=tuple(Epoch(**{**e, "epoch": e["epoch"] + offset}) for e in fitted.history),
        stopped=fitted.stopped,
    )
    if check:
        result = replace(result, check=check_training(result))
    if torch:
        from rnnprobe.core.torch import twin

        twinned = twin.train(
            result.network,
            {w.name: w.array for w in result.initial.weights},
            data.arrays(rows) if held is not None else data.arrays(),  # type: ignore[arg-type]
            epochs=len(result.history), lr=lr, batch_size=size, frozen=result.frozen,
            order=split.orders(drawn, len(rows)) if shuffles else None,
        )  # fmt: skip
        result = replace(result, torch=twinned)
    if probe:
        from rnnprobe.core.keras import probe as keras_probe

        model = replace(full, loss=False)
        found = keras_probe.run_probe(batch, model, drawn, weights_from=_as_probe(result))
        result = replace(result, probe=found)
    return result


def _joined(data: TrainData, trained: Any, held: Any) -> Any:
    """Every row at some weights: the training rows' measurement (its loss theirs) with the
    held-out rows' put in their places."""
    rows, held_out, count = data.trained_rows, data.held_out, data.batch.rows

    def placed(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
        found = np.zeros((count, *ours.shape[1:]), dtype=ours.dtype)
        found[rows], found[held_out] = ours, theirs
        return found

    return replace(
        trained,
        step_losses=placed(trained.step_losses, held.step_losses),
        kept={name: placed(value, held.kept[name]) for name, value in trained.kept.items()},
    )


def accuracy(data: TrainData, measured: Any, rows: np.ndarray | None = None) -> float:
    """How many of these rows' real steps (or words) are predicted right."""
    targets = data.targets.array if rows is None else data.targets.array[rows]
    right = measured.kept["predicted"] == targets
    if data.per_step:
        real = data.batch.mask if rows is None else data.batch.mask[rows]
        return float(right[real].mean())
    return float(right.mean())


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


def snapshot(
    data: TrainData,
    named: Any,
    measured: Any,
    *,
    val_loss: float | None = None,
    val_accuracy: float | None = None,
) -> Snapshot:
    """The whole set at some weights: the loss and accuracy of the training rows (and of
    the held-out ones), each row's predictions and -log p(target)."""
    from rnnprobe.core.keras.probe import collect_weights

    with np.errstate(all="ignore"):  # a training stopped by a NaN loss has NaN logits
        predicted, target_p = measured.kept["predicted"], measured.kept["target_p"]
        rows = data.trained_rows
        every = -np.log(target_p)
        if data.per_step:
            real = data.batch.mask
            per_word = (every * real).sum(axis=1) / real.sum(axis=1)
        else:
            per_word = every
        trained = data.held_out is None  # else the training rows' means only
        return Snapshot(
            weights=collect_weights(named, measured.weights),
            loss=measured.loss,
            accuracy=accuracy(data, measured) if trained else _rows_accuracy(data, predicted, rows),
            step_losses=Tensor("step_losses", data.targets.dims, measured.step_losses),
            target_probabilities=Tensor("target_p", data.targets.dims, target_p.astype(np.float32)),
            predicted=predicted,
            plain_loss=float(every.mean() if trained else every[rows].mean()),
            sentence_loss=float(per_word.mean() if trained else per_word[rows].mean()),
            val_loss=val_loss,
            val_accuracy=val_accuracy,
        )


def _rows_accuracy(data: TrainData, predicted: np.ndarray, rows: np.ndarray) -> float:
    right = predicted[rows] == data.targets.array[rows]
    return float(right[data.batch.mask[rows]].mean() if data.per_step else right.mean())


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
