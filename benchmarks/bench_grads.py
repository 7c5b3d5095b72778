"""`rnnprobe grads`: one 300-character word through the three cells, against the TensorFlow
import floor; `grads --torch` on the lecture's words against importing Keras and PyTorch.

    python benchmarks/bench_grads.py [ROUNDS]

Goals: `grads WORD --cells simple,lstm,gru --json` at most 1.5x the floor; `grads hello
eolll lleel --torch --json` at most 1.1x importing both.
"""

from __future__ import annotations

import sys

from bench_torch import FLOOR_BOTH
from common import FLOOR, alternate, report, rnnprobe_command

WORD = ("thequickbrownfoxjumpsoverthelazydog" * 9)[:300]

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    entry = rnnprobe_command()
    cells = [*entry, "grads", WORD, "--cells", "simple,lstm,gru", "--json"]
    floors, times = alternate(FLOOR, cells, rounds)
    report("grads of 300 characters, three cells, vs import floor", floors, times, goal=1.5)
    torch = [*entry, "grads", "hello", "eolll", "lleel", "--torch", "--json"]
    floors, times = alternate(FLOOR_BOTH, torch, rounds)
    report("grads --torch vs importing Keras and torch", floors, times, goal=1.1)
