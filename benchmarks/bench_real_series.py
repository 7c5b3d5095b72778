"""`rnnprobe series` on real tables, each against a hand-written Keras script of the same
windows and network (`timeseries_dataset_from_array` per series, `compile` and `fit` with the
test windows as validation data, then the test predictions), timed in turns in one run.

    pip install statsmodels vega_datasets   # their bundled data sets, read offline
    python benchmarks/bench_real_series.py [ROUNDS]

The tables: the Mauna Loa CO2 weeks (statsmodels, 2,284 weeks, 59 without a reading,
interpolated), Seattle's weather (vega_datasets, 1,461 days, a text column), five stocks in
one long table (vega_datasets, 560 months, --group symbol), the yearly sunspots
(statsmodels), and the Grunfeld firms (shipped in tests/data). A table whose package is not
installed is left out, said so. Goal: every one at most 1.0x its Keras script.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

from common import alternate, rnnprobe_command

HERE = Path(__file__).resolve().parent

# The same work by hand: read the table, fill its gaps, cut each series into windows with
# Keras, scale on the training rows, train and predict the test windows.
KERAS = """
import json, math, sys
import numpy as np
import pandas as pd
from tensorflow import keras
from tensorflow.keras import layers

cfg = json.loads(sys.argv[2])
frame = pd.read_csv(sys.argv[1])
if cfg["group"] is None:
    groups = [frame]
else:
    groups = [g for _, g in frame.groupby(cfg["group"], sort=False)]
columns, target = cfg["columns"], cfg["target"]
T, H = cfg["window"], cfg["horizon"]
parts = []
for g in groups:
    values = g[columns].to_numpy(dtype=np.float64)
    if cfg["missing"] == "interpolate":
        values = pd.DataFrame(values).interpolate(limit_direction="both").to_numpy()
    parts.append(values)
train_masks = [np.arange(len(v)) < math.floor(0.7 * len(v)) for v in parts]
fitted = np.concatenate([v[m] for v, m in zip(parts, train_masks)])
low, high = fitted.min(axis=0), fitted.max(axis=0)
k = columns.index(target)
xs, ys, trains = [], [], []
for values, mask in zip(parts, train_masks):
    scaled = ((values - low) / (high - low + 1e-7)).astype(np.float32)
    if len(scaled) < T + H:
        continue
    ds = keras.utils.timeseries_dataset_from_array(
        scaled[:-H], scaled[T - 1 + H:, k:k + 1], sequence_length=T, batch_size=100000,
        shuffle=False)
    x, y = (np.asarray(t) for t in next(iter(ds)))
    xs.append(x); ys.append(y)
    trains.append(mask[np.arange(len(x)) + T - 1 + H])
x, y, train = np.concatenate(xs), np.concatenate(ys), np.concatenate(trains)
keras.utils.set_random_seed(1)
cell = {"simple": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}[cfg["cell"]]
model = keras.Sequential([keras.Input((T, len(columns))), cell(cfg["hidden"]), layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mean_squared_error")
model.fit(x[train], y[train], epochs=cfg["epochs"], batch_size=32, shuffle=True, verbose=0,
          validation_data=(x[~train], y[~train]))
predicted = model.predict(x[~train], verbose=0)[:, 0]
print(float(np.sqrt(np.mean((predicted - y[~train][:, 0]) ** 2))))
"""


def tables(folder: Path) -> list[tuple[str, Path, dict]]:
    """(name, file, options) of every table whose source is installed."""
    found = []
    try:
        import statsmodels.datasets as sm
    except ImportError:
        print("statsmodels is not installed: CO2 and sunspots are left out")
        sm = None
    if sm is not None:
        co2 = sm.co2.load_pandas().data
        co2.index.name = "week"
        co2.to_csv(folder / "co2.csv")
        found.append(
            (
                "CO2, 2,284 weeks, --window 52",
                folder / "co2.csv",
                dict(columns=["co2"], target="co2", window=52, missing="interpolate"),
            )
        )
        spots = sm.sunspots.load_pandas().data
        spots["YEAR"] = spots["YEAR"].astype(int)
        spots.rename(columns={"YEAR": "year"}).to_csv(folder / "sunspots.csv", index=False)
        found.append(
            (
                "sunspots, 309 years, --window 11",
                folder / "sunspots.csv",
                dict(columns=["SUNACTIVITY"], target="SUNACTIVITY", window=11),
            )
        )
    try:
        from vega_datasets import local_data
    except ImportError:
        print("vega_datasets is not installed: Seattle's weather and the stocks are left out")
        local_data = None
    if local_data is not None:
        local_data.seattle_weather().to_csv(folder / "seattle.csv", index=False)
        found.append(
            (
                "Seattle, 1,461 days, --window 30",
                folder / "seattle.csv",
                dict(
                    columns=["precipitation", "temp_max", "temp_min", "wind"],
                    target="temp_max",
                    window=30,
                ),
            )
        )
        local_data.stocks().to_csv(folder / "stocks.csv", index=False)
        found.append(
            (
                "stocks, 5 x 123 months, --group",
                folder / "stocks.csv",
                dict(columns=["price"], target="price", window=6, group="symbol"),
            )
        )
    found.append(("Grunfeld, 11 x 20 years, --group", HERE.parent / "tests/data/grunfeld.csv",
                  dict(columns=["invest", "value", "capital"], target="invest", window=5,
                       group="firm")))  # fmt: skip
    return found


def commands(path: Path, options: dict, epochs: int) -> tuple[list[str], list[str]]:
    cfg = {"group": None, "missing": "error", "horizon": 1, "cell": "lstm", "hidden": 16,
           "epochs": epochs, **options}  # fmt: skip
    ours = [*rnnprobe_command(), "series", str(path), "--columns", ",".join(cfg["columns"]),
            "--target", cfg["target"], "--window", str(cfg["window"]), "--cell", cfg["cell"],
            "--hidden", str(cfg["hidden"]), "--train", str(epochs), "--seed", "1",
            "--missing", cfg["missing"]]  # fmt: skip
    if cfg["group"]:
        ours += ["--group", cfg["group"]]
    theirs = [sys.executable, "-c", KERAS, str(path), json.dumps(cfg)]
    return ours, theirs


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as here:
        for name, path, options in tables(Path(here)):
            ours, theirs = commands(path, options, epochs=20)
            keras_times, times = alternate(theirs, ours, rounds)
            ratios = [t / k for t, k in zip(times, keras_times, strict=True)]
            each = ", ".join(f"{r:.2f}" for r in ratios)
            print(f"{name}: rnnprobe {statistics.median(times):.2f} s, the Keras script "
                  f"{statistics.median(keras_times):.2f} s: {statistics.median(ratios):.2f}x "
                  f"(each round: {each}; goal <= 1.0x)")  # fmt: skip
