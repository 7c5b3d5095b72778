"""`series --check`: a series' windows, scaling, forward pass, initial loss and gradients
again in numpy, from the raw rows and the reported weights only, batch by batch."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.inputs.scaling import MINMAX_EPSILON
from rnnprobe.core.inputs.windows import Windows
from rnnprobe.core.keras.passes import slices
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.numpy import engine
from rnnprobe.core.numpy.backprop import backprop
from rnnprobe.core.result import ProbeResult
from rnnprobe.core.stages import ProbeSpec

ROWS = 1024  # windows per batch of a numpy pass
FINITE_DIFFERENCES = 24  # gradient entries also taken by central differences
STEP = 1e-4  # their step, in float64


@dataclass(frozen=True)
class SeriesCheck:
    """`series --check`: everything again in numpy, the largest difference of each part."""

    windows_diff: float  # the windows and targets, cut again row by row
    scaling_diff: float  # the scaled rows, by the formula on the training rows' numbers
    forward_diff: float  # outputs, states and predictions, by rnnprobe's numpy engine
    loss_diff: float  # the initial loss over the training windows
    gradient_diff: float  # every initial gradient, by numpy backpropagation
    finite_diff: float  # backpropagation against central differences, on a sample of entries
    # The largest value compared (a raw row, a loss, a gradient): float32 keeps about 7
    # digits of it, so differences are held to TOLERANCE times it where it passes 1 (a
    # series with --scale none compares prices and squared errors of thousands).
    scale: float = 1.0

    @property
    def max_abs_diff(self) -> float:
        return max(self.windows_diff, self.scaling_diff, self.forward_diff, self.loss_diff,
                   self.gradient_diff, self.finite_diff)  # fmt: skip

    @property
    def tolerance(self) -> float:
        return TOLERANCE * max(1.0, self.scale)

    @property
    def ok(self) -> bool:
        return self.max_abs_diff < self.tolerance


def expected_scaled(windows: Windows) -> np.ndarray:
    """Every row scaled by the formula, fitted on the training rows alone (of every group,
    or of each group with a scaling per group)."""
    values = windows.values
    group_of = windows.data.group_of
    found = np.empty_like(values)
    sets = (
        [group_of == g for g in range(len(windows.data.groups))]
        if windows.scaler.per_group
        else [np.ones(len(values), dtype=bool)]
    )
    for rows in sets:
        fitted = values[rows & windows.train_mask]
        method = windows.scaler.method
        if method == "minmax":
            low, high = fitted.min(axis=0), fitted.max(axis=0)
            found[rows] = (values[rows] - low) / (high - low + MINMAX_EPSILON)
        elif method == "standard":
            found[rows] = (values[rows] - fitted.mean(axis=0)) / fitted.std(axis=0)
        else:
            found[rows] = values[rows]
    return found


def _largest(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, np.float64) - b), initial=0.0))


def check_series(windows: Windows, spec: ProbeSpec, probe: ProbeResult,
                 initial: Sequence[Tensor], gradients: Sequence[Tensor],
                 initial_loss: float) -> SeriesCheck:  # fmt: skip
    """The windows cut again row by row, the scaling by its formula, the forward pass at
    the probe's weights, the initial loss and gradients by numpy backpropagation and,
    on a sample of entries, by central differences."""
    scaled = expected_scaled(windows)
    scaling_diff = _largest(windows.scaled, scaled)
    features = list(windows.features)
    windows_diff = 0.0
    x_all, targets = windows.x_data, windows.targets
    columns = list(windows.targets_read)
    for i, start in enumerate(windows.starts.tolist()):  # row by row, as the lab cuts them
        last = start + windows.window - 1
        x = scaled[start : last + 1, features]
        y = np.concatenate([scaled[last + h, columns] - (scaled[last, columns] if
                                                          windows.difference else 0.0)
                            for h in windows.horizons])  # fmt: skip
        windows_diff = max(windows_diff, _largest(x_all[i], x), _largest(targets[i], y))
    weights = {w.name: w.array for w in probe.weights}
    forward_diff = 0.0
    lengths = np.full(windows.count, windows.window)
    for part in slices(windows.count, ROWS):
        computed = engine.recompute(spec, x_all[part], lengths[part], weights)
        reported = {"outputs": probe.outputs.array[part],
                    **{s.name: s.array[part] for s in probe.states}}  # fmt: skip
        if probe.predictions is not None:
            reported["predictions"] = probe.predictions.array[part]
        for name, value in reported.items():
            forward_diff = max(forward_diff, _largest(value, computed[name]))
    start_weights = {w.name: w.array for w in initial}
    loss, computed_gradients = initial_gradients(windows, spec, start_weights)
    trained = {g.name: g.array for g in gradients}
    gradient_diff = max((_largest(trained[n], computed_gradients[n]) for n in trained),
                        default=0.0)  # fmt: skip
    sizes = [np.abs(scaled).max(initial=0.0), abs(loss),
             *(np.abs(g).max(initial=0.0) for g in computed_gradients.values())]  # fmt: skip
    return SeriesCheck(
        scale=float(max(sizes)),
        windows_diff=windows_diff,
        scaling_diff=scaling_diff,
        forward_diff=forward_diff,
        loss_diff=abs(loss - initial_loss),
        gradient_diff=gradient_diff,
        finite_diff=finite_differences(windows, spec, start_weights, computed_gradients),
    )


def _training(windows: Windows) -> tuple[Any, np.ndarray, int]:
    trained = np.flatnonzero(windows.train)
    return windows.x_data.take(trained), windows.targets[trained], len(trained)


def initial_gradients(windows: Windows, spec: ProbeSpec, weights: dict[str, np.ndarray]
                      ) -> tuple[float, dict[str, np.ndarray]]:  # fmt: skip
    """The mean squared error over the training windows and its gradients, by numpy
    backpropagation, batch by batch (each batch weighted by its windows)."""
    x, y, learn = _training(windows)
    trained = replace(spec, loss=True)
    total = 0.0
    summed: dict[str, np.ndarray] = {}
    for part in slices(learn, ROWS):
        rows = len(x[part])
        found = backprop(trained, x[part], np.full(rows, x.shape[1]), weights, y[part])
        total += found.loss * rows
        for name, gradient in found.gradients.items():
            summed[name] = summed.get(name, 0.0) + gradient * rows
    return total / learn, {name: value / learn for name, value in summed.items()}


def training_loss(windows: Windows, spec: ProbeSpec, weights: dict[str, np.ndarray]) -> float:
    """The mean squared error over the training windows, by the numpy engine's forward."""
    x, y, learn = _training(windows)
    total = 0.0
    for part in slices(learn, ROWS):
        rows = len(x[part])
        predicted = engine.recompute(spec, x[part], np.full(rows, x.shape[1]),
                                     weights)["predictions"]  # fmt: skip
        total += float(np.sum(np.mean((predicted - y[part]) ** 2, axis=-1)))  # as Keras's mse
    return total / learn


def finite_differences(windows: Windows, spec: ProbeSpec, weights: dict[str, np.ndarray],
                       gradients: dict[str, np.ndarray]) -> float:  # fmt: skip
    """Backpropagation's gradients against central differences of the loss, on entries
    spread over every weight (FINITE_DIFFERENCES in all)."""
    base = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    names = [n for n in gradients if n in base]
    per = max(1, math.ceil(FINITE_DIFFERENCES / max(len(names), 1)))
    largest = 0.0
    for name in names:
        flat = base[name].reshape(-1)
        for entry in np.unique(np.linspace(0, flat.size - 1, per).astype(int)).tolist():
            moved = {}
            for sign in (1.0, -1.0):
                values = flat.copy()
                values[entry] += sign * STEP
                moved[sign] = training_loss(
                    windows, spec, {**base, name: values.reshape(base[name].shape)}
                )
            estimate = (moved[1.0] - moved[-1.0]) / (2 * STEP)
            largest = max(largest, abs(estimate - float(gradients[name].reshape(-1)[entry])))
    return largest
