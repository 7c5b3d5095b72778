"""Which rows a training holds out, and in which order it takes the others each epoch: both
drawn from the seed, so that a run repeats and `--code` prints the same draws.

- held out (`--validation F`): the first ceil(F x rows) of a permutation of the rows,
  drawn by `np.random.default_rng([seed, 1])` (as `train_test_split` draws its test rows),
  kept in the file's order;
- each epoch's order (shuffling): a new permutation of the training rows from one
  `np.random.default_rng(seed)`, epoch after epoch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param


def check_validation(value: Any) -> float | None:
    """A fraction strictly between 0 and 1 (None: nothing held out)."""
    if value is None:
        return None
    try:
        fraction = float(value)
    except (TypeError, ValueError):
        raise InputError(Param("validation"), f" {value!r}: give a fraction such as 0.2") from None
    if isinstance(value, bool) or not math.isfinite(fraction) or not 0 < fraction < 1:
        raise InputError(
            Param("validation"), f" {value!r}: give a fraction above 0 and below 1, such as 0.2"
        )
    return fraction


def held_out(seed: int, rows: int, fraction: float) -> np.ndarray:
    """The rows held out, in the file's order; refused when no row would be left to train."""
    count = math.ceil(fraction * rows)
    if count >= rows:
        raise InputError(
            Param("validation"), f" {fraction:g} of {rows} rows holds out {count}: no row is "
            "left to train on",
        )  # fmt: skip
    drawn: np.ndarray = np.sort(np.random.default_rng([seed, 1]).permutation(rows)[:count])
    return drawn


def orders(seed: int, rows: int) -> Callable[[int], np.ndarray]:
    """Each epoch's order of `rows` training rows, drawn from the seed in turn."""
    generator = np.random.default_rng(seed)
    return lambda epoch: generator.permutation(rows)


def shuffled(shuffle: bool | None, rows: int, batch_size: int | None) -> bool:
    """Whether a training shuffles: as asked, and by default whenever it takes more than one
    batch (the order of one batch changes nothing)."""
    batches = 1 if batch_size is None else -(-rows // batch_size)
    return batches > 1 if shuffle is None else bool(shuffle) and batches > 1
