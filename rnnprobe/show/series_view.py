"""`series`: the data cut into windows, split and scaled, the network's shapes, a table of
windows, the window shown (its rows, outputs, states and prediction), the training's curve,
and the test windows' predictions against the actual values and the baseline, as a table
and a chart. Nothing is computed here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.commands.outputs import where_in_outputs
from rnnprobe.show import keras_code
from rnnprobe.show.cells import check_line, code, gradients_table, vector, verdict, weight_table
from rnnprobe.show.chart import line_chart
from rnnprobe.show.tables import all_roles, layers_table, shapes_table
from rnnprobe.show.widgets import BLANK, BlockTable, Column, number

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import Metrics, SeriesResult
    from rnnprobe.core.inputs.windows import Windows

SHOWN = 8  # windows a table shows before it says how many more


def _value(value: float) -> str:
    """A value in its column's own units: four decimals, or a whole number as it is."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:.0f}"
    return f"{value:.4f}"


def _metric(value: float) -> str:
    return f"{value:.4f}"


def data_lines(result: SeriesResult, source: str) -> list[RenderableType]:
    windows = result.windows
    names = ", ".join(windows.names)
    order = "; reversed (--reverse): the last row first" if windows.reverse else ""
    features = ", ".join(windows.feature_names)
    ahead = f"{windows.horizon} row{'s' if windows.horizon != 1 else ''}"
    start = "i" if windows.stride == 1 else f"{windows.stride}i"
    return [
        Text(
            f"data: {source}, {windows.rows:,} rows x {len(windows.names)} "
            f"column{'s' if len(windows.names) != 1 else ''} ({names}){order}",
            style="bold",
        ),
        Text(
            f"features: {features}  ->  target: {windows.target_name}, {ahead} after the "
            "window's last row"
        ),
        Text(
            f"{windows.count:,} windows of {windows.window} rows, stride {windows.stride}: "
            f"x_data[i] reads rows [{start}, {start} + {windows.window}) and predicts "
            f"{windows.target_name} at row {start} + {windows.window - 1 + windows.horizon}",
            style="dim",
        ),
        _keras_line(result),
    ]


def _keras_line(result: SeriesResult) -> RenderableType:
    windows = result.windows
    blocks = result.keras.blocks
    compared = (
        f"all {windows.count:,} windows compared"
        if result.keras.count == windows.count
        else "windows " + ", ".join(f"{a + 1:,}-{b:,}" for a, b in blocks) + " compared"
    )
    said = verdict(result.same_as_keras, "the same windows and targets", "other windows",
                   f" as Keras cuts them ({compared}):")  # fmt: skip
    given = (
        f"data[:-{windows.horizon}], targets[{windows.window - 1 + windows.horizon}:], "
        f"sequence_length={windows.window}, sequence_stride={windows.stride})"
    )
    return Group(said, *code(["  keras.utils.timeseries_dataset_from_array(", f"      {given}"]))


def split_lines(windows: Windows) -> list[RenderableType]:
    train = int(windows.train.sum())
    rows = windows.train_rows
    test = windows.count - train
    tested = f"rows {rows} to {windows.rows - 1} test" if rows < windows.rows else "no test rows"
    return [
        Text(
            f"split {windows.split:g}: rows 0 to {rows - 1} train ({rows:,} rows), {tested}: "
            f"{train:,} training windows, {test:,} test windows (a window is a test window when "
            "its target row is a test row; it may read training rows)",
        )
    ]


def scaling_lines(windows: Windows) -> list[RenderableType]:
    scaler = windows.scaler
    used = list(dict.fromkeys([*windows.features, windows.target]))
    if scaler.method == "none":
        return [
            Text("no scaling (--scale none): the network reads the values as they are", style="dim")
        ]
    formula = "(x - min) / (max - min + 1e-7)" if scaler.method == "minmax" else "(x - mean) / std"
    table = Table(show_edge=False)
    table.add_column("column")
    fields = list(scaler.fitted(used[0]))
    for field in fields:
        table.add_column(field, justify="right")
    for column in used:
        fitted = scaler.fitted(column)
        table.add_row(windows.names[column], *(_value(fitted[f]) for f in fields))
    return [
        Text(
            f"scaling {scaler.method}: {formula}, fitted on the {windows.train_rows:,} "
            "training rows only, then applied to every row:",
            style="bold",
        ),
        table,
        Text(
            "the test rows are scaled with the training rows' numbers, so nothing of the "
            "test rows leaks into training (the lab scaled its test rows with their own min "
            "and max)",
            style="dim",
        ),
    ]


