"""A table of numbers for `series`: arguments, a CSV/TSV/whitespace file or stdin, read into
named float64 columns with each row's line; every bad input is one line, exit code 2."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.selection import select
from rnnprobe.core.inputs.table import (
    Table,
    parse_table,
    read_series_data,
    table_from_arguments,
)

GIVE = "give numbers, one CSV/TSV file or - for stdin"
STOCK_NAMES = ("Open", "High", "Low", "Volume", "Close")
# The lecture's stock file: a source line, a line naming the columns, newest row first.
STOCK = """\
# http://finance.yahoo.com/q/hp?s=GOOG+Historical+Prices
# Open,High,Low,Volume,Close
828.659973,833.450012,828.349976,1247700,831.659973
823.02002,828.070007,821.655029,1597800,828.070007
819.929993,824.400024,818.97998,1281700,824.159973
"""
STOCK_ROWS = [
    [828.659973, 833.450012, 828.349976, 1247700, 831.659973],
    [823.02002, 828.070007, 821.655029, 1597800, 828.070007],
    [819.929993, 824.400024, 818.97998, 1281700, 824.159973],
]


def no_stdin() -> str:
    raise AssertionError("stdin was read")


def error_of(call: Callable[..., Any], *args: Any) -> InputError:
    """The InputError the call raises, checked to be a one-line usage error (exit code 2)."""
    with pytest.raises(InputError) as caught:
        call(*args)
    assert caught.value.exit_code == 2
    assert "\n" not in str(caught.value)
    return caught.value


def message(call: Callable[..., Any], *args: Any) -> str:
    return str(error_of(call, *args))


def read_values(text: str, source: str) -> np.ndarray:
    """A table read whole as numbers (every cell checked): what `inspect --input` reads."""
    return parse_table(text, source).values


def select_columns(table: Table, columns: str | None, target: str | None) -> tuple:
    """The features and the first target that `series` reads, as columns of the table."""
    found = select(table, columns=columns, target=target)
    features = tuple(table.names.index(found.names[i]) for i in found.features)
    return features, table.names.index(found.names[found.targets[0]])


def stock() -> Table:
    return parse_table(STOCK, "stock.csv")


# --- the layouts -------------------------------------------------------------------------


def test_the_stock_file_reads_its_names_from_the_last_comment_line():
    table = stock()
    assert table.names == STOCK_NAMES
    assert table.values.dtype == np.float64
    assert table.values.shape == (3, 5)
    assert table.rows == 3
    np.testing.assert_array_equal(table.values, np.array(STOCK_ROWS))  # newest first, as given
    assert table.lines.dtype == np.int64
    assert table.lines.tolist() == [3, 4, 5]
    assert table.source == "stock.csv"


def test_a_header_row_names_the_columns_and_is_not_a_row():
    table = parse_table("time,price\n1,10.5\n2,11\n", "prices.csv")
    assert table.names == ("time", "price")
    assert table.values.tolist() == [[1.0, 10.5], [2.0, 11.0]]
    assert table.lines.tolist() == [2, 3]


def test_a_header_row_wins_over_a_comment_line():
    assert parse_table("# p,q\na,b\n1,2\n", "f").names == ("a", "b")


def test_header_names_are_stripped_and_an_empty_one_is_its_number():
    assert parse_table(" a , ,c\n1,2,3\n", "f").names == ("a", "2", "c")


def test_a_header_row_is_one_with_any_cell_not_a_number():
    table = parse_table("1,x\n2,3\n", "f")
    assert table.names == ("1", "x")
    assert table.values.tolist() == [[2.0, 3.0]]


def test_a_quoted_csv_header_reads_without_quotes():
    table = parse_table('"Open","Close"\n"1",2\n', "f")
    assert table.names == ("Open", "Close")
    assert table.values.tolist() == [[1.0, 2.0]]
    assert parse_table('"a,b",c\n1,2\n', "f").names == ("a,b", "c")  # the csv module's quoting
    table = parse_table('"x","y"\n"0.1","1.5e2"\n-0.3,"2"\n', "f")  # quoted numbers too
    assert table.values.dtype == np.float64
    assert table.values.tolist() == [[0.1, 1.5e2], [-0.3, 2.0]]


def test_tsv_when_the_first_line_holds_a_tab_even_with_commas():
    table = parse_table("a,b\tc\n1\t2\n3 \t 4\n", "f.tsv")
    assert table.names == ("a,b", "c")
    assert table.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_whitespace_separated_when_the_first_line_has_no_tab_and_no_comma():
    table = parse_table("1  2 3\n 4 5   6 \n", "f.txt")
    assert table.names == ("1", "2", "3")
    assert table.values.tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert parse_table("t v\n1 2\n", "f").names == ("t", "v")


def test_comments_are_skipped_and_a_blank_line_of_one_column_is_a_missing_value():
    """Blank lines before and after the rows are nothing; between them, in a one-column
    file, each is a missing value (a week without a reading), never dropped silently."""
    table = parse_table("\n# a note\n1\n\n   # between\n  \n2\n# last\n\n", "f")
    assert table.names == ("value",)
    column = table.columns[0]
    assert column.kind == "number"
    np.testing.assert_array_equal(column.numbers_, [1.0, np.nan, np.nan, 2.0])
    assert column.missing.tolist() == [False, True, True, False]
    assert table.lines.tolist() == [3, 4, 6, 7]
    assert message(read_values, "1\n\n2\n", "f") == "row 2, column value is missing (line 2)"
    wide = parse_table("a,b\n1,2\n\n3,4\n", "f")  # a wider file: a blank line is nothing
    assert wide.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("# a,b\n1,2\n", ("a", "b")),
        ("#a , b\n\n1,2\n", ("a", "b")),  # stripped; a blank line between
        ("# t v\n1 2\n", ("t", "v")),  # the whitespace split
        ("# x\ty\n1\t2\n", ("x", "y")),  # the tab split
        ("#\tx\ty\n1\t2\n", ("x", "y")),  # the whitespace after "#" is not a cell
        ("# a,b,c\n1,2\n", ("1", "2")),  # three names for two columns
        ("# a b\n1\n", ("value",)),  # one unnamed column is "value"
        ("# a,1\n1,2\n", ("1", "2")),  # one is a number
        ("# a,b\n# a note\n1,2\n", ("1", "2")),  # only the last comment line counts
        ("1,2\n# a,b\n3,4\n", ("1", "2")),  # a comment after the first row
        ("1,2\n", ("1", "2")),  # no comment at all
    ],
)
def test_names_from_the_last_comment_line_only_when_they_fit(text, names):
    assert parse_table(text, "f").names == names


def test_numbers_are_what_float_reads_around_blanks():
    table = parse_table("1e3, -2.5 , 7 ,+4.\n", "f")
    assert table.names == ("1", "2", "3", "4")  # " 7 " is a number: no header
    assert table.values.tolist() == [[1000.0, -2.5, 7.0, 4.0]]


def test_a_long_series_reads_at_once():
    rows, columns = 100_000, 5
    expected = np.arange(rows * columns, dtype=np.float64).reshape(rows, columns) / 8 - 1000
    body = "\n".join(",".join(repr(float(x)) for x in row) for row in expected.tolist())
    table = parse_table("a,b,c,d,e\n" + body + "\n", "big.csv")
    assert table.values.shape == (rows, columns)
    np.testing.assert_array_equal(table.values, expected)
    np.testing.assert_array_equal(table.lines, np.arange(2, rows + 2))


# --- bad text ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n \n\t\n", "# only\n# comments\n", "a,b\n# c\n\n"])
def test_text_without_rows_of_numbers(text):
    expected = "data.csv holds no rows of numbers: give one row per time step"
    assert message(parse_table, text, "data.csv") == expected


def test_a_header_naming_a_column_twice():
    expected = "the header names 'a' twice (line 2): name each column once"
    assert message(parse_table, "# c\na, b ,a \n1,2,3\n", "f") == expected
    expected = "the header names '2' twice (line 1): name each column once"
    assert message(parse_table, "a,,2\n1,2,3\n", "f") == expected  # an empty name is its number


@pytest.mark.parametrize("cell", ["inf", "-inf", "Infinity", "-INFINITY", "1e999"])
def test_a_cell_that_is_not_finite(cell):
    expected = f"row 2, column b: {cell!r} is not a finite number (line 4)"
    assert message(read_values, f"a,b\n# c\n1,2\n3,{cell}\n", "f") == expected


@pytest.mark.parametrize("cell", ["nan", "NaN", "", "NA", "n/a", "null"])
def test_a_missing_cell(cell):
    expected = "row 2, column b is missing (line 4)"
    assert message(read_values, f"a,b\n# c\n1,2\n3,{cell}\n", "f") == expected


def test_a_first_row_with_nan_is_a_row_not_a_header():
    assert message(read_values, "nan,1\n2,3\n", "f") == "row 1, column 1 is missing (line 1)"


@pytest.mark.parametrize(("cell", "line"), [("x", "3,x"), ("1,5", '3,"1,5"')])
def test_a_cell_that_is_not_a_number(cell, line):
    expected = f"row 2, column b: {cell!r} is not a number (line 4)"
    assert message(read_values, f"a,b\n1,2\n\n{line}\n", "f") == expected


def test_a_trailing_comma_is_one_more_cell():
    expected = "row 1 has 3 values, not 2 (line 2): every row needs one value per column"
    assert message(read_values, "a,b\n1,2,\n", "f") == expected
    # with a header that ends in a comma too, the empty cell is missing
    expected = "row 1, column 3 is missing (line 2)"
    assert message(read_values, "a,b,\n1,2,\n", "f") == expected


@pytest.mark.parametrize(("row", "count"), [("3", 1), ("3,4,5", 3), ("3 4", 1)])
def test_a_row_with_another_count_of_values(row, count):
    expected = f"row 2 has {count} values, not 2 (line 3): every row needs one value per column"
    assert message(parse_table, f"1,2\n# c\n{row}\n7,8\n", "f") == expected


def test_a_quoted_field_longer_than_the_csv_module_s_limit_is_read_whole():
    """The csv module refuses a field over 131,072 characters; the text is in memory, so
    rnnprobe reads it whole, and a long cell is shown cut in its middle with its length."""
    text = 'a,b\n1,2\n3,"' + "4" * 200_000 + '"\n'
    expected = (f"row 2, column b: '{'4' * 30}…{'4' * 15}' (200,000 characters) is not a "
                "finite number (line 3)")  # fmt: skip
    assert message(read_values, text, "f") == expected
    table = parse_table('a,b\n1,2\n3,"' + "0" * 199_999 + '4"\n', "f")
    assert table.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_the_first_bad_row_in_the_text_is_named():
    assert message(read_values, "a,b\n1,x\n2\n", "f").startswith("row 2 has 1 values")
    assert message(read_values, "a,b\n1\n2,x\n", "f").startswith("row 1 has 1 values")
    assert message(read_values, "a,b\n1,inf\n2,x\n", "f").startswith("row 1, column b: 'inf'")


# --- arguments, stdin and paths ----------------------------------------------------------


def test_arguments_are_one_column_named_value():
    table = table_from_arguments(["1", "2.5", " 3 ", "1e3", "-4"])
    assert table.names == ("value",)
    assert table.values.dtype == np.float64
    assert table.values.tolist() == [[1.0], [2.5], [3.0], [1000.0], [-4.0]]
    assert table.lines.dtype == np.int64
    assert table.lines.tolist() == [1, 2, 3, 4, 5]
    assert table.source == "the arguments"


def test_arguments_that_are_not_numbers_or_none():
    assert message(table_from_arguments, ["1", "x"]) == "value 2: 'x' is not a number"
    assert message(table_from_arguments, []) == f"no data given: {GIVE}"


@pytest.mark.parametrize("item", ["nan", "inf", "-Infinity", "1e400"])
def test_an_argument_that_is_not_finite(item):
    expected = f"value 2: {item!r} is not a finite number"
    assert message(table_from_arguments, ["1", item]) == expected
    assert message(read_series_data, ["1", item], no_stdin) == expected


def test_numbers_given_as_data_are_the_arguments():
    table = read_series_data(["3", "1e1", "-2.5"], no_stdin)
    assert table.names == ("value",)
    assert table.values[:, 0].tolist() == [3.0, 10.0, -2.5]
    assert table.source == "the arguments"
    assert read_series_data(("7",), no_stdin).values.tolist() == [[7.0]]


def test_a_dash_reads_stdin():
    table = read_series_data(["-"], lambda: STOCK)
    assert table.names == STOCK_NAMES
    np.testing.assert_array_equal(table.values, np.array(STOCK_ROWS))
    assert table.source == "stdin"
    expected = "stdin holds no rows of numbers: give one row per time step"
    assert message(read_series_data, ["-"], lambda: "# nothing\n") == expected


@pytest.mark.parametrize(
    ("data", "bad"), [(["1", "x", "y"], "x"), (["1", "-"], "-"), (["a.csv", "b.csv"], "a.csv")]
)
def test_several_items_must_all_be_numbers(data, bad):
    assert message(read_series_data, data, no_stdin) == f"{bad!r} is not a number: {GIVE}"


def test_no_data():
    assert message(read_series_data, [], no_stdin) == f"no data given: {GIVE}"


def test_one_path_is_read_and_never_modified(tmp_path: Path):
    path = tmp_path / "stock.csv"
    path.write_text(STOCK, encoding="utf-8")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    table = read_series_data([str(path)], no_stdin)
    assert table.names == STOCK_NAMES
    np.testing.assert_array_equal(table.values, np.array(STOCK_ROWS))
    assert table.lines.tolist() == [3, 4, 5]
    assert table.source == str(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_file_is_utf8_and_a_byte_order_mark_is_dropped(tmp_path: Path):
    path = tmp_path / "prix.csv"
    path.write_bytes("\ufeffété,hiver\n1,2\n".encode())
    assert read_series_data([str(path)], no_stdin).names == ("été", "hiver")
    assert read_series_data(["-"], lambda: "\ufeff1,2\n").values.tolist() == [[1.0, 2.0]]


def test_an_empty_file_names_its_path(tmp_path: Path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    expected = f"{path} holds no rows of numbers: give one row per time step"
    assert message(read_series_data, [str(path)], no_stdin) == expected


def test_a_missing_file(tmp_path: Path):
    path = str(tmp_path / "nope.csv")
    assert message(read_series_data, [path], no_stdin) == f"{path!r}: no such file: {GIVE}"


def test_a_directory(tmp_path: Path):
    expected = f"{str(tmp_path)!r} is a directory: give a CSV/TSV file"
    assert message(read_series_data, [str(tmp_path)], no_stdin) == expected


def test_a_file_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "latin1.csv"
    path.write_bytes("a,b\n1,é\n".encode("latin-1"))
    assert message(read_series_data, [str(path)], no_stdin) == f"{str(path)!r} is not UTF-8 text"


def test_a_path_that_cannot_be_read(tmp_path: Path):
    (tmp_path / "file").write_text("1\n", encoding="utf-8")
    path = str(tmp_path / "file" / "inside.csv")  # a file's path used as a folder
    expected = f"{path!r} cannot be read: {os.strerror(20)}"  # ENOTDIR
    assert message(read_series_data, [path], no_stdin) == expected


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_permission_to_read(tmp_path: Path):
    path = tmp_path / "locked.csv"
    path.write_text("1\n", encoding="utf-8")
    path.chmod(0)
    try:
        expected = f"{str(path)!r} cannot be read: {os.strerror(13)}"  # EACCES
        assert message(read_series_data, [str(path)], no_stdin) == expected
    finally:
        path.chmod(0o600)


# --- columns -----------------------------------------------------------------------------


def test_a_column_by_name_or_by_number():
    table = stock()
    assert table.column("Close", "target") == 4
    assert table.column("5", "target") == 4
    assert table.column("1", "target") == 0
    assert table.column(" High ", "target") == 1


def test_a_name_is_looked_up_before_a_number():
    table = parse_table("x,3,1\n7,8,9\n", "f")
    assert table.column("3", "target") == 1
    assert table.column("1", "target") == 2
    assert table.column("2", "target") == 1  # not a name: the second column


@pytest.mark.parametrize("given", ["Nope", "close", "0", "6", "-1", "2.0", ""])
def test_an_unknown_column(given):
    error = error_of(stock().column, given, "target")
    assert error.parts[0] == "target"
    assert isinstance(error.parts[0], Param)
    expected = (
        f"target {given!r}: no such column; the columns are Open, High, Low, Volume, Close "
        "(or 1 to 5)"
    )
    assert str(error) == expected
    assert error.message({"target": "--target"}) == "--" + expected


def test_an_unknown_column_of_one():
    table = table_from_arguments(["1", "2"])
    expected = "columns 'x': no such column; the columns are value (or 1)"
    assert message(table.column, "x", "columns") == expected


def test_select_columns_defaults_to_every_column_and_the_last_as_target():
    assert select_columns(stock(), None, None) == ((0, 1, 2, 3, 4), 4)
    assert select_columns(table_from_arguments(["1"]), None, None) == ((0,), 0)


def test_select_columns_by_name_by_number_and_both():
    assert select_columns(stock(), "Open,Close", None) == ((0, 4), 4)
    assert select_columns(stock(), "5,1", None) == ((4, 0), 0)
    assert select_columns(stock(), "High, 3", "Open") == ((1, 2), 0)
    assert select_columns(stock(), None, "2") == ((0, 1, 2, 3, 4), 1)


def test_the_target_may_be_outside_the_features():
    assert select_columns(stock(), "Open,High,Low", "Close") == ((0, 1, 2), 4)
    assert select_columns(stock(), "Volume", "5") == ((3,), 4)


@pytest.mark.parametrize("columns", ["", "Open,,Close", "Open,", " , High"])
def test_select_columns_with_an_empty_entry(columns):
    error = error_of(select_columns, stock(), columns, None)
    assert isinstance(error.parts[0], Param)
    assert error.parts[0] == "columns"
    assert str(error) == (
        f"columns {columns!r} has an empty entry: give column names or numbers separated by commas"
    )


@pytest.mark.parametrize(("columns", "name"), [("Close,5", "Close"), ("1,High,Open", "Open")])
def test_select_columns_with_a_repeated_column(columns, name):
    error = error_of(select_columns, stock(), columns, None)
    assert isinstance(error.parts[0], Param)
    assert error.parts[0] == "columns"
    assert str(error) == f"columns {columns!r} names column {name!r} twice: give each column once"


def test_select_columns_with_an_unknown_column_or_target():
    listed = "the columns are Open, High, Low, Volume, Close (or 1 to 5)"
    error = error_of(select_columns, stock(), "Open,Nope", None)
    assert isinstance(error.parts[0], Param)
    assert str(error) == f"columns 'Nope': no such column; {listed}"
    error = error_of(select_columns, stock(), "Open", "9")
    assert isinstance(error.parts[0], Param)
    assert str(error) == f"target '9': no such column; {listed}"
