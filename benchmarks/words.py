"""Reproducible word lists for the benchmarks."""

from __future__ import annotations

import random
import string


def random_words(count: int, *, shortest: int = 1, longest: int = 16, seed: int = 0) -> str:
    """`count` lowercase words of `shortest` to `longest` letters, one per line."""
    rng = random.Random(seed)
    return "\n".join(
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(shortest, longest)))
        for _ in range(count)
    )


def random_sentences(count: int, *, longest: int = 12, vocabulary: int = 500, seed: int = 0) -> str:
    """`count` sentences of 1 to `longest` words drawn from `vocabulary` words, one a line."""
    rng = random.Random(seed)
    words = random_words(vocabulary, shortest=2, longest=9, seed=seed + 1).split()
    return "\n".join(" ".join(rng.choices(words, k=rng.randint(1, longest))) for _ in range(count))
