"""`run --chunks 10` on 10,000 words against the same run unchunked, in the same run.

    python benchmarks/bench_chunks.py [ROUNDS]

The chunked run does the whole run too (its `outputs` and `states`, and the comparison),
then the ten chunks through the layers built stateful=True. Goal: at most 1.5x.
"""

from __future__ import annotations

import sys

from common import alternate, report, rnnprobe_command
from words import random_words

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    words = random_words(10_000).encode()
    whole = [*rnnprobe_command(), "run", "-", "--hidden", "8", "--seed", "0", "--json"]
    chunked = [*whole, "--chunks", "10"]
    floors, times = alternate(whole, chunked, rounds, stdin=words, floor_stdin=words)
    report("10,000 words --chunks 10 vs unchunked", floors, times, goal=1.5,
           labels=("unchunked", "chunked"))  # fmt: skip
