"""`rnnprobe series`: one long series of numbers cut into windows, the network's forward
pass over every window, and, with a recipe, its training by mean squared error with Adam;
then the test windows' predictions against the actual values, in the target's own units,
beside the baseline that repeats the last value of the target in the window.

The network is the lab's: the recurrent layers read each window's rows (batch, time,
features) and return their last step (and their states); `Dense(1)` predicts the target.
Every pass over the windows goes batch by batch (`keras/passes.py`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.commands.series_check import SeriesCheck
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.errors import shown as shown_text
from rnnprobe.core.inputs.windows import Windows
from rnnprobe.core.options import check_drawn, resolve_seed
from rnnprobe.core.result import ProbeResult
from rnnprobe.core.stages import ProbeSpec
from rnnprobe.core.stages.around import ACTIVATIONS

DEFAULT_WINDOW = 7  # the stock lab's seq_length
DEFAULT_SPLIT = 0.7  # the lab's train_size: 70 % of the rows
DEFAULT_LR = 0.01  # the lab's learning_rate
DEFAULT_BATCH_SIZE = 32  # as Keras `fit`


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
    shown_group: int = 0  # the group the chart draws


def check_activation(value: Any) -> str:
    text = str(value)
    if text not in ACTIVATIONS:
        raise InputError(Param("activation"), f" {text!r}: give linear, tanh or sigmoid")
    return text


def series_spec(spec: ProbeSpec, activation: str, outputs: int = 1) -> ProbeSpec:
    """The options' recurrent layers on a series: numbers in, the last step out (with the
    states), and a Dense of this activation on it, one output per horizon and target."""
    return replace(spec, features=True, value_head=activation, value_units=outputs,
                   return_sequences=False, return_state=True, head=None, each_step=False,
                   embed=None)  # fmt: skip


def check_grouping(group: str | None, scale_per_group: bool, show_group: str | None) -> None:
    """Options that read the groups need --group: refused before the table is read."""
    if group is None and (scale_per_group or show_group is not None):
        flag = "scale_per_group" if scale_per_group else "show_group"
        raise InputError(Param(flag), " needs ", Param("group"))


def plan(windows: Windows, spec: ProbeSpec, *, activation: str = "linear", seed: Any = None,
         index: int | None = None, recipe: Recipe | None = None,
         show_group: str | None = None) -> SeriesPlan:  # fmt: skip
    """The series, its network and recipe, checked: the window shown is one of them, the
    group shown one of the groups, and the run fits in memory (refused before any work,
    naming the hidden sizes)."""
    shown = check_drawn("index", index, windows.count) - 1
    groups = windows.data.groups
    drawn = 0
    if show_group is not None:
        if show_group not in groups:
            listed = ", ".join(groups[:10]) + (" ..." if len(groups) > 10 else "")
            raise InputError(Param("show_group"), f" {shown_text(show_group)}: no such group; "
                             f"the groups are {listed}")  # fmt: skip
        drawn = groups.index(show_group)
    check_series_memory(windows, series_spec(spec, "linear", windows.outputs))
    return SeriesPlan(windows, series_spec(spec, check_activation(activation), windows.outputs),
                      resolve_seed(seed), shown, recipe, drawn)  # fmt: skip


def check_series_memory(windows: Windows, spec: ProbeSpec) -> None:
    """What a series keeps grows with its rows and windows (the rows, scaled; each window's
    outputs, states, prediction and target); a pass over the windows goes batch by batch,
    whose work is counted as a probe of one batch."""
    from rnnprobe.core.budget import FLOAT_BYTES, ensure_fits, estimate_bytes
    from rnnprobe.core.keras.passes import PASS_ROWS

    network = spec.network(len(windows.features))
    kept = sum(layer.units * len(layer.directions) for layer in network.layers)
    per_window = (
        network.recurrent.output_width + kept * len(spec.cell.state_names) + 2 * (windows.outputs)
    )
    rows = windows.values.size * (8 + FLOAT_BYTES)
    batch, _ = estimate_bytes(spec, min(PASS_ROWS, windows.count), windows.window,
                              len(windows.features))  # fmt: skip
    total = rows + windows.count * per_window * FLOAT_BYTES * 2 + batch
    sizes = ",".join(map(str, spec.hidden))
    ensure_fits(total, Param("hidden"), f" {sizes}: this series ({windows.count:,} windows)")


def _rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((np.asarray(a) - b) ** 2)))


def _mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(np.asarray(a) - b)))


@dataclass(frozen=True)
class Scores:
    """One set of test windows scored: the network's errors and the baseline's."""

    rmse: float
    mae: float
    baseline_rmse: float
    baseline_mae: float

    @classmethod
    def of(cls, actual: np.ndarray, predicted: np.ndarray, baseline: np.ndarray) -> Scores:
        return cls(_rmse(predicted, actual), _mae(predicted, actual), _rmse(baseline, actual),
                   _mae(baseline, actual))  # fmt: skip

    @property
    def better(self) -> bool:
        return self.rmse < self.baseline_rmse


@dataclass(frozen=True)
class Metrics:
    """The test windows' predictions against the actual values, in each target's units,
    and the baseline that repeats each target's value at the window's last row: arrays of
    (test windows, horizons, targets). The headline numbers are the first horizon's and
    the first target's (the chart's); `by_output` has every horizon and target, `by_group`
    every group."""

    windows: np.ndarray  # the test windows' indices
    actual: np.ndarray
    predicted: np.ndarray
    baseline: np.ndarray
    horizons: tuple[int, ...] = (1,)
    targets: tuple[str, ...] = ("",)
    groups: np.ndarray | None = None  # each test window's group
    group_names: tuple[str, ...] = ("",)

    def shown(self, name: str) -> np.ndarray:
        """`actual`, `predicted` or `baseline` as the JSON and the API give them: one number
        per test window for a single output, else (test windows, horizons, targets)."""
        array: np.ndarray = getattr(self, name)
        return array[:, 0, 0] if array.shape[1:] == (1, 1) else array

    @functools.cached_property
    def first(self) -> Scores:
        """The headline scores (first horizon, first target), computed once."""
        return Scores.of(self.actual[:, 0, 0], self.predicted[:, 0, 0], self.baseline[:, 0, 0])

    @property
    def rmse(self) -> float:
        return self.first.rmse

    @property
    def mae(self) -> float:
        return self.first.mae

    @property
    def baseline_rmse(self) -> float:
        return self.first.baseline_rmse

    @property
    def baseline_mae(self) -> float:
        return self.first.baseline_mae

    def by_output(self) -> list[tuple[int, str, Scores]]:
        """Every (horizon, target) scored over all the test windows."""
        return [
            (h, name, Scores.of(self.actual[:, i, k], self.predicted[:, i, k],
                                self.baseline[:, i, k]))
            for i, h in enumerate(self.horizons) for k, name in enumerate(self.targets)
        ]  # fmt: skip

    def by_group(self) -> list[tuple[str, int, Scores]]:
        """Each group's test windows scored on the first horizon and target (a group with no
        test window is left out)."""
        if self.groups is None or len(self.group_names) < 2:
            return []
        found = []
        for g, name in enumerate(self.group_names):
            mine = self.groups == g
            if mine.any():
                found.append((name, int(mine.sum()), Scores.of(
                    self.actual[mine, 0, 0], self.predicted[mine, 0, 0],
                    self.baseline[mine, 0, 0])))  # fmt: skip
        return found


@dataclass(frozen=True)
class Beyond:
    """A column whose test values leave the range fitted on the training rows (of its
    group, with a scaling per group)."""

    column: str
    rows: int  # test rows outside the training range
    test_rows: int
    low: float  # the training rows' min and max
    high: float
    test_low: float
    test_high: float
    reached: tuple[float, float]  # the scaled values the test rows reach (min, max)
    feature: bool  # a feature (the network reads it), else a target only
    group: str | None = None  # the group, with a scaling per group


def extrapolation(windows: Windows) -> tuple[Beyond, ...]:
    """The columns whose test rows (those the test windows read or predict) go past the
    values of the training rows the scaling was fitted on: what the network must
    extrapolate to."""
    tested = ~windows.train
    if not tested.any():
        return ()
    last = windows.target_rows[tested].max(axis=1)
    used = np.zeros(windows.rows, dtype=bool)
    for start, end in zip(windows.starts[tested], last + 1, strict=True):
        used[start:end] = True
    test_rows = used & ~windows.train_mask
    data = windows.data
    sets: list[tuple[str | None, slice]] = (
        list(zip(data.groups, data.group_rows, strict=True))
        if windows.scaler.per_group
        else [(None, slice(0, windows.rows))]
    )
    found = []
    for group, rows in sets:
        trained, tests = windows.train_mask[rows], test_rows[rows]
        values, scaled_values = windows.values[rows], windows.scaled[rows]
        if not tests.any() or not trained.any():
            continue
        for column in dict.fromkeys([*windows.features, *windows.targets_read]):
            train_values = values[trained, column]
            test_values = values[tests, column]
            low, high = float(train_values.min()), float(train_values.max())
            outside = int(((test_values < low) | (test_values > high)).sum())
            if outside:
                scaled = scaled_values[tests, column]
                found.append(Beyond(windows.names[column], outside, int(tests.sum()), low, high,
                                    float(test_values.min()), float(test_values.max()),
                                    (float(scaled.min()), float(scaled.max())),
                                    column in windows.features, group))  # fmt: skip
    return tuple(found)


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
    beyond: tuple[Beyond, ...] = ()  # test values past the training rows' range
    shown_group: int = 0  # the group the chart draws

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
    # The windows are cut batch by batch as the passes read them (WindowRows, array-like).
    x_all: Any = windows.x_data
    targets, train = windows.targets, windows.train
    trained, tested = np.flatnonzero(train), np.flatnonzero(~train)
    learn = len(trained)
    x_train, y_train = x_all.take(trained), targets[trained]
    x_test, y_test = x_all.take(tested), targets[tested]
    network = replace(spec, loss=True).network(len(windows.features))
    model = keras_train.prepared_arrays(network, (x_train, y_train), planned.seed,
                                        output="predictions")  # fmt: skip
    same = keras_windows.same_as_keras(windows)
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
        errors = ((found["predictions"].astype(np.float64) - targets) ** 2).mean(axis=1)
        test_mean = float(errors[tested].mean()) if len(tested) else None
        weights = named([np.array(v.numpy(), dtype=np.float32) for _, v, _ in model.named])
        initial = final = Measure(float(errors[trained].mean()), test_mean, weights)
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
        gradients=gradients, stopped=stopped, beyond=extrapolation(windows),
        shown_group=planned.shown_group,
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


def _probe(planned: SeriesPlan, x_all: Any, found: dict[str, Any],
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
    return Metrics(tested, windows.actual(tested), windows.in_units(predictions[tested], tested),
                   windows.baseline(tested), windows.horizons, windows.target_names,
                   windows.group_of[tested], windows.data.groups)  # fmt: skip
