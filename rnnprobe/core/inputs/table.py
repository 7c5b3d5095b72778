"""A table for `series`: rows in time order, read from numbers given as arguments, one
CSV/TSV/whitespace-separated file, or stdin. Pure numpy.

Each column is read by its kind: `number` (most of its cells are numbers), `date` (ISO dates
and times, `YYYY-MM`, or a `YYYY` column named like a date) or `text` (anything else: a
stock's symbol, the weather's `rain`). A column is only checked cell by cell when a series
reads it (`Column.numbers`): a text column beside the numbers never refuses the file. A
cell that is blank, `NA`, `N/A`, `nan` or `null` is missing, never a number; what to do
with it is `series --missing`'s choice (`selection.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from rnnprobe.core.errors import InputError, Param, shown
from rnnprobe.core.inputs import csvtext, numeral
from rnnprobe.core.inputs.columns import (
    NUMBER,
    Column,
    date_unit,
    example_of,
    first_bad,
    is_missing,
    read_column,
)

GIVE = "give numbers, one CSV/TSV file or - for stdin"
ARGUMENTS = "the arguments"


@dataclass(frozen=True, eq=False)
class Table:
    """A long series: each column read by its kind, the rows in the text's order."""

    columns: tuple[Column, ...]
    lines: np.ndarray = field(repr=False)  # the text's line of each row
    source: str

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def rows(self) -> int:
        return int(self.lines.shape[0])

    @property
    def values(self) -> np.ndarray:
        """(rows, columns) float64 when every cell of every column is a finite number (a
        table read whole as numbers: `inspect --input`); else the first bad cell."""
        if not self.columns:
            return np.zeros((self.rows, 0))
        return np.column_stack([self.numbers(c) for c in range(len(self.columns))])

    def numbers(self, column: int, *, missing_ok: bool = False) -> np.ndarray:
        """A column read as numbers (NaN where missing, with `missing_ok`), every other cell
        a finite number within float32's range; else one line naming the first bad cell."""
        found = self.columns[column]
        if found.kind != NUMBER:
            raise InputError(
                f"column {found.name} holds {found.kind} ({shown(example_of(found))}), not numbers"
            )
        if found.bad is not None:
            row, cell = found.bad
            _finite(cell, f"row {row + 1}, column {found.name}", f"(line {self.lines[row]})")
        if not missing_ok and found.missing.any():
            row = int(np.flatnonzero(found.missing)[0])
            raise InputError(
                f"row {row + 1}, column {found.name} is missing (line {self.lines[row]})"
            )
        return found.numbers_

    def column(self, name_or_number: str, param: str) -> int:
        """The 0-based index of a column given by its name or its 1-based number (as text,
        e.g. "Close" or "5"). A name is looked up first, then a number."""
        given = name_or_number.strip()
        if given in self.names:
            return self.names.index(given)
        count = len(self.names)
        if given.isascii() and given.isdigit() and 1 <= int(given) <= count:
            return int(given) - 1
        numbers = "1" if count == 1 else f"1 to {count}"
        raise InputError(
            Param(param),
            f" {shown(name_or_number)}: no such column; the columns are "
            f"{', '.join(self.names)} (or {numbers})",
        )


def _finite(cell: str, where: str, line: str = "") -> float:
    """The number a cell spells, finite and within float32's range; else one line saying
    `where` it is (e.g. "row 3, column Close"), what is wrong, then `line` ("(line 5)")."""
    number, said = numeral.refusal(cell, shown)
    if number is None:
        raise InputError(f"{where}: {said}{' ' + line if line else ''}")
    return number


def _cells(line: str, delimiter: str | None, number: int) -> list[str]:
    """One line's cells: `csv` for a quoted CSV/TSV line, else a plain split (the same)."""
    if delimiter is None:
        return line.split()
    if '"' not in line:
        return line.split(delimiter)
    return csvtext.line_cells(line, delimiter, f"line {number}")


def _header_names(cells: Sequence[str], line: int) -> tuple[str, ...]:
    """The header row's names, stripped; an empty one is its column's number."""
    names = tuple(c.strip() or str(i) for i, c in enumerate(cells, start=1))
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(
                f"the header names {name!r} twice (line {line}): name each column once"
            )
        seen.add(name)
    return names


