"""What `train` learns from: the task, the model's input and the targets, from the words.

Pure numpy, checked before TensorFlow loads:
- next-token (no targets given): each word reads all its tokens but the last and predicts
  all but the first (`hihello`: `hihell` -> `ihello`); the classes are the vocabulary;
- `labels` (one per word): the word's class, from its last real step;
- `tagged` (word tokens written `word/TAG`): a tag per word of each sentence.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.train_data import TrainData, two_classes
from rnnprobe.core.inputs.vocab import build_batch, counted, trimmed, vocabulary
from rnnprobe.core.kinds import UNK, Task, Tokens


def _split(word: str, kind: Tokens) -> list[str]:
    return word.split() if kind is Tokens.word else list(word)


def _joined(tokens: Sequence[str], kind: Tokens) -> str:
    return " ".join(tokens) if kind is Tokens.word else "".join(tokens)


def parse_labels(labels: str | Sequence[Any] | None) -> list[str] | None:
    """`1,0,0,1` (or a sequence) as one label per word; any strings."""
    if labels is None:
        return None
    found = labels.split(",") if isinstance(labels, str) else [str(v) for v in labels]
    found = [label.strip() for label in found]
    if not found or not all(found):
        raise InputError(
            Param("labels"), f" {labels!r}: give one label per word, separated by commas"
        )
    return found


def task_of(labels: Sequence[str] | None, tagged: bool, kind: Tokens) -> Task:
    """The task the options ask for, checked."""
    if labels is not None and tagged:
        raise InputError(Param("labels"), " and ", Param("tagged"), " do not combine")
    if tagged and kind is not Tokens.word:
        raise InputError(Param("tagged"), " needs ", Param("tokens"), " word")
    if tagged:
        return Task.tags
    return Task.next if labels is None else Task.labels


def task_data(
    words: Sequence[str],
    *,
    kind: Tokens,
    embedded: bool,
    labels: Sequence[str] | None = None,
    tagged: bool = False,
    vocab: str | None = None,
    window: int | None = None,
    stride: int = 1,
    validation: float | None = None,
    seed: int | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
    saved: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> TrainData:
    """The task's input batch, classes and targets, checked (a usage error names what is
    wrong before any model is built). With `window`, the one text given is cut into windows
    of `window` tokens, `stride` apart, each predicting its next tokens. With `validation`,
    a fraction of the rows (drawn from `seed`) is held out: the vocabulary and the classes
    come from the training rows alone (a held-out token training never saw is `<unk>`), as
    with `max_vocab` (the most frequent tokens) and `min_count` (the tokens seen so often).
    `saved`: the vocabulary and the classes of a loaded network (`--load`), kept as they
    are: a token outside the vocabulary is `<unk>`, a class outside the classes refused."""
    task = task_of(labels, tagged, kind)
    if window is not None:
        from rnnprobe.core.inputs.text_windows import window_data

        if task is not Task.next:
            raise InputError(
                Param("window"), " cuts one text into next-token windows: it does not "
                "combine with ", Param("labels" if labels is not None else "tagged"),
            )  # fmt: skip
        return window_data(one_text(words), window, stride, kind, embedded=embedded,
                           vocab=vocab, validation=validation, seed=seed, max_vocab=max_vocab,
                           min_count=min_count, saved=saved)  # fmt: skip
    limited = validation is not None or max_vocab is not None or min_count is not None
    if limited and vocab is not None:
        raise InputError(
            Param("vocab"), " gives the whole vocabulary: it does not combine with ",
            Param("validation" if validation is not None else "max_vocab" if max_vocab
                  is not None else "min_count"),
        )  # fmt: skip
    held = None
    if validation is not None:
        from rnnprobe.core.inputs.split import held_out

        assert seed is not None, "a validation split is drawn from the seed"
        held = held_out(seed, len(words), validation)
    keep = np.ones(len(words), dtype=bool)
    if held is not None:
        keep[held] = False

    def vocabulary_of(texts: Sequence[str]) -> tuple[tuple[str, ...], dict[str, int]]:
        found = vocabulary(texts, vocab, kind)  # every word checked
        if saved is not None:
            return saved[0], dict(counted(texts, kind))
        counts = dict(counted([t for t, k in zip(texts, keep, strict=True) if k], kind))
        if not limited:
            return found, counts
        return trimmed(Counter(counts), max_vocab=max_vocab, min_count=min_count,
                       unknown=validation is not None), counts  # fmt: skip

    if task is Task.labels:
        assert labels is not None
        if len(labels) != len(words):
            raise InputError(
                Param("labels"), f" gives {len(labels)} labels for {len(words)} words: give one"
                " label per word"
            )  # fmt: skip
        tokens_vocab, counts = vocabulary_of(words)
        batch = build_batch(words, tokens_vocab, tokens=kind, ids=embedded)
        classes = tuple(dict.fromkeys(label for label, k in zip(labels, keep, strict=True) if k))
        if saved is not None:
            classes = _loaded_classes(labels, saved[1], "label")
        _all_trained(labels, classes, "label")
        two_classes(classes, "label")
        index = {label: i for i, label in enumerate(classes)}
        ids = np.array([index[label] for label in labels], dtype=np.int32)
        return TrainData(task, tuple(words), batch, classes, Tensor("targets", ("batch",), ids),
                         held_out=held, validation=validation, counts=counts)  # fmt: skip
    if task is Task.tags:
        pairs = [_tagged(number, sentence) for number, sentence in enumerate(words, start=1)]
        inputs = [" ".join(word for word, _ in sentence) for sentence in pairs]
        tags = [[tag for _, tag in sentence] for sentence in pairs]
    else:
        tokens = [_split(word, kind) for word in words]
        for number, (word, found) in enumerate(zip(words, tokens, strict=True), start=1):
            if len(found) < 2:
                what = "sentence" if kind is Tokens.word else "word"
                raise InputError(
                    f"{what} {number} {word!r} has one token: next-token prediction needs at "
                    "least two (or give ", Param("labels"), ")",
                )  # fmt: skip
        inputs = [_joined(found[:-1], kind) for found in tokens]
        tags = [found[1:] for found in tokens]
    tokens_vocab, counts = vocabulary_of(inputs if task is Task.tags else words)
    batch = build_batch(inputs, tokens_vocab, tokens=kind, ids=embedded)
    if saved is not None:
        what = "tag" if task is Task.tags else "token"
        classes = _loaded_classes([t for s in tags for t in s], saved[1], what)
    elif task is Task.next:
        classes = tokens_vocab
    else:
        classes = tuple(dict.fromkeys(t for s, k in zip(tags, keep, strict=True) if k for t in s))
        _all_trained([t for s in tags for t in s], classes, "tag")
    two_classes(classes, "tag" if task is Task.tags else "next token")
    index = {name: i for i, name in enumerate(classes)}
    unknown = index.get(UNK, 0)
    targets = np.zeros((batch.rows, batch.time), dtype=np.int32)
    for row, sequence in enumerate(tags):
        targets[row, : len(sequence)] = [index.get(tag, unknown) for tag in sequence]
    return TrainData(task, tuple(words), batch, classes, Tensor("targets", ("batch", "time"),
                                                                 targets),
                     held_out=held, validation=validation, counts=counts)  # fmt: skip


def _all_trained(given: Sequence[str], classes: Sequence[str], what: str) -> None:
    """Every class a held-out row has, training rows have too: else it cannot be learned."""
    known = set(classes)
    absent = None if UNK in known else next((name for name in given if name not in known), None)
    if absent is not None:
        raise InputError(
            Param("validation"), f" holds out every row of the {what} {absent!r}: a class "
            "that no training row has cannot be learned (give a smaller ", Param("validation"),
            " or another ", Param("seed"), ")",
        )  # fmt: skip


def _loaded_classes(given: Sequence[str], classes: tuple[str, ...], what: str) -> tuple[str, ...]:
    """A loaded network's classes, refused when a row's class is not one of them."""
    known = set(classes)
    absent = next((name for name in given if name not in known), None)
    if absent is not None:
        shown = " ".join(classes[:20]) + (" ..." if len(classes) > 20 else "")
        raise InputError(Param("load"), f" holds a network of the {what}s {shown}: "
                         f"{absent!r} is not one of them")  # fmt: skip
    return classes


def one_text(words: Sequence[str]) -> str:
    """What `--window` cuts: one long text, the only word given."""
    if len(words) != 1:
        raise InputError(
            Param("window"), f" cuts one long text: give it as one argument (in quotes) or - "
            f"for stdin, not {len(words)} words",
        )  # fmt: skip
    return words[0]


def _tagged(number: int, sentence: str) -> list[tuple[str, str]]:
    found = []
    for token in sentence.split():
        word, slash, tag = token.rpartition("/")
        if not (slash and word and tag):
            raise InputError(
                f"sentence {number}: {token!r} has no tag: with ", Param("tagged"),
                " write each word as word/TAG",
            )  # fmt: skip
        found.append((word, tag))
    if not found:
        raise InputError(f"sentence {number} {sentence!r} has no words: give at least one")
    return found


def train_spec(spec: Any, data: TrainData) -> Any:
    """The network `train` builds: the options' layers, a head with a logit per class (on
    every step, or on the last real one) and the loss after it; no states returned."""
    from dataclasses import replace

    return replace(
        spec,
        head=len(data.classes),
        each_step=data.per_step,
        return_sequences=data.per_step,
        return_state=False,
        loss=True,
    )
