"""The building blocks of every view: lines never wrapped, tables that split into blocks
of whole columns, worked arithmetic, and the consoles views are printed on."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import (
    Console,
    ConsoleOptions,
    JustifyMethod,
    RenderableType,
    RenderResult,
)
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

BLANK = Text("")
UNLIMITED = 1_000_000  # a width no table reaches: to measure a renderable unwrapped


class OneLine:
    """A line that is never wrapped or cut (code, a verdict): a terminal wraps it if it must."""

    def __init__(self, text: Text) -> None:
        text.no_wrap, text.overflow = True, "ignore"
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, 1)  # it needs no width: it is never wrapped


@dataclass(frozen=True)
class Column:
    header: str
    justify: JustifyMethod = "left"
    style: str | None = None


class BlockTable:
    """A table whose data columns split into blocks that fit the width: numbers stay whole.

    The key columns (a step, a character, a row label) head every block; a table that
    fits is one block, exactly as a plain table would print.
    """

    def __init__(self, keys: Sequence[Column], data: Sequence[Column]) -> None:
        self.keys, self.data = list(keys), list(data)
        self.rows: list[tuple[list[RenderableType], str | None]] = []

    def add_row(self, cells: Sequence[RenderableType], style: str | None = None) -> None:
        self.rows.append((list(cells), style))
        self.__dict__.pop("_widths", None)  # measured again with this row

    def _chosen(self, columns: range) -> list[int]:
        """The positions in a row of the key columns and of these data columns."""
        return [*range(len(self.keys)), *(len(self.keys) + c for c in columns)]

    def table(self, columns: range) -> Table:
        table = Table(show_edge=False)
        chosen = self._chosen(columns)
        for column in (*self.keys, *(self.data[c] for c in columns)):
            table.add_column(column.header, justify=column.justify, style=column.style)
        for cells, style in self.rows:
            table.add_row(*(cells[i] for i in chosen), style=style)
        return table

    def _width(self, console: Console, options: ConsoleOptions, columns: range) -> int:
        """The width of the table of these data columns, nothing wrapped.

        For cells of plain text that is each column's widest cell, its padding (2) and
        the rules between columns (1): what rich measures, without building the table.
        """
        widths = self._column_widths()
        if widths is None:
            wide = options.update_width(UNLIMITED)
            return Measurement.get(console, wide, self.table(columns)).maximum
        chosen = self._chosen(columns)
        return sum(widths[i] + 2 for i in chosen) + len(chosen) - 1

    def _column_widths(self) -> list[int] | None:
        if not hasattr(self, "_widths"):
            rows = [cells for cells, _ in self.rows]
            texts = [[cell for cell in row if isinstance(cell, Text)] for row in rows]
            if all(len(text) == len(row) for text, row in zip(texts, rows, strict=True)):
                columns = [*self.keys, *self.data]
                self._widths: list[int] | None = [
                    max([len(column.header), *(row[i].cell_len for row in texts)])
                    for i, column in enumerate(columns)
                ]
            else:
                self._widths = None
        return self._widths

    def _greedy(self, console: Console, options: ConsoleOptions, width: int) -> list[range]:
        """Runs of data columns, each as many as fit in `width` (at least one)."""
        total = len(self.data)
        found, start = [], 0
        while start < total:
            low, high = 1, total - start  # the most columns from `start` that still fit
            while low < high:
                middle = (low + high + 1) // 2
                if self._width(console, options, range(start, start + middle)) <= width:
                    low = middle
                else:
                    high = middle - 1
            found.append(range(start, start + low))
            start += low
        return found

    def blocks(self, console: Console, options: ConsoleOptions) -> list[range]:
        """As few blocks as fit in the width, their widths as even as can be."""
        greedy = self._greedy(console, options, options.max_width)
        low, high = 1, options.max_width  # the narrowest limit that needs no more blocks
        while low < high:
            middle = (low + high) // 2
            if len(self._greedy(console, options, middle)) <= len(greedy):
                high = middle
            else:
                low = middle + 1
        return self._greedy(console, options, low) or [range(0)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        everything = range(len(self.data))
        if self._width(console, options, everything) <= options.max_width:
            yield self.table(everything)
            return
        for number, columns in enumerate(self.blocks(console, options)):
            if number:
                yield BLANK
            yield self.table(columns)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = self._width(console, options, range(len(self.data)))
        return Measurement(min(full, options.max_width), full)


def natural_width(console: Console, view: RenderableType) -> int:
    """How wide `view` is when nothing is wrapped or split: what an export is rendered at."""
    return Measurement.get(console, console.options.update_width(UNLIMITED), view).maximum


def console_for(**options: Any) -> Console:
    """Text is never read as rich markup or emoji codes: words are shown as typed."""
    return Console(markup=False, emoji=False, **options)


def stdout_console() -> Console:
    """The console results are printed on."""
    return console_for()


def unseen_console() -> Console:
    """A console whose output goes nowhere (its width is what a pipe would get)."""
    return console_for(file=io.StringIO())


def show(console: Console, view: RenderableType) -> None:
    """Print a view. Not cropped, so that code lines stay whole on a narrow terminal."""
    console.print(view, crop=False)


def number(value: float) -> Text:
    """Four decimals, coloured by sign, bold when large, dim when small."""
    style = "green" if value > 0 else "red" if value < 0 else "dim"
    if abs(value) >= 0.5:
        style = f"bold {style}"
    elif abs(value) < 0.1:
        style = f"dim {style}"
    return Text(f"{value:.4f}", style=style)


def vector_text(values: np.ndarray) -> Text:
    """`[0.1234 -0.5678]`, each number as `number` shows it."""
    line = Text("[")
    for i, value in enumerate(values):
        line.append(" " if i else "")
        line.append_text(number(float(value)))
    line.append("]")
    return line


class Worked:
    """A line of worked arithmetic that wraps between words and whole vectors only.

    Continuation lines are indented, so that each line of arithmetic stands out.
    """

    INDENT = 4

    def __init__(self, pieces: Sequence[str | np.ndarray]) -> None:
        self.tokens: list[Text] = []
        for piece in pieces:
            if isinstance(piece, str):
                self.tokens += [Text(word) for word in re.findall(r"\S+\s*|\s+", piece)]
            else:
                self.tokens.append(vector_text(piece))

    def lines(self, width: int) -> list[Text]:
        lines = [Text()]
        for token in self.tokens:
            line = lines[-1]
            if line.cell_len and line.cell_len + len(token.plain.rstrip()) > width:
                line.rstrip()
                lines.append(Text(" " * self.INDENT))
                line = lines[-1]
            line.append_text(token)
        lines[-1].rstrip()
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            line.no_wrap, line.overflow = True, "ignore"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, sum(token.cell_len for token in self.tokens))
