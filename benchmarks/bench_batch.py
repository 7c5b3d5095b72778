"""`rnnprobe batch` of 40 small probes against one `rnnprobe run`, in the same run.

    python benchmarks/bench_batch.py [ROUNDS]

Goal: median ratio at most 1.3 for 40 lecture probes (TensorFlow loads once for the
whole batch). A second line measures 40 probes that cycle through simple, LSTM and GRU,
a third 40 probes of mixed sizes (hidden 1 to 5, three words of 1 to 9 letters each).
"""

from __future__ import annotations

import sys

from common import alternate, report, rnnprobe_command
from words import random_words

LECTURE = "\n".join(f"hello eolll lleel --seed {n}" for n in range(40)).encode()
MIXED = "\n".join(
    f"hello eolll lleel --seed {n} --cell {('simple', 'lstm', 'gru')[n % 3]}" for n in range(40)
).encode()

SIZES = "\n".join(
    f"{' '.join(random_words(3, longest=9, seed=n).split())} --hidden {1 + n % 5} --seed {n}"
    for n in range(40)
).encode()

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    one_run = [*rnnprobe_command(), "run", "hello", "eolll", "lleel", "--seed", "0", "--json"]
    batch = [*rnnprobe_command(), "batch", "-"]
    floors, times = alternate(one_run, batch, rounds, stdin=LECTURE)
    report("40 lecture probes vs one run", floors, times, goal=1.3, labels=("run", "batch"))
    floors, times = alternate(one_run, batch, rounds, stdin=MIXED)
    report("40 simple/LSTM/GRU probes vs one run", floors, times, goal=1.3, labels=("run", "batch"))
    floors, times = alternate(one_run, batch, rounds, stdin=SIZES)
    report("40 probes of mixed sizes vs one run", floors, times, goal=1.3, labels=("run", "batch"))
