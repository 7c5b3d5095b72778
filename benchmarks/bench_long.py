"""One long word, `run - --json`, against importing TensorFlow's Keras, in the same run:
20,000 characters (goal: median ratio at most 1.5) and 100,000 characters (at most 2),
with the peak RSS of each.

    python benchmarks/bench_long.py [ROUNDS]
"""

from __future__ import annotations

import random
import string
import sys

from common import FLOOR, alternate, peak_rss, report, rnnprobe_command

MIB = 1 << 20


def long_word(length: int) -> bytes:
    rng = random.Random(length)
    return "".join(rng.choices(string.ascii_lowercase, k=length)).encode() + b"\n"


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    command = [*rnnprobe_command(), "run", "-", "--json", "--seed", "1"]
    floor_rss = peak_rss(FLOOR)[0]
    for length, goal in ((20_000, 1.5), (100_000, 2.0)):
        word = long_word(length)
        floors, times = alternate(FLOOR, command, rounds, stdin=word)
        report(f"one word of {length:,} characters --json vs import floor", floors, times, goal)
        rss, size = peak_rss(command, word)
        print(
            f"  peak RSS {rss / MIB:.0f} MiB (the import floor alone: {floor_rss / MIB:.0f} MiB), "
            f"JSON {size / 1e6:.1f} MB"
        )
