"""`rnnprobe.series`: one long series cut into windows, the network on them, its training
and its test against the baseline."""

from __future__ import annotations

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
        self.target: str = windows.target_name
        self.seed: int = result.seed
        self.starts: np.ndarray = windows.starts
        self.target_rows: np.ndarray = windows.target_rows
        self.train: np.ndarray = windows.train
        self.x_data: np.ndarray = windows.x_data
        self.targets: np.ndarray = windows.targets
        self.outputs: np.ndarray = probe.outputs.array
        self.states: dict[str, np.ndarray] = {s.name: s.array for s in probe.states}
        assert probe.predictions is not None
        self.predictions: np.ndarray = probe.predictions.array
        self.weights: dict[str, np.ndarray] = {w.name: w.array for w in probe.weights}
        test = result.test
        self.test: dict[str, Any] | None = None if test is None else {
            "rmse": test.rmse, "mae": test.mae, "baseline_rmse": test.baseline_rmse,
            "baseline_mae": test.baseline_mae, "actual": test.actual,
            "predicted": test.predicted, "baseline": test.baseline,
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
        from rnnprobe.show.series_view import prediction_chart

        if self.result.test is None:
            raise InputError("no test windows (split=1): there is nothing to chart")
        return Picture(prediction_chart(self.result))

    def __repr__(self) -> str:
        test = "" if self.test is None else f", test RMSE {self.test['rmse']:.4g}"
        return (f"<rnnprobe.Series {len(self.x_data)} windows of {self.x_data.shape[1]} rows "
                f"x {self.x_data.shape[2]} features{test}>")  # fmt: skip


def _table(data: Any, columns: Sequence[str] | None) -> tables.Table:
    """The data as a table: a path, a pandas DataFrame, or numbers (1-D or rows x columns)."""
    if isinstance(data, str | Path):
        return tables.read_series_data([str(data)], lambda: "")
    names = getattr(data, "columns", None)
    if names is not None and hasattr(data, "to_numpy"):  # a pandas DataFrame, duck-typed
        return tables.table_from_values(data.to_numpy(dtype=np.float64), list(names),
                                        "the DataFrame")  # fmt: skip
    return tables.table_from_values(data, columns, "the array")


def series(
    data: Any,
    *,
    window: int = core_series.DEFAULT_WINDOW,
    stride: int = 1,
    horizon: int = 1,
    split: float = core_series.DEFAULT_SPLIT,
    scale: str = "minmax",
    columns: str | Sequence[str] | None = None,
    target: str | None = None,
    names: Sequence[str] | None = None,
    reverse: bool = False,
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
    columns, named by `names`), a path to a CSV/TSV file, or a pandas DataFrame. `columns`
    (names or numbers from 1) are the features, `target` the column predicted; `train`
    epochs of mean squared error with Adam. The same `seed` gives the same numbers."""
    if isinstance(lr, bool):
        raise InputError(Param("lr"), f" {lr!r}: give a number such as 0.01")
    table = _table(data, names)
    spec = options.make_spec(
        hidden=hidden, style=style, cell=cell, bidirectional=bidirectional,
        merge_mode=None if not bidirectional and merge_mode == "concat" else merge_mode,
    )  # fmt: skip
    given = columns if columns is None or isinstance(columns, str) else ",".join(columns)
    features, chosen = tables.select_columns(table, given, target)
    cut = cutting.cut(
        table.names, table.values, features=features, target=chosen,
        window=options.positive_int("window", window),
        stride=options.positive_int("stride", stride),
        horizon=options.positive_int("horizon", horizon),
        split=cutting.check_split(split), scale=cutting.check_scale(scale), reverse=bool(reverse),
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
                               recipe=recipe)  # fmt: skip
    return Series(core_series.series(planned, check=bool(check)), table.source)
