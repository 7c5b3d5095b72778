"""`series`: the data as read (its columns and their kinds, the date labels and their
steps, the missing values handled, the groups), how it is cut into windows (and that Keras
cuts the same), split and scaled. Nothing is computed here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.show.cells import code, verdict
from rnnprobe.show.series_test import SHOWN, value_text

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import SeriesResult
    from rnnprobe.core.inputs.windows import Windows


def _plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'s' if count != 1 and not word.endswith('s') else ''}"


def data_lines(result: SeriesResult, source: str) -> list[RenderableType]:
    windows = result.windows
    data = windows.data
    names = ", ".join(
        f"{n} ({k})" if k != "number" else n
        for n, k in zip(data.table_names, data.table_kinds, strict=True)
    )
    order = "; reversed (--reverse): the last row first" if windows.reverse else ""
    lines: list[RenderableType] = [
        Text(
            f"data: {source}, {windows.rows:,} rows x "
            f"{_plural(len(data.table_names), 'column')} ({names}){order}",
            style="bold",
        ),
    ]
    lines += _index_lines(result)
    lines += _gap_lines(result)
    lines += _group_lines(result)
    features = ", ".join(windows.feature_names)
    targets = ", ".join(windows.target_names)
    horizons = windows.horizons
    plural = "s" if len(windows.target_names) > 1 else ""
    if len(horizons) == 1:
        ahead = f"{_plural(horizons[0], 'row')} after the window's last row"
    else:
        ahead = f"horizons {', '.join(map(str, horizons))} (rows after the window's last row)"
    change = (
        "; each its change from the window's last row (--difference)" if windows.difference else ""
    )
    lines.append(Text(f"features: {features}  ->  target{plural}: {targets}; {ahead}{change}"))
    if windows.outputs > 1:
        lines.append(
            Text(
                f"head: Dense({windows.outputs}) = {_plural(len(horizons), 'horizon')} x "
                f"{_plural(len(windows.target_names), 'target')}, read as ("
                f"{len(horizons)}, {len(windows.target_names)}) per window",
                style="dim",
            )
        )
    start = "s" if windows.stride == 1 else f"s + {windows.stride}i"
    segments = len(data.segments)
    within = f" of each of its {segments:,} runs of rows" if segments > 1 else ""
    predicts = (
        f"row {start} + {windows.window - 1 + horizons[0]}"
        if len(horizons) == 1
        else f"rows {start} + {windows.window - 1} + h"
    )
    lines += [
        Text(
            f"{windows.count:,} windows of {windows.window} rows, stride {windows.stride}: "
            f"the window starting at row {start}{within} reads rows [{start}, {start} + "
            f"{windows.window}) and predicts {predicts}",
            style="dim",
        ),
        _keras_line(result),
    ]
    return lines


def _index_lines(result: SeriesResult) -> list[RenderableType]:
    data = result.windows.data
    if data.index is None:
        return []
    lines: list[RenderableType] = [
        Text(
            f"rows labelled by {data.index_name}: {data.index[0]} to {data.index[-1]}", style="dim"
        ),
    ]
    if data.unsorted is not None:
        lines.append(Text(data.unsorted, style="yellow"))
    if data.uneven is not None:
        uneven = data.uneven
        said = "; ".join(f"after {a} comes {b} ({step})" for a, b, step in uneven.first)
        more = (
            f", and {uneven.count - len(uneven.first):,} more"
            if uneven.count > len(uneven.first)
            else ""
        )
        lines.append(
            Text(
                f"uneven steps: {_plural(uneven.count, 'step')} of {data.index_name} "
                f"differ from the usual {uneven.step}: {said}{more} (a gap in time: "
                "a window across it reads rows that are not evenly spaced)",
                style="yellow",
            )
        )
    return lines


def _gap_lines(result: SeriesResult) -> list[RenderableType]:
    gaps = result.windows.data.gaps
    if not gaps.cells:
        return []
    cells = _plural(gaps.cells, "missing cell")
    if gaps.how == "drop":
        said = (
            f"{cells} in the columns read: --missing drop dropped "
            f"{_plural(gaps.rows_dropped, 'row')}, and no window spans a dropped row"
        )
    elif gaps.how == "ffill":
        said = f"{cells} in the columns read: --missing ffill filled each with the value before"
    else:
        said = (
            f"{cells} in the columns read: --missing interpolate filled each on the straight "
            "line between its neighbours"
        )
    return [Text(said, style="yellow")]


def _group_lines(result: SeriesResult) -> list[RenderableType]:
    windows = result.windows
    data = windows.data
    if len(data.groups) < 2:
        return []
    sizes = data.group_sizes
    listed = ", ".join(
        f"{name} ({size:,} rows)" for name, size in zip(data.groups[:8], sizes[:8], strict=True)
    ) + (" ..." if len(data.groups) > 8 else "")
    fitted = (
        "one scaling for each group, fitted on its own training rows (--scale-per-group)"
        if windows.scaler.per_group
        else "one scaling fitted on every group's training "
        "rows (--scale-per-group fits one per group)"
    )
    lines: list[RenderableType] = [
        Text(
            f"groups: {_plural(len(data.groups), 'series')} by {data.group_name}: {listed}; "
            f"each cut into its own windows (none crosses two), {fitted}"
        ),
    ]
    if windows.skipped:
        lines.append(
            Text(
                f"skipped (fewer rows than a window and its horizon): {', '.join(windows.skipped)}",
                style="yellow",
            )
        )
    return lines


def _keras_line(result: SeriesResult) -> RenderableType:
    windows = result.windows
    blocks = result.keras.blocks
    compared = (
        f"all {windows.count:,} windows compared"
        if result.keras.count == windows.count
        else "windows " + ", ".join(f"{a + 1:,}-{b:,}" for a, b in blocks) + " compared"
    )
    if result.keras.segments > 2:
        compared += f", the first and the last of {result.keras.segments:,} runs of rows"
    said = verdict(
        result.same_as_keras,
        "the same windows and targets",
        "other windows",
        f" as Keras cuts them ({compared}):",
    )
    reach = max(windows.horizons)
    targets = (
        f"targets[{windows.window - 1 + reach}:]"
        if windows.horizons == (reach,)
        else "targets (a row per window: one target row per horizon)"
    )
    given = (
        f"data[:-{reach}], {targets}, sequence_length={windows.window}, "
        f"sequence_stride={windows.stride})"
    )
    return Group(said, *code(["  keras.utils.timeseries_dataset_from_array(", f"      {given}"]))


def split_lines(windows: Windows) -> list[RenderableType]:
    train = int(windows.train.sum())
    test = windows.count - train
    data = windows.data
    furthest = "furthest target row" if len(windows.horizons) > 1 else "target row"
    rule = f"a window is a test window when its {furthest} is a test row; it may read training rows"
    if len(data.groups) > 1:
        return [
            Text(
                f"split {windows.split:g}: the first {windows.split:.0%} of each group's rows "
                f"train ({windows.train_rows:,} of {windows.rows:,} rows), the rest test: "
                f"{train:,} training windows, {test:,} test windows ({rule})"
            )
        ]
    rows = windows.train_rows
    label = data.label
    tested = (
        (
            f"rows {rows} to {windows.rows - 1} test"
            if data.index is None
            else f"{label(rows)} to {label(windows.rows - 1)} test"
        )
        if rows < windows.rows
        else ("no test rows")
    )
    trained = f"rows 0 to {rows - 1}" if data.index is None else f"{label(0)} to {label(rows - 1)}"
    return [
        Text(
            f"split {windows.split:g}: {trained} train ({rows:,} rows), {tested}: "
            f"{train:,} training windows, {test:,} test windows ({rule})",
        )
    ]


def scaling_lines(windows: Windows) -> list[RenderableType]:
    scaler = windows.scaler
    used = list(dict.fromkeys([*windows.features, *windows.targets_read]))
    if scaler.method == "none":
        return [
            Text("no scaling (--scale none): the network reads the values as they are", style="dim")
        ]
    formula = "(x - min) / (max - min + 1e-7)" if scaler.method == "minmax" else "(x - mean) / std"
    table = Table(show_edge=False)
    groups = windows.data.groups if scaler.per_group else ("",)
    if scaler.per_group:
        table.add_column("group")
    table.add_column("column")
    fields = list(scaler.fitted(used[0]))
    for field in fields:
        table.add_column(field, justify="right")
    for g, group in enumerate(groups[:SHOWN]):
        for column in used:
            fitted = scaler.fitted(column, g)
            table.add_row(
                *([group] if scaler.per_group else []),
                windows.names[column],
                *(value_text(fitted[f]) for f in fields),
            )
    return [
        Text(
            f"scaling {scaler.method}: {formula}, fitted on the {windows.train_rows:,} "
            f"training rows only{' of each group' if scaler.per_group else ''}, then applied "
            "to every row:",
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
