"""`rnnprobe run hello eolll lleel --json` against importing TensorFlow's Keras.

    python benchmarks/bench_run.py [ROUNDS]

Goal: median ratio at most 1.05.
"""

from __future__ import annotations

import sys

from common import FLOOR, alternate, report, rnnprobe_command

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    command = [*rnnprobe_command(), "run", "hello", "eolll", "lleel", "--json"]
    floors, times = alternate(FLOOR, command, rounds)
    report("run --json vs import floor", floors, times, goal=1.05)
