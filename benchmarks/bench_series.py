"""`rnnprobe series`: the stock lab trained against the same windows trained by a
hand-written Keras `compile` + `fit` script; 100,000 rows x 5 columns cut into windows of
50, one forward pass of `--hidden 16 --json` to a file, against the import floor (and its
peak memory against the size of x_data plus the bare `import tensorflow`); and the
long-sentence lab trained, against the floor. Every ratio is measured in the same run.

    python benchmarks/bench_series.py [ROUNDS] [--data data-02-stock_daily.csv]

Without --data, a file laid out as the lab's (732 rows of Open, High, Low, Volume, Close,
newest first) is made up. Goals: the stock lab at most 1.0x the Keras script; 100,000 rows
at most 2x the floor and a peak RSS at most 3x x_data above the bare import; the
long-sentence lab at most 1.5x the floor.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np
from common import FLOOR, alternate, peak_rss, report, rnnprobe_command

MIB = 1 << 20
SENTENCE = (
    "if you want to build a ship, don't drum up people together to collect wood and don't "
    "assign them tasks and work, but rather teach them to long for the endless immensity of "
    "the sea."
)

# The same training by hand, the way the lab writes it (with the scaling fitted on the
# training rows, as rnnprobe fits it): the file, reversed, min-max scaled, windows of 7,
# LSTM(10) then Dense(1), mean squared error, Adam 0.01, 100 epochs of batches of 32,
# the test loss every epoch, then the test predictions.
KERAS = """
import sys
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

xy = np.loadtxt(sys.argv[1], delimiter=",")[::-1]
train_rows = int(len(xy) * 0.7)
low, high = xy[:train_rows].min(axis=0), xy[:train_rows].max(axis=0)
scaled = ((xy - low) / (high - low + 1e-7)).astype(np.float32)
dataset = keras.utils.timeseries_dataset_from_array(
    scaled[:-1], scaled[7:, -1:], sequence_length=7, batch_size=len(xy), shuffle=False)
x, y = (np.asarray(t) for t in next(iter(dataset)))
train = np.arange(len(x)) + 7 < train_rows
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((7, 5)), layers.LSTM(10), layers.Dense(1)])
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mean_squared_error")
model.fit(x[train], y[train], epochs=100, batch_size=32, shuffle=True, verbose=0,
          validation_data=(x[~train], y[~train]))
predicted = model.predict(x[~train], verbose=0)[:, 0] * (high - low + 1e-7)[-1] + low[-1]
print(float(np.sqrt(np.mean((predicted - xy[np.arange(len(x))[~train] + 7, -1]) ** 2))))
"""


def stock_like(rows: int, columns: int = 5, seed: int = 0) -> str:
    """Rows of a random walk laid out as the lab's file: two comments, newest first."""
    rng = np.random.default_rng(seed)
    walk = 800 + np.cumsum(rng.normal(0, 5, (rows, columns)), axis=0)
    lines = [",".join(f"{v:.6f}" for v in row) for row in walk]
    return "# made up\n# Open,High,Low,Volume,Close\n" + "\n".join(lines[::-1]) + "\n"


def to_file(command: list[str], out: str) -> list[str]:
    """`command > out`, as a command line for the timing helpers."""
    return ["bash", "-c", " ".join(f"'{part}'" for part in command) + f" > '{out}'"]


if __name__ == "__main__":
    args = sys.argv[1:]
    given = None
    if "--data" in args:
        at = args.index("--data")
        given, args = args[at + 1], args[:at] + args[at + 2 :]
    rounds = int(args[0]) if args else 5
    entry = rnnprobe_command()
    with tempfile.TemporaryDirectory() as folder:
        stock = given or os.path.join(folder, "stock.csv")
        if given is None:
            Path(stock).write_text(stock_like(732), encoding="utf-8")
        ours = [*entry, "series", stock, "--reverse", "--cell", "lstm", "--hidden", "10",
                "--train", "100", "--seed", "0", "--json"]  # fmt: skip
        script = [sys.executable, "-c", KERAS, stock]
        theirs, mine = alternate(script, ours, max(3, rounds // 2))
        report("stock lab --train 100 vs the Keras compile + fit script", theirs, mine,
               goal=1.0, labels=("keras", "rnnprobe"))  # fmt: skip

        big = os.path.join(folder, "big.csv")
        Path(big).write_text(stock_like(100_000), encoding="utf-8")
        out = os.path.join(folder, "big.json")
        forward = [*entry, "series", big, "--window", "50", "--hidden", "16", "--seed", "0",
                   "--json"]  # fmt: skip
        floors, times = alternate(FLOOR, to_file(forward, out), rounds)
        report("100,000 rows x 5, window 50, --hidden 16 --json to a file vs import floor",
               floors, times, goal=2.0)  # fmt: skip
        x_data = (100_000 - 50) * 50 * 5 * 4
        bare = peak_rss([sys.executable, "-c", "import tensorflow"])[0]
        rss, size = peak_rss(forward)
        print(f"  peak RSS {rss / MIB:.0f} MiB; import tensorflow alone {bare / MIB:.0f} MiB; "
              f"x_data {x_data / MIB:.0f} MiB: (peak - bare) / x_data = "
              f"{(rss - bare) / x_data:.2f} (goal <= 3); JSON {size / 1e6:.0f} MB")  # fmt: skip

        lab = [*entry, "train", SENTENCE, "--window", "10", "--cell", "lstm", "--hidden",
               "25,25", "--lr", "0.1", "--epochs", "100", "--seed", "0", "--json"]  # fmt: skip
        floors, times = alternate(FLOOR, lab, rounds)
        report("the long-sentence lab trained (100 epochs) vs import floor", floors, times,
               goal=1.5)  # fmt: skip
