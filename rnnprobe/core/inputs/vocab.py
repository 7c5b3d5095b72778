"""Words -> vocabulary -> one-hot batch. Pure numpy, vectorised over all characters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.budget import FLOAT_BYTES, ensure_fits
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import PAD, UNK, Tokens


def show_char(char: str) -> str:
    """A character as a person can read it in a message or a table label."""
    if char == " ":
        return "␣"
    return char if char.isprintable() and not char.isspace() else repr(char)[1:-1] or "?"


def _show_chars(chars: Sequence[str]) -> str:
    return " ".join(repr(show_char(c)) for c in chars)


def words_from_text(text: str) -> list[str]:
    """Whitespace-separated words, as read from stdin."""
    words = text.split()
    if not words:
        raise InputError("no words on stdin: give whitespace-separated words")
    return words


def sentences_from_text(text: str) -> list[str]:
    """One sentence per non-blank line, as read from stdin with word tokens."""
    sentences = [line for line in text.splitlines() if line.strip()]
    if not sentences:
        raise InputError("no sentences on stdin: give one sentence per line")
    return sentences


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


def _word_vocabulary(words: Sequence[str], explicit: str | None) -> tuple[str, ...]:
    """The distinct whitespace-separated words in first-seen order, or `explicit` checked."""
    seen: dict[str, None] = {}
    for number, sentence in enumerate(words, start=1):
        tokens = sentence.split()
        if not tokens:
            raise InputError(f"sentence {number} {sentence!r} has no words: give at least one")
        seen.update(dict.fromkeys(tokens))
    if explicit is None:
        return tuple(seen)
    given = [w.strip() for w in explicit.split(",")]
    if not explicit.strip() or not all(given) or any(len(w.split()) != 1 for w in given):
        raise InputError(
            Param("vocab"), f" {explicit!r}: give words separated by commas, e.g. i,feel,hungry"
        )
    repeated = [w for w, n in Counter(given).items() if n > 1]
    if repeated:
        raise InputError(
            Param("vocab"), f" repeats {', '.join(map(repr, repeated))}: each word may appear once"
        )
    known = set(given)
    if UNK not in known and any(w not in known for w in seen):
        return (UNK, *given)  # the words outside it read as `<unk>`, as StringLookup's OOV
    return tuple(given)


def vocabulary(
    words: Sequence[str], explicit: str | None = None, tokens: Tokens = Tokens.char
) -> tuple[str, ...]:
    """The distinct tokens (characters, or words with `tokens=word`) in first-seen order,
    or `explicit` checked (characters, or words separated by commas), `<unk>` first when
    the words use a token outside it (that token reads as `<unk>`)."""
    check_words(words)
    if tokens is Tokens.word:
        return _word_vocabulary(words, explicit)
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
    if np.setdiff1d(distinct, _code_points([explicit])).size:
        return (UNK, *explicit)  # the characters outside it read as `<unk>`
    return tuple(explicit)


def unknown_tokens(words: Sequence[str], vocab: Sequence[str], tokens: Tokens) -> list[str]:
    """The distinct tokens of the words outside the vocabulary (those read as `<unk>`), in
    first-seen order."""
    known = set(vocab)
    return [token for token in counted(words, tokens) if token not in known]


def _columns(
    words: Sequence[str], vocab: Sequence[str], tokens: Tokens
) -> tuple[np.ndarray, np.ndarray]:
    """Each word's length in tokens, and every token's index in the vocabulary, in order;
    a token outside a vocabulary that holds `<unk>` is `<unk>`'s."""
    unknown = list(vocab).index(UNK) if UNK in vocab else None
    if tokens is Tokens.word:
        sentences = [sentence.split() for sentence in words]
        lengths = np.fromiter(map(len, sentences), dtype=np.int64, count=len(sentences))
        index = {word: i for i, word in enumerate(vocab)}
        flat = (
            index[word] if unknown is None else index.get(word, unknown)
            for sentence in sentences
            for word in sentence
        )
        return lengths, np.fromiter(flat, dtype=np.int64, count=int(lengths.sum()))
    lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
    codes = _code_points(words)  # vectorised over every character at once
    known = [token for token in vocab if len(token) == 1]  # `<unk>` is no character
    vocab_codes = _code_points(known)
    positions = np.array([i for i, token in enumerate(vocab) if len(token) == 1], dtype=np.int64)
    order = np.argsort(vocab_codes, kind="stable")
    found = np.searchsorted(vocab_codes[order], codes).clip(0, max(len(known) - 1, 0))
    column = positions[order[found]] if len(known) else np.zeros_like(codes, dtype=np.int64)
    if unknown is not None:
        missing = vocab_codes[order[found]] != codes if len(known) else np.ones(len(codes), bool)
        column = np.where(missing, unknown, column)
    return lengths, column


def counted(words: Sequence[str], tokens: Tokens) -> Counter[str]:
    """How often each token appears, in first-seen order."""
    found: Counter[str] = Counter()
    for word in words:
        found.update(word.split() if tokens is Tokens.word else word)
    return found


def trimmed(
    counts: Counter[str],
    *,
    max_vocab: int | None = None,
    min_count: int | None = None,
    unknown: bool = False,
) -> tuple[str, ...]:
    """The vocabulary of these counts in first-seen order: the `max_vocab` most frequent
    tokens (ties: the first seen), each seen at least `min_count` times; `<unk>` first
    when some token is left out, or when `unknown` asks for it (held-out rows may bring
    tokens training never saw)."""
    kept = [token for token, n in counts.items() if min_count is None or n >= min_count]
    if max_vocab is not None and len(kept) > max_vocab:
        ranked = sorted(range(len(kept)), key=lambda i: -counts[kept[i]])[:max_vocab]
        kept = [kept[i] for i in sorted(ranked)]
    if UNK in kept:
        raise InputError(f"the words use {UNK!r}, a token rnnprobe reserves: rename it")
    if unknown or len(kept) < len(counts):
        return (UNK, *kept)
    return tuple(kept)


def build_batch(
    words: Sequence[str],
    vocab: Sequence[str],
    *,
    tokens: Tokens = Tokens.char,
    ids: bool = False,
) -> Batch:
    """One-hot `x_data` (batch, time, vocab) float32, padded at the end with zero rows; or,
    with `ids`, token ids (batch, time) int32 over `<pad>` + vocab, padded with 0."""
    if ids and tokens is Tokens.word and PAD in vocab:
        raise InputError(f"the word {PAD!r} is the padding token of the Embedding: rename it")
    lengths, column = _columns(words, vocab, tokens)
    batch, time, width = len(words), int(lengths.max()), len(vocab)
    cells = batch * time if ids else batch * time * width
    ensure_fits(cells * FLOAT_BYTES, f"{'ids' if ids else 'x_data'} {(batch, time, width)}")
    row = np.repeat(np.arange(batch), lengths)
    step = np.arange(column.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    counted = tuple(int(n) for n in lengths)
    if ids:
        token_ids = np.zeros((batch, time), dtype=np.int32)
        token_ids[row, step] = column + 1
        found = Tensor("ids", ("batch", "time"), token_ids)
        return Batch(tuple(words), (PAD, *vocab), counted, None, ids=found, tokenizer=tokens)
    x_data = np.zeros((batch, time, width), dtype=np.float32)
    x_data[row, step, column] = 1.0
    found = Tensor("x_data", ("batch", "time", "vocab"), x_data)
    return Batch(tuple(words), tuple(vocab), counted, found, tokenizer=tokens)
