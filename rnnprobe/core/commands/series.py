"""`rnnprobe series`: one long series of numbers cut into windows, the network's forward
pass over every window, and, with a recipe, its training by mean squared error with Adam;
then the test windows' predictions against the actual values, in the target's own units,
beside the baseline that repeats the last value of the target in the window.

The network is the lab's: the recurrent layers read each window's rows (batch, time,
features) and return their last step (and their states); `Dense(1)` predicts the target.
Every pass over the windows goes batch by batch (`keras/passes.py`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.commands.series_check import SeriesCheck
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.windows import Windows
from rnnprobe.core.options import check_drawn, resolve_seed
from rnnprobe.core.result import ProbeResult
from rnnprobe.core.stages import ProbeSpec

DEFAULT_WINDOW = 7  # the stock lab's seq_length
DEFAULT_SPLIT = 0.7  # the lab's train_size: 70 % of the rows
DEFAULT_LR = 0.01  # the lab's learning_rate
DEFAULT_BATCH_SIZE = 32  # as Keras `fit`
ACTIVATIONS = ("linear", "tanh", "sigmoid")


@dataclass(frozen=True)
class Recipe:
    """How the network is trained: epochs, Adam's learning rate, windows per batch, and
    whether each epoch takes them in a new order (drawn from the seed)."""

    epochs: int
    lr: float
    batch_size: int
    shuffle: bool
    every: int  # the loss is printed every this many epochs


@dataclass(frozen=True)
class SeriesPlan:
    """What `series` will do, checked before TensorFlow loads."""

    windows: Windows
    spec: ProbeSpec  # the model: features in, the recurrent layers' last step, Dense(1)
    seed: int
    index: int  # the window shown, from 0
    recipe: Recipe | None


def check_activation(value: Any) -> str:
    text = str(value)
    if text not in ACTIVATIONS:
        raise InputError(Param("activation"), f" {text!r}: give linear, tanh or sigmoid")
    return text


def series_spec(spec: ProbeSpec, activation: str) -> ProbeSpec:
    """The options' recurrent layers on a series: numbers in, the last step out (with the
    states), and a Dense(1) of this activation on it."""
    return replace(spec, features=True, value_head=activation, return_sequences=False,
                   return_state=True, head=None, each_step=False, embed=None)  # fmt: skip


def plan(windows: Windows, spec: ProbeSpec, *, activation: str = "linear", seed: Any = None,
         index: int | None = None, recipe: Recipe | None = None) -> SeriesPlan:  # fmt: skip
    """The series, its network and recipe, checked: the window shown is one of them, and
    the run fits in memory (refused before any work, naming the hidden sizes)."""
    shown = check_drawn("index", index, windows.count) - 1
    check_series_memory(windows, series_spec(spec, "linear"))
    return SeriesPlan(windows, series_spec(spec, check_activation(activation)),
                      resolve_seed(seed), shown, recipe)  # fmt: skip


def check_series_memory(windows: Windows, spec: ProbeSpec) -> None:
    """What a series keeps grows with its rows and windows (the rows, scaled; each window's
    outputs, states, prediction and target); a pass over the windows goes batch by batch,
    whose work is counted as a probe of one batch."""
    from rnnprobe.core.budget import FLOAT_BYTES, ensure_fits, estimate_bytes
    from rnnprobe.core.keras.passes import PASS_ROWS

    network = spec.network(len(windows.features))
    kept = sum(layer.units * len(layer.directions) for layer in network.layers)
    per_window = network.recurrent.output_width + kept * len(spec.cell.state_names) + 2
    rows = windows.values.size * (8 + FLOAT_BYTES)
    batch, _ = estimate_bytes(spec, min(PASS_ROWS, windows.count), windows.window,
                              len(windows.features))  # fmt: skip
    total = rows + windows.count * per_window * FLOAT_BYTES * 2 + batch
    sizes = ",".join(map(str, spec.hidden))
    ensure_fits(total, Param("hidden"), f" {sizes}: this series ({windows.count:,} windows)")


@dataclass(frozen=True)
class Metrics:
    """The test windows' predictions against the actual values, in the target's units, and
    the baseline that repeats the last value of the target in each window."""

    windows: np.ndarray  # the test windows' indices
    actual: np.ndarray
    predicted: np.ndarray
    baseline: np.ndarray

    @staticmethod
    def _rmse(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.sqrt(np.mean((a - b) ** 2)))

    @property
    def rmse(self) -> float:
        return self._rmse(self.predicted, self.actual)

    @property
    def mae(self) -> float:
        return float(np.mean(np.abs(self.predicted - self.actual)))

    @property
    def baseline_rmse(self) -> float:
        return self._rmse(self.baseline, self.actual)

    @property
    def baseline_mae(self) -> float:
        return float(np.mean(np.abs(self.baseline - self.actual)))


@dataclass(frozen=True)
class Measure:
    """The windows' losses at some weights: the training windows', the test windows'."""

    loss: float
    test_loss: float | None
    weights: tuple[Tensor, ...]


