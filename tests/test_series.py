"""`rnnprobe series`: windows, scaling, the forward pass, the training and the test, each
checked against Keras's own windowing and a numpy network written here."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from .conftest import run_script

COLUMNS = ["Open", "High", "Low", "Volume", "Close"]


def stock_like(rows: int = 732, seed: int = 0) -> str:
    """A file laid out as the stock lab's: a comment, the column names in the last comment
    line, the newest row first (the numbers are a random walk, not the lab's)."""
    rng = np.random.default_rng(seed)
    close = 800 + np.cumsum(rng.normal(0, 5, rows))
    open_ = close + rng.normal(0, 2, rows)
    high = np.maximum(open_, close) + rng.uniform(0, 4, rows)
    low = np.minimum(open_, close) - rng.uniform(0, 4, rows)
    volume = rng.integers(800_000, 3_000_000, rows)
    lines = [f"{o:.6f},{h:.6f},{lo:.6f},{v},{c:.6f}"
             for o, h, lo, v, c in zip(open_, high, low, volume, close, strict=True)]  # fmt: skip
    return "# synthetic daily prices\n# Open,High,Low,Volume,Close\n" + "\n".join(lines[::-1])


@pytest.fixture(scope="module")
def stock(tmp_path_factory):
    path = tmp_path_factory.mktemp("series") / "stock.csv"
    path.write_text(stock_like(), encoding="utf-8")
    return path


def rows_of(text: str) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")] for line in text.splitlines()
                     if not line.startswith("#")])  # fmt: skip


# -- a numpy network, written here from the Keras equations ----------------------------------
def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def numpy_forward(cell: str, weights: dict[str, np.ndarray], x: np.ndarray, activation: str):
    """One recurrent layer (its last step) and Dense(1), float64: (outputs, states, y)."""
    kernel, recurrent, bias = (weights[n] for n in ("kernel", "recurrent_kernel", "bias"))
    n = recurrent.shape[0]
    h = np.zeros((x.shape[0], n))
    c = np.zeros_like(h)
    for t in range(x.shape[1]):
        if cell == "simple":
            h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        elif cell == "lstm":
            z = x[:, t] @ kernel + h @ recurrent + bias
            i, f, g, o = (z[:, k * n : (k + 1) * n] for k in range(4))
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
        else:  # GRU, reset after the recurrent product (Keras's default)
            mx = x[:, t] @ kernel + bias[0]
            mh = h @ recurrent + bias[1]
            zg = _sigmoid(mx[:, :n] + mh[:, :n])
            rg = _sigmoid(mx[:, n : 2 * n] + mh[:, n : 2 * n])
            hh = np.tanh(mx[:, 2 * n :] + rg * mh[:, 2 * n :])
            h = zg * h + (1 - zg) * hh
    y = h @ weights["head/kernel"] + weights["head/bias"]
    y = {"linear": y, "tanh": np.tanh(y), "sigmoid": _sigmoid(y)}[activation]
    return h, ({"h": h, "c": c} if cell == "lstm" else {"h": h}), y


def _weights(block) -> dict[str, np.ndarray]:
    return {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in block}


def _mse(cell, weights, x, y, activation) -> float:
    return float(np.mean((numpy_forward(cell, weights, x, activation)[2] - y) ** 2))


# -- windows, split and scaling --------------------------------------------------------------
def test_the_lab_file_reads_as_it_is_and_cuts_505_training_and_220_test_windows(cli, stock):
    obj = cli.json("series", str(stock), "--reverse", "--seed", "1")
    assert obj["columns"] == COLUMNS and obj["target"] == "Close" and obj["rows"] == 732
    assert obj["x_data"]["shape"] == [725, 7, 5] and obj["targets"]["shape"] == [725, 1]
    assert obj["x_data"]["dims"] == ["batch", "time", "features"]
    splits = [w["split"] for w in obj["windows"]]
    assert splits.count("train") == 505 and splits.count("test") == 220
    assert obj["train_rows"] == math.floor(0.7 * 732) == 512
    first_test = next(w for w in obj["windows"] if w["split"] == "test")
    assert first_test["target_row"] == 512 and first_test["start"] < 512  # reads train rows
    assert obj["same_as_keras"] is True
    assert obj["outputs"]["shape"] == [725, 2] and obj["predictions"]["shape"] == [725, 1]
    assert [s["name"] for s in obj["states"]] == ["h"]


