"""10,000 words of 1 to 16 letters from stdin, `--hidden 32 --json`, against the import floor.

    python benchmarks/bench_scale.py [ROUNDS]

Goal: median ratio at most 1.3. Also prints the peak RSS of one such run and the size of
its JSON.
"""

from __future__ import annotations

import sys

from common import FLOOR, alternate, peak_rss, report, rnnprobe_command
from words import random_words

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    words = random_words(10_000).encode()
    command = [*rnnprobe_command(), "run", "-", "--hidden", "32", "--json"]
    floors, times = alternate(FLOOR, command, rounds, stdin=words)
    report("10,000 words --hidden 32 --json vs import floor", floors, times, goal=1.3)
    rss, size = peak_rss(command, words)
    floor_rss, _ = peak_rss(FLOOR, b"")
    print(
        f"peak RSS {rss / 1e6:.0f} MB (the import floor alone: {floor_rss / 1e6:.0f} MB), "
        f"JSON {size / 1e6:.1f} MB"
    )
