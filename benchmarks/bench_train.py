"""`rnnprobe train`: the char-RNN lab and lab 12-1 against the import floor; 1,000 words of
next-token training against a hand-written Keras script of the same training; a served
(warm) training against a cold one. Every ratio is measured in the same run.

    python benchmarks/bench_train.py [ROUNDS]

Goals: `train hihello --epochs 50 --json` at most 1.3x the floor; the lab 12-1 recipe at
most 1.3x; 1,000 words (`--hidden 32 --epochs 5 --lr 0.01 --batch-size 64`) at most 1.0x
the Keras script (Masking, SimpleRNN, TimeDistributed Dense, compile + fit); served at
most 0.3x the cold run.
"""

from __future__ import annotations

import sys

from common import FLOOR, alternate, report, rnnprobe_command, warm_against_cold
from words import random_words

LAB_12_1 = ["good", "bad", "worse", "so good", "--labels", "1,0,0,1", "--embed", "onehot",
            "--hidden", "10", "--epochs", "30", "--lr", "0.01", "--batch-size", "2"]  # fmt: skip

# The same training by hand, the way a Keras user writes it: the words from stdin, each
# reading all but its last character and predicting all but its first, masked padding.
KERAS = """
import sys
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

words = sys.stdin.read().split()
vocab = list(dict.fromkeys("".join(words)))
inputs, targets = [w[:-1] for w in words], [w[1:] for w in words]
time = max(map(len, inputs))
x = np.zeros((len(words), time, len(vocab)), dtype=np.float32)
y = np.zeros((len(words), time), dtype=np.int32)
for b, (i, t) in enumerate(zip(inputs, targets)):
    for s, (a, c) in enumerate(zip(i, t)):
        x[b, s, vocab.index(a)] = 1.0
        y[b, s] = vocab.index(c)
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((time, len(vocab))),
    layers.Masking(),
    layers.SimpleRNN(32, return_sequences=True),
    layers.TimeDistributed(layers.Dense(len(vocab))),
])
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = model.fit(x, y, epochs=5, batch_size=64, shuffle=False, verbose=0)
print(history.history["loss"][-1])
"""


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    entry = rnnprobe_command()
    hihello = [*entry, "train", "hihello", "--epochs", "50", "--json"]
    floors, times = alternate(FLOOR, hihello, rounds)
    report("train hihello --epochs 50 vs import floor", floors, times, goal=1.3)
    lab = [*entry, "train", *LAB_12_1, "--json"]
    floors, times = alternate(FLOOR, lab, rounds)
    report("lab 12-1 recipe vs import floor", floors, times, goal=1.3)
    words = random_words(1000, shortest=2, longest=12).encode()
    ours = [*entry, "train", "-", "--hidden", "32", "--epochs", "5", "--lr", "0.01",
            "--batch-size", "64", "--json"]  # fmt: skip
    script = [sys.executable, "-c", KERAS]
    theirs, mine = alternate(script, ours, max(3, rounds // 2), stdin=words, floor_stdin=words)
    report("1,000 words next-token vs the Keras fit script", theirs, mine, goal=1.0,
           labels=("keras", "rnnprobe"))  # fmt: skip
    warm_against_cold(["train", "hihello", "--epochs", "50", "--json"], max(3, rounds // 2),
                      "warm (served) train hihello vs cold", goal=0.3)  # fmt: skip
