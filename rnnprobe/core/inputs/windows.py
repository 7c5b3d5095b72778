"""One long sequence cut into sliding windows: a series of numbers (the stock lab) or one
long text (the long-sentence lab).

A series: window i reads rows `[i*S, i*S + T)` and predicts the target column at row
`i*S + T - 1 + H` (`keras.utils.timeseries_dataset_from_array` cuts the same windows).
The first `floor(split * rows)` rows are the training rows; a window whose target row is
one of them is a training window, else a test window (its inputs may reach back into
training rows, as in the lab). The scaling is fitted on the training rows only and applied
to every row. Pure numpy: the windows are a view of the scaled rows, never copied, so
memory grows with the rows, not with the windows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import Tokens

SCALES = ("minmax", "standard", "none")
MINMAX_EPSILON = 1e-7  # the lab's noise term: (x - min) / (max - min + 1e-7)


@dataclass(frozen=True)
class Scaler:
    """Each column's scaling, fitted on the training rows: x' = (x - shift) / span."""

    method: str  # minmax, standard or none
    shift: np.ndarray  # per column: its min, its mean, or 0
    span: np.ndarray  # per column: max - min + 1e-7, its standard deviation, or 1
    low: np.ndarray  # per column: its min on the training rows (minmax)
    high: np.ndarray  # per column: its max on the training rows (minmax)

    def apply(self, values: np.ndarray) -> np.ndarray:
        scaled: np.ndarray = (values - self.shift) / self.span
        return scaled

    def invert(self, values: Any, column: int) -> np.ndarray:
        """Scaled values of one column back in that column's own units."""
        found: np.ndarray = np.asarray(values, dtype=np.float64) * self.span[column]
        return found + self.shift[column]

    def fitted(self, column: int) -> dict[str, float]:
        """What was fitted for one column, by name: min and max, or mean and std."""
        if self.method == "minmax":
            return {"min": float(self.low[column]), "max": float(self.high[column])}
        if self.method == "standard":
            return {"mean": float(self.shift[column]), "std": float(self.span[column])}
        return {}


def fit_scaler(method: str, rows: np.ndarray, names: Sequence[str]) -> Scaler:
    """The scaling `method` fitted on these (training) rows, per column."""
    columns = rows.shape[1]
    low, high = rows.min(axis=0), rows.max(axis=0)
    if method == "minmax":
        return Scaler(method, low, high - low + MINMAX_EPSILON, low, high)
    if method == "standard":
        mean, std = rows.mean(axis=0), rows.std(axis=0)
        constant = [names[c] for c in range(columns) if std[c] == 0]
        if constant:
            raise InputError(
                f"column {constant[0]} is constant on the training rows: ", Param("scale"),
                " standard would divide by 0 (use minmax or none)",
            )  # fmt: skip
        return Scaler(method, mean, std, low, high)
    return Scaler(method, np.zeros(columns), np.ones(columns), low, high)


def check_scale(method: Any) -> str:
    text = str(method)
    if text not in SCALES:
        raise InputError(Param("scale"), f" {text!r}: give minmax, standard or none")
    return text


def check_split(split: Any) -> float:
    """A fraction above 0 and at most 1 (1: every row trains, no test)."""
    try:
        value = float(split)
    except (TypeError, ValueError):
        raise InputError(Param("split"), f" {split!r}: give a fraction such as 0.7") from None
    if isinstance(split, bool) or not math.isfinite(value) or not 0 < value <= 1:
        raise InputError(
            Param("split"), f" {split!r}: give a fraction above 0 and at most 1, such as 0.7"
        )
    return value


@dataclass(frozen=True)
class Windows:
    """A series cut into windows, split and scaled: what the network reads and predicts."""

    names: tuple[str, ...]  # every column's name
    values: np.ndarray  # (rows, columns) float64, in the order the series flows
    features: tuple[int, ...]  # the columns read, in order
    target: int  # the column predicted
    window: int
    stride: int
    horizon: int
    split: float
    reverse: bool
    scaler: Scaler
    scaled: np.ndarray  # (rows, columns) float32, every column scaled

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def count(self) -> int:
        """How many windows: floor((rows - T - H) / S) + 1."""
        return (self.rows - self.window - self.horizon) // self.stride + 1

    @property
    def starts(self) -> np.ndarray:
        return np.arange(self.count) * self.stride

    @property
    def target_rows(self) -> np.ndarray:
        return self.starts + self.window - 1 + self.horizon

    @property
    def train_rows(self) -> int:
        """The first floor(split * rows) rows train (and fit the scaling)."""
        return math.floor(self.split * self.rows)

    @property
    def train(self) -> np.ndarray:
        """(windows,) booleans: a window trains when its target row is a training row."""
        found: np.ndarray = self.target_rows < self.train_rows
        return found

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.names[c] for c in self.features)

    @property
    def target_name(self) -> str:
        return self.names[self.target]

    @property
    def x_data(self) -> np.ndarray:
        """(windows, window, features) float32: a strided view of the scaled rows."""
        columns = np.ascontiguousarray(self.scaled[:, list(self.features)])
        view = np.lib.stride_tricks.sliding_window_view(columns, self.window, axis=0)
        found: np.ndarray = view.transpose(0, 2, 1)[:: self.stride][: self.count]
        return found

    @property
    def targets(self) -> np.ndarray:
        """(windows, 1) float32: the scaled target column at each window's target row."""
        found: np.ndarray = self.scaled[self.target_rows, self.target][:, None]
        return found

    def actual(self, windows: np.ndarray) -> np.ndarray:
        """The target column at these windows' target rows, in its own units."""
        found: np.ndarray = self.values[self.target_rows[windows], self.target]
        return found

    def baseline(self, windows: np.ndarray) -> np.ndarray:
        """The obvious guess: the target column's value at each window's last row (today's
        close for tomorrow's), in its own units."""
        last = self.starts[windows] + self.window - 1
        found: np.ndarray = self.values[last, self.target]
        return found


