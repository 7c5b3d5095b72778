"""What counts as a number in a user's data: ASCII digits, an optional sign, one `.`, an
exponent (`e`), and `inf`/`infinity`/`nan` spelled out. Python's `float` reads more (`1_0`
as 10, other scripts' digits such as `١٢`, surrounding Unicode spaces): lenient for code,
too lenient for data, where `1_0` is far likelier a typo than ten. Pure Python."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)",
                    re.ASCII | re.IGNORECASE)  # fmt: skip
FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32
FLOAT32_OVERFLOW = 2.0**128 * (1 - 2.0**-25)  # from here on, float32 rounds a value to inf


def number(text: str) -> float | None:
    """The number `text` spells (spaces around it allowed), else None."""
    stripped = text.strip(" \t\r\n")
    if NUMBER.fullmatch(stripped) is None:
        return None
    return float(stripped)


def plain(text: str) -> bool:
    """True when every number `float` would read in `text` is one `number` reads too: the
    text is ASCII and has no `_` (a fast check of a whole file before `float` reads it)."""
    return text.isascii() and "_" not in text


def beyond_float32(value: float) -> bool:
    """A finite float64 that float32 (every tensor rnnprobe builds) would make infinite."""
    return FLOAT32_OVERFLOW <= abs(value) < float("inf")


def refusal(text: str, shown: Callable[[str], str] = repr) -> tuple[float | None, str | None]:
    """The finite float32-range number `text` spells, (number, None); else (None, why not):
    not a number, not finite, or beyond float32 (`shown` quotes the text)."""
    found = number(text)
    if found is None:
        return None, f"{shown(text.strip())} is not a number"
    if not math.isfinite(found):
        return None, f"{shown(text.strip())} is not a finite number"
    if beyond_float32(found):
        return None, float32_range(found)
    return found, None


def float32_range(value: float) -> str:
    """Why a value is refused: it is beyond float32's range."""
    return (
        f"{value:g} is beyond float32's range (±{FLOAT32_MAX:.4g}), the precision of every "
        "tensor here"
    )
