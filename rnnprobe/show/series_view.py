"""`series`: the data cut into windows, split and scaled, the network's shapes, a table of
windows, the window shown (its rows, outputs, states and prediction), the training's curve,
and the test windows' predictions against the actual values and the baseline, as a table
and a chart. Nothing is computed here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Group, RenderableType
from rich.text import Text

from rnnprobe.core.commands.outputs import where_in_outputs
from rnnprobe.show import keras_code
from rnnprobe.show.cells import check_line, code, gradients_table, vector, weight_table
from rnnprobe.show.chart import line_chart
from rnnprobe.show.series_data import data_lines, scaling_lines, split_lines
from rnnprobe.show.series_test import shown_rows, test_lines, value_text
from rnnprobe.show.tables import all_roles, layers_table, shapes_table
from rnnprobe.show.widgets import BLANK, BlockTable, Column, number

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import SeriesResult


def windows_table(result: SeriesResult, all_windows: bool) -> list[RenderableType]:
    """The windows: which rows each reads, its target row and split, its target, and the
    last row it reads, a column per feature (whole columns wrap to blocks when narrow)."""
    windows = result.windows
    data = windows.data
    count = windows.count
    shown = list(range(count)) if all_windows else shown_rows(count, result.index)
    grouped = len(data.groups) > 1
    target = windows.target_names[0]
    keys = [
        Column("window", "right"),
        *([Column("group")] if grouped else []),
        Column("rows", "right"),
        Column("→ row", "right"),
        Column("split"),
        Column(f"→ {windows.output_name(windows.horizons[0], target)}", "right"),
    ]
    table = BlockTable(keys, [Column(f"last {name}", "right") for name in windows.feature_names])
    starts, targets, train = windows.starts, windows.target_rows, windows.train
    column = windows.targets_read[0]
    previous = -1
    for i in shown:
        if i != previous + 1:
            table.add_row(
                [Text("…"), *(Text("") for _ in range(len(keys) - 1 + len(windows.features)))]
            )
        start = int(starts[i])
        end = start + windows.window - 1
        read = windows.values[end, list(windows.features)]
        row = int(targets[i, 0])
        table.add_row(
            [
                Text(str(i + 1)),
                *([Text(data.groups[int(data.group_of[start])])] if grouped else []),
                Text(
                    f"{data.label(start)}..{data.label(end)}"
                    if data.index is not None
                    else f"{start}-{end}"
                ),
                Text(data.label(row)),
                Text("train" if train[i] else "test"),
                Text(value_text(float(windows.values[row, column]))),
                *(Text(value_text(v)) for v in read),
            ],
            style="bold" if i == result.index else None,
        )
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
        lines.append(
            Text(
                f"... {hidden:,} more windows (use --all to show every window, or --json)",
                style="dim",
            )
        )
    return lines


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
        table.add_row(
            [Text(str(t)), Text(windows.data.label(start + t)), *(number(float(v)) for v in x[t])]
        )
    split = "train" if windows.train[index] else "test"
    data = windows.data
    rows = (
        f"rows {start} to {start + windows.window - 1}"
        if data.index is None
        else f"{data.label(start)} to {data.label(start + windows.window - 1)}"
    )
    title = Text(f"window {index + 1} ({split}): x_data[{index}], {rows} scaled", style="bold")
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
    predicted = probe.predictions.array[index]
    in_units = windows.in_units(predicted[None, :], np.array([index]))[0]
    actual = windows.actual(np.array([index]))[0]
    scaled_targets = windows.targets[index]
    for k, (h, name) in enumerate((h, n) for h in windows.horizons for n in windows.target_names):
        i, j = divmod(k, len(windows.target_names))
        label = windows.output_name(h, name)
        line = Text(
            f"prediction{'' if windows.outputs == 1 else f' {label}'} = {float(predicted[k]):.4f}",
            style="bold",
        )
        line.append(
            f" (scaled{', a change' if windows.difference else ''}) = "
            f"{value_text(float(in_units[i, j]))} {name}; target {float(scaled_targets[k]):.4f} = "
            f"{value_text(float(actual[i, j]))}",
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
        parts += [
            BLANK,
            check_line(result.check.ok, result.check.max_abs_diff, result.check.tolerance),
        ]
    return Group(*parts)
