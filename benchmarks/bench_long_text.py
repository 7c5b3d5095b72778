"""`train --window 40` on a text of 100 KB (the start of a Python source file of the standard
library), an LSTM of 64, one epoch in batches of 64, against two Keras scripts with lazy
windows (a `tf.data` pipeline that cuts each batch of windows from the text's ids and
one-hots it in the graph), timed in turns in one run, with the peak memory of each:

- the training alone (`fit`, one epoch);
- the same work as rnnprobe's: the whole set's loss and first gradients before training,
  the epoch, the whole set's loss and predictions after (the text rebuilt from them).

    python benchmarks/bench_long_text.py [ROUNDS]

Goals (issue 41): at most 1.0x the training-only script, peak memory at most 1.2x its peak.
"""

from __future__ import annotations

import statistics
import sys
import sysconfig
import tempfile
from pathlib import Path

from common import alternate, peak_rss, rnnprobe_command

MIB = 1 << 20

KERAS = """
import sys
import numpy as np
import tensorflow as tf
import keras

text = open(sys.argv[1], encoding="utf-8").read()
same_work = sys.argv[2] == "reports"
vocab = list(dict.fromkeys(text))
index = {c: i for i, c in enumerate(vocab)}
ids = np.array([index[c] for c in text], dtype=np.int32)
T, V = 40, len(vocab)
keras.utils.set_random_seed(1)


def windows(shuffle):
    found = tf.data.Dataset.from_tensor_slices(ids).window(T + 1, shift=1, drop_remainder=True)
    found = found.flat_map(lambda w: w.batch(T + 1))
    if shuffle:
        found = found.shuffle(10000, seed=1)
    size = 64 if shuffle else 1024
    return found.batch(size).map(lambda w: (tf.one_hot(w[:, :-1], V), w[:, 1:]))


inputs = keras.Input(shape=(T, V))
outputs = keras.layers.Dense(V)(keras.layers.LSTM(64, return_sequences=True)(inputs))
model = keras.Model(inputs, outputs)
loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
model.compile(optimizer=keras.optimizers.Adam(0.1), loss=loss, metrics=["accuracy"])
if same_work:  # before training: the whole set's loss and its gradients
    model.evaluate(windows(False), verbose=0)
    summed = None
    for x, y in windows(False):
        with tf.GradientTape() as tape:
            value = loss(y, model(x))
        grads = tape.gradient(value, model.trainable_weights)
        summed = grads if summed is None else [a + b for a, b in zip(summed, grads)]
model.fit(windows(True), epochs=1, verbose=0)
if same_work:  # after: the whole set's loss, and the predictions that rebuild the text
    model.evaluate(windows(False), verbose=0)
    rebuilt = [np.argmax(model.predict_on_batch(x), -1)[:, -1] for x, _ in windows(False)]
print("done")
"""


def text_file(folder: Path) -> Path:
    source = Path(sysconfig.get_paths()["stdlib"]) / "argparse.py"
    path = folder / "text.txt"
    path.write_text(source.read_text(encoding="utf-8")[:100_000], encoding="utf-8")
    return path


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    with tempfile.TemporaryDirectory() as here:
        path = text_file(Path(here))
        ours = [*rnnprobe_command(), "train", "--window", "40", "-", "--cell", "lstm",
                "--hidden", "64", "--epochs", "1", "--seed", "1", "--batch-size", "64"]  # fmt: skip
        text = path.read_bytes()
        for name, kind in (("training alone", "fit"), ("the same reports", "reports")):
            theirs = [sys.executable, "-c", KERAS, str(path), kind]
            keras_times, times = alternate(theirs, ours, rounds, stdin=text)
            ratios = [t / k for t, k in zip(times, keras_times, strict=True)]
            print(f"against the Keras script of {name}: rnnprobe {statistics.median(times):.1f} s, "
                  f"Keras {statistics.median(keras_times):.1f} s: "
                  f"{statistics.median(ratios):.2f}x")  # fmt: skip
            theirs_rss = peak_rss(theirs)[0]
            ours_rss = peak_rss(ours, text)[0]
            print(f"  peak memory: rnnprobe {ours_rss / MIB:.0f} MiB, Keras {theirs_rss / MIB:.0f} "
                  f"MiB: {ours_rss / theirs_rss:.2f}x")  # fmt: skip
