"""One long text cut into windows (the long-sentence lab): each window reads `window`
tokens and, to predict, the token after it. Pure numpy."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any, cast

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import Tokens


def text_windows(
    text: str, window: int, stride: int, tokens: Tokens, *, predict: bool
) -> list[str]:
    """One long text cut into windows `stride` tokens apart, each with the token after it
    (the lab's 170 windows of 10 over its 180-character sentence): with `predict`, each
    window holds `window` + 1 tokens (it reads the first `window` and predicts the next at
    each step), else only the `window` it reads."""
    found = text.split() if tokens is Tokens.word else list(text)
    if len(found) < window + 1:
        what = "words" if tokens is Tokens.word else "characters"
        raise InputError(
            f"the text has {len(found)} {what}: a window of {window} (", Param("window"),
            f") and the token after it need at least {window + 1}",
        )  # fmt: skip
    joined = " ".join if tokens is Tokens.word else "".join
    size = window + 1 if predict else window
    count = -(-(len(found) - window) // stride)
    from rnnprobe.core import budget

    # Each window is a string of its own: about a byte a character and 60 bytes besides.
    need = count * (size * (2 if tokens is Tokens.word else 1) + 60)
    budget.ensure_fits(need, Param("window"), f" {window}: {count:,} windows of {size:,} tokens")
    return [joined(found[i : i + size]) for i in range(0, len(found) - window, stride)]


def window_data(
    text: str,
    window: int,
    stride: int,
    kind: Tokens,
    *,
    embedded: bool,
    vocab: str | None = None,
    validation: float | None = None,
    seed: int | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
    saved: tuple[tuple[str, ...], tuple[str, ...]] | None = None,
) -> Any:
    """One long text as `train` learns it: windows of `window` tokens `stride` apart, each
    predicting its next tokens (the window and the token after it). Nothing is cut whole:
    the windows are views of the text's token ids, their one-hot rows made a batch at a
    time, their strings when read; the vocabulary and its counts come from the text itself
    (the training windows' tokens, with `validation`), each token counted once."""
    import numpy as np

    from rnnprobe.core.batch import Batch, Tensor
    from rnnprobe.core.inputs import lazy
    from rnnprobe.core.inputs.train_data import TrainData, two_classes
    from rnnprobe.core.inputs.vocab import check_words, trimmed, vocabulary
    from rnnprobe.core.kinds import PAD, UNK, Task

    check_words([text])
    tokens: Sequence[str] = text.split() if kind is Tokens.word else text
    count = len(range(0, len(tokens) - window, stride))
    if count < 1:
        what = "words" if kind is Tokens.word else "characters"
        raise InputError(
            f"the text has {len(tokens)} {what}: a window of {window} (", Param("window"),
            f") and the token after it need at least {window + 1}",
        )  # fmt: skip
    held = None
    starts = np.arange(count) * stride
    if validation is not None:
        from rnnprobe.core.inputs.split import held_out

        assert seed is not None, "a validation split is drawn from the seed"
        held = held_out(seed, count, validation)
        keep = np.ones(count, dtype=bool)
        keep[held] = False
        covered = np.zeros(len(tokens) + 1, dtype=np.int32)  # the training windows' tokens
        np.add.at(covered, starts[keep], 1)
        np.add.at(covered, starts[keep] + window + 1, -1)
        trained: np.ndarray | slice = np.cumsum(covered, dtype=np.int32)[: len(tokens)] > 0
    else:  # every window trains: the tokens up to the last window's end
        trained = slice(0, int(starts[-1]) + window + 1)
    if kind is Tokens.word:
        index_of: dict[str, int] = {}
        inverse = np.fromiter((index_of.setdefault(t, len(index_of)) for t in tokens),
                              dtype=np.int32, count=len(tokens))  # fmt: skip
        distinct = list(index_of)
    else:  # the text's code points, each read through a table of the distinct ones
        codes = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
        present = np.flatnonzero(np.bincount(codes))
        distinct = sorted((chr(c) for c in present.tolist()), key=text.find)  # first seen
        table = np.zeros(int(present[-1]) + 1, dtype=np.int32)
        table[[ord(c) for c in distinct]] = np.arange(len(distinct), dtype=np.int32)
        inverse = table[codes]
        del codes
    seen = np.bincount(inverse[trained], minlength=len(distinct))
    counts = {token: int(n) for token, n in zip(distinct, seen.tolist(), strict=True) if n}
    limited = validation is not None or max_vocab is not None or min_count is not None
    if saved is not None:
        found = saved[0]
    elif limited:
        found = trimmed(Counter(counts), max_vocab=max_vocab, min_count=min_count,
                        unknown=validation is not None)  # fmt: skip
    elif vocab is not None:
        found = vocabulary([text], vocab, kind)
    else:
        found = tuple(distinct)
    index = {token: i for i, token in enumerate(found)}
    unknown = index.get(UNK, -1)
    mapping = np.array([index.get(t, unknown) for t in distinct], dtype=np.int32)
    ids = mapping[inverse]
    if (ids < 0).any():
        token = tokens[int(np.flatnonzero(ids < 0)[0])]
        raise InputError(f"the text uses {token!r}, which the vocabulary does not hold")
    two_classes(found, "next token")
    joiner = " " if kind is Tokens.word else ""
    rows = np.lib.stride_tricks.sliding_window_view(ids, window + 1)[::stride][:count]
    if embedded:
        shifted = np.lib.stride_tricks.sliding_window_view(ids + 1, window + 1)[::stride][:count]
        batch = Batch(
            lazy.WindowTexts(tokens, window, stride, count, joiner),
            (PAD, *found),
            lazy.Repeated(window, count),
            None,
            ids=Tensor("ids", ("batch", "time"), shifted[:, :-1]),
            tokenizer=kind,
        )
    else:
        batch = Batch(lazy.WindowTexts(tokens, window, stride, count, joiner), found,
                      lazy.Repeated(window, count),
                      Tensor("x_data", ("batch", "time", "vocab"), cast(
                          "np.ndarray", lazy.OneHotRows(rows[:, :-1], len(found)))),
                      tokenizer=kind)  # fmt: skip
    return TrainData(Task.next, lazy.WindowTexts(tokens, window + 1, stride, count, joiner),
                     batch, found, Tensor("targets", ("batch", "time"), rows[:, 1:]),
                     stride=stride, held_out=held, validation=validation,
                     counts=counts)  # fmt: skip
