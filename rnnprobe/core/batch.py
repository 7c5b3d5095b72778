"""Words as the model reads them, and the named tensor every face carries.

Kept small and apart from `result.py`: `vocab` needs only these two.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rnnprobe.core.kinds import Tokens

if TYPE_CHECKING:  # numpy is imported where arrays are made: `--help` needs none
    import numpy as np


@dataclass(frozen=True)
class Tensor:
    """A named array together with the name of each of its axes."""

    name: str
    dims: tuple[str, ...]
    array: np.ndarray = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.dims) != self.array.ndim:
            raise ValueError(f"{self.name}: {len(self.dims)} axis names for {self.array.ndim} axes")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape)


@dataclass(frozen=True)
class Batch:
    """Words turned into the model's input: one-hot `x_data` (batch, time, vocab) float32,
    or, for a model that starts with an Embedding, token `ids` (batch, time) int32.

    Exactly one of `x_data` and `ids` is set. A batch the user brought (`rnnprobe.probe`)
    has no words and no vocabulary: its input is as given, and `lengths` come from its mask.
    """

    words: Sequence[str] | None  # a tuple, or a long text's windows made when read
    vocab: tuple[str, ...] | None
    lengths: Sequence[int]
    x_data: Tensor | None
    ids: Tensor | None = None
    tokenizer: Tokens = Tokens.char
    unit: str | None = None  # what a row is, when not a word or a sentence: a `window`

    @property
    def input(self) -> Tensor:
        """What the model is called on: `ids` or `x_data`."""
        found = self.ids if self.ids is not None else self.x_data
        assert found is not None
        return found

    @property
    def rows(self) -> int:
        return len(self.lengths)

    @property
    def time(self) -> int:
        return self.input.shape[1]

    @property
    def width(self) -> int:
        """The vocabulary's size (with `<pad>` when embedded), or the features given."""
        if self.vocab is not None:
            return len(self.vocab)
        return self.input.shape[2] if self.input.array.ndim == 3 else 0

    @functools.cached_property
    def tokens(self) -> tuple[tuple[str, ...], ...] | None:
        """Each word's tokens: its characters, or its whitespace-separated words."""
        if self.words is None:
            return None
        rows = getattr(self.words, "token_rows", None)
        if rows is not None:  # a long text's windows: each one's tokens when read
            found: tuple[tuple[str, ...], ...] = rows()
            return found
        if self.tokenizer is Tokens.word:
            return tuple(tuple(word.split()) for word in self.words)
        return tuple(tuple(word) for word in self.words)

    def take(self, rows: slice) -> Batch:
        """These rows of the batch (its time axis kept): a part of a corpus, in turn."""
        from dataclasses import replace

        def part(tensor: Tensor | None) -> Tensor | None:
            return None if tensor is None else Tensor(tensor.name, tensor.dims, tensor.array[rows])

        return replace(
            self,
            words=None if self.words is None else self.words[rows],
            lengths=self.lengths[rows],
            x_data=part(self.x_data),
            ids=part(self.ids),
        )

    @property
    def padded(self) -> bool:
        """True when some word is shorter than the batch's time axis."""
        return min(self.lengths) < self.time

    @property
    def mask(self) -> np.ndarray:
        """(batch, time) booleans: True on a word's real steps, False on padding."""
        import numpy as np

        steps = np.arange(self.time)
        return steps[None, :] < np.asarray(self.lengths)[:, None]
