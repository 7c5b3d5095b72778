"""`rnnprobe.series`: one long series cut into windows, the network on them, its training
and its test against the baseline."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import RenderableType

from rnnprobe.api.shown import Picture, Shown, check_of
from rnnprobe.core import options
from rnnprobe.core.commands import series as core_series
from rnnprobe.core.commands.series import Recipe, SeriesResult
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs import table as tables
from rnnprobe.core.inputs import windows as cutting
from rnnprobe.core.inputs.selection import select
from rnnprobe.show import jsonseries


class Series(Shown):
    """What `rnnprobe series` shows: the windows, the network's tensors on every window,
    the training and the test. `.x_data` (windows, window, features) and `.targets` are
    scaled, `.test` is in the target's own units."""

    def __init__(self, result: SeriesResult, source: str) -> None:
        self.result = result
        self.source = source
        windows, probe = result.windows, result.probe
        self.columns: list[str] = list(windows.feature_names)
        self.target: str = windows.target_names[0]
        self.targets_read: list[str] = list(windows.target_names)
        self.horizons: list[int] = list(windows.horizons)
        self.groups: list[str] = list(windows.data.groups)
        self.index: list[str] | None = (
            None if windows.data.index is None else list(windows.data.index)
        )
        self.seed: int = result.seed
        self.starts: np.ndarray = windows.starts
        self.target_rows: np.ndarray = windows.target_rows
        self.train: np.ndarray = windows.train
        self._windows = windows
        self.targets: np.ndarray = windows.targets
        self.outputs: np.ndarray = probe.outputs.array
        self.states: dict[str, np.ndarray] = {s.name: s.array for s in probe.states}
        assert probe.predictions is not None
        self.predictions: np.ndarray = probe.predictions.array
        self.weights: dict[str, np.ndarray] = {w.name: w.array for w in probe.weights}
        test = result.test
        self.test: dict[str, Any] | None = None if test is None else {
            "rmse": test.rmse, "mae": test.mae, "baseline_rmse": test.baseline_rmse,
            "baseline_mae": test.baseline_mae,
            **{name: test.shown(name) for name in ("actual", "predicted", "baseline")},
        }  # fmt: skip
        self.history: list[dict[str, Any]] = [
            {"epoch": e.epoch, "loss": e.loss, "test_loss": e.test_loss} for e in result.history
        ]
        self.gradients: dict[str, np.ndarray] = {g.name: g.array for g in result.gradients}
        self.stopped: str | None = result.stopped
        self.check: dict[str, Any] | None = check_of(result.check)

    def save(self, path: str) -> str:
        """The trained network written to `path` (.keras), as `--save` writes it: a plain
        Keras model that reads what a user has, rnnprobe's description inside."""
        from rnnprobe.api.saved import save

        return save(self.result, path)

    def _view(self) -> RenderableType:
        from rnnprobe.show.series_view import series_view

        return series_view(self.result, source=self.source)

    def _json(self) -> dict[str, Any]:
        return jsonseries.series_object(self.result)

    def chart(self) -> Picture:
        """The test windows' predictions against the actual values, as `series` draws them."""
        from rnnprobe.show.series_test import prediction_chart

        if self.result.test is None:
            raise InputError("no test windows (split=1): there is nothing to chart")
        return Picture(prediction_chart(self.result))

    @functools.cached_property
    def x_data(self) -> np.ndarray:  # type: ignore[override]  # Shown.x_data, made late
        """Every window's rows, (windows, window, features): made when first read (the
        windows are cut batch by batch everywhere else)."""
        return np.asarray(self._windows.x_data)

    def __repr__(self) -> str:
        test = "" if self.test is None else f", test RMSE {self.test['rmse']:.4g}"
        shape = self._windows.x_data.shape
        return (f"<rnnprobe.Series {shape[0]} windows of {shape[1]} rows "
                f"x {shape[2]} features{test}>")  # fmt: skip


