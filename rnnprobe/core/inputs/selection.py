"""What `series` reads of a table: the feature and target columns (numbers), the date
column that labels the rows, the group column that splits a long table into series, and
the missing values handled as asked (`--missing`). Pure numpy.

The rows come out grouped (each group's rows together, in the order they came, the groups
in the order they first appear) and cut into segments: runs of rows a window may span. A
segment ends where a group ends and, with `--missing drop`, where a row was dropped, so
that no window joins two series or two distant times.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnprobe.core.errors import InputError, Param, shown
from rnnprobe.core.inputs.columns import DATE, NUMBER, TEXT, example_of, year_column
from rnnprobe.core.inputs.table import Table

MISSING_WAYS = ("error", "drop", "ffill", "interpolate")
SHOWN_GAPS = 3  # uneven steps named in the view before it says how many more


@dataclass(frozen=True)
class Gaps:
    """How the missing values of the columns read were handled."""

    how: str  # error, drop, ffill or interpolate
    cells: int  # missing cells in the columns read
    rows_dropped: int = 0

    @property
    def filled(self) -> int:
        """Cells filled: every missing one, when ffill or interpolate filled them."""
        return self.cells if self.how in ("ffill", "interpolate") else 0


@dataclass(frozen=True)
class Uneven:
    """Steps of the date column that differ from its usual step (a missing week)."""

    step: str  # the usual step in words ("1 week")
    count: int  # steps that differ
    first: tuple[tuple[str, str, str], ...]  # (date, next date, step in words), the first few


@dataclass(frozen=True, eq=False)
class Selected:
    """The columns a series reads, row by row, finite: `values` (rows, columns read)."""

    source: str
    table_names: tuple[str, ...]  # every column of the table
    table_kinds: tuple[str, ...]
    names: tuple[str, ...]  # the columns read, in the table's order
    values: np.ndarray = field(repr=False)  # float64 (rows, names)
    features: tuple[int, ...]  # indices into names
    targets: tuple[int, ...]  # indices into names
    lines: np.ndarray = field(repr=False)  # each row's line in the text
    reverse: bool
    gaps: Gaps
    group_of: np.ndarray = field(repr=False)  # each row's group
    segments: tuple[tuple[int, int], ...]  # [start, end) rows a window may span
    index_name: str | None = None  # the date column
    index: tuple[str, ...] | None = field(default=None, repr=False)  # its text per row
    group_name: str | None = None
    groups: tuple[str, ...] = ("",)  # each group's value, in the order they first appear
    uneven: Uneven | None = None
    unsorted: str | None = None  # where the dates stop increasing, said
    # The columns read as the file holds them (NaN where missing), and each row's group:
    # what `--code` starts from to do every step again.
    raw_values: np.ndarray | None = field(default=None, repr=False)
    raw_groups: np.ndarray | None = field(default=None, repr=False)

    @property
    def rows(self) -> int:
        return int(self.values.shape[0])

    @functools.cached_property
    def group_rows(self) -> tuple[slice, ...]:
        """Each group's rows, by group number (the rows are sorted by group)."""
        return group_slices(self.group_of, len(self.groups))

    @property
    def group_sizes(self) -> list[int]:
        """How many rows each group has, by group number."""
        return [rows.stop - rows.start for rows in self.group_rows]

    def label(self, row: int) -> str:
        """A row as the tables name it: its date, else its number from 0."""
        return self.index[row] if self.index is not None else str(row)


def _names(given: str | None, param: str, table: Table) -> list[int]:
    """Columns named by "NAME,..." (names or numbers from 1), each once."""
    if given is None:
        return []
    parts = given.split(",")
    if not all(part.strip() for part in parts):
        raise InputError(
            Param(param),
            f" {shown(given)} has an empty entry: give column names or numbers separated by commas",
        )
    found = [table.column(part, param) for part in parts]
    for k, index in enumerate(found):
        if index in found[:k]:
            raise InputError(
                Param(param),
                f" {shown(given)} names column {table.names[index]!r} twice: give each column once",
            )
    return found