def cut(
    names: Sequence[str],
    values: np.ndarray,
    *,
    features: Sequence[int],
    target: int,
    window: int,
    stride: int,
    horizon: int,
    split: float,
    scale: str,
    reverse: bool,
) -> Windows:
    """The series cut into windows, checked: too few rows, or a split that leaves no
    training window, is a usage error naming the option."""
    rows = np.asarray(values, dtype=np.float64)
    if reverse:
        rows = rows[::-1]
    count = len(rows)
    if count < window + horizon:
        raise InputError(
            f"the data has {count} rows: a window of {window} rows (", Param("window"),
            f") and its target {horizon} row{'s' if horizon != 1 else ''} after it (",
            Param("horizon"), f") need at least {window + horizon}",
        )  # fmt: skip
    if count - horizon < 2:  # Keras's timeseries_dataset_from_array cuts from 2 rows or more
        raise InputError(
            f"the data has {count} rows: windows are cut from the rows before the last ",
            Param("horizon"), f" {horizon}, and Keras needs at least 2 of them (give more rows)",
        )  # fmt: skip
    if stride >= count - horizon:  # Keras's timeseries_dataset_from_array refuses it too
        raise InputError(
            Param("stride"), f" {stride} is larger than the data: give a stride below "
            f"{count - horizon} (its {count} rows less the ", Param("horizon"), ")",
        )  # fmt: skip
    train_rows = math.floor(split * count)
    if train_rows == 0:
        raise InputError(
            Param("split"), f" {split:g} leaves no training rows: {split:g} of {count} rows is "
            "less than one row (give a larger ", Param("split"), ")",
        )  # fmt: skip
    first_target = window - 1 + horizon
    if first_target >= train_rows:
        raise InputError(
            Param("split"), f" {split:g} leaves no training window: the training rows are "
            f"rows 0 to {train_rows - 1} of {count}, and the first window's target is row "
            f"{first_target} (give a larger ", Param("split"), " or a shorter ",
            Param("window"), ")",
        )  # fmt: skip
    scaler = fit_scaler(scale, rows[:train_rows], names)
    scaled = scaler.apply(rows).astype(np.float32)
    return Windows(
        names=tuple(names), values=rows, features=tuple(features), target=target,
        window=window, stride=stride, horizon=horizon, split=split, reverse=reverse,
        scaler=scaler, scaled=scaled,
    )  # fmt: skip


# -- one long text ---------------------------------------------------------------------------
def text_windows(
    text: str, window: int, stride: int, tokens: Tokens, *, predict: bool
) -> list[str]:
    """One long text cut into windows `stride` tokens apart, each with the token after it
    (the lab's 170 windows of 10 over its 180-character sentence): with `predict`, each
    window holds `window` + 1 tokens (it reads the first `window` and predicts the next at
    each step), else only the `window` it reads."""
    found = text.split() if tokens is Tokens.word else list(text)
    if len(found) < window + 1:
        what = "words" if tokens is Tokens.word else "characters"
        raise InputError(
            f"the text has {len(found)} {what}: a window of {window} (", Param("window"),
            f") and the token after it need at least {window + 1}",
        )  # fmt: skip
    joined = " ".join if tokens is Tokens.word else "".join
    size = window + 1 if predict else window
    count = -(-(len(found) - window) // stride)
    from rnnprobe.core import budget

    # Each window is a string of its own: about a byte a character and 60 bytes besides.
    need = count * (size * (2 if tokens is Tokens.word else 1) + 60)
    budget.ensure_fits(need, Param("window"), f" {window}: {count:,} windows of {size:,} tokens")
    return [joined(found[i : i + size]) for i in range(0, len(found) - window, stride)]


def rebuilt(windows: Sequence[Sequence[str]], stride: int) -> list[str]:
    """The text the windows' tokens (each window's, step by step) rebuild: every token of
    the first window, then the last `stride` of each next one (at most all of them): with
    a window's predictions, the text from its second token on, as the lab prints it."""
    if not windows:
        return []
    found = list(windows[0])
    for tokens in windows[1:]:
        found += list(tokens[max(0, len(tokens) - stride) :])
    return found
