"""Words from a file (`--from FILE`): a CSV or TSV file with a header row, or plain text
with one item a line; `-` reads the same from stdin. `--columns` names the columns used,
by header name or number from 1, in order: the text (and its label), or a pair's source
and target. Quoted CSV fields with commas and line breaks read as one field; every field
is stripped of the spaces around it. Pure Python: nothing here needs numpy."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs import csvtext

PLAIN, CSV, TSV = "plain text", "CSV", "TSV"


@dataclass(frozen=True)
class Corpus:
    """The columns read from a file, row by row in the file's order."""

    source: str  # the path as given, or "stdin"
    kind: str  # PLAIN, CSV or TSV
    names: tuple[str, ...]  # the columns read, as the header names them (or numbers)
    columns: tuple[tuple[str, ...], ...]  # each column read, a value per row

    @property
    def rows(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def _read(path: str, stdin: Callable[[], str]) -> str:
    if path == "-":
        return stdin()
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        raise InputError(Param("from"), f" {path!r}: no such file") from None
    except OSError as error:
        if os.path.isdir(path):
            raise InputError(Param("from"), f" {path!r} is a directory: give a file") from None
        raise InputError(Param("from"), f" {path!r} cannot be read: {error.strerror}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(Param("from"), f" {path!r} is not UTF-8 text") from None


def _kind(path: str, text: str, columns: str | None) -> str:
    """By the file's extension; else (stdin, another name) by its first line: a tab makes
    it TSV, a comma with --columns CSV, anything else plain text."""
    extension = os.path.splitext(path)[1].lower()
    if extension == ".csv":
        return CSV
    if extension in (".tsv", ".tab"):
        return TSV
    if extension == ".txt":
        return PLAIN
    first = text.split("\n", 1)[0]
    if "\t" in first:
        return TSV
    return CSV if "," in first and columns is not None else PLAIN


def _index(names: Sequence[str], given: str) -> int:
    """A column by its header name or its number from 1."""
    part = given.strip()
    if part in names:
        return list(names).index(part)
    if part.isascii() and part.isdecimal() and 1 <= int(part) <= len(names):
        return int(part) - 1
    shown = ", ".join(names)
    raise InputError(
        Param("columns"), f" {given!r}: no such column; the columns are {shown} (or 1 to "
        f"{len(names)})",
    )  # fmt: skip


def read_corpus(
    path: str,
    stdin: Callable[[], str],
    *,
    columns: str | None,
    default: int,
    allowed: Sequence[int],
    limit: int | None = None,
) -> Corpus:
    """The columns `--columns` names (by default the first `default`), `allowed` counts of
    them; the first `limit` rows. A row missing a column is an error naming the row."""
    text = _read(path, stdin)
    source = "stdin" if path == "-" else path
    kind = _kind(path, text, columns)
    if kind == PLAIN:
        rows = [[line.strip()] for line in text.splitlines() if line.strip()]
        header: list[str] = ["1"]
        lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    else:
        delimiter = "\t" if kind == TSV else ","
        found = [(line, row) for line, row in csvtext.rows(text, delimiter, repr(source))
                 if any(cell.strip() for cell in row)]  # fmt: skip
        if not found:
            raise InputError(Param("from"), f" {source!r} is empty: give a header row and rows")
        header = [cell.strip() or str(i) for i, cell in enumerate(found[0][1], start=1)]
        rows = [[cell.strip() for cell in row] for _, row in found[1:]]
        lines = [line for line, _ in found[1:]]
    if not rows:
        said = "give one item a line" if kind == PLAIN else "it holds a header and no rows"
        raise InputError(Param("from"), f" {source!r} holds no rows: {said}")
    given = columns.split(",") if columns is not None else None
    if given is not None and not all(part.strip() for part in given):
        raise InputError(Param("columns"), f" {columns!r}: give column names or numbers "
                         "separated by commas")  # fmt: skip
    chosen = [_index(header, part) for part in given] if given else list(range(default))
    if len(chosen) not in allowed:
        wanted = " or ".join(str(n) for n in allowed)
        raise InputError(Param("columns"), f" {columns!r}: give {wanted} column(s) here")
    if kind == PLAIN and max(chosen) > 0:
        raise InputError(Param("columns"), f": {source!r} is plain text, one column a line")
    if limit is not None:
        rows, lines = rows[:limit], lines[:limit]
    for number, (row, line) in enumerate(zip(rows, lines, strict=True), start=1):
        missing = [c for c in chosen if c >= len(row)]
        if missing:
            raise InputError(
                f"row {number} (line {line}) of {source} has {len(row)} column"
                f"{'s' if len(row) != 1 else ''}, no {header[missing[0]]} (column "
                f"{missing[0] + 1})",
            )  # fmt: skip
    return Corpus(
        source=source,
        kind=kind,
        names=tuple(header[c] for c in chosen),
        columns=tuple(tuple(row[c] for row in rows) for c in chosen),
    )