@dataclass(frozen=True)
class SeriesEpoch:
    """One epoch: the training loss (its batches' losses, each before that batch's update)
    and the test loss after the epoch's updates."""

    epoch: int
    loss: float
    test_loss: float | None = None


@dataclass(frozen=True)
class SeriesResult:
    """What `rnnprobe series` produced."""

    windows: Windows
    spec: ProbeSpec
    seed: int
    index: int
    keras: Any  # the windows compared with `timeseries_dataset_from_array` (keras/windows.py)
    probe: ProbeResult  # every window at the final weights: x_data, outputs, states, predictions
    initial: Measure
    final: Measure
    test: Metrics | None
    recipe: Recipe | None = None
    history: tuple[SeriesEpoch, ...] = ()
    gradients: tuple[Tensor, ...] = ()  # of the initial training loss, every weight
    stopped: str | None = None
    check: SeriesCheck | None = None

    @property
    def same_as_keras(self) -> bool:
        return bool(self.keras.same)

    @property
    def targets(self) -> Tensor:
        return Tensor("targets", ("batch", "target"), self.windows.targets)

    @property
    def params(self) -> int:
        return self.probe.params


def series(planned: SeriesPlan, *, check: bool = False, on_epoch: Any = None,
           on_batch: Any = None) -> SeriesResult:  # fmt: skip
    """The windows through the network (trained first, with a recipe), and the test."""
    from rnnprobe.core.inputs import split
    from rnnprobe.core.keras import passes
    from rnnprobe.core.keras import train as keras_train
    from rnnprobe.core.keras import windows as keras_windows
    from rnnprobe.core.keras.probe import collect_weights

    windows, spec, recipe = planned.windows, planned.spec, planned.recipe
    x_all, targets, train = windows.x_data, windows.targets, windows.train
    learn = int(train.sum())
    x_train, y_train = x_all[:learn], targets[:learn]
    x_test, y_test = x_all[learn:], targets[learn:]
    network = replace(spec, loss=True).network(len(windows.features))
    model = keras_train.prepared_arrays(network, (x_train, y_train), planned.seed,
                                        output="predictions")  # fmt: skip
    same = keras_windows.same_as_keras(
        windows.rows,
        windows.window,
        windows.stride,
        windows.horizon,
        windows.starts,
        windows.target_rows,
    )
    # A whole-set pass's batch holds a bounded number of steps, so that one batch of long
    # windows is seconds, not minutes (a served request stops between batches).
    size = passes.pass_rows(recipe.batch_size if recipe else 1,
                            windows.window * len(windows.features))  # fmt: skip

    def test_loss(layers: Any) -> dict[str, float]:
        if not len(x_test):
            return {}
        return {"test_loss": passes.measure(layers, (x_test, y_test), gradients=False,
                                            size=size).loss}  # fmt: skip

    def named(values: list[np.ndarray]) -> tuple[Tensor, ...]:
        return collect_weights(model.named, values)

    keep = ("outputs", "states", "predictions")
    gradients: tuple[Tensor, ...] = ()
    history: tuple[SeriesEpoch, ...] = ()
    stopped = None
    if recipe is None and not check:
        # Only the forward pass: the losses are the predictions' squared errors.
        found = passes.predict(model, x_all, None, keep, size=size)
        errors = (found["predictions"].astype(np.float64) - targets) ** 2
        tested = float(errors[learn:].mean()) if len(x_test) else None
        weights = named([np.array(v.numpy(), dtype=np.float32) for _, v, _ in model.named])
        initial = final = Measure(float(errors[:learn].mean()), tested, weights)
    else:
        first = passes.measure(model, (x_train, y_train), size=size)
        initial = Measure(first.loss, test_loss(model).get("test_loss"), named(first.weights))
        gradients = _gradients(model, first)
        final = initial
        if recipe is not None:
            order = split.orders(planned.seed, learn) if recipe.shuffle else None
            fitted = keras_train.fit(None, model, epochs=recipe.epochs, lr=recipe.lr,
                                     batch_size=min(recipe.batch_size, learn), order=order,
                                     after_epoch=test_loss, on_epoch=on_epoch,
                                     on_batch=on_batch)  # fmt: skip
            history = tuple(SeriesEpoch(**entry) for entry in fitted.history)
            stopped = fitted.stopped
            final = Measure(fitted.final.loss, test_loss(model).get("test_loss"),
                            named(fitted.final.weights))  # fmt: skip
        found = passes.predict(model, x_all, None, keep, size=size)
    probe = _probe(planned, x_all, found, final.weights)
    result = SeriesResult(
        windows=windows, spec=spec, seed=planned.seed, index=planned.index,
        keras=same, probe=probe, initial=initial, final=final,
        test=_metrics(windows, found["predictions"]), recipe=recipe, history=history,
        gradients=gradients, stopped=stopped,
    )  # fmt: skip
    if check:
        from rnnprobe.core.commands.series_check import check_series

        result = replace(result, check=check_series(
            windows, spec, probe, initial.weights, result.gradients, initial.loss,
        ))  # fmt: skip
    return result


