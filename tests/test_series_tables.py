"""`series` on tables as they come: a date column, a text column, missing values, several
series in one long table (`--group`), several steps ahead and several targets, and test
values past the training range; each checked against Keras's own windowing and numpy."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np
import pytest

from .conftest import run_script


def monthly(rows: int = 60) -> str:
    """Laid out as the airline passengers file: a YYYY-MM month, then a count that grows."""
    months = [f"{1949 + m // 12}-{m % 12 + 1:02d}" for m in range(rows)]
    values = [100 + 2 * m + 10 * np.sin(m / 2) for m in range(rows)]
    return "month,passengers\n" + "".join(
        f"{d},{v:.1f}\n" for d, v in zip(months, values, strict=True)
    )


def weather(rows: int = 80) -> str:
    """As Seattle's weather: a date, numbers, and a text column (rain, sun)."""
    days = np.arange(np.datetime64("2012-01-01"), np.datetime64("2012-01-01") + rows)
    lines = ["date,precipitation,temp_max,temp_min,weather"]
    for k, day in enumerate(days):
        lines.append(
            f"{day},{(k * 7) % 5 / 2:.1f},{10 + 5 * np.sin(k / 6):.2f},"
            f"{3 + 4 * np.sin(k / 6 + 1):.2f},{['rain', 'sun', 'drizzle'][k % 3]}"
        )
    return "\n".join(lines) + "\n"


def stocks() -> tuple[str, dict[str, np.ndarray]]:
    """The long format: a symbol, a month and a price, five stocks one after the other."""
    prices = {
        name: 20 + k * 30 + np.cumsum(np.sin(np.arange(24) / (k + 2)) + 0.3)
        for k, name in enumerate(["MSFT", "AMZN", "IBM", "GOOG", "AAPL"])
    }
    prices = {name: np.round(values, 3) for name, values in prices.items()}  # as the file holds
    prices["GOOG"] = prices["GOOG"][:14]  # a shorter one, as GOOG is
    lines = ["symbol,date,price"]
    for name, values in prices.items():
        lines += [
            f"{name},{2000 + m // 12}-{m % 12 + 1:02d}-01,{v:.3f}" for m, v in enumerate(values)
        ]
    return "\n".join(lines) + "\n", prices


@pytest.fixture
def files(tmp_path):
    found = {
        "monthly": tmp_path / "airline.csv",
        "weather": tmp_path / "weather.csv",
        "stocks": tmp_path / "stocks.csv",
    }
    found["monthly"].write_text(monthly(), encoding="utf-8")
    found["weather"].write_text(weather(), encoding="utf-8")
    found["stocks"].write_text(stocks()[0], encoding="utf-8")
    return found


def keras_windows(
    rows: np.ndarray,
    window: int,
    stride: int,
    horizons: list[int],
    features: list[int],
    targets: list[int],
) -> tuple[np.ndarray, np.ndarray]:
    """Keras's windows of one run of rows, the targets of every horizon (rows per window)."""
    from tensorflow import keras

    reach = max(horizons)
    data = rows[:-reach]
    y = np.zeros((len(data), len(horizons) * len(targets)), dtype=np.float32)
    starts = np.arange(len(data) - window + 1)
    y[: len(starts)] = np.concatenate(
        [rows[starts + window - 1 + h][:, targets] for h in horizons], axis=1
    )
    dataset = keras.utils.timeseries_dataset_from_array(
        data[:, features],
        y,
        sequence_length=window,
        sequence_stride=stride,
        shuffle=False,
        batch_size=10_000,
    )
    x, found = (np.asarray(t) for t in next(iter(dataset)))
    return x, found


