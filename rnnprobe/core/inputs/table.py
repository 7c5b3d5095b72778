"""A table of numbers for `series`: rows in time order, one column per feature, read from
numbers given as arguments, one CSV/TSV/whitespace-separated file, or stdin. Pure numpy."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from rnnprobe.core.errors import InputError, Param, shown
from rnnprobe.core.inputs import csvtext, numeral

GIVE = "give numbers, one CSV/TSV file or - for stdin"
ARGUMENTS = "the arguments"


# Not compared by value (`eq=False`): `==` on the arrays would be ambiguous.
@dataclass(frozen=True, eq=False)
class Table:
    """A long series: `values` (rows, columns) float64 in the text's order, all finite."""

    names: tuple[str, ...]
    values: np.ndarray = field(repr=False)
    lines: np.ndarray = field(repr=False)
    source: str

    def __post_init__(self) -> None:
        if self.values.shape != (self.lines.shape[0], len(self.names)):
            raise ValueError(
                f"values {self.values.shape} for {len(self.lines)} lines and "
                f"{len(self.names)} names"
            )

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

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
            f" {name_or_number!r}: no such column; the columns are {', '.join(self.names)}"
            f" (or {numbers})",
        )


def _is_number(cell: str) -> bool:
    """Whether the cell spells a number (nan and inf included: they are refused later)."""
    return numeral.number(cell) is not None


def _finite(cell: str, where: str, line: str = "") -> float:
    """The number a cell spells, finite and within float32's range; else one line saying
    `where` it is (e.g. "row 3, column Close"), what is wrong, then `line` ("(line 5)")."""
    number = numeral.number(cell)
    if number is None:
        said = f"{shown(cell.strip())} is not a number"
    elif not math.isfinite(number):
        said = f"{shown(cell.strip())} is not a finite number"
    elif numeral.beyond_float32(number):
        said = numeral.float32_range(number)
    else:
        return number
    raise InputError(f"{where}: {said}{' ' + line if line else ''}")


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


def _comment_names(comment: str | None, delimiter: str | None, count: int) -> tuple[str, ...]:
    """The names on the last comment line before the first row, when it gives one per
    column and none is a number; else "1", "2", ..."""
    numbered = tuple(str(i) for i in range(1, count + 1))
    if comment is None:
        return numbered
    try:
        cells = [c.strip() for c in _cells(comment.lstrip("#").strip(), delimiter, 0)]
    except InputError:
        return numbered
    names = tuple(c or str(i) for i, c in enumerate(cells, start=1))
    if len(names) != count or any(map(_is_number, cells)) or len(set(names)) != count:
        return numbered
    return names


def _check(rows: Sequence[Sequence[str]], names: Sequence[str], lines: Sequence[int]) -> None:
    """Raise for the first bad row or cell in the text's order."""
    for r, (row, line) in enumerate(zip(rows, lines, strict=True), start=1):
        if len(row) != len(names):
            raise InputError(
                f"row {r} has {len(row)} values, not {len(names)} (line {line}): "
                "every row needs one value per column"
            )
        for name, cell in zip(names, row, strict=True):
            _finite(cell, f"row {r}, column {name}", f"(line {line})")


def _all_cells(texts: Sequence[str], count: int, delimiter: str | None) -> list[str] | None:
    """Every cell in the text's order, split without the csv module, when no line is quoted
    and each holds `count` cells; else None."""
    if delimiter is None:
        rows = [line.split() for line in texts]
        if any(len(row) != count for row in rows):
            return None
        return list(chain.from_iterable(rows))
    if any('"' in line or line.count(delimiter) != count - 1 for line in texts):
        return None
    return delimiter.join(texts).split(delimiter)


def _values(
    texts: Sequence[str], lines: Sequence[int], names: Sequence[str], delimiter: str | None
) -> np.ndarray:
    """The rows as a (rows, columns) float64 array, or the first bad row or cell (in the
    text's order) as an InputError."""
    count = len(names)
    cells = _all_cells(texts, count, delimiter)
    if cells is not None and all(map(numeral.plain, texts)):
        try:  # the fast path: every cell read in one pass (ASCII, no `_`: as `number` reads)
            flat = np.fromiter(map(float, cells), dtype=np.float64, count=len(cells))
        except ValueError:
            pass
        else:
            if (np.abs(flat) < numeral.FLOAT32_OVERFLOW).all():  # finite in float32 too
                return flat.reshape(len(texts), count)
    rows = [_cells(text, delimiter, line) for text, line in zip(texts, lines, strict=True)]
    _check(rows, names, lines)
    return np.array([[float(cell) for cell in row] for row in rows], dtype=np.float64)