def _is_data(cell: str) -> bool:
    """A cell a row of data holds: a number, a date or a missing value."""
    return is_missing(cell) or numeral.number(cell) is not None or date_unit(cell) is not None


def _comment_names(comment: str | None, delimiter: str | None, count: int) -> tuple[str, ...]:
    """The names on the last comment line before the first row, when it gives one per
    column and none is a number; else "1", "2", ... (one column: "value")."""
    numbered = ("value",) if count == 1 else tuple(str(i) for i in range(1, count + 1))
    if comment is None:
        return numbered
    try:
        cells = [c.strip() for c in _cells(comment.lstrip("#").strip(), delimiter, 0)]
    except InputError:
        return numbered
    names = tuple(c or str(i) for i, c in enumerate(cells, start=1))
    if len(names) != count or any(_is_data(c) for c in cells) or len(set(names)) != count:
        return numbered
    return names


def _split_rows(
    texts: Sequence[str],
    lines: Sequence[int],
    count: int,
    delimiter: str | None,
    blank: Sequence[bool],
) -> list[list[str]]:
    """Each row's cells; a blank line (one column only) is a row with a missing cell; a
    row with another count of cells is refused, the first in the text's order."""
    rows = []
    for r, (text, line, empty) in enumerate(zip(texts, lines, blank, strict=True), start=1):
        row = [""] if empty else _cells(text, delimiter, line)
        if len(row) != count:
            raise InputError(
                f"row {r} has {len(row)} values, not {count} (line {line}): "
                "every row needs one value per column"
            )
        rows.append(row)
    return rows


def _by_column(
    texts: Sequence[str],
    lines: Sequence[int],
    count: int,
    delimiter: str | None,
    blank: Sequence[bool],
) -> list[Sequence[str]]:
    """Every column's cells, split without the csv module when no line is quoted and each
    holds `count` cells; else row by row (each row checked)."""
    if not any(blank):
        if delimiter is None:
            rows = [line.split() for line in texts]
            if all(len(row) == count for row in rows):
                flat = list(chain.from_iterable(rows))
                return [flat[c::count] for c in range(count)]
        elif not any('"' in line or line.count(delimiter) != count - 1 for line in texts):
            flat = delimiter.join(texts).split(delimiter)
            return [flat[c::count] for c in range(count)]
    rows = _split_rows(texts, lines, count, delimiter, blank)
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * count


def parse_table(text: str, source: str) -> Table:
    """A table from text: CSV, TSV or whitespace-separated, `#` comments skipped (and a
    leading byte-order mark), names from a header row, else the last comment line, else
    "1", "2", ... (one column: "value"). Blank lines before and after the rows are skipped;
    inside them, a blank line of a one-column file is a missing value (a gap in the series,
    never nothing), of a wider file nothing."""
    comment: str | None = None  # the last comment line before the first row
    texts: list[str] = []  # every row's line, blank lines inside the rows too
    lines: list[int] = []  # and its line number
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        stripped = line.lstrip()
        if stripped[:1] == "#":
            if not texts:
                comment = stripped
            continue
        if stripped or texts:
            texts.append(line)
            lines.append(number)
    while texts and not texts[-1].strip():  # blank lines after the last row
        texts.pop()
        lines.pop()
    empty = InputError(f"{source} holds no rows of numbers: give one row per time step")
    if not texts:
        raise empty
    delimiter = "\t" if "\t" in texts[0] else "," if "," in texts[0] else None
    first = _cells(texts[0], delimiter, lines[0])
    header = _is_header(first, texts[1:3], delimiter, lines[1:3])
    if header:
        names = _header_names(first, lines[0])
        texts, lines = texts[1:], lines[1:]
    else:
        names = _comment_names(comment, delimiter, len(first))
    if not texts:
        raise empty
    blank = [not t.strip() for t in texts]
    if len(names) > 1:  # a blank line of a wider file: nothing (as most CSV readers read it)
        texts = [t for t, b in zip(texts, blank, strict=True) if not b]
        lines = [n for n, b in zip(lines, blank, strict=True) if not b]
        blank = [False] * len(texts)
    if not texts:
        raise empty
    columns = _by_column(texts, lines, len(names), delimiter, blank)
    plain = all(map(numeral.plain, texts))
    read = tuple(
        read_column(name, cells, plain=plain) for name, cells in zip(names, columns, strict=True)
    )
    return Table(read, np.array(lines, dtype=np.int64), source)


