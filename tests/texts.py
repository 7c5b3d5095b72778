"""Two printed texts compared as a reader sees them: the same words, rules and shapes, and
the same numbers up to the float noise a fresh run on another CPU may leave.

Every number is taken out of the text (so that a column's padding, which follows its widest
number, does not count) and the numbers are compared one by one: whole numbers exactly
(shapes, counts, epochs), decimals within their last printed digit or 0.1 %, numbers in
scientific notation within 2 % or both below 1e-6 (differences, noise)."""

from __future__ import annotations

import html
import re

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:e[-+]?\d+)?(?![\w.])", re.I)
TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    """An HTML output as the text it shows."""
    return html.unescape(TAG.sub("", text))


def _skeleton(text: str) -> str:
    text = NUMBER.sub("#", text)
    text = re.sub(r"━+", "━", re.sub(r"─+", "─", text))
    return "\n".join(re.sub(r"\s+", " ", line).strip() for line in text.splitlines()).strip()


def _close(old: str, new: str) -> bool:
    if old == new:
        return True
    if not any(mark in old + new for mark in ".eE"):
        return False  # whole numbers: shapes and counts are exact
    a, b = float(old), float(new)
    if "e" in (old + new).lower():
        return (abs(a) < 1e-6 and abs(b) < 1e-6) or abs(a - b) <= 2e-2 * max(abs(a), abs(b))
    decimals = max(len(s.partition(".")[2]) for s in (old, new))
    return abs(a - b) <= 1.5 * 10.0**-decimals or abs(a - b) <= 1e-3 * max(abs(a), abs(b))


def difference(old: str, new: str) -> str | None:
    """None when the texts read the same (numbers within noise); else what differs first."""
    if _skeleton(old) != _skeleton(new):
        for a, b in zip(_skeleton(old).splitlines(), _skeleton(new).splitlines(), strict=False):
            if a != b:
                return f"text differs:\n  {a}\n  {b}"
        return "text differs in length"
    for a, b in zip(NUMBER.findall(old), NUMBER.findall(new), strict=True):
        if not _close(a, b):
            return f"number {a} became {b}"
    return None