def windows_table(result: SeriesResult, all_windows: bool) -> list[RenderableType]:
    """The windows: which rows each reads, its target row and split, its target, and the
    last row it reads, a column per feature (whole columns wrap to blocks when narrow)."""
    windows = result.windows
    count = windows.count
    shown = list(range(count)) if all_windows else _shown(count, result.index)
    keys = [Column("window", "right"), Column("rows", "right"), Column("→ row", "right"),
            Column("split"), Column(f"→ {windows.target_name}", "right")]  # fmt: skip
    table = BlockTable(keys, [Column(f"last {name}", "right") for name in windows.feature_names])
    starts, targets, train = windows.starts, windows.target_rows, windows.train
    previous = -1
    for i in shown:
        if i != previous + 1:
            table.add_row([Text("…"), *(Text("") for _ in range(4 + len(windows.features)))])
        start = int(starts[i])
        read = windows.values[start + windows.window - 1, list(windows.features)]
        table.add_row(
            [Text(str(i + 1)), Text(f"{start}-{start + windows.window - 1}"),
             Text(str(int(targets[i]))), Text("train" if train[i] else "test"),
             Text(_value(float(windows.values[targets[i], windows.target]))),
             *(Text(_value(v)) for v in read)],
            style="bold" if i == result.index else None,
        )  # fmt: skip
        previous = i
    lines: list[RenderableType] = [
        Text(
            "windows (counted from 1, as --index counts them; rows from 0): the rows each "
            "reads, its target row and target (→), and its last row; values in their own "
            "units:",
            style="bold",
        ),
        table,
    ]
    hidden = count - len(shown)
    if hidden:
        lines.append(Text(f"... {hidden:,} more windows (use --all to show every window, or "
                          "--json)", style="dim"))  # fmt: skip
    return lines


def _shown(count: int, index: int) -> list[int]:
    return sorted({*range(min(SHOWN - 2, count)), index, *range(max(0, count - 2), count)})


def window_lines(result: SeriesResult) -> list[RenderableType]:
    """The window shown, step by step: the scaled features it reads, then what the network
    returns for it: the last step's outputs, the states and the prediction."""
    windows, probe, index = result.windows, result.probe, result.index
    start = int(windows.starts[index])
    x = probe.batch.input.array[index]
    table = BlockTable(
        [Column("t", "right", "dim"), Column("row", "right")],
        [Column(name, "right") for name in windows.feature_names],
    )
    for t in range(windows.window):
        table.add_row([Text(str(t)), Text(str(start + t)), *(number(float(v)) for v in x[t])])
    split = "train" if windows.train[index] else "test"
    title = Text(
        f"window {index + 1} ({split}): x_data[{index}], rows {start} to "
        f"{start + windows.window - 1} scaled",
        style="bold",
    )
    notes = where_in_outputs(probe)
    lines: list[RenderableType] = [
        title,
        table,
        vector("outputs", probe.outputs.array[index], "the last step's h"),
    ]
    lines += [
        vector(s.name, s.array[index], notes.get(s.name, ("",) * (index + 1))[index])
        for s in probe.states
    ]
    assert probe.predictions is not None
    predicted = float(probe.predictions.array[index, 0])
    target = float(windows.targets[index, 0])
    column = windows.target
    line = Text(f"prediction = {predicted:.4f}", style="bold")
    line.append(
        f" (scaled) = {_value(float(windows.scaler.invert(predicted, column)))} "
        f"{windows.target_name}; target {target:.4f} = "
        f"{_value(float(windows.values[windows.target_rows[index], column]))}",
        style="dim",
    )
    lines.append(line)
    return lines


def loss_line(result: SeriesResult) -> RenderableType:
    found = result.final
    test = "" if found.test_loss is None else f", over the test windows {found.test_loss:.6f}"
    learn = int(result.windows.train.sum())
    when = "after training" if result.recipe is not None else "at the seeded weights"
    return Text(
        f"loss {when} (mean squared error, scaled): over the {learn:,} training "
        f"windows {found.loss:.6f}{test}"
    )


