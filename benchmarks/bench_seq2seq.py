"""`rnnprobe seq2seq --attention --json`: the lecture's four pairs, and 1,000 pairs of up to
12 words, each against the import floor measured in the same run.

    python benchmarks/bench_seq2seq.py [ROUNDS]

Goals: the four pairs at most 1.3x the floor; 1,000 pairs at most 2x.
"""

from __future__ import annotations

import random
import sys

from common import FLOOR, alternate, report, rnnprobe_command
from words import random_words

LECTURE = [
    "i feel hungry", "나는 배가 고프다",
    "tensorflow is very difficult", "텐서플로우는 매우 어렵다",
    "tensorflow is a framework for deep learning", "텐서플로우는 딥러닝을 위한 프레임워크이다",
    "tensorflow is very fast changing", "텐서플로우는 매우 빠르게 변화한다",
]  # fmt: skip


def random_pairs(count: int, *, longest: int = 12, seed: int = 0) -> str:
    """`count` lines of `source<TAB>target`, each side 1 to `longest` words."""
    rng = random.Random(seed)
    source = random_words(400, shortest=2, longest=9, seed=seed + 1).split()
    target = random_words(400, shortest=2, longest=9, seed=seed + 2).split()
    return "\n".join(
        " ".join(rng.choices(source, k=rng.randint(1, longest)))
        + "\t"
        + " ".join(rng.choices(target, k=rng.randint(1, longest)))
        for _ in range(count)
    )


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    lecture = [*rnnprobe_command(), "seq2seq", *LECTURE, "--attention", "--json"]
    floors, times = alternate(FLOOR, lecture, rounds)
    report("the lecture's four pairs --attention vs import floor", floors, times, goal=1.3)
    pairs = random_pairs(1_000).encode()
    scale = [*rnnprobe_command(), "seq2seq", "-", "--attention", "--json"]
    floors, times = alternate(FLOOR, scale, max(3, rounds // 2), stdin=pairs)
    report("1,000 pairs of up to 12 words --attention vs floor", floors, times, goal=2.0)