def _date_column(table: Table, date: str | None, group: int | None) -> int | None:
    """The date column: --date's, else the first column of dates (not the group's)."""
    if date is not None:
        index = table.column(date, "date")
        found = table.columns[index]
        if found.kind == DATE:
            return index
        if year_column(found) is not None:
            return index
        example = next((c for c in found.cells or () if c), None)
        said = f"{shown(example)}" if example is not None else "numbers"
        raise InputError(
            Param("date"),
            f" {found.name}: its cells ({said}) are not dates: "
            "give ISO dates or times (2024-01-31, 2024-01-31 09:00), YYYY-MM or "
            "YYYY",
        )
    return next((i for i, c in enumerate(table.columns) if c.kind == DATE and i != group), None)


def _number_columns(table: Table, indices: Sequence[int], param: str) -> None:
    for index in indices:
        found = table.columns[index]
        if found.kind != NUMBER:
            example = example_of(found)
            raise InputError(
                Param(param),
                f" {found.name}: the column holds {found.kind} ({shown(example)}), not numbers",
            )


def select(
    table: Table,
    *,
    columns: str | None = None,
    target: str | None = None,
    date: str | None = None,
    group: str | None = None,
    missing: str = "error",
    reverse: bool = False,
) -> Selected:
    """The columns `series` reads, checked: features (`columns`, by default every number
    column but the date and the group), targets (`target`, "A,B", by default the last
    feature), the date column that labels the rows, the group column, the missing values
    handled as `missing` says. Each refusal is one line naming the option."""
    if missing not in MISSING_WAYS:
        raise InputError(
            Param("missing"), f" {shown(str(missing))}: give error, drop, ffill or interpolate"
        )
    grouped = None if group is None else table.column(group, "group")
    dated = _date_column(table, date, grouped)
    feature_list = _names(columns, "columns", table)
    if not feature_list:
        feature_list = [
            i for i, c in enumerate(table.columns) if c.kind == NUMBER and i not in (dated, grouped)
        ]
        if not feature_list:
            kinds = ", ".join(f"{c.name} ({c.kind})" for c in table.columns)
            raise InputError(
                f"{table.source} has no column of numbers to read (its columns: {kinds})"
            )
    for feature in feature_list:
        if feature == grouped:
            raise InputError(
                Param("group"),
                f" {table.names[feature]} is also in ",
                Param("columns"),
                ": a group names a series, it is never a feature",
            )
    _number_columns(table, feature_list, "columns")
    target_list = _names(target, "target", table) or [feature_list[-1]]
    _number_columns(table, target_list, "target")
    read = sorted(set(feature_list) | set(target_list))
    values = np.column_stack([table.numbers(i, missing_ok=True) for i in read])
    raw_values = values
    names = tuple(table.names[i] for i in read)
    lines = table.lines.copy()
    labels = None if dated is None else table.columns[dated]
    if labels is not None and labels.kind != DATE:
        labels = year_column(labels)
    labelled = None if labels is None else labels.cells
    dates = None if labels is None else labels.dates
    order = np.arange(table.rows)
    if reverse:
        order = order[::-1]
    group_names: tuple[str, ...] = ("",)
    group_of = np.zeros(table.rows, dtype=np.int64)
    if grouped is not None:
        column = table.columns[grouped]
        cells = (
            column.cells if column.cells is not None else tuple(f"{v:g}" for v in column.numbers_)
        )
        if column.missing.any():
            row = int(np.flatnonzero(column.missing)[0])
            raise InputError(
                Param("group"),
                f" {column.name}: row {row + 1} has no group (line "
                f"{table.lines[row]}): give every row its group",
            )
        first_seen = dict.fromkeys(cells)  # the groups in the order they first appear
        group_names = tuple(first_seen)
        number = {name: k for k, name in enumerate(group_names)}
        group_of = np.array([number[c] for c in cells], dtype=np.int64)
        order = order[np.argsort(group_of[order], kind="stable")]
    raw_groups = group_of
    values, lines, group_of = values[order], lines[order], group_of[order]
    if labelled is not None:
        labelled = tuple(labelled[i] for i in order)
        dates = dates[order] if dates is not None else None
    gaps, values, kept = _missing(values, group_of, names, lines, missing)
    segments = _segments(group_of, kept)
    rows_kept = np.flatnonzero(kept)
    values, lines, group_of = values[rows_kept], lines[rows_kept], group_of[rows_kept]
    if labelled is not None:
        labelled = tuple(labelled[i] for i in rows_kept)
        if dates is not None:
            dates = dates[rows_kept]
    if dates is not None and np.isnat(dates).any():
        row = int(np.flatnonzero(np.isnat(dates))[0])
        raise InputError(
            f"row {row + 1} has no date in column {table.names[dated or 0]} (line "
            f"{lines[row]}): give every row its date"
        )
    run_of = np.zeros(len(values), dtype=np.int64)
    for run, (start, end) in enumerate(segments):
        run_of[start:end] = run
    uneven, unsorted = (None, None) if dates is None else _steps(dates, run_of, labelled or ())
    return Selected(
        source=table.source,
        table_names=table.names,
        table_kinds=tuple(c.kind for c in table.columns),
        names=names,
        values=values,
        features=tuple(read.index(i) for i in feature_list),
        targets=tuple(read.index(i) for i in target_list),
        lines=lines,
        reverse=reverse,
        gaps=gaps,
        index_name=None if dated is None else table.names[dated],
        index=labelled,
        group_name=None if grouped is None else table.names[grouped],
        groups=group_names,
        group_of=group_of,
        segments=segments,
        uneven=uneven,
        unsorted=unsorted,
        raw_values=raw_values,
        raw_groups=raw_groups,
    )