def _gradients(model: Any, first: Any) -> tuple[Tensor, ...]:
    trained = [n for n in model.named if n[1].trainable]
    pairs = zip(trained, first.gradients, strict=True)
    return tuple(Tensor(name, tuple(dims), gradient) for (name, _, dims), gradient in pairs)


def _probe(planned: SeriesPlan, x_all: np.ndarray, found: dict[str, Any],
           weights: tuple[Tensor, ...]) -> ProbeResult:  # fmt: skip
    """Every window through the network, as `run` names what a network gives."""
    windows, spec = planned.windows, planned.spec
    recurrent = spec.network(len(windows.features)).recurrent
    axis = recurrent.output_axis
    batch = Batch(words=None, vocab=None, lengths=(windows.window,) * windows.count,
                  x_data=Tensor("x_data", ("batch", "time", "features"), x_all),
                  unit="window")  # fmt: skip
    return ProbeResult(
        batch=batch, spec=spec, seed=planned.seed,
        outputs=Tensor("outputs", ("batch", axis), found["outputs"]),
        states=tuple(Tensor(name, ("batch", "hidden"), value)
                     for name, value in zip(recurrent.state_names, found["states"],
                                            strict=True)),
        weights=weights,
        predictions=Tensor("predictions", ("batch", "target"), found["predictions"]),
    )  # fmt: skip


def _metrics(windows: Windows, predictions: np.ndarray) -> Metrics | None:
    tested = np.flatnonzero(~windows.train)
    if not len(tested):
        return None
    predicted = windows.scaler.invert(predictions[tested, 0], windows.target)
    return Metrics(tested, windows.actual(tested), predicted, windows.baseline(tested))


def shown_windows(count: int, index: int, wanted: int = 8) -> list[int]:
    """The windows a table shows: the first few, the one shown, the last two."""
    found = sorted({*range(min(wanted - 2, count)), index, *range(max(0, count - 2), count)})
    return found


def split_names(windows: Windows) -> Sequence[str]:
    return ["train" if t else "test" for t in windows.train.tolist()]
