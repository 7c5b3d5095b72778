"""Pairs of sentences as an encoder-decoder reads them: SOURCE TARGET from the command
line or tab-separated lines, the source ids, the decoder's input (`<bos>` + target) and its
target (target + `<eos>`), and new sentences to decode over the training vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.budget import FLOAT_BYTES, ensure_fits
from rnnprobe.core.errors import InputError
from rnnprobe.core.inputs.vocab import build_batch, counted, trimmed, vocabulary
from rnnprobe.core.kinds import BOS, EOS, PAD, UNK, Tokens

if TYPE_CHECKING:  # the description's classes: only for a model
    from rnnprobe.core.stages.encdec import Seq2SeqSpec


def pairs_from_sentences(sentences: Sequence[str]) -> list[tuple[str, str]]:
    """SOURCE TARGET [SOURCE TARGET ...] as pairs; an odd count is a usage error."""
    if not sentences:
        raise InputError("no sentences given: give SOURCE TARGET pairs, or - to read them")
    if len(sentences) % 2:
        raise InputError(
            f"an odd number of sentences ({len(sentences)}): give SOURCE TARGET two by two"
        )
    return [(sentences[i], sentences[i + 1]) for i in range(0, len(sentences), 2)]


def pairs_from_text(text: str) -> list[tuple[str, str]]:
    """Tab-separated `source<TAB>target` lines (blank lines skipped)."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.count("\t") != 1:
            raise InputError(
                f"stdin line {number} {line[:40]!r}: give one tab between source and target"
            )
        source, target = line.split("\t")
        pairs.append((source, target))
    if not pairs:
        raise InputError("no pairs on stdin: give source<TAB>target lines")
    return pairs


def make_batches(
    pairs: Sequence[tuple[str, str]],
    spec: Seq2SeqSpec,
    *,
    max_vocab: int | None = None,
    min_count: int | None = None,
    unknown: bool = False,
) -> tuple[Batch, Batch, Tensor]:
    """The source ids, the decoder's input and its target, checked. `max_vocab` and
    `min_count` keep each side's most frequent tokens (the others are `<unk>`); `unknown`
    gives the source vocabulary `<unk>` anyway (a sentence to translate has new tokens)."""
    if not pairs:
        raise InputError("no pairs given: give SOURCE TARGET sentences, two by two")
    for number, pair in enumerate(pairs, start=1):
        for side, text in zip(("source", "target"), pair, strict=True):
            if not text.split() or (spec.tokens.value == "char" and not text):
                raise InputError(f"pair {number}: the {side} is empty: give at least one token")
    limits = {"max_vocab": max_vocab, "min_count": min_count}
    source = source_batch([s for s, _ in pairs], spec.tokens, unknown=unknown, **limits)
    target, decoder_target = target_batch([t for _, t in pairs], spec.tokens, **limits)
    return source, target, decoder_target


def _limited(texts: Sequence[str], tokens: Tokens, max_vocab: int | None, min_count: int | None,
             unknown: bool) -> tuple[str, ...]:  # fmt: skip
    """The texts' vocabulary (checked), trimmed as asked, with `<unk>` when it leaves a token
    out or `unknown` asks for it."""
    found = vocabulary(texts, None, tokens)
    if max_vocab is None and min_count is None and not unknown:
        return found
    return trimmed(counted(texts, tokens), max_vocab=max_vocab, min_count=min_count,
                   unknown=unknown)  # fmt: skip


def source_batch(sources: Sequence[str], tokens: Tokens, *, max_vocab: int | None = None,
                 min_count: int | None = None, unknown: bool = False) -> Batch:  # fmt: skip
    """An encoder's input: ids (batch, source_time) over `<pad>` + the sources' tokens."""
    vocab = _limited(sources, tokens, max_vocab, min_count, unknown)
    batch = build_batch(sources, vocab, tokens=tokens, ids=True)
    assert batch.ids is not None
    return replace(batch, ids=Tensor("ids", ("batch", "source_time"), batch.ids.array))


def target_batch(targets: Sequence[str], tokens: Tokens, *, max_vocab: int | None = None,
                 min_count: int | None = None) -> tuple[Batch, Tensor]:  # fmt: skip
    """A decoder's input (`<bos>` + target) and its target (target + `<eos>`), as ids.

    The vocabulary is `<pad>`, `<bos>`, `<eos>` and the targets' tokens in first-seen
    order (`<unk>` first of them when some are left out); both id arrays are (batch,
    target_time), padded with 0 at the end.
    """
    found = _limited(targets, tokens, max_vocab, min_count, False)
    reserved = [token for token in (PAD, BOS, EOS) if token in found]
    if reserved:
        raise InputError(f"the target uses {reserved[0]!r}, a token rnnprobe reserves: rename it")
    vocab = (PAD, BOS, EOS, *found)
    index = {token: i for i, token in enumerate(vocab)}
    unknown = index.get(UNK, 0)
    sequences = [t.split() if tokens is Tokens.word else list(t) for t in targets]
    lengths = [len(sequence) + 1 for sequence in sequences]
    ensure_fits(
        2 * len(targets) * max(lengths) * FLOAT_BYTES, f"targets ({len(targets)}, {max(lengths)})"
    )
    decoder_input = np.zeros((len(targets), max(lengths)), dtype=np.int32)
    decoder_target = np.zeros_like(decoder_input)
    for row, sequence in enumerate(sequences):
        ids = [index.get(token, unknown) for token in sequence]
        decoder_input[row, : len(ids) + 1] = [index[BOS], *ids]
        decoder_target[row, : len(ids) + 1] = [*ids, index[EOS]]
    dims = ("batch", "target_time")
    batch = Batch(
        words=tuple(targets),
        vocab=vocab,
        lengths=tuple(lengths),
        x_data=None,
        ids=Tensor("decoder_input", dims, decoder_input),
        tokenizer=tokens,
    )
    return batch, Tensor("decoder_target", dims, decoder_target)


def unseen(sentences: Sequence[str], vocab: Sequence[str], tokens: Tokens) -> list[list[str]]:
    """Each sentence's tokens outside the source vocabulary (which starts with `<pad>`)."""
    known = set(vocab[1:])
    found = []
    for sentence in sentences:
        read = sentence.split() if tokens is Tokens.word else list(sentence)
        if not read:
            raise InputError("--translate: the sentence is empty: give at least one token")
        found.append([token for token in read if token not in known])
    return found


def sources_batch(sentences: Sequence[str], vocab: Sequence[str], tokens: Tokens) -> Batch:
    """Sentences to decode as encoder ids over the training pairs' source vocabulary (which
    starts with `<pad>`): a token outside it is `<unk>`, which the vocabulary then has."""
    return build_batch(sentences, vocab[1:], tokens=tokens, ids=True)
