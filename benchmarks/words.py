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
