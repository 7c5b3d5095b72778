"""A loss curve drawn with text: one column per epoch (or per run of epochs), bars of block
characters eighth by eighth, the highest and lowest loss on the left. Text all through, so
an SVG or HTML export keeps it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"  # 0 to 8 eighths of a row
HEIGHT = 8  # rows
WIDTH = 60  # columns at most: more epochs share a column (their mean)


def _columns(values: Sequence[float], width: int) -> list[float]:
    """The values in at most `width` columns, runs of epochs averaged."""
    if len(values) <= width:
        return list(values)
    size = len(values) / width
    return [
        sum(run) / len(run)
        for run in (values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)]
                    for i in range(width))
    ]  # fmt: skip


def curve(values: Sequence[float], *, label: str = "loss", first: int = 1) -> Group:
    """The values as bars over the epochs, the first epoch (numbered `first`) on the left."""
    columns = _columns(values, WIDTH)
    high, low = max(columns), min(columns)
    span = (high - low) or 1.0
    # Each bar is at least an eighth high, so the lowest loss still shows.
    eighths = [1 + round((v - low) / span * (HEIGHT * 8 - 1)) for v in columns]
    left = max(len(f"{high:.4f}"), len(f"{low:.4f}")) + 1
    lines = []
    for row in reversed(range(HEIGHT)):
        line = Text((f"{high:.4f}" if row == HEIGHT - 1 else f"{low:.4f}" if row == 0
                     else "").rjust(left - 1) + " ", style="dim")  # fmt: skip
        line.append("│", style="dim")
        cells = "".join(BLOCKS[min(8, max(0, e - row * 8))] for e in eighths)
        line.append(cells, style="cyan")
        line.rstrip()
        lines.append(line)
    axis = Text(" " * left + "└" + "─" * len(columns), style="dim")
    start, last = f"epoch {first}", f"epoch {first - 1 + len(values)}"
    runs = len(values) / len(columns)
    ticks = Text(" " * (left + 1) + start, style="dim")
    ticks.append(" " * max(1, len(columns) - len(start) - len(last)) + last, style="dim")
    note = f"{label} per epoch" + (f", {runs:.3g} epochs a column" if runs > 1 else "")
    return Group(Text(note, style="dim"), *lines, axis, ticks)
