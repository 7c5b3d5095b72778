"""Saved networks: `rnnprobe inspect` of lab 12-2's model (saved by plain Keras) with an
input, and `seq2seq --load --translate` of a saved lab 12-6 network, each against the import
floor in the same run.

    python benchmarks/bench_saved.py [ROUNDS]

The models are made first (lab 12-2 by plain Keras code, lab 12-6 trained and saved by
rnnprobe), in a temporary folder. Goals: inspect with --input at most 1.1x the floor; load
and translate at most 1.2x.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from common import FLOOR, alternate, bench_env, report, rnnprobe_command

LAB_12_2 = """
import sys
import numpy as np
import keras
from keras import layers

sentences = ['What I cannot create, I do not understand.',
             'Intellecuals solve problems, geniuses prevent them',
             'A person who never made a mistake never tied anything new.',
             'The same equations have the same solutions.']
chars = ['<pad>'] + sorted(set(''.join(sentences)))
size = len(chars)
keras.utils.set_random_seed(0)
model = keras.Sequential([
    keras.Input((55,)),
    layers.Embedding(size, size, trainable=False, mask_zero=True,
                     embeddings_initializer=keras.initializers.Constant(np.eye(size))),
    layers.SimpleRNN(10, return_sequences=True),
    layers.TimeDistributed(layers.Dropout(0.2)),
    layers.SimpleRNN(10),
    layers.Dropout(0.2),
    layers.Dense(2),
])
model.save(sys.argv[1])
"""
LAB_12_6 = [
    "i feel hungry", "나는 배가 고프다", "tensorflow is very difficult",
    "텐서플로우는 매우 어렵다", "tensorflow is a framework for deep learning",
    "텐서플로우는 딥러닝을 위한 프레임워크이다", "tensorflow is very fast changing",
    "텐서플로우는 매우 빠르게 변화한다",
]  # fmt: skip

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    folder = Path(tempfile.mkdtemp(prefix="rnnprobe-bench-saved-"))
    lab2, lab6 = folder / "lab-12-2.keras", folder / "lab-12-6.keras"
    subprocess.run([sys.executable, "-c", LAB_12_2, str(lab2)], check=True, env=bench_env(),
                   capture_output=True)  # fmt: skip
    subprocess.run([*rnnprobe_command(), "seq2seq", *LAB_12_6, "--attention", "--hidden", "128",
                    "--embed", "32", "--train", "100", "--seed", "0", "--save", str(lab6),
                    "--json"], check=True, env=bench_env(), capture_output=True)  # fmt: skip
    ids = " ".join(str(n % 29 + 1) for n in range(42))  # the lab's 30 tokens, <pad> = 0
    inspect = [*rnnprobe_command(), "inspect", str(lab2), "--input", ids, "--input", "5 4 3"]
    floors, times = alternate(FLOOR, inspect, rounds)
    report("inspect lab 12-2 --input (2 rows) vs import floor", floors, times, goal=1.1)
    translate = [*rnnprobe_command(), "seq2seq", "--load", str(lab6), "--translate",
                 "tensorflow is very hungry", "--translate", "i feel difficult"]  # fmt: skip
    floors, times = alternate(FLOOR, translate, rounds)
    report("seq2seq --load lab 12-6 --translate (2 sentences) vs floor", floors, times, goal=1.2)