@pytest.mark.parametrize(("window", "stride", "horizon"), [(7, 1, 1), (4, 3, 2), (5, 5, 6)])
def test_windows_and_targets_are_keras_timeseries_dataset_from_array(cli, window, stride, horizon):
    from tensorflow import keras

    rows = np.column_stack([np.arange(40.0), np.arange(40.0) ** 2])
    text = "\n".join(f"{a},{b}" for a, b in rows)
    args = ["series", "-", "--window", str(window), "--stride", str(stride), "--horizon",
            str(horizon), "--scale", "none", "--split", "1", "--seed", "2"]  # fmt: skip
    obj = json.loads(cli.ok(*args, "--json", input=text).stdout)
    data, targets = rows[:-horizon], rows[window - 1 + horizon :, 1]
    dataset = keras.utils.timeseries_dataset_from_array(
        data, targets, sequence_length=window, sequence_stride=stride, batch_size=1000,
        shuffle=False,
    )  # fmt: skip
    x, y = (np.asarray(t) for t in next(iter(dataset)))
    np.testing.assert_array_equal(np.asarray(obj["x_data"]["values"]), x.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(obj["targets"]["values"])[:, 0], y)
    for i, found in enumerate(obj["windows"]):
        assert (found["start"], found["end"]) == (i * stride, i * stride + window)
        assert found["target_row"] == i * stride + window - 1 + horizon


@pytest.mark.parametrize("scale", ["minmax", "standard"])
def test_the_scaling_is_fitted_on_the_training_rows_and_applied_to_all(cli, stock, scale):
    obj = cli.json("series", str(stock), "--reverse", "--scale", scale, "--split", "0.6",
                   "--columns", "Open,Volume", "--target", "Close", "--seed", "3")  # fmt: skip
    rows = rows_of(stock.read_text(encoding="utf-8"))[::-1]
    fit = rows[: math.floor(0.6 * 732)]
    if scale == "minmax":
        low, high = fit.min(axis=0), fit.max(axis=0)
        scaled = (rows - low) / (high - low + 1e-7)
        assert obj["scale"]["columns"]["Close"] == {"min": low[4], "max": high[4]}
    else:
        scaled = (rows - fit.mean(axis=0)) / fit.std(axis=0)
        assert obj["scale"]["columns"]["Volume"]["std"] == pytest.approx(fit[:, 3].std())
    x = np.asarray(obj["x_data"]["values"])
    np.testing.assert_allclose(x[0], scaled[0:7, [0, 3]], atol=1e-6)
    np.testing.assert_allclose(x[-1], scaled[-8:-1, [0, 3]], atol=1e-6)
    np.testing.assert_allclose(np.asarray(obj["targets"]["values"])[:, 0], scaled[7:, 4],
                               atol=1e-6)  # fmt: skip
    assert set(obj["scale"]["columns"]) == {"Open", "Volume", "Close"}


# -- the network and the test, against numpy ------------------------------------------------
@pytest.mark.parametrize(("cell", "activation"), [("lstm", "tanh"), ("gru", "linear"),
                                                  ("simple", "sigmoid")])  # fmt: skip