# -- columns by kind ---------------------------------------------------------------------------
def test_a_date_column_labels_the_rows_and_is_never_a_feature(cli, files):
    obj = cli.json("series", str(files["monthly"]), "--window", "12", "--seed", "1")
    assert obj["columns"] == ["passengers"] and obj["target"] == "passengers"
    assert obj["index"]["column"] == "month"
    assert obj["index"]["values"][:2] == ["1949-01", "1949-02"] and obj["index"]["uneven"] is None
    out = cli.ok(
        "series", str(files["monthly"]), "--window", "12", "--seed", "1", env={"COLUMNS": "300"}
    ).stdout
    assert "data: " in out and "month (date)" in out
    assert "rows labelled by month: 1949-01 to 1953-12" in out
    assert "split 0.7: 1949-01 to 1952-06 train (42 rows), 1952-07 to 1953-12 test" in out
    assert "1953-12" in out.split("predicted")[-1]  # the chart's axis ends at the last date


def test_a_column_of_text_beside_the_numbers_is_read_around(cli, files):
    obj = cli.json("series", str(files["weather"]), "--seed", "1", "--window", "5")
    assert obj["columns"] == ["precipitation", "temp_max", "temp_min"]
    said = cli.usage_error("series", str(files["weather"]), "--target", "weather")
    assert said == "rnnprobe: error: --target weather: the column holds text ('rain'), not numbers"
    obj = cli.json(
        "series", str(files["weather"]), "--columns", "temp_max", "--seed", "1", "--window", "5"
    )
    assert obj["columns"] == ["temp_max"]


def test_uneven_steps_are_named_where_they_are(cli, tmp_path):
    weeks = [np.datetime64("2020-01-06") + 7 * k for k in range(40) if k not in (10, 25, 26)]
    path = tmp_path / "weekly.csv"
    path.write_text("week,v\n" + "".join(f"{w},{k}\n" for k, w in enumerate(weeks)))
    obj = cli.json("series", str(path), "--window", "4", "--seed", "1")
    uneven = obj["index"]["uneven"]
    assert uneven["usual_step"] == "1 week" and uneven["steps"] == 2
    assert uneven["first"][0] == {"after": "2020-03-09", "next": "2020-03-23", "step": "2 weeks"}
    assert uneven["first"][1]["step"] == "3 weeks"
    out = cli.ok("series", str(path), "--window", "4", "--seed", "1", env={"COLUMNS": "200"}).stdout
    assert (
        "uneven steps: 2 steps of week differ from the usual 1 week: after 2020-03-09 "
        "comes 2020-03-23 (2 weeks)" in out
    )


def test_a_date_named_by_option(cli, tmp_path):
    path = tmp_path / "years.csv"
    path.write_text("when,v\n" + "".join(f"{1900 + k},{k * k % 7}\n" for k in range(30)))
    assert cli.json("series", str(path), "--seed", "1")["index"] is None  # "when": a number
    obj = cli.json("series", str(path), "--date", "when", "--seed", "1")
    assert obj["index"]["values"][0] == "1900" and obj["columns"] == ["v"]
    said = cli.usage_error("series", str(path), "--date", "v")
    assert said.startswith("rnnprobe: error: --date v: its cells (numbers) are not dates")
    assert "--date 'x': no such column" in cli.usage_error("series", str(path), "--date", "x")


# -- missing values ----------------------------------------------------------------------------
GAPS = "day,a,b\n" + "".join(
    f"2021-01-{d + 1:02d},{'' if d in (5, 6) else d},{'NA' if d == 12 else 2 * d}\n"
    for d in range(30)
)


def test_missing_values_are_refused_by_default_naming_the_first_and_the_option(cli):
    said = cli.usage_error("series", "-", input=GAPS)
    assert said == (
        "rnnprobe: error: row 6, column a is missing (line 7; 3 missing cells in the "
        "columns read): give --missing drop, ffill or interpolate"
    )


def _gaps(cli, how):
    """GAPS in windows of 3 rows, unscaled, every window trained, its gaps handled by `how`."""
    args = ("--window", "3", "--scale", "none", "--split", "1", "--seed", "1")
    return cli.json("series", "-", "--missing", how, *args, input=GAPS)