def _is_header(
    first: Sequence[str], after: Sequence[str], delimiter: str | None, lines: Sequence[int]
) -> bool:
    """The first line names the columns when one of its cells is no data (a number, a date
    or missing) and, when rows follow, the column below it holds data."""
    texts = [c for c in first]
    if all(_is_data(c) for c in texts):
        return False
    below: list[list[str]] = []
    for text, line in zip(after, lines, strict=False):
        if text.strip():
            try:
                below.append(_cells(text, delimiter, line))
            except InputError:
                continue
    if not below:
        return True
    return any(
        not _is_data(c) and all(len(row) > i and _is_data(row[i]) for row in below)
        for i, c in enumerate(texts)
    ) or not any(_is_data(c) for c in texts)


def table_from_arguments(values: Sequence[str]) -> Table:
    """One column named "value": each argument is one row (its line is its position)."""
    if not values:
        raise InputError(f"no data given: {GIVE}")
    numbers = [_finite(item, f"value {n}") for n, item in enumerate(values, start=1)]
    column = np.array(numbers, dtype=np.float64)
    found = Column("value", NUMBER, column, np.zeros(len(column), dtype=bool))
    return Table((found,), np.arange(1, len(numbers) + 1, dtype=np.int64), ARGUMENTS)


def read_text(path: str) -> str:
    """A file's text, read as UTF-8 (never written)."""
    try:
        with open(path, "rb") as file:
            raw = file.read()
    except FileNotFoundError:
        raise InputError(f"{path!r}: no such file: {GIVE}") from None
    except (OSError, ValueError) as error:
        if isinstance(error, IsADirectoryError) or os.path.isdir(path):
            raise InputError(f"{path!r} is a directory: give a CSV/TSV file") from None
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"{path!r} cannot be read: {reason}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path!r} is not UTF-8 text") from None


def read_series_data(data: Sequence[str], stdin: Callable[[], str]) -> Table:
    """What `series DATA...` reads: `-` for stdin, numbers, or one path to a table."""
    if not data:
        raise InputError(f"no data given: {GIVE}")
    if len(data) == 1 and data[0] == "-":
        return parse_table(stdin(), "stdin")
    bad = [item for item in data if numeral.number(item) is None]
    if not bad:
        return table_from_arguments(data)
    if len(data) == 1:
        return parse_table(read_text(data[0]), data[0])
    raise InputError(f"{shown(bad[0])} is not a number: {GIVE}")


def table_from_values(
    values: object,
    names: Sequence[str] | None,
    source: str,
    extra: Mapping[str, Sequence[object]] | None = None,
) -> Table:
    """A table from numbers in Python or numpy: 1-D (one column named "value") or rows x
    columns (named `names`, or "1", "2", ...); NaN is a missing value. `extra`: columns of
    other kinds by name (a DataFrame's dates or text), read as a file's cells are."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            Param("data"),
            ": give numbers (a list, an array of rows x columns), a path or a DataFrame",
        ) from None
    if array.ndim == 1:
        array = array.reshape(-1, 1)
        names = names or ("value",)
    if array.ndim != 2 or 0 in array.shape:
        raise InputError(
            Param("data"), f" has shape {array.shape}: give one column, or rows x columns"
        )
    found = (
        tuple(str(n) for n in names)
        if names
        else tuple(str(n) for n in range(1, array.shape[1] + 1))
    )
    if len(found) != array.shape[1] or len(set(found)) != len(found):
        raise InputError(
            Param("data"),
            f": {array.shape[1]} columns need as many distinct names, got {list(found)}",
        )
    columns = []
    for c, name in enumerate(found):
        values = np.ascontiguousarray(array[:, c])
        missing = np.isnan(values)
        row = first_bad(values, missing)
        columns.append(
            Column(
                name,
                NUMBER,
                values,
                missing,
                bad=None if row is None else (row, repr(float(values[row]))),
            )
        )
    for name, cells in (extra or {}).items():
        text = ["" if c is None else str(c) for c in cells]
        if len(text) != array.shape[0]:
            raise InputError(
                Param("data"), f": column {name} has {len(text)} values for {array.shape[0]} rows"
            )
        columns.append(read_column(str(name), text, plain=False))
    return Table(tuple(columns), np.arange(1, len(array) + 1, dtype=np.int64), source)