def test_the_forward_pass_loss_and_test_metrics_equal_numpy(cli, stock, cell, activation):
    obj = cli.json("series", str(stock), "--reverse", "--cell", cell, "--hidden", "3",
                   "--activation", activation, "--seed", "4")  # fmt: skip
    weights = _weights(obj["weights"])
    x = np.asarray(obj["x_data"]["values"], dtype=np.float64)
    h, states, y = numpy_forward(cell, weights, x, activation)
    np.testing.assert_allclose(obj["outputs"]["values"], h, atol=1e-5)
    for state in obj["states"]:
        np.testing.assert_allclose(state["values"], states[state["name"]], atol=1e-5)
    np.testing.assert_allclose(obj["predictions"]["values"], y, atol=1e-5)
    targets = np.asarray(obj["targets"]["values"])
    train = np.array([w["split"] == "train" for w in obj["windows"]])
    assert obj["initial"]["loss"] == pytest.approx(np.mean((y[train] - targets[train]) ** 2),
                                                   abs=1e-6)  # fmt: skip
    assert obj["initial"]["test_loss"] == pytest.approx(
        np.mean((y[~train] - targets[~train]) ** 2), abs=1e-6)  # fmt: skip
    rows = rows_of(stock.read_text(encoding="utf-8"))[::-1]
    low, high = rows[:512, 4].min(), rows[:512, 4].max()
    predicted = y[~train, 0] * (high - low + 1e-7) + low
    test_rows = np.array([w["target_row"] for w in obj["windows"] if w["split"] == "test"])
    actual, baseline = rows[test_rows, 4], rows[test_rows - 1, 4]
    test = obj["test"]
    np.testing.assert_allclose(test["actual"], actual)
    np.testing.assert_allclose(test["predicted"], predicted, rtol=1e-5)
    assert test["rmse"] == pytest.approx(np.sqrt(np.mean((predicted - actual) ** 2)), rel=1e-4)
    assert test["mae"] == pytest.approx(np.mean(np.abs(predicted - actual)), rel=1e-4)
    assert test["baseline_rmse"] == pytest.approx(np.sqrt(np.mean((baseline - actual) ** 2)))
    assert test["baseline_mae"] == pytest.approx(np.mean(np.abs(baseline - actual)))


