"""The grid every unrolled picture is drawn on (`run --diagram`, `seq2seq --diagram`): a left
margin, then one column per step shown, each as wide as the widest thing in it; rows of cell
boxes joined by arrows; text centred in terminal cells (a wide character takes two)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size
from rich.text import Text

GAP = " … "  # the column standing for the steps left out of a long word


def centre(text: str, width: int) -> str:
    """`text` centred in `width` terminal cells as `str.center` places it (a wide character
    counts two); a longer text is left as it is."""
    room = width - cell_len(text)
    if room <= 0:
        return text
    left = room // 2 + (room & width & 1)  # str.center's rule, in cells
    return " " * left + text + " " * (room - left)


def fitted(text: str, width: int) -> str:
    """`text` centred in `width` terminal cells, cut to leave at least one cell free."""
    shown = set_cell_size(text, min(cell_len(text), width - 1))
    room = width - cell_len(shown)
    return " " * (room // 2) + shown + " " * (room - room // 2)


@dataclass(frozen=True)
class Grid:
    """A margin of `left` cells, then a column of `step` cells per step (None: the gap)."""

    left: int
    step: int
    box: int  # the outer width of a cell box
    steps: Sequence[int | None]

    def pieces(self, cells: Sequence[Text]) -> Text:
        """One piece per column, each padded to the column's width."""
        out = Text()
        for step, cell in zip(self.steps, cells, strict=True):
            if step is None:
                out.append(GAP, style="dim")
                continue
            piece = cell.copy()
            piece.pad_right(self.step - piece.cell_len)
            out.append_text(piece)
        return out

    def line(self, left: Text | str, cells: Sequence[Text], tail: Text | str = "") -> Text:
        """The margin, one piece per column, then the tail; never wrapped."""
        out = Text()  # the margin's style stays in the margin
        out.append_text(Text(left) if isinstance(left, str) else left)
        out.pad_right(self.left - out.cell_len)
        out.append_text(self.pieces(cells))
        out.append_text(Text(tail) if isinstance(tail, str) else tail)
        return finished(out)

    def centred(self, text: str, style: str = "") -> Text:
        """Text centred over a cell's box."""
        return Text(centre(text, self.box).rstrip(), style=style)

    def row(self, make: Callable[[int], Text]) -> list[Text]:
        """One piece per column from `make(step)` (nothing for the gap column)."""
        return [Text("") if step is None else make(step) for step in self.steps]

    def boxes(
        self,
        words: Callable[[int], tuple[str, str]],  # of a step
        style: Callable[[int], str],
        arrow: Callable[[int], tuple[str, str] | None],  # of a column position
    ) -> list[list[Text]]:
        """The four lines of a row of cell boxes: each step's two words inside its box, and
        after the middle line the arrow to the next box (`arrow` gives text and style)."""
        inner = self.box - 2
        lines: list[list[Text]] = [[], [], [], []]
        for position, step in enumerate(self.steps):
            if step is None:
                for line in lines:
                    line.append(Text(""))
                continue
            shown = style(step)
            upper, lower = words(step)
            lines[0].append(Text("╭" + "─" * inner + "╮", style=shown))
            middle = Text("│" + upper.center(inner) + "│", style=shown)
            joined = arrow(position)
            if joined is not None:
                middle.append(joined[0], style=joined[1])
            lines[1].append(middle)
            lines[2].append(Text("│" + lower.center(inner) + "│", style=shown))
            lines[3].append(Text("╰" + "─" * inner + "╯", style=shown))
        return lines


def finished(line: Text) -> Text:
    """A drawn line: trailing spaces dropped, never wrapped or cut by rich."""
    line.rstrip()
    line.no_wrap, line.overflow = True, "ignore"
    return line
