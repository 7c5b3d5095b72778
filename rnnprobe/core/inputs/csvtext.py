"""CSV/TSV text already in memory, read with the standard library's `csv`: a field may be as
long as the text (the module's own limit is 131,072 characters), and a line `csv` cannot
read is refused in one line naming it. Pure Python."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator

from rnnprobe.core.errors import InputError

# The text is in memory already: a field as long as the text costs nothing more.
_FIELD_LIMIT = min(sys.maxsize, 2**31 - 1)


def rows(text: str, delimiter: str, where: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of each CSV row of `text` (a quoted field may span lines: the
    number is the row's last line); `where` names the source in a refusal."""
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:
        raise InputError(f"{where}, line {reader.line_num + 1}, is not a CSV/TSV row: "
                         f"{error}") from None  # fmt: skip


def line_cells(line: str, delimiter: str, where: str) -> list[str]:
    """The cells of one line (no line breaks inside its quotes)."""
    for _, cells in rows(line, delimiter, where):
        return cells
    return []
