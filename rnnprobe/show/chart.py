"""A line chart drawn with text: a few series over the same x axis, each with its own mark,
one column per point (or per run of points, their mean), the highest and lowest values on
the left. Text all through, so an SVG or HTML export keeps it."""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.console import Group
from rich.text import Text

from rnnprobe.show.curve import _columns

HEIGHT = 10  # rows
WIDTH = 60  # columns at most: more points share a column (their mean)
BOTH = "◆"  # where two series fall in the same cell


def _label(value: float) -> str:
    """A value for the axis: four significant digits, without an exponent where it fits."""
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


def line_chart(
    series: Sequence[tuple[str, Sequence[float], str, str]],
    *,
    first: str,
    last: str,
    height: int = HEIGHT,
    width: int = WIDTH,
) -> Group:
    """Each (name, values, mark, style) drawn over the same points, the first on the left;
    `first` and `last` name the first and the last point under the axis."""
    columns = [_columns(list(values), width) for _, values, _, _ in series]
    every = [v for found in columns for v in found if math.isfinite(v)] or [0.0]
    high, low = max(every), min(every)
    half = high / 2 - low / 2 or 1.0  # half the span: a span of ±1e308 is past float64's range

    def level(value: float) -> float:  # where a value sits between low (0) and high (1)
        return (value / 2 - low / 2) / half

    count = max(len(found) for found in columns)
    grid: list[list[tuple[str, str] | None]] = [[None] * count for _ in range(height)]
    overlap = False
    for found, (_, _, mark, style) in zip(columns, series, strict=True):
        for column, value in enumerate(found):
            if not math.isfinite(value):  # nothing to draw: the point is not a number
                continue
            row = min(height - 1, max(0, round(level(value) * (height - 1))))
            held = grid[row][column]
            drawn = (mark, style) if held is None or held[0] == mark else (BOTH, "bold")
            grid[row][column] = drawn
            overlap = overlap or drawn[0] == BOTH
    labels = {
        height - 1: _label(high),
        0: _label(low),
        (height - 1) // 2: _label(low / 2 + high / 2),
    }
    left = max(len(text) for text in labels.values()) + 1
    lines = []
    for row in reversed(range(height)):
        line = Text(labels.get(row, "").rjust(left - 1) + " ", style="dim")
        line.append("│", style="dim")
        for cell in grid[row]:
            line.append(" " if cell is None else cell[0], style="" if cell is None else cell[1])
        line.rstrip()
        lines.append(line)
    axis = Text(" " * left + "└" + "─" * count, style="dim")
    ticks = Text(" " * (left + 1) + first, style="dim")
    ticks.append(" " * max(1, count - len(first) - len(last)) + last, style="dim")
    legend = Text("")
    for name, _, mark, style in series:
        legend.append(f"{mark} ", style=style)
        legend.append(f"{name}   ", style="dim")
    if overlap:
        legend.append(f"{BOTH} ", style="bold")
        legend.append("two at once   ", style="dim")
    legend.rstrip()
    points = max(len(values) for _, values, _, _ in series)
    if points > count:
        legend.append(f"   ({points / count:.3g} points a column, their mean)", style="dim")
    return Group(legend, *lines, axis, ticks)
