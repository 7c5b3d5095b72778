"""`--export FILE`: a view written as SVG, HTML or plain text, checked before any work."""

from __future__ import annotations

import html
import io
import os
import re
from pathlib import Path

from rich.cells import cell_len, get_character_cell_size
from rich.console import RenderableType

from rnnprobe.core.errors import InputError, Param
from rnnprobe.show.widgets import console_for, natural_width, show

EXPORT_FORMATS = {".svg": "svg", ".html": "html", ".htm": "html", ".txt": "text"}

# rich draws SVG text 20 px high, one cell `FONT_ASPECT_RATIO` of that wide (its default).
FONT_ASPECT_RATIO = 0.61
CELL_WIDTH = 20 * FONT_ASPECT_RATIO
# One run of text as rich's `export_svg` writes it, its text escaped (so without `<`).
SVG_TEXT = re.compile(
    r'<text class="([^"]*)" x="([^"]*)" y="([^"]*)" textLength="[^"]*" clip-path="([^"]*)">'
    r"([^<]*)</text>"
)
ESCAPED_CHARACTER = re.compile(r"&#?\w+;|.", re.DOTALL)
ZERO_WIDTH_JOINER = "\u200d"


def export_format(path: Path) -> str:
    """The export format a file name asks for, checked before any work is done.

    A usage error names an unknown extension, or a place the file could not be written.
    """
    shown = str(path)
    found = EXPORT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"--export {shown!r}: unknown extension {path.suffix or '(none)'!r}; "
            "use .svg, .html or .txt"
        )
    directory = path.parent
    if not directory.exists():
        raise InputError(f"--export {shown!r}: the directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise InputError(f"--export {shown!r}: {str(directory)!r} is not a directory")
    if path.is_dir():
        raise InputError(f"--export {shown!r} is a directory: give a file name")
    writable = path if path.exists() else directory
    if not os.access(writable, os.W_OK):
        raise InputError(f"--export {shown!r}: {str(writable)!r} is not writable")
    return found


def export(view: RenderableType, path: Path, kind: str, width: int) -> None:
    """Write a view to `path` as SVG, HTML or plain text, wide enough for its widest table.

    At least `width` columns (the terminal's), so that what fits there looks the same.
    """
    console = console_for(record=True, file=io.StringIO(), width=width)
    console.width = max(width, natural_width(console, view))
    show(console, view)
    try:
        if kind == "svg":
            svg = console.export_svg(title="rnnprobe", font_aspect_ratio=FONT_ASPECT_RATIO)
            path.write_text(svg_in_cells(svg), encoding="utf-8")
        elif kind == "html":
            path.write_text(html_in_cells(console.export_html()), encoding="utf-8")
        else:
            console.save_text(str(path))
    except OSError as error:  # bad input (a place that cannot be written): exit 2
        raise InputError(Param("export"), f" {str(path)!r} cannot be written: "
                         f"{error.strerror or error}") from None  # fmt: skip


def clusters(characters: list[str]) -> list[tuple[int, int]]:
    """(start, end) of each character shown, with the zero-width ones that follow it (accents,
    variation selectors, joiners) and the character a joiner joins to it."""
    found: list[tuple[int, int]] = []
    for index, character in enumerate(characters):
        joined = index > 0 and characters[index - 1] == ZERO_WIDTH_JOINER
        if found and (joined or get_character_cell_size(character) == 0):
            found[-1] = (found[-1][0], index + 1)
        else:
            found.append((index, index + 1))
    return found


def svg_in_cells(svg: str) -> str:
    """rich's SVG with every character at its terminal cell, wide ones two cells wide.

    rich gives each run of text an x at its first cell and a `textLength` of one cell per
    character: a wide (East Asian) character gets one cell, not two, so the browser squeezes
    the run into too little room and what follows in it drifts left. A run with such a
    character is split: single-cell characters stay together, each other character gets its
    own `<text>`, at its cell and exactly as wide as its cells. Other runs are left as they
    are (an export without wide characters is byte for byte rich's).
    """

    def split(match: re.Match[str]) -> str:
        style, x, y, clip, content = match.groups()
        escaped = ESCAPED_CHARACTER.findall(content)  # one character each: `&lt;`, `&#160;`, `나`
        characters = [html.unescape(one) for one in escaped]
        # (escaped text, textLength in cells, cells it takes, drawn alone)
        pieces: list[tuple[str, int, int, bool]] = []
        for start, end in clusters(characters):
            text, cells = "".join(escaped[start:end]), cell_len("".join(characters[start:end]))
            if cells > 1 or end - start > 1:  # wide, or with an accent or joiner: alone
                pieces.append((text, cells, cells, True))
            elif pieces and not pieces[-1][3]:
                joined, length, taken, _ = pieces[-1]
                pieces[-1] = (joined + text, length + 1, taken + cells, False)
            else:  # measured as rich does: one cell a character
                pieces.append((text, 1, cells, False))
        if not any(alone for *_, alone in pieces):
            return match.group(0)
        column = round(float(x) / CELL_WIDTH)
        tags = []
        for text, length, cells, alone in pieces:
            if text.replace("&#160;", ""):  # as rich does, no <text> for spaces only
                # spacingAndGlyphs: the glyph is stretched or shrunk to fill its cells exactly.
                adjust = ' lengthAdjust="spacingAndGlyphs"' if alone else ""
                tags.append(
                    f'<text class="{style}" x="{column * CELL_WIDTH:g}" y="{y}" '
                    f'textLength="{length * CELL_WIDTH:g}"{adjust} clip-path="{clip}">{text}</text>'
                )
            column += cells
        return "".join(tags)

    return SVG_TEXT.sub(split, svg)


# `ch`: one cell of the page's monospace font (the width of its "0"); `line-height: 1` so
# that the taller fallback font of the character does not make its line taller than others.
WIDE_BOX = '<span style="display:inline-block;width:{cells}ch;line-height:1">{text}</span>'


def html_in_cells(page: str) -> str:
    """rich's HTML with each wide (two-cell) character in a box two cells wide.

    A browser draws East Asian characters from a fallback font, narrower than two cells of
    the monospace font, so the columns after them would drift left. Only text between
    tags is touched; a page without wide characters is left as it is.
    """
    parts = re.split(r"(<[^>]*>)", page)
    for number, part in enumerate(parts):
        if number % 2 or part.isascii():
            continue  # a tag, or text without wide characters
        characters = list(part)
        boxed = []
        for start, end in clusters(characters):
            text = "".join(characters[start:end])
            if (cells := cell_len(text)) > 1:
                text = WIDE_BOX.format(cells=cells, text=text)
            boxed.append(text)
        parts[number] = "".join(boxed)
    return "".join(parts)
