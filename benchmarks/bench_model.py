"""The network around the RNN: the lecture's many-to-one probe, and 10,000 sentences of
word tokens through an Embedding and a head on every step, each against the import floor.

    python benchmarks/bench_model.py [ROUNDS]

Goals: the many-to-one lecture probe (`run good bad worse "so good" --embed onehot
--hidden 10 --head 2 --json`) at most 1.0x the floor; 10,000 sentences of 1 to 12 words
(`run - --tokens word --embed 32 --head 2 --each-step --json`) at most 1.5x.
"""

from __future__ import annotations

import sys

from common import FLOOR, alternate, peak_rss, report, rnnprobe_command
from words import random_sentences

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    lecture = [*rnnprobe_command(), "run", "good", "bad", "worse", "so good", "--embed",
               "onehot", "--hidden", "10", "--head", "2", "--json"]  # fmt: skip
    floors, times = alternate(FLOOR, lecture, rounds)
    report("many-to-one lecture probe vs import floor", floors, times, goal=1.0)
    sentences = random_sentences(10_000).encode()
    scale = [*rnnprobe_command(), "run", "-", "--tokens", "word", "--embed", "32", "--head",
             "2", "--each-step", "--json"]  # fmt: skip
    floors, times = alternate(FLOOR, scale, max(3, rounds // 2), stdin=sentences)
    report("10,000 sentences --embed 32 --head 2 --each-step vs floor", floors, times, goal=1.5)
    rss, size = peak_rss(scale, sentences)
    print(f"peak RSS {rss / 1e6:.0f} MB, JSON {size / 1e6:.1f} MB")