def parse_table(text: str, source: str) -> Table:
    """A table from text: CSV, TSV or whitespace-separated, `#` comments and blank lines
    skipped (and a leading byte-order mark), names from a header row, else the last comment
    line, else "1", "2", ..."""
    comment: str | None = None  # the last comment line before the first row
    texts: list[str] = []  # every other non-blank line
    lines: list[int] = []  # and its line number
    for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1):
        stripped = line.lstrip()
        if not stripped:
            continue
        if stripped[0] == "#":
            if not texts:
                comment = stripped
            continue
        texts.append(line)
        lines.append(number)
    empty = InputError(f"{source} holds no rows of numbers: give one row per time step")
    if not texts:
        raise empty
    delimiter = "\t" if "\t" in texts[0] else "," if "," in texts[0] else None
    first = _cells(texts[0], delimiter, lines[0])
    if not all(map(_is_number, first)):
        names = _header_names(first, lines[0])
        texts, lines = texts[1:], lines[1:]
    else:
        names = _comment_names(comment, delimiter, len(first))
    if not texts:
        raise empty
    values = _values(texts, lines, names, delimiter)
    return Table(names, values, np.array(lines, dtype=np.int64), source)


def table_from_arguments(values: Sequence[str]) -> Table:
    """One column named "value": each argument is one row (its line is its position)."""
    if not values:
        raise InputError(f"no data given: {GIVE}")
    numbers = [_finite(item, f"value {n}") for n, item in enumerate(values, start=1)]
    column = np.array(numbers, dtype=np.float64).reshape(-1, 1)
    return Table(("value",), column, np.arange(1, len(numbers) + 1, dtype=np.int64), ARGUMENTS)


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
    bad = [item for item in data if not _is_number(item)]
    if not bad:
        return table_from_arguments(data)
    if len(data) == 1:
        return parse_table(read_text(data[0]), data[0])
    raise InputError(f"{shown(bad[0])} is not a number: {GIVE}")


def select_columns(
    table: Table, columns: str | None, target: str | None
) -> tuple[tuple[int, ...], int]:
    """The feature columns (all, or "NAME,..." by name or 1-based number) and the target
    column (the last feature, or any column by name or number)."""
    if columns is None:
        features = tuple(range(len(table.names)))
    else:
        parts = columns.split(",")
        if not all(part.strip() for part in parts):
            raise InputError(
                Param("columns"),
                f" {columns!r} has an empty entry: give column names or numbers separated"
                " by commas",
            )
        features = tuple(table.column(part, "columns") for part in parts)
        for k, index in enumerate(features):
            if index in features[:k]:  # a handful of columns: no set needed
                raise InputError(
                    Param("columns"),
                    f" {columns!r} names column {table.names[index]!r} twice: give each"
                    " column once",
                )
    chosen = features[-1] if target is None else table.column(target, "target")
    return features, chosen


def table_from_values(values: object, names: Sequence[str] | None, source: str) -> Table:
    """A table from numbers in Python or numpy: 1-D (one column named "value") or rows x
    columns (named `names`, or "1", "2", ...); every value a finite number."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            Param("data"), ": give numbers (a list, an array of rows x columns), a path or a "
            "DataFrame",
        ) from None  # fmt: skip
    if array.ndim == 1:
        array = array.reshape(-1, 1)
        names = names or ("value",)
    if array.ndim != 2 or 0 in array.shape:
        raise InputError(
            Param("data"), f" has shape {array.shape}: give one column, or rows x columns"
        )
    found = tuple(str(n) for n in names) if names else tuple(
        str(n) for n in range(1, array.shape[1] + 1)
    )  # fmt: skip
    if len(found) != array.shape[1] or len(set(found)) != len(found):
        raise InputError(
            Param("data"), f": {array.shape[1]} columns need as many distinct names, "
            f"got {list(found)}",
        )  # fmt: skip
    bad = np.argwhere(~(np.abs(array) < numeral.FLOAT32_OVERFLOW))
    if len(bad):
        row, column = (int(v) for v in bad[0])
        value = float(array[row, column])
        said = numeral.float32_range(value) if math.isfinite(value) else (
            f"{value} is not a finite number")  # fmt: skip
        raise InputError(f"row {row + 1}, column {found[column]}: {said}")
    return Table(found, array, np.arange(1, len(array) + 1, dtype=np.int64), source)
