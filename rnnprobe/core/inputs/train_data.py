"""What `train` learns from, once read: the words, the model's input batch, the classes
and each row's targets (`tasks` makes it from words, `text_windows` from one long text).
Pure numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.errors import InputError, shown
from rnnprobe.core.kinds import Task, Tokens


@dataclass(frozen=True)
class TrainData:
    """The words as given, what the model reads, the classes and each word's targets."""

    task: Task
    words: Sequence[str]  # as given (`hihello`, `i/pronoun feel/verb`), or a text's windows
    batch: Batch  # the model's input: one-hot x_data, or ids for an Embedding
    classes: tuple[str, ...]  # the class names in id order
    targets: Tensor  # class ids: (batch,) for labels, (batch, time) with 0 at padded steps
    reads: tuple[tuple[str, ...], ...] | None = None  # the tokens read, when not the batch's
    stride: int | None = None  # the words are windows of one text, this many tokens apart
    held_out: np.ndarray | None = None  # the rows held out of training (`--validation`)
    validation: float | None = None  # the fraction asked to be held out
    counts: dict[str, int] | None = None  # how often each token appears in the training rows

    @property
    def trained_rows(self) -> np.ndarray:
        """The rows that train, in order (every row without `--validation`)."""
        keep = np.ones(self.batch.rows, dtype=bool)
        if self.held_out is not None:
            keep[self.held_out] = False
        found: np.ndarray = np.flatnonzero(keep)
        return found

    @property
    def logits_per_row(self) -> int:
        """How many logits a row's output holds: a class score per step, or per row."""
        return (self.batch.time if self.per_step else 1) * len(self.classes)

    def arrays(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """What a network trains on: input, mask and targets, of these rows (or all)."""
        found = (self.batch.input.array, self.batch.mask, self.targets.array)
        return found if rows is None else tuple(a[rows] for a in found)

    def rebuilt(self, ids: np.ndarray) -> tuple[str, ...]:
        """Windows of one text: the text that these class ids (per window and step)
        rebuild, the first window's whole, then the last `stride` of each next one."""
        assert self.stride is not None and self.per_step  # every window of the same steps
        classes = np.array(self.classes, dtype=object)
        return tuple(classes[rebuilt(np.asarray(ids), self.stride)].tolist())

    def read(self, index: int) -> tuple[str, ...]:
        """The tokens word `index` reads, step by step (a decoder's: `<bos>` + its target)."""
        if self.reads is not None:
            return self.reads[index]
        return (self.batch.tokens or ())[index] if self.batch.tokens else ()

    @property
    def unit(self) -> str:
        """What a row is: a `pair` of an encoder-decoder, a `window` of one long text, a
        `sentence` of word tokens, else a `word`."""
        if self.task is Task.seq2seq:
            return "pair"
        if self.stride is not None:
            return "window"
        return "sentence" if self.batch.tokenizer is Tokens.word else "word"

    @property
    def per_step(self) -> bool:
        return self.targets.array.ndim == 2

    def word(self, index: int) -> str:
        """Word `index` as a table names it: as typed, or without its tags."""
        return (self.batch.words or ())[index] if self.task is Task.tags else self.words[index]

    def names(self, ids: np.ndarray, index: int) -> tuple[str, ...] | str:
        """Word `index`'s classes by name: one per real step, or its one class."""
        if not self.per_step:
            return self.classes[int(ids[index])]
        return tuple(self.classes[int(c)] for c in ids[index, : self.batch.lengths[index]])

    def shown(self, names: tuple[str, ...] | str) -> str:
        """Classes as a person reads them: `ihello`, `pronoun verb adjective`, `1`."""
        if isinstance(names, str):
            return names
        joined = "" if self.task is Task.next and self.batch.tokenizer is Tokens.char else " "
        return joined.join(names)


def two_classes(classes: Sequence[str], what: str) -> None:
    """A classifier learns nothing from one class (its softmax is 1 whatever it reads)."""
    if len(classes) == 1:
        said = "empty" if classes[0] == "" else shown(classes[0])
        raise InputError(
            f"only one class left: every {what} is {said}, and a classifier needs "
            "two or more to learn anything (give rows of at least two classes)"
        )


def rebuilt(ids: Any, stride: int) -> Any:
    """The positions of the text that windows of class ids (a row per window, a column per
    step) rebuild: every step of the first window, then the last `stride` of each next one
    (at most all of them): with the windows' predictions, the text from its second token
    on, as the lab prints it."""
    if not len(ids):
        return ids[:0, 0]
    tail = ids[1:, max(0, ids.shape[1] - stride) :]
    return np.concatenate([ids[0], tail.reshape(-1)])
