"""`series`' test: the test windows' predictions against the actual values and the
baseline, in each target's own units, scored per horizon and target and per group, drawn
as a chart, and where the test rows leave the range the training rows were fitted on.
Nothing is computed here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.show.cells import verdict
from rnnprobe.show.chart import line_chart
from rnnprobe.show.widgets import BLANK

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import Scores, SeriesResult

SHOWN = 8  # test windows the table shows before it says how many more


def value_text(value: float) -> str:
    """A value in its column's own units: four decimals, or a whole number as it is."""
    value = float(value)
    if value.is_integer() and abs(value) < 1e15:
        return f"{value:.0f}"
    return f"{value:.4f}"


def _metric(value: float) -> str:
    return f"{value:.4f}"


def shown_rows(count: int, index: int) -> list[int]:
    """The first few, the one asked for, the last two."""
    return sorted({*range(min(SHOWN - 2, count)), index, *range(max(0, count - 2), count)})


def test_table(result: SeriesResult, all_windows: bool) -> list[RenderableType]:
    """The test windows, the first horizon and target: actual, predicted, baseline, error."""
    test = result.test
    assert test is not None
    windows = result.windows
    name = windows.first_output
    data = windows.data
    table = Table(show_edge=False)
    grouped = len(data.groups) > 1
    headings = [
        "window",
        *(["group"] if grouped else []),
        "target" if data.index is not None else "target row",
        f"actual {name}",
        "predicted",
        "baseline",
        "|error|",
    ]
    for heading in headings:
        table.add_column(heading, justify="left" if heading in ("group", "target") else "right")
    count = len(test.windows)
    shown = list(range(count)) if all_windows else shown_rows(count, 0)
    for position in shown:
        i = int(test.windows[position])
        actual = float(test.actual[position, 0, 0])
        predicted = float(test.predicted[position, 0, 0])
        row = int(windows.target_rows[i, 0])
        table.add_row(
            str(i + 1),
            *([data.groups[int(windows.group_of[i])]] if grouped else []),
            data.label(row),
            value_text(actual),
            value_text(predicted),
            value_text(float(test.baseline[position, 0, 0])),
            value_text(abs(predicted - actual)),
        )
    units = ", ".join(dict.fromkeys(windows.target_names))
    lines: list[RenderableType] = [
        Text(
            f"the {count:,} test windows, in {units}'s own units (predictions scaled back"
            f"{', each change added to the last row' if windows.difference else ''}):",
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
    return lines


def _scores_table(firsts: list[str], rows: list[tuple[list[str], Scores]]) -> Table:
    table = Table(show_edge=False)
    headings = [*firsts, "RMSE", "baseline RMSE", "better"]  # (MAE too in --json)
    for heading in headings:
        table.add_column(heading, justify="left" if heading == firsts[0] else "right")
    for cells, scores in rows:
        table.add_row(
            *cells,
            _metric(scores.rmse),
            _metric(scores.baseline_rmse),
            Text("✓", style="green") if scores.better else Text("✗", style="yellow"),
        )
    return table


def scores_lines(result: SeriesResult) -> list[RenderableType]:
    """Every horizon and target scored (when there are several), then every group."""
    test = result.test
    assert test is not None
    lines: list[RenderableType] = []
    outputs = test.by_output()
    if len(outputs) > 1:
        rows = [([result.windows.output_name(h, name)], s) for h, name, s in outputs]
        lines += [
            BLANK,
            Text("each horizon and target, over every test window:", style="bold"),
            _scores_table(["output"], rows),
        ]
    groups = test.by_group()
    if groups:
        first = result.windows.first_output
        rows = [([name, f"{n:,}"], s) for name, n, s in groups]
        lines += [
            BLANK,
            Text(f"each group ({first}, over its test windows):", style="bold"),
            _scores_table(["group", "windows"], rows),
        ]
    return lines


def beyond_lines(result: SeriesResult) -> list[RenderableType]:
    """The columns whose test values leave the training range, and what to try."""
    if not result.beyond:
        return []
    windows = result.windows
    lines: list[RenderableType] = [
        Text(
            "the test rows leave the range the scaling was fitted on (the network has never "
            "seen such values: it must extrapolate):",
            style="bold yellow",
        ),
    ]
    for found in result.beyond[:SHOWN]:
        parts = []
        if found.test_high > found.high:
            parts.append(
                f"test max {value_text(found.test_high)} > training max {value_text(found.high)}"
            )
        if found.test_low < found.low:
            parts.append(
                f"test min {value_text(found.test_low)} < training min {value_text(found.low)}"
            )
        scaled = ""
        if windows.scaler.method != "none" and found.feature:
            scaled = (
                f": the scaled inputs reach {found.reached[1]:.2f}"
                if found.test_high > found.high
                else f": the scaled inputs reach {found.reached[0]:.2f}"
            )
        where = f" in {found.group}" if found.group is not None else ""
        lines.append(
            Text(
                f"  {found.column}{where}: {', '.join(parts)} ({found.rows:,} of "
                f"{found.test_rows:,} test rows){scaled}"
            )
        )
    if len(result.beyond) > SHOWN:
        lines.append(Text(f"  ... and {len(result.beyond) - SHOWN:,} more (--json)", style="dim"))
    test = result.test
    if test is not None and not test.first.better and not windows.difference:
        lines.append(
            Text(
                "  try --difference: the network then predicts each target's change "
                "from the window's last row, a range the training rows do cover",
                style="dim",
            )
        )
    return lines


def test_lines(result: SeriesResult, all_windows: bool) -> list[RenderableType]:
    test = result.test
    windows = result.windows
    if test is None:
        return [Text("no test windows (--split 1): nothing to compare", style="dim")]
    name = windows.first_output
    target = windows.target_names[0]
    grouped = len(windows.data.groups) > 1
    lines = test_table(result, all_windows)
    lines += [
        BLANK,
        prediction_chart(result),
        Text(
            f"RMSE {_metric(test.rmse)}  MAE {_metric(test.mae)}   the baseline (the window's "
            f"last {target} again): RMSE {_metric(test.baseline_rmse)}  MAE "
            f"{_metric(test.baseline_mae)}"
            + (f" ({name})" if windows.outputs > 1 else "")
            + (f" (the {len(test.group_names)} groups' test windows)" if grouped else "")
        ),
        verdict(
            test.first.better,
            "better than the baseline",
            "not better than the baseline",
            f": RMSE {_metric(test.rmse)} vs {_metric(test.baseline_rmse)}",
        ),
    ]
    lines += scores_lines(result)
    beyond = beyond_lines(result)
    return [*lines, *([BLANK, *beyond] if beyond else [])]


def prediction_chart(result: SeriesResult) -> RenderableType:
    """The test windows' actual values and predictions of the first horizon and target, in
    its units, for the group shown (dates on the axis when the rows have them)."""
    test = result.test
    assert test is not None
    windows = result.windows
    data = windows.data
    mine = test.groups == result.shown_group if test.groups is not None else None
    picked = slice(None) if mine is None or len(data.groups) < 2 else mine
    chosen = test.windows[picked]
    name = windows.first_output
    rows = windows.target_rows[chosen, 0]
    first, last = data.label(int(rows[0])), data.label(int(rows[-1]))
    if data.index is None:
        first, last = f"window {int(chosen[0]) + 1}", f"window {int(chosen[-1]) + 1}"
    group = (
        f" ({data.group_name} {data.groups[result.shown_group]})" if len(data.groups) > 1 else ""
    )
    return line_chart(
        [
            (f"actual {name}{group}", test.actual[picked, 0, 0].tolist(), "•", "green"),
            ("predicted", test.predicted[picked, 0, 0].tolist(), "+", "cyan"),
        ],
        first=first,
        last=last,
    )