def test_the_first_gradients_equal_central_differences_of_the_numpy_loss(cli):
    values = np.sin(np.arange(60) / 4) + np.arange(60) / 30
    obj = cli.json("series", *map(str, values), "--window", "5", "--cell", "lstm", "--hidden",
                   "2", "--train", "1", "--seed", "5", "--activation", "tanh")  # fmt: skip
    weights = _weights(obj["initial"]["weights"])
    train = np.array([w["split"] == "train" for w in obj["windows"]])
    x = np.asarray(obj["x_data"]["values"], dtype=np.float64)[train]
    y = np.asarray(obj["targets"]["values"], dtype=np.float64)[train]
    assert obj["initial"]["loss"] == pytest.approx(_mse("lstm", weights, x, y, "tanh"), abs=1e-6)
    for gradient in obj["gradients"]:
        name, found = gradient["name"], np.asarray(gradient["values"])
        flat = weights[name].reshape(-1)
        for entry in (0, flat.size // 2, flat.size - 1):
            moved = []
            for sign in (1, -1):
                changed = flat.copy()
                changed[entry] += sign * 1e-5
                moved.append(_mse("lstm", {**weights, name: changed.reshape(weights[name].shape)},
                                  x, y, "tanh"))  # fmt: skip
            assert found.reshape(-1)[entry] == pytest.approx((moved[0] - moved[1]) / 2e-5,
                                                             abs=2e-5)  # fmt: skip


def test_a_sine_wave_is_learned_far_better_than_the_baseline(cli):
    values = np.sin(np.arange(400) * 2 * np.pi / 25)
    obj = cli.json("series", *map(str, values), "--window", "12", "--cell", "lstm",
                   "--hidden", "8", "--train", "25", "--seed", "6")  # fmt: skip
    test = obj["test"]
    assert test["rmse"] < 0.5 * test["baseline_rmse"], test
    losses = [e["loss"] for e in obj["history"]]
    assert losses[-1] < losses[0] / 10
    assert obj["final"]["test_loss"] < obj["initial"]["test_loss"] / 10


def test_the_printed_script_trains_to_the_same_history_with_keras_fit(cli, stock):
    args = ["series", str(stock), "--reverse", "--cell", "lstm", "--hidden", "3", "--train",
            "3", "--batch-size", "64", "--seed", "7", "--activation", "tanh"]  # fmt: skip
    obj = cli.json(*args)
    script = cli.ok(*args, "--code").stdout
    assert "timeseries_dataset_from_array" in script and "model.fit(" in script
    printed = run_script(script).splitlines()
    epochs = [line.split() for line in printed if line.startswith("epoch ")]
    assert len(epochs) == 3
    for found, expected in zip(epochs, obj["history"], strict=True):
        assert float(found[3]) == pytest.approx(expected["loss"], abs=1e-4)
        assert float(found[5]) == pytest.approx(expected["test_loss"], abs=1e-4)
    first = next(line for line in printed if line.startswith("loss "))
    assert float(first.split()[1]) == pytest.approx(obj["initial"]["loss"], abs=1e-5)
    shapes = next(line for line in printed if line.startswith("x_data"))
    assert "(725, 7, 5)" in shapes and "train 505 test 220" in shapes


def test_shuffle_draws_each_epochs_order_from_the_seed(cli):
    values = [str(v) for v in np.cos(np.arange(120) / 6)]
    common = ["series", *values, "--window", "6", "--train", "3", "--batch-size", "8"]
    shuffled = cli.json(*common, "--seed", "8")
    again = cli.json(*common, "--seed", "8")
    ordered = cli.json(*common, "--seed", "8", "--no-shuffle")
    assert shuffled["shuffle"] is True and ordered["shuffle"] is False
    assert shuffled["history"] == again["history"]
    assert shuffled["history"][1]["loss"] != ordered["history"][1]["loss"]
    assert shuffled["initial"]["loss"] == ordered["initial"]["loss"]


def test_check_recomputes_everything_in_numpy(cli, stock, monkeypatch):
    args = ["series", str(stock), "--reverse", "--cell", "gru", "--hidden", "2", "--train",
            "2", "--seed", "9", "--check"]  # fmt: skip
    obj = cli.json(*args)
    assert obj["check"]["ok"] is True
    for part in ("windows_diff", "scaling_diff", "forward_diff", "loss_diff", "gradient_diff",
                 "finite_diff"):  # fmt: skip
        assert obj["check"][part] < 1e-5, part
    from rnnprobe.core.commands import series_check

    real = series_check.expected_scaled
    monkeypatch.setattr(series_check, "expected_scaled", lambda w: real(w) * 1.001)
    result = cli(*args)
    assert result.exit_code == 1 and "check FAILED" in result.stdout


# -- the views ------------------------------------------------------------------------------
def test_the_tables_read_at_80_columns(cli, stock):
    shown = cli.ok("series", str(stock), "--reverse", "--cell", "lstm", "--hidden", "4",
                   "--train", "2", "--seed", "10", "--index", "600",
                   env={"COLUMNS": "80"}).stdout  # fmt: skip
    wide = [line for line in shown.splitlines() if len(line) > 80]
    assert not wide, wide
    shown = " ".join(shown.split())  # lines wrapped at 80 columns, joined
    for needle in ("rnn = layers.LSTM(4, return_state=True)", "x_data │ (725, 7, 5)",
                   "✓ the same windows and targets", "505 training windows",
                   "window 600 (test): x_data[599], rows 599 to 605 scaled",
                   "h = [", "same as outputs[599]", "prediction = ", "loss per epoch",
                   "the 220 test windows, in Close's own units", "the baseline (the window's",
                   "fitted on the 512 training rows only"):  # fmt: skip
        assert needle in shown, needle


def test_diagram_draws_the_window_and_the_prediction(cli):
    shown = cli.ok("series", *map(str, range(20)), "--window", "4", "--diagram", "--index", "3",
                   "--seed", "11").stdout  # fmt: skip
    assert "window 3: x_data[2]  (4 steps), unrolled" in shown
    assert "predictions (16, 1) at the window's last step, t=3: Dense(1) on outputs" in shown
    assert "x_t (16, 1): row t of every window" in shown


def test_served_batch_api_and_export(cli, stock, tmp_path):
    import rnnprobe

    args = ["--reverse", "--cell", "lstm", "--hidden", "2", "--train", "2", "--seed", "12"]
    obj = cli.json("series", str(stock), *args)
    line = " ".join(["series", str(stock), *args])
    done = cli("batch", "-", input=line + "\nseries - --window 2\n")
    assert done.exit_code == 1  # its second line failed
    batch = done.stdout.splitlines()
    assert json.loads(batch[0]) == obj
    assert "cannot read data from stdin" in batch[1]
    found = rnnprobe.series(stock, reverse=True, cell="lstm", hidden=2, train=2, seed=12)
    assert found.to_dict() == obj
    assert found.x_data.shape == (725, 7, 5) and found.test is not None
    rows = rows_of(stock.read_text(encoding="utf-8"))
    from_array = rnnprobe.series(rows, names=COLUMNS, reverse=True, cell="lstm", hidden=2,
                                 train=2, seed=12)  # fmt: skip
    assert from_array.to_dict()["history"] == obj["history"]
    svg = tmp_path / "series.svg"
    cli.ok("series", str(stock), *args, "--export", str(svg))
    assert "<svg" in svg.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "stdin", "needle"),
    [
        (["-"], "1,2\n3,x\n4,5\n", "row 2, column 2: 'x' is not a number (line 2)"),
        (["-"], "a,b\n1,2\n3,nan\n", "row 2, column b is missing (line 3; 1 missing cell in "
         "the columns read): give --missing drop, ffill or interpolate"),
        (["-"], "a,b\n1,2\n3,inf\n", "row 2, column b: 'inf' is not a finite number"),
        (["1", "2", "3", "--window", "3"], None, "the data has 3 rows"),
        (["1", "2", "3", "4", "--window", "0"], None, "--window '0': give at least 1"),
        (["1", "2", "3", "4", "--stride", "0"], None, "--stride '0': give at least 1"),
        (["1", "2", "3", "4", "--horizon", "-1"], None, "--horizon '-1'"),
        (["-", "--columns", "Foo"], "a,b\n1,2\n", "--columns 'Foo': no such column"),
        (["-", "--target", "c"], "a,b\n1,2\n", "--target 'c': no such column"),
        ([*map(str, range(10)), "--split", "0.2", "--window", "3"], None,
         "--split 0.2 leaves no training window"),
        ([*map(str, range(10)), "--split", "1.5"], None, "--split '1.5': give a fraction"),
        (["-", "--scale", "standard", "--window", "2"], "a,b\n" + "1,2\n" * 10,
         "column a is constant on the training rows: --scale standard"),
        (["-"], "# only a comment\n", "stdin holds no rows of numbers"),
        (["/no/such/file.csv"], None, "no such file"),
        (["-"], "1,2\n3\n", "row 2 has 1 values, not 2"),
        (["1", "2", "x"], None, "'x' is not a number"),
        ([*map(str, range(10)), "--lr", "0.1"], None, "--lr needs --train"),
        ([*map(str, range(30)), "--index", "99"], None, "--index 99: give an index from 1 to 23"),
        ([*map(str, range(30)), "--activation", "relu"], None, "--activation 'relu'"),
        ([*map(str, range(10)), "--windw", "3"], None, "no such option: --windw"),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(cli, args, stdin, needle):
    assert needle in cli.usage_error("series", *args, input=stdin)


def test_negative_numbers_are_data_and_nothing_given_is_changed(cli, tmp_path):
    obj = cli.json("series", "-3", "-1.5", "2", "-4", "5", "6", "--window", "2", "--seed", "13")
    assert obj["rows"] == 6 and obj["scale"]["columns"]["value"]["min"] == -4.0
    path = tmp_path / "rows.tsv"
    path.write_text("x\ty\n" + "".join(f"{i}\t{i * i}\n" for i in range(8)), encoding="utf-8")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    assert cli.json("series", str(path), "--window", "2", "--seed", "14")["columns"] == ["x", "y"]
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_a_long_series_compares_its_first_and_last_windows_with_keras(cli):
    values = "\n".join(str(v) for v in np.sin(np.arange(5000) / 9))
    obj = cli.json("series", "-", "--window", "2", "--seed", "15", input=values)
    assert obj["x_data"]["shape"] == [4998, 2, 1]
    assert obj["same_as_keras"] is True and obj["keras_compared"] == 2048
    shown = cli.ok("series", "-", "--window", "2", "--seed", "15", input=values).stdout
    assert "(windows 1-1,024, 3,975-4,998 compared)" in shown
    small = cli.json("series", *map(str, range(30)), "--seed", "15")
    assert small["keras_compared"] == 23


def test_a_series_too_big_for_memory_is_refused_before_any_work(cli):
    line = cli.usage_error("series", *map(str, range(100)), "--hidden", "64",
                           env={"RNNPROBE_MEMORY_LIMIT": "100kB"})  # fmt: skip
    assert line.startswith("rnnprobe: error: --hidden 64: this series (93 windows) needs about")


SERIES_KEYS = [
    "rnnprobe", "columns", "target", "target_columns", "rows", "reverse", "index", "groups",
    "missing", "window", "stride", "horizon", "horizons", "difference", "split", "train_rows",
    "scale", "windows", "same_as_keras", "keras_compared", "style", "cell", "hidden", "seed",
    "bidirectional", "merge_mode", "return_sequences", "return_state", "activation", "params",
    "layers", "x_data", "targets", "weights", "outputs", "states", "predictions", "test",
    "extrapolation", "loss", "initial",
]  # fmt: skip
TRAINED_KEYS = ["epochs", "lr", "batch_size", "shuffle", "every", "optimizer", "gradients",
                "history", "final", "stopped"]  # fmt: skip


def test_the_json_keys_are_pinned(cli):
    values = [str(v) for v in range(30)]
    assert list(cli.json("series", *values, "--seed", "16")) == SERIES_KEYS
    trained = cli.json("series", *values, "--seed", "16", "--train", "1", "--check")
    assert list(trained) == [*SERIES_KEYS, *TRAINED_KEYS, "check"]
    assert list(trained["windows"][0]) == ["index", "start", "end", "target_row", "split"]
    assert list(trained["test"]) == ["windows", "rmse", "mae", "baseline_rmse", "baseline_mae",
                                     "actual", "predicted", "baseline", "by_output",
                                     "by_group"]  # fmt: skip
    assert list(trained["initial"]) == list(trained["final"]) == ["loss", "test_loss", "weights"]
    assert list(trained["history"][0]) == ["epoch", "loss", "test_loss"]


def test_a_dataframe_is_read_by_its_columns(cli):
    import rnnprobe

    class Frame:  # what rnnprobe reads of a pandas DataFrame (pandas is not a dependency)
        columns = ("a", "b")

        def to_numpy(self, dtype=None):
            return np.column_stack([np.arange(20.0), np.arange(20.0) * 2]).astype(dtype)

    found = rnnprobe.series(Frame(), window=3, seed=17, target="a")
    assert found.columns == ["a", "b"] and found.target == "a"
    text = "a,b\n" + "".join(f"{i},{2 * i}\n" for i in range(20))
    assert found.to_dict() == cli.json("series", "-", "--window", "3", "--seed", "17",
                                       "--target", "a", input=text)  # fmt: skip