def training_lines(result: SeriesResult) -> list[RenderableType]:
    from rnnprobe.core.options import shown_epochs

    recipe = result.recipe
    assert recipe is not None
    order = (
        f"shuffled every epoch (the order drawn from seed {result.seed})"
        if recipe.shuffle
        else "in their order"
    )
    lines: list[RenderableType] = [
        Text(
            f"trained {recipe.epochs} epochs with Adam (lr {recipe.lr:g}), batches of "
            f"{recipe.batch_size} training windows, {order}; loss: mean squared error",
            style="bold",
        ),
        Text(
            f"loss at the seeded weights: {result.initial.loss:.6f}"
            + (
                "" if result.initial.test_loss is None else f", test {result.initial.test_loss:.6f}"
            ),
            style="dim",
        ),
        BLANK,
        Text("gradients of the loss at the initial weights (all training windows):", style="bold"),
        gradients_table(result.initial.weights, result.gradients),
    ]
    if not result.history:
        return [*lines, Text("no epoch finished", style="dim")]
    shown = set(shown_epochs(len(result.history), recipe.every))
    width = len(str(recipe.epochs))
    for e in result.history:
        if e.epoch in shown:
            test = "" if e.test_loss is None else f"  test_loss {e.test_loss:.6f}"
            lines.append(Text(f"epoch {e.epoch:>{width}}  loss {e.loss:.6f}{test}"))
    curves = [("loss", [e.loss for e in result.history], "•", "cyan")]
    if result.history[0].test_loss is not None:
        curves.append(
            ("test loss", [float(e.test_loss or 0.0) for e in result.history], "+", "yellow")
        )
    lines += [
        BLANK,
        Text("loss per epoch:", style="bold"),
        line_chart(curves, first="epoch 1", last=f"epoch {len(result.history)}"),
    ]
    return lines


def test_lines(result: SeriesResult, all_windows: bool) -> list[RenderableType]:
    test: Metrics | None = result.test
    windows = result.windows
    if test is None:
        return [Text("no test windows (--split 1): nothing to compare", style="dim")]
    name = windows.target_name
    table = Table(show_edge=False)
    for heading in ("window", "target row", f"actual {name}", "predicted", "baseline", "|error|"):
        table.add_column(heading, justify="right")
    count = len(test.windows)
    shown = list(range(count)) if all_windows else _shown(count, 0)
    for position in shown:
        i = int(test.windows[position])
        actual, predicted = float(test.actual[position]), float(test.predicted[position])
        table.add_row(
            str(i + 1),
            str(int(windows.target_rows[i])),
            _value(actual),
            _value(predicted),
            _value(float(test.baseline[position])),
            _value(abs(predicted - actual)),
        )
    beats = test.rmse < test.baseline_rmse
    lines: list[RenderableType] = [
        Text(
            f"the {count:,} test windows, in {name}'s own units (predictions scaled back):",
            style="bold",
        ),
        table,
    ]
    if count > len(shown):
        lines.append(
            Text(
                f"... {count - len(shown):,} more test windows (use --all, or --json)", style="dim"
            )
        )
    lines += [
        BLANK,
        prediction_chart(result),
        Text(
            f"RMSE {_metric(test.rmse)}  MAE {_metric(test.mae)}   the baseline (the window's "
            f"last {name} again): RMSE {_metric(test.baseline_rmse)}  MAE "
            f"{_metric(test.baseline_mae)}"
        ),
        verdict(
            beats,
            "better than the baseline",
            "not better than the baseline",
            f": RMSE {_metric(test.rmse)} vs {_metric(test.baseline_rmse)}",
        ),
    ]
    return lines


def prediction_chart(result: SeriesResult) -> RenderableType:
    """The test windows' actual values and predictions, in the target's units."""
    test = result.test
    assert test is not None
    name = result.windows.target_name
    first, last = int(test.windows[0]), int(test.windows[-1])
    return line_chart(
        [(f"actual {name}", test.actual.tolist(), "•", "green"),
         ("predicted", test.predicted.tolist(), "+", "cyan")],
        first=f"window {first + 1}", last=f"window {last + 1}",
    )  # fmt: skip


def series_view(
    result: SeriesResult,
    *,
    source: str,
    weights: bool = False,
    all_windows: bool = False,
    diagram: bool = False,
) -> Group:
    """`series`: the data, the windows, the network on them, the training and the test."""
    probe = result.probe
    width = len(result.windows.features)
    parts: list[Any] = [
        *code(keras_code.layer_lines(result.spec, width)),
        Text(f"seed {result.seed}", style="dim"),
    ]
    parts += data_lines(result, source)
    parts += split_lines(result.windows)
    parts += scaling_lines(result.windows)
    targets = (result.targets, "target")
    parts += [BLANK, shapes_table([*all_roles(probe), targets]), layers_table(probe)]
    parts += [BLANK, *windows_table(result, all_windows)]
    if diagram:
        from rnnprobe.show.diagram import diagram_view

        parts += [BLANK, diagram_view(probe, result.index)]
    else:
        parts += [BLANK, *window_lines(result)]
    if result.recipe is not None:
        parts += [BLANK, *training_lines(result)]
    parts += [BLANK, loss_line(result), BLANK, *test_lines(result, all_windows)]
    if weights:
        for tensor in probe.weights:
            parts += [BLANK, weight_table(tensor, None)]
    if result.check is not None:
        parts += [BLANK, check_line(result.check.ok, result.check.max_abs_diff,
                                    result.check.tolerance)]  # fmt: skip
    return Group(*parts)