def _table(data: Any, columns: Sequence[str] | None) -> tables.Table:
    """The data as a table: a path, a pandas DataFrame (its columns of numbers as numbers,
    the others, dates or text, read as a file's cells are), or numbers (1-D or rows x
    columns)."""
    if isinstance(data, str | Path):
        return tables.read_series_data([str(data)], lambda: "")
    names = getattr(data, "columns", None)
    if names is not None and hasattr(data, "to_numpy"):  # a pandas DataFrame, duck-typed
        kinds = getattr(data, "dtypes", None)
        numeric = [n for n in names if kinds is None or getattr(kinds[n], "kind", "f") in "iufb"]
        others = {str(n): [None if v != v else v for v in data[n].tolist()]  # NaN: missing
                  for n in names if n not in numeric}  # fmt: skip
        frame = data[numeric] if others else data
        return tables.table_from_values(frame.to_numpy(dtype=np.float64), [str(n) for n in numeric],
                                        "the DataFrame", others)  # fmt: skip
    return tables.table_from_values(data, columns, "the array")


def series(
    data: Any,
    *,
    window: int = core_series.DEFAULT_WINDOW,
    stride: int = 1,
    horizon: int | str | Sequence[int] = 1,
    split: float = core_series.DEFAULT_SPLIT,
    scale: str = "minmax",
    columns: str | Sequence[str] | None = None,
    target: str | Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    reverse: bool = False,
    date: str | None = None,
    group: str | None = None,
    missing: str = "error",
    scale_per_group: bool = False,
    difference: bool = False,
    show_group: str | None = None,
    hidden: int | Sequence[int] = 2,
    style: str = "layer",
    cell: str = "simple",
    bidirectional: bool = False,
    merge_mode: str = "concat",
    activation: str = "linear",
    index: int | None = None,
    train: int | None = None,
    lr: float = core_series.DEFAULT_LR,
    batch_size: int = core_series.DEFAULT_BATCH_SIZE,
    shuffle: bool = True,
    every: int | None = None,
    seed: int | None = None,
    check: bool = False,
) -> Series:
    """`rnnprobe series`: `data` is a list of numbers, a numpy array (1-D, or rows x
    columns, named by `names`; NaN is missing), a path to a CSV/TSV file, or a pandas
    DataFrame. `columns` (names or numbers from 1) are the features, `target` the columns
    predicted, `horizon` the steps ahead (1, [1, 2, 3] or "1-7"); `date` labels the rows,
    `group` splits a long table into series, `missing` is error, drop, ffill or
    interpolate; `train` epochs of mean squared error with Adam. The same `seed` gives the
    same numbers."""
    if isinstance(lr, bool):
        raise InputError(Param("lr"), f" {lr!r}: give a number such as 0.01")
    table = _table(data, names)
    spec = options.make_spec(
        hidden=hidden, style=style, cell=cell, bidirectional=bidirectional,
        merge_mode=None if not bidirectional and merge_mode == "concat" else merge_mode,
    )  # fmt: skip
    core_series.check_grouping(group, bool(scale_per_group), show_group)
    given = columns if columns is None or isinstance(columns, str) else ",".join(columns)
    targets = target if target is None or isinstance(target, str) else ",".join(target)
    selected = select(table, columns=given, target=targets, date=date, group=group,
                      missing=str(missing), reverse=bool(reverse))  # fmt: skip
    cut = cutting.cut(
        selected, window=options.positive_int("window", window),
        stride=options.positive_int("stride", stride),
        horizons=cutting.parse_horizons(horizon),
        split=cutting.check_split(split), scale=cutting.check_scale(scale),
        per_group=bool(scale_per_group), difference=bool(difference),
    )  # fmt: skip
    recipe = None
    if train is not None:
        epochs = options.positive_int("train", train)
        recipe = Recipe(
            epochs=epochs, lr=options.learning_rate(lr),
            batch_size=options.positive_int("batch_size", batch_size), shuffle=bool(shuffle),
            every=options.default_every(epochs) if every is None
            else options.positive_int("every", every),
        )  # fmt: skip
    planned = core_series.plan(cut, spec, activation=activation, seed=seed, index=index,
                               recipe=recipe, show_group=show_group)  # fmt: skip
    return Series(core_series.series(planned, check=bool(check)), table.source)