def _missing(
    values: np.ndarray, group_of: np.ndarray, names: Sequence[str], lines: np.ndarray, how: str
) -> tuple[Gaps, np.ndarray, np.ndarray]:
    """The values with their missing cells handled, and which rows are kept."""
    holes = np.isnan(values)
    cells = int(holes.sum())
    kept = np.ones(len(values), dtype=bool)
    if not cells:
        return Gaps(how, 0), values, kept
    row, column = (int(v) for v in np.argwhere(holes)[0])
    if how == "error":
        raise InputError(
            f"row {row + 1}, column {names[column]} is missing (line {lines[row]}; "
            f"{cells:,} missing cell{'s' if cells != 1 else ''} in the columns read): "
            "give ",
            Param("missing"),
            " drop, ffill or interpolate",
        )
    if how == "drop":
        kept = ~holes.any(axis=1)
        return Gaps(how, cells, rows_dropped=int((~kept).sum())), values, kept
    filled = values.copy()
    for part_of in group_slices(group_of, int(group_of.max(initial=-1)) + 1):
        rows = np.arange(part_of.start, part_of.stop)
        for c in range(values.shape[1]):
            part = filled[rows, c]
            gaps = np.isnan(part)
            if not gaps.any():
                continue
            known = np.flatnonzero(~gaps)
            first_gap = int(np.flatnonzero(gaps)[0])
            if not len(known) or first_gap < known[0]:
                where = int(rows[first_gap])
                raise InputError(
                    Param("missing"),
                    f" {how}: row {where + 1}, column {names[c]} "
                    f"(line {lines[where]}) has no value before it to fill from: "
                    "give --missing drop",
                )
            if how == "ffill":
                last = np.maximum.accumulate(np.where(gaps, 0, np.arange(len(part))))
                part = part[last]
            else:
                last_gap = int(np.flatnonzero(gaps)[-1])
                if last_gap > known[-1]:
                    where = int(rows[last_gap])
                    raise InputError(
                        Param("missing"),
                        f" interpolate: row {where + 1}, column "
                        f"{names[c]} (line {lines[where]}) has no value after it "
                        "to interpolate to: give --missing ffill or drop",
                    )
                positions = np.arange(len(part))
                part = np.interp(positions, known, part[known])
            filled[rows, c] = part
    return Gaps(how, cells), filled, kept