def test_drop_cuts_the_series_where_a_row_goes(cli):
    obj = _gaps(cli, "drop")
    assert obj["missing"] == {"how": "drop", "cells": 3, "rows_dropped": 3, "filled": 0}
    assert obj["rows"] == 27
    kept = [d for d in range(30) if d not in (5, 6, 12)]
    x = np.asarray(obj["x_data"]["values"])
    for window, values in zip(obj["windows"], x, strict=True):
        days = [kept[r] for r in range(window["start"], window["end"] + 1)]  # with its target
        assert days == list(range(days[0], days[0] + len(days)))  # no dropped day inside
        assert values[:, 0].tolist() == days[:-1]
    assert obj["index"]["uneven"] is None  # a step over a dropped row is no step of a window


def test_ffill_and_interpolate_fill_each_gap(cli):
    filled = _gaps(cli, "ffill")
    first = [w["start"] for w in filled["windows"]].index(5)
    assert np.asarray(filled["x_data"]["values"])[first][:, 0].tolist() == [4.0, 4.0, 7.0]
    assert filled["missing"]["filled"] == 3
    line = _gaps(cli, "interpolate")
    x = np.asarray(line["x_data"]["values"])
    assert x[first][:, 0].tolist() == pytest.approx([5.0, 6.0, 7.0])  # on the line from 4 to 7
    assert x[10][:, 1].tolist() == pytest.approx([20.0, 22.0, 24.0])  # the NA of b, row 12
    said = cli.usage_error("series", "-", "--missing", "interpolate", input="v\n\n1\n2\n3\n")
    assert "no value before it to fill from" in said  # a gap at the start
    said = cli.usage_error("series", "-", "--missing", "interpolate", input="v\n1\n2\n3\nNA\n")
    assert said == (
        "rnnprobe: error: --missing interpolate: row 4, column v (line 5) has no value after it "
        "to interpolate to: give --missing ffill or drop"
    )


def test_a_blank_line_of_a_one_column_file_is_a_missing_week(cli):
    text = "\n".join(["1", "2", "", "4", "5", "6", "7", "8", "9", "10"]) + "\n"
    assert "row 3, column value is missing" in cli.usage_error("series", "-", input=text)
    obj = cli.json(
        "series", "-", "--missing", "interpolate", "--window", "2", "--seed", "1", input=text
    )
    assert obj["rows"] == 10 and obj["missing"]["filled"] == 1


# -- several series in one table -------------------------------------------------------------
@pytest.mark.parametrize("per_group", [False, True])
def test_groups_are_cut_apart_and_split_each_by_time(cli, files, per_group):
    _, prices = stocks()
    args = [
        "series",
        str(files["stocks"]),
        "--group",
        "symbol",
        "--window",
        "5",
        "--seed",
        "1",
        "--split",
        "0.75",
        *(["--scale-per-group"] if per_group else []),
    ]
    obj = cli.json(*args)
    groups = obj["groups"]
    assert groups["names"] == ["MSFT", "AMZN", "IBM", "GOOG", "AAPL"]
    assert groups["rows"] == [24, 24, 24, 14, 24] and groups["column"] == "symbol"
    x = np.asarray(obj["x_data"]["values"], dtype=np.float64)
    targets = np.asarray(obj["targets"]["values"], dtype=np.float64)
    scale = obj["scale"]
    for name, values in prices.items():
        mine = [i for i, w in enumerate(obj["windows"]) if w["group"] == name]
        train_rows = int(np.floor(0.75 * len(values)))
        fitted = (
            values[:train_rows]
            if per_group
            else np.concatenate([v[: int(np.floor(0.75 * len(v)))] for v in prices.values()])
        )
        low, high = fitted.min(), fitted.max()
        if per_group:
            assert scale["groups"][name]["price"] == pytest.approx({"min": low, "max": high})
        scaled = (values - low) / (high - low + 1e-7)
        kx, ky = keras_windows(scaled[:, None], 5, 1, [1], [0], [0])
        np.testing.assert_allclose(x[mine], kx, rtol=1e-5, atol=1e-6)  # none crosses a group
        np.testing.assert_allclose(targets[mine], ky, rtol=1e-5, atol=1e-6)
        splits = [obj["windows"][i]["split"] for i in mine]
        assert splits.count("train") == train_rows - 5  # the target rows of the first rows
    assert len(obj["test"]["by_group"]) == 5
    assert obj["test"]["by_group"][3]["group"] == "GOOG"


