"""Words -> vocabulary -> one-hot batch. Pure numpy, vectorised over all characters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from rnnprobe.core.budget import FLOAT_BYTES, ensure_fits
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.result import Batch, Tensor


def show_char(char: str) -> str:
    """A character as a person can read it in a message or a table label."""
    return char if char.isprintable() and not char.isspace() else repr(char)[1:-1] or "?"


def _show_chars(chars: Sequence[str]) -> str:
    return " ".join(repr(show_char(c)) for c in chars)


def words_from_text(text: str) -> list[str]:
    """Whitespace-separated words, as read from stdin."""
    words = text.split()
    if not words:
        raise InputError("no words on stdin: give whitespace-separated words")
    return words


def check_words(words: Sequence[str]) -> None:
    """Refuse an empty batch, an empty word, or text that is not valid Unicode."""
    if not words:
        raise InputError("no words given: give one or more words")
    for number, word in enumerate(words, start=1):
        if not word:
            raise InputError(f"word {number} is empty: every word needs at least one character")
        try:
            word.encode("utf-8")
        except UnicodeEncodeError:
            raise InputError(
                f"word {number} is not valid text (it holds bytes that are not UTF-8)"
            ) from None


def _code_points(words: Sequence[str]) -> np.ndarray:
    return np.frombuffer("".join(words).encode("utf-32-le"), dtype="<u4")


def vocabulary(words: Sequence[str], explicit: str | None = None) -> tuple[str, ...]:
    """The distinct characters of the words in first-seen order, or `explicit` checked."""
    check_words(words)
    codes = _code_points(words)
    distinct, first_seen = np.unique(codes, return_index=True)
    if explicit is None:
        return tuple(chr(c) for c in distinct[np.argsort(first_seen, kind="stable")])
    if not explicit:
        raise InputError(
            Param("vocab"), " is empty: give the characters of the vocabulary in order"
        )
    repeated = [c for c, n in Counter(explicit).items() if n > 1]
    if repeated:
        raise InputError(
            Param("vocab"), f" repeats {_show_chars(repeated)}: each character may appear once"
        )
    given = _code_points([explicit])
    missing = np.setdiff1d(distinct, given)
    if missing.size:
        missing_set = set(missing.tolist())
        in_order = distinct[np.argsort(first_seen, kind="stable")].tolist()
        absent = [chr(c) for c in in_order if c in missing_set]
        raise InputError(
            Param("vocab"),
            f" {explicit!r} lacks {_show_chars(absent)}, used by the words: add them to ",
            Param("vocab"),
        )
    return tuple(explicit)


def build_batch(words: Sequence[str], vocab: Sequence[str]) -> Batch:
    """One-hot `x_data` (batch, time, vocab) float32, padded at the end with zero rows."""
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    batch, time, width = len(words), int(lengths.max()), len(vocab)
    ensure_fits(batch * time * width * FLOAT_BYTES, f"x_data {(batch, time, width)}")

    codes = _code_points(words)
    vocab_codes = _code_points(vocab)
    order = np.argsort(vocab_codes, kind="stable")
    column = order[np.searchsorted(vocab_codes[order], codes)]
    row = np.repeat(np.arange(batch), lengths)
    starts = np.cumsum(lengths) - lengths
    step = np.arange(codes.size) - np.repeat(starts, lengths)

    x_data = np.zeros((batch, time, width), dtype=np.float32)
    x_data[row, step, column] = 1.0
    return Batch(
        words=tuple(words),
        vocab=tuple(vocab),
        lengths=tuple(int(n) for n in lengths),
        x_data=Tensor("x_data", ("batch", "time", "vocab"), x_data),
    )