def _segments(group_of: np.ndarray, kept: np.ndarray) -> tuple[tuple[int, int], ...]:
    """Runs of kept rows within one group, as [start, end) in the kept rows' numbering."""
    found: list[tuple[int, int]] = []
    start: int | None = None
    position = 0
    for row in range(len(kept)):
        if start is not None and (not kept[row] or group_of[row] != group_of[row - 1]):
            found.append((start, position))
            start = None
        if kept[row]:
            start = position if start is None else start
            position += 1
    if start is not None:
        found.append((start, position))
    return tuple(found)


UNITS = {
    "Y": "year",
    "M": "month",
    "W": "week",
    "D": "day",
    "h": "hour",
    "m": "minute",
    "s": "second",
}


def step_words(step: np.timedelta64) -> str:
    """A step of time in words: "1 week", "3 months", "90 minutes"."""
    unit = np.datetime_data(step.dtype)[0]
    count = int(step.astype(np.int64))
    if unit == "D" and count % 7 == 0:
        count, unit = count // 7, "W"
    elif unit == "s":
        for size, name in ((86400, "D"), (3600, "h"), (60, "m")):
            if count % size == 0:
                count, unit = count // size, name
                break
    word = UNITS.get(unit, unit)
    return f"{count} {word}{'s' if count != 1 else ''}"


def calendar(dates: np.ndarray) -> np.ndarray:
    """Dates in the coarsest unit that keeps them: the first of every month is a month
    (so that steps of 28 to 31 days are one step), every 1 January a year, midnight a day."""
    unit = np.datetime_data(dates.dtype)[0]
    known = dates[~np.isnat(dates)]
    if unit == "s" and np.all(known == known.astype("datetime64[D]")):
        dates, known, unit = dates.astype("datetime64[D]"), known.astype("datetime64[D]"), "D"
    if unit == "D" and np.all(known == known.astype("datetime64[M]")):
        dates, known, unit = dates.astype("datetime64[M]"), known.astype("datetime64[M]"), "M"
    if unit == "M" and np.all(known == known.astype("datetime64[Y]")):
        dates = dates.astype("datetime64[Y]")
    return dates


def _steps(
    dates: np.ndarray, run_of: np.ndarray, index: Sequence[str]
) -> tuple[Uneven | None, str | None]:
    """Steps of the dates that differ from the usual one (within each run of rows a window
    may span: a step over a dropped row or into the next group is none), and where the
    dates stop increasing (None: they never do)."""
    dates = calendar(dates)
    same = run_of[1:] == run_of[:-1]
    steps = (dates[1:] - dates[:-1])[same]
    rows = np.flatnonzero(same)  # each step goes from row r to r + 1
    if not len(steps):
        return None, None
    backwards = np.flatnonzero(steps <= np.timedelta64(0))
    unsorted = None
    if len(backwards):
        row = int(rows[backwards[0]])
        unsorted = (
            f"the dates do not increase from row {row + 1} ({index[row]}) to row "
            f"{row + 2} ({index[row + 1]}): rows run in the file's order (--reverse "
            "reads a file newest first)"
        )
    values, counts = np.unique(steps, return_counts=True)
    usual = values[np.argmax(counts)]
    odd = np.flatnonzero(steps != usual)
    if not len(odd):
        return None, unsorted
    first = tuple(
        (index[int(rows[k])], index[int(rows[k]) + 1], step_words(steps[k]))
        for k in odd[:SHOWN_GAPS]
    )
    return Uneven(step_words(usual), len(odd), first), unsorted


__all__ = ["MISSING_WAYS", "TEXT", "Gaps", "Selected", "Uneven", "select", "step_words"]


def group_slices(group_of: np.ndarray, count: int) -> tuple[slice, ...]:
    """The rows of each group 0 ... count - 1, when `group_of` is sorted (one binary search
    per group, not a scan of every row)."""
    edges = np.searchsorted(group_of, np.arange(count + 1), side="left").tolist()
    return tuple(slice(lo, hi) for lo, hi in itertools.pairwise(edges))