def test_the_chart_shows_one_group_and_a_short_group_is_skipped(cli, files, tmp_path):
    out = cli.ok(
        "series",
        str(files["stocks"]),
        "--group",
        "symbol",
        "--window",
        "5",
        "--seed",
        "1",
        "--show-group",
        "IBM",
        env={"COLUMNS": "120"},
    ).stdout
    assert (
        "• actual price (symbol IBM)" in out and "each group (price, over its test windows):" in out
    )
    said = cli.usage_error(
        "series", str(files["stocks"]), "--group", "symbol", "--show-group", "XYZ"
    )
    assert said.startswith("rnnprobe: error: --show-group 'XYZ': no such group; the groups are")
    obj = cli.json(
        "series", str(files["stocks"]), "--group", "symbol", "--window", "14", "--seed", "1"
    )
    assert obj["groups"]["skipped"] == ["GOOG"]  # 14 rows: no window of 14 and its target
    assert "GOOG" not in {w["group"] for w in obj["windows"]}
    assert "every group is shorter than a window of 30 rows" in cli.usage_error(
        "series", str(files["stocks"]), "--group", "symbol", "--window", "30"
    )
    assert cli.usage_error("series", str(files["stocks"]), "--group", "nope").startswith(
        "rnnprobe: error: --group 'nope': no such column"
    )
    assert "--scale-per-group needs --group" in cli.usage_error(
        "series", str(files["monthly"]), "--scale-per-group"
    )
    assert "--show-group needs --group" in cli.usage_error(
        "series", str(files["monthly"]), "--show-group", "A"
    )
    import rnnprobe

    with pytest.raises(ValueError, match=r"^scale_per_group needs group$"):
        rnnprobe.series(str(files["monthly"]), scale_per_group=True)


# -- several steps ahead, several targets ----------------------------------------------------
def test_horizons_and_targets_are_one_dense_read_as_horizons_x_targets(cli, files):
    obj = cli.json(
        "series",
        str(files["weather"]),
        "--target",
        "temp_max,temp_min",
        "--horizon",
        "1-3",
        "--window",
        "7",
        "--scale",
        "none",
        "--seed",
        "3",
    )
    assert obj["horizons"] == [1, 2, 3] and obj["target_columns"] == ["temp_max", "temp_min"]
    assert obj["layers"][-1]["shape"][-1] == 6  # Dense(3 x 2)
    rows = np.array(
        [[float(v) for v in line.split(",")[1:4]] for line in weather().splitlines()[1:]]
    )
    kx, ky = keras_windows(rows, 7, 1, [1, 2, 3], [0, 1, 2], [1, 2])
    np.testing.assert_allclose(np.asarray(obj["x_data"]["values"]), kx, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(obj["targets"]["values"]), ky, rtol=1e-5)
    test = obj["test"]
    assert [(o["horizon"], o["target"]) for o in test["by_output"]] == [
        (1, "temp_max"),
        (1, "temp_min"),
        (2, "temp_max"),
        (2, "temp_min"),
        (3, "temp_max"),
        (3, "temp_min"),
    ]
    actual = np.asarray(test["actual"])
    baseline = np.asarray(test["baseline"])
    assert actual.shape == baseline.shape == (test["windows"], 3, 2)
    for o in test["by_output"]:
        i, k = o["horizon"] - 1, ["temp_max", "temp_min"].index(o["target"])
        rmse = np.sqrt(np.mean((baseline[:, i, k] - actual[:, i, k]) ** 2))
        assert o["baseline_rmse"] == pytest.approx(rmse)
    assert np.all(baseline[:, 0] == baseline[:, 2])  # the last row's value, for every horizon


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("3,2", "give the steps ahead increasing, each once"),
        ("0", "steps ahead are 1 or more"),
        ("1-x", "give steps ahead as whole numbers"),
        ("2-1", "a range low-high with low <= high"),
    ],
)
def test_horizons_that_are_not_increasing_whole_numbers(cli, given, said):
    assert said in cli.usage_error("series", *map(str, range(30)), "--horizon", given)


