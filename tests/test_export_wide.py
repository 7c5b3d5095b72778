"""`--export` with wide (East Asian, two-cell) characters: each character on its own cells.

The SVG is checked geometrically against the plain-text export, cell by cell; the HTML by
the boxes its wide characters are drawn in. No browser, no fonts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from rnnprobe.show.export import export

SVG = "{http://www.w3.org/2000/svg}"
SEQ2SEQ = [
    "seq2seq", "i feel hungry", "나는 배가 고프다",
    "tensorflow is very difficult", "텐서플로우는 매우 어렵다", "--seed", "0",
]  # fmt: skip


def cells(line: str) -> list[str]:
    """A line as its terminal cells: a wide character, then "" for its second cell."""
    found: list[str] = []
    for character in line:
        width = cell_len(character)
        if width == 0 and found:
            found[-1] += character  # an accent goes with the character before it
        else:
            found += [character] + [""] * (width - 1)
    return found


def near(a: float, b: float) -> bool:
    return abs(a - b) < 0.01  # rich writes numbers with 6 significant digits


def svg_cells(path: Path) -> list[list[str]]:
    """Where the SVG puts each character: its lines as cells, from the x and `textLength` of
    each `<text>`, checking that every character has exactly its cells' room."""
    root = ET.parse(path).getroot()
    # Not the title, nor what rich draws as nothing (it writes the odd "\n" as a run).
    runs = [t for t in root.iter(f"{SVG}text") if t.get("clip-path") and (t.text or "").strip()]
    ascii_run = next(t for t in runs if (t.text or "").replace("\xa0", " ").isascii())
    cell = float(ascii_run.get("textLength", "")) / len(ascii_run.text or "")
    clip = root.find(f".//{SVG}clipPath[@id]/{SVG}rect")
    assert clip is not None
    width = round(float(clip.get("width", "")) / cell)
    grid: dict[int, list[str]] = {}
    for run in runs:
        text = (run.text or "").replace("\xa0", " ")
        line = int(re.findall(r"-line-(\d+)\)", run.get("clip-path", ""))[0])
        column = float(run.get("x", "")) / cell
        assert near(column, round(column)), (text, column)
        assert near(float(run.get("textLength", "")), cell_len(text) * cell), text
        if any(cell_len(c) != 1 for c in text):
            # Not all one cell each: one character alone, stretched to exactly its cells.
            assert all(cell_len(c) == 0 for c in text[1:]), text
            assert run.get("lengthAdjust") == "spacingAndGlyphs", text
        row = grid.setdefault(line, [" "] * width)
        start = round(column)
        row[start : start + cell_len(text)] = cells(text)
    return [grid.get(n, [" "] * width) for n in range(max(grid) + 1)]


def assert_on_cells(svg: Path, text: Path) -> None:
    """Every character of the plain text is drawn at its cells in the SVG, and nothing else."""
    drawn = svg_cells(svg)
    width = len(drawn[0])
    plain = [cells(line)[:width] for line in text.read_text(encoding="utf-8").splitlines()]

    def stripped(rows: list[list[str]]) -> list[str]:
        return ["\0".join(row).rstrip(" \0") for row in rows]

    expected, got = stripped(plain), stripped(drawn)
    while expected and not expected[-1]:
        expected.pop()
    assert got == expected


def test_seq2seq_svg_draws_each_korean_character_on_its_two_cells(cli, tmp_path):
    svg, txt = tmp_path / "out.svg", tmp_path / "out.txt"
    cli.ok(*SEQ2SEQ, "--export", str(svg))
    cli.ok(*SEQ2SEQ, "--export", str(txt))
    assert "나는 배가 고프다" in txt.read_text(encoding="utf-8")
    assert_on_cells(svg, txt)


@pytest.mark.parametrize(
    "line",
    [
        "나는 배가 고프다 -> next",  # wide first, then narrow after it in the same run
        "x 텐서플로우는 | <&> 매우 |",  # escaped characters around wide ones
        "cafe\u0301 한 e\u0301",  # an accent: one cell, not two
    ],
)
def test_any_line_with_wide_characters_keeps_its_cells(tmp_path, line):
    view = Text.assemble(("bold ", "bold"), (line, "on blue"), (" 끝", "red"))
    svg, txt = tmp_path / "view.svg", tmp_path / "view.txt"
    export(view, svg, "svg", 60)
    export(view, txt, "text", 60)
    assert_on_cells(svg, txt)


class WideBoxes(HTMLParser):
    """The text of a page, and each wide character with the box it is drawn in (or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.wide: list[tuple[str, str | None]] = []
        self.open: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "meta":  # the only element of rich's page without an end tag
            self.open.append(dict(attrs).get("style"))

    def handle_endtag(self, tag: str) -> None:
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        box = self.open[-1] if self.open else None
        if box and "inline-block" in box:
            assert cell_len(data) == 2 and len(data) == 1, data  # one wide character a box
        self.wide += [(c, box) for c in data if cell_len(c) == 2]


def test_seq2seq_html_boxes_each_korean_character_two_cells_wide(cli, tmp_path):
    page, txt = tmp_path / "out.html", tmp_path / "out.txt"
    cli.ok(*SEQ2SEQ, "--export", str(page))
    cli.ok(*SEQ2SEQ, "--export", str(txt))
    parsed = WideBoxes()
    parsed.feed(page.read_text(encoding="utf-8"))
    code = "".join(parsed.text)
    assert txt.read_text(encoding="utf-8") in code  # the same text, nothing added
    assert len(parsed.wide) > 20
    for character, box in parsed.wide:
        assert box is not None, character
        styles = dict(rule.split(":") for rule in box.split(";"))
        assert styles["display"] == "inline-block" and styles["width"] == "2ch", character


@pytest.mark.parametrize("suffix", [".svg", ".html"])
def test_an_ascii_export_is_byte_for_byte_what_rich_writes(cli, tmp_path, monkeypatch, suffix):
    """Without wide characters nothing is rewritten: the file is rich's own export."""
    method = "export_svg" if suffix == ".svg" else "export_html"
    original = getattr(Console, method)
    written: list[str] = []

    def recorded(self: Console, **kwargs: object) -> str:
        written.append(original(self, **kwargs))
        return written[-1]

    monkeypatch.setattr(Console, method, recorded)
    target = tmp_path / f"a{suffix}"
    cli.ok("run", "hello", "--seed", "0", "--export", str(target))
    assert len(written) == 1
    assert target.read_text(encoding="utf-8") == written[0]
