"""One column of a table, read by its kind: `number` (most of its cells are numbers),
`date` (ISO dates and times, `YYYY-MM`, or a `YYYY` column named like a date) or `text`
(anything else). A cell that is blank, `NA`, `N/A`, `nan` or `null` is missing, never a
number. Pure numpy."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnprobe.core.inputs import numeral

NUMBER, DATE, TEXT = "number", "date", "text"
MISSING = frozenset({"", "na", "n/a", "nan", "null"})  # compared stripped and lowercased
# A column of four-digit years is a date column when its header says so.
DATE_NAMES = frozenset(
    {"date", "year", "time", "month", "week", "day", "period", "ds", "timestamp", "datetime"}
)
DATES = (  # ISO forms, the finest first: (pattern, numpy's unit)
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?", re.ASCII), "s"),
    (re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII), "D"),
    (re.compile(r"\d{4}-\d{2}", re.ASCII), "M"),
)


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING


# Not compared by value (`eq=False`): `==` on the arrays would be ambiguous.
@dataclass(frozen=True, eq=False)
class Column:
    """One column: its kind, and per row its number (NaN where missing or not a number) and
    whether the cell is missing; the text of a date or text column; a number column's
    first cell that is not a usable number (row, text): not one, not finite, or beyond
    float32's range."""

    name: str
    kind: str  # NUMBER, DATE or TEXT
    numbers_: np.ndarray = field(repr=False)  # float64 per row
    missing: np.ndarray = field(repr=False)  # bool per row
    cells: tuple[str, ...] | None = field(default=None, repr=False)  # stripped text
    dates: np.ndarray | None = field(default=None, repr=False)  # datetime64 (NaT: missing)
    bad: tuple[int, str] | None = None


def example_of(column: Column) -> str:
    """A cell of a date or text column that shows its kind (the first not a number)."""
    cells = column.cells or ()
    return next((c for c in cells if c and numeral.number(c) is None), next(iter(cells), ""))


def date_unit(cell: str) -> str | None:
    """numpy's unit of an ISO date or time ("D", "M", "s"), else None."""
    text = cell.strip()
    for pattern, unit in DATES:
        if pattern.fullmatch(text):
            return unit
    return None


def _dates(cells: Sequence[str], missing: np.ndarray, unit: str) -> np.ndarray | None:
    """The cells as datetime64 of `unit` (NaT where missing), or None when one is no date."""
    try:
        return np.array(
            ["NaT" if m else c for c, m in zip(cells, missing, strict=True)],
            dtype=f"datetime64[{unit}]",
        )
    except ValueError:
        return None


def first_bad(values: np.ndarray, missing: np.ndarray) -> int | None:
    """The first row whose number is not finite within float32's range, and not missing."""
    bad = ~missing & ~(np.abs(values) < numeral.FLOAT32_OVERFLOW)
    return int(np.argmax(bad)) if bad.any() else None


def read_column(name: str, cells: Sequence[str], *, plain: bool) -> Column:
    """One column read by its kind (`_read_cells`); a column of four-digit years whose
    header names a date (DATE_NAMES) is a date column."""
    column = _read_cells(name, cells, plain=plain)
    if column.name.lower() in DATE_NAMES:
        return year_column(column) or column
    return column


def _read_cells(name: str, cells: Sequence[str], *, plain: bool) -> Column:
    """One column read by its kind. `plain`: every cell of the whole text is ASCII without
    `_`, so that `float` reads exactly the numbers `numeral.number` reads."""
    count = len(cells)
    if plain:
        try:  # the fast path: every cell a number (or `nan`, missing)
            values = np.fromiter(map(float, cells), dtype=np.float64, count=count)
        except ValueError:
            pass
        else:
            missing = np.isnan(values)
            row = first_bad(values, missing)
            return Column(
                name,
                NUMBER,
                values,
                missing,
                bad=None if row is None else (row, cells[row].strip()),
            )
    stripped = [c.strip() for c in cells]
    missing = np.fromiter((c.lower() in MISSING for c in stripped), dtype=bool, count=count)
    values = np.full(count, np.nan)
    numbers, first_text = 0, None
    for row, cell in enumerate(stripped):
        if not missing[row]:
            found = numeral.number(cell)
            if found is not None:
                values[row] = found
                numbers += 1
            elif first_text is None:
                first_text = row
    present = count - int(missing.sum())
    if not present or (numbers and numbers * 2 >= present):  # all missing: no other kind
        row = first_bad(values, missing)
        row = first_text if row is None or (first_text is not None and first_text < row) else row
        return Column(
            name, NUMBER, values, missing, bad=None if row is None else (row, stripped[row])
        )
    units = {date_unit(c) for c, m in zip(stripped, missing, strict=True) if not m}
    if present and None not in units:
        unit = min((u for u in units if u is not None), key="sDM".index)  # the finest
        dates = _dates(stripped, missing, unit)
        if dates is not None:
            return Column(name, DATE, values, missing, tuple(stripped), dates)
    return Column(name, TEXT, values, missing, tuple(stripped))


def year_column(column: Column) -> Column | None:
    """A number column of four-digit whole years read as dates (None when it is not)."""
    values = column.numbers_[~column.missing]
    if column.kind != NUMBER or not len(values) or np.isnan(values).any():
        return None
    if not (np.all(values == np.round(values)) and np.all((values >= 1000) & (values <= 2999))):
        return None
    cells = tuple(
        "" if m else str(int(v)) for v, m in zip(column.numbers_, column.missing, strict=True)
    )
    dates = _dates(cells, column.missing, "Y")
    return (
        None
        if dates is None
        else Column(column.name, DATE, column.numbers_, column.missing, cells, dates)
    )
