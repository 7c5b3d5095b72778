"""A series cut into sliding windows (the stock lab), split and scaled. Pure numpy.

The rows are what `selection.py` gives: grouped, in segments a window may span. In each
segment, window i reads rows `[s + i*S, s + i*S + T)` and predicts each target column at
each horizon h, row `s + i*S + T - 1 + h` (`keras.utils.timeseries_dataset_from_array`
cuts the same windows from the segment). In each group the first `floor(split * rows)` rows
are the training rows; a window trains when its furthest target row is one of them, else
it is a test window (its inputs may reach back into training rows, as in the lab). The
scaling is fitted on the training rows only (of every group, or per group) and applied to
every row. The windows are never copied whole: `x_data` cuts a batch of them when asked, so
that memory grows with the rows and the batch, not with the windows.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param, shown
from rnnprobe.core.inputs.lazy import WindowRows
from rnnprobe.core.inputs.scaling import Scaler, fit_scaler
from rnnprobe.core.inputs.selection import Selected

SCALES = ("minmax", "standard", "none")


def check_scale(method: Any) -> str:
    text = str(method)
    if text not in SCALES:
        raise InputError(Param("scale"), f" {shown(text)}: give minmax, standard or none")
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


def parse_horizons(given: Any) -> tuple[int, ...]:
    """`--horizon`: one step ahead (1), several (1,2,3) or a range (1-7): whole numbers of
    at least 1, increasing."""
    if isinstance(given, int) and not isinstance(given, bool):
        given = str(given)
    if isinstance(given, Sequence) and not isinstance(given, str):
        given = ",".join(str(g) for g in given)
    text = str(given).strip()
    found: list[int] = []
    for part in text.split(","):
        bounds = part.strip().split("-")
        if len(bounds) > 2 or not all(
            b.strip().isascii() and b.strip().isdecimal() for b in bounds
        ):
            raise InputError(
                Param("horizon"),
                f" {shown(text)}: give steps ahead as whole numbers: 1, 1,2,3 or 1-7",
            )
        low, high = int(bounds[0]), int(bounds[-1])
        if low < 1 or high < low:
            raise InputError(
                Param("horizon"),
                f" {shown(text)}: steps ahead are 1 or more, a range low-high with low <= high",
            )
        found.extend(range(low, high + 1))
    if any(b <= a for a, b in itertools.pairwise(found)):
        raise InputError(
            Param("horizon"), f" {shown(text)}: give the steps ahead increasing, each once"
        )
    return tuple(found)


@dataclass(frozen=True)
class Windows:
    """A series cut into windows, split and scaled: what the network reads and predicts."""

    data: Selected
    window: int
    stride: int
    horizons: tuple[int, ...]
    split: float
    scaler: Scaler
    scaled: np.ndarray  # (rows, columns read) float32, every column scaled
    starts: np.ndarray  # each window's first row
    train_mask: np.ndarray  # (rows,) the training rows of each group
    difference: bool = False  # the network predicts the change from the window's last row
    skipped: tuple[str, ...] = ()  # groups with fewer rows than a window and its horizon

    # -- what was read ---------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return self.data.names

    @property
    def values(self) -> np.ndarray:
        return self.data.values

    @property
    def features(self) -> tuple[int, ...]:
        return self.data.features

    @property
    def targets_read(self) -> tuple[int, ...]:
        """The target columns (indices into `names`)."""
        return self.data.targets

    @property
    def reverse(self) -> bool:
        return self.data.reverse

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(self.names[c] for c in self.features)

    @property
    def target_names(self) -> tuple[str, ...]:
        return tuple(self.names[c] for c in self.targets_read)

    @property
    def outputs(self) -> int:
        """The head's outputs: one per horizon and target."""
        return len(self.horizons) * len(self.targets_read)

    def output_name(self, horizon: int, target: str) -> str:
        """One output as the tables name it: `Close` alone, else `Close +2` (2 rows ahead)."""
        return target if self.outputs == 1 else f"{target} +{horizon}"

    @property
    def first_output(self) -> str:
        """The headline output's name (the first horizon and target: the chart's)."""
        return self.output_name(self.horizons[0], self.target_names[0])

    # -- the windows ---------------------------------------------------------------------------
    @property
    def count(self) -> int:
        return len(self.starts)

    @property
    def last_rows(self) -> np.ndarray:
        """Each window's last row."""
        found: np.ndarray = self.starts + self.window - 1
        return found

    @property
    def target_rows(self) -> np.ndarray:
        """(windows, horizons): the row each horizon predicts."""
        found: np.ndarray = self.last_rows[:, None] + np.asarray(self.horizons)[None, :]
        return found

    @property
    def group_of(self) -> np.ndarray:
        """Each window's group."""
        found: np.ndarray = self.data.group_of[self.starts]
        return found

    @property
    def train(self) -> np.ndarray:
        """(windows,) booleans: a window trains when its furthest target row trains."""
        found: np.ndarray = self.train_mask[self.last_rows + max(self.horizons)]
        return found

    @property
    def train_rows(self) -> int:
        """The training rows (of every group)."""
        return int(self.train_mask.sum())

    @functools.cached_property
    def x_data(self) -> WindowRows:
        """(windows, window, features) float32, cut from the scaled rows when read (the
        features' rows copied once)."""
        return WindowRows(self.scaled[:, list(self.features)], self.starts, self.window)

    @property
    def targets(self) -> np.ndarray:
        """(windows, horizons x targets) float32, horizon by horizon: the scaled targets (with
        `difference`, their change from the window's last row)."""
        rows = self.target_rows  # (windows, H)
        columns = list(self.targets_read)
        found = self.scaled[rows][:, :, columns]  # (windows, H, K)
        if self.difference:
            found = found - self.scaled[self.last_rows][:, None, columns]
        flat: np.ndarray = found.reshape(len(rows), -1).astype(np.float32)
        return flat

    def span(self, windows: np.ndarray) -> np.ndarray:
        """(windows, targets): each target's scaling span in each window's group."""
        group = self.group_of[windows] if self.scaler.per_group else np.zeros(len(windows), int)
        found: np.ndarray = self.scaler.span[group][:, list(self.targets_read)]
        return found

    def in_units(self, predictions: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Predictions (windows, horizons x targets), scaled, back in each target's own
        units: (windows, horizons, targets)."""
        shaped = np.asarray(predictions, np.float64).reshape(len(windows), len(self.horizons), -1)
        span = self.span(windows)[:, None, :]
        columns = list(self.targets_read)
        if self.difference:
            last = self.values[self.last_rows[windows]][:, None, columns]
            found: np.ndarray = last + shaped * span
            return found
        group = self.group_of[windows] if self.scaler.per_group else np.zeros(len(windows), int)
        shift = self.scaler.shift[group][:, None, columns]
        found = shaped * span + shift
        return found

    def actual(self, windows: np.ndarray) -> np.ndarray:
        """(windows, horizons, targets): the targets at these windows' target rows."""
        found: np.ndarray = self.values[self.target_rows[windows]][:, :, list(self.targets_read)]
        return found

    def baseline(self, windows: np.ndarray) -> np.ndarray:
        """(windows, horizons, targets): the obvious guess, each target's value at the
        window's last row (today's close for every day ahead)."""
        last = self.values[self.last_rows[windows]][:, list(self.targets_read)]
        found: np.ndarray = np.repeat(last[:, None, :], len(self.horizons), axis=1)
        return found


def _starts(
    data: Selected, window: int, stride: int, reach: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Every window's first row, segment by segment, and the groups too short for one."""
    found = []
    covered = set()
    for start, end in data.segments:
        count = (end - start - window - reach) // stride + 1
        if count > 0:
            found.append(start + stride * np.arange(count))
            covered.add(int(data.group_of[start]))
    skipped = tuple(name for g, name in enumerate(data.groups) if g not in covered)
    starts = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    return starts.astype(np.int64), skipped


def cut(
    data: Selected,
    *,
    window: int,
    stride: int = 1,
    horizons: Sequence[int] = (1,),
    split: float,
    scale: str,
    per_group: bool = False,
    difference: bool = False,
) -> Windows:
    """The series cut into windows, checked: too few rows, a stride past the data, or a
    split that leaves no training window is a usage error naming the option."""
    horizons = tuple(horizons)
    reach = max(horizons)
    rows = data.rows
    if rows < window + reach:
        raise InputError(
            f"the data has {rows} rows: a window of {window} rows (",
            Param("window"),
            f") and its target {reach} row{'s' if reach != 1 else ''} after it (",
            Param("horizon"),
            f") need at least {window + reach}",
        )
    if rows - reach < 2:  # Keras's timeseries_dataset_from_array cuts from 2 rows or more
        raise InputError(
            f"the data has {rows} rows: windows are cut from the rows before the last ",
            Param("horizon"),
            f" {reach}, and Keras needs at least 2 of them (give more rows)",
        )
    longest = max(end - start for start, end in data.segments)
    if stride >= longest - reach:  # Keras's timeseries_dataset_from_array refuses it too
        raise InputError(
            Param("stride"),
            f" {stride} is larger than the data: give a stride below "
            f"{longest - reach} (its {longest} rows less the ",
            Param("horizon"),
            ")",
        )
    starts, skipped = _starts(data, window, stride, reach)
    if not len(starts):
        where = "every group" if len(data.groups) > 1 else "every run of rows"
        raise InputError(
            f"{where} is shorter than a window of {window} rows (",
            Param("window"),
            f") and its target {reach} after it (the longest has {longest} rows)",
        )
    train_mask = np.zeros(rows, dtype=bool)
    for mine in data.group_rows:  # the first `split` of each group's rows, by time
        count = mine.stop - mine.start
        train_mask[mine.start : mine.start + math.floor(split * count)] = True
    if not train_mask.any():
        raise InputError(
            Param("split"),
            f" {split:g} leaves no training rows: {split:g} of {rows} rows is "
            "less than one row (give a larger ",
            Param("split"),
            ")",
        )
    trains = train_mask[starts + window - 1 + reach]
    if not trains.any():
        first = int(starts[0] + window - 1 + reach)
        last_train = (
            int(np.flatnonzero(train_mask[: data.segments[0][1]])[-1])
            if (train_mask[: data.segments[0][1]].any())
            else -1
        )
        raise InputError(
            Param("split"),
            f" {split:g} leaves no training window: the training rows are "
            f"rows 0 to {last_train} of {rows}, and the first window's target is row {first} "
            "(give a larger ",
            Param("split"),
            " or a shorter ",
            Param("window"),
            ")",
        )
    scaler = fit_scaler(
        scale,
        data.values,
        train_mask,
        data.group_rows,
        data.names,
        per_group=per_group,
        groups=data.groups,
    )
    scaled = scaler.apply(data.values, data.group_of).astype(np.float32)
    return Windows(
        data=data,
        window=window,
        stride=stride,
        horizons=horizons,
        split=split,
        scaler=scaler,
        scaled=scaled,
        starts=starts,
        train_mask=train_mask,
        difference=difference,
        skipped=skipped,
    )