def test_multi_step_check_and_code_reproduce_the_run(cli, files):
    args = [
        "series",
        str(files["stocks"]),
        "--group",
        "symbol",
        "--horizon",
        "1,3",
        "--window",
        "4",
        "--train",
        "2",
        "--seed",
        "5",
        "--difference",
        "--batch-size",
        "16",
    ]
    obj = cli.json(*args, "--check")
    assert obj["check"]["ok"], obj["check"]
    printed = run_script(cli.ok(*args, "--code").stdout).splitlines()
    epochs = [line.split() for line in printed if line.startswith("epoch ")]
    for found, expected in zip(epochs, obj["history"], strict=True):
        assert float(found[3]) == pytest.approx(expected["loss"], rel=1e-4, abs=1e-6)
    scores = {
        tuple(line.split(":")[0].split()): float(line.split()[3])
        for line in printed
        if line.startswith("price +")
    }
    for o in obj["test"]["by_output"]:
        assert scores[("price", f"+{o['horizon']}")] == pytest.approx(o["rmse"], rel=1e-4)
    shapes = next(line for line in printed if line.startswith("x_data"))
    assert f"({len(obj['windows'])}, 4, 1)" in shapes and "targets" in shapes


# -- extrapolation, and the difference -------------------------------------------------------
def test_test_values_past_the_training_range_are_said_and_difference_adds_back(cli):
    values = [str(v) for v in range(1, 61)]
    obj = cli.json("series", *values, "--window", "5", "--seed", "1")
    beyond = obj["extrapolation"][0]
    assert beyond["column"] == "value" and beyond["training_max"] == 42
    assert beyond["test_max"] == 60 and beyond["scaled_max"] == pytest.approx((60 - 1) / 41, 1e-6)
    out = cli.ok("series", *values, "--window", "5", "--seed", "1", env={"COLUMNS": "200"}).stdout
    assert (
        "value: test max 60 > training max 42 (18 of 18 test rows): the scaled inputs "
        "reach 1.44" in out
    )
    assert "try --difference" in out
    changed = cli.json(
        "series", *values, "--window", "5", "--seed", "1", "--difference", "--scale", "none"
    )
    assert changed["difference"] is True
    assert np.allclose(np.asarray(changed["targets"]["values"]), 1.0)  # every change is +1
    test = changed["test"]
    predicted = np.asarray(test["predicted"])
    predictions = np.asarray(changed["predictions"]["values"])[:, 0]
    last = np.asarray([w["end"] for w in changed["windows"] if w["split"] == "test"], float)
    assert predicted == pytest.approx(last + predictions[-len(last) :], rel=1e-6)  # last + change
    assert np.asarray(test["baseline"]) == pytest.approx(last)


def test_the_api_reads_a_dataframe_with_dates_and_text(files):
    import rnnprobe

    class Frame:  # a pandas DataFrame as rnnprobe reads one (pandas is not a dependency)
        columns = ("date", "temp", "sky")

        class _Kind:
            def __init__(self, kind):
                self.kind = kind

        dtypes: ClassVar = {"date": _Kind("M"), "temp": _Kind("f"), "sky": _Kind("O")}

        def __getitem__(self, key):
            if isinstance(key, list):
                return self
            days = np.arange(np.datetime64("2020-01-01"), np.datetime64("2020-01-31"))
            found = {"date": days.astype(str), "sky": np.array(["rain", "sun"] * 15)}[key]

            class Column:
                def tolist(self):
                    return list(found)

            return Column()

        def to_numpy(self, dtype=None):
            return np.sin(np.arange(30.0) / 3)[:, None].astype(dtype)

    found = rnnprobe.series(Frame(), window=4, seed=2)
    assert found.columns == ["temp"] and found.index[0] == "2020-01-01"
    assert json.loads(json.dumps(found.to_dict()["index"]["values"]))[-1] == "2020-01-30"
