"""What every stage is: a kind with weights (names, shapes, axes), parameters and rows of
the layers table; the faces dispatch on the kind."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Weight:
    """A weight as the description knows it before it exists: name, shape, axes."""

    name: str  # `kernel`, `1/forward/bias`, `embedding/embeddings`, `head/kernel`
    shape: tuple[int, ...]
    dims: tuple[str, ...]
    trainable: bool = True

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class KerasLayer:
    """One row of the layers table: a Keras layer as `model.summary()` lists it, with the
    real batch size in its output shape, and whether it passes a mask on."""

    name: str
    keras_class: str
    shape: tuple[int, ...]
    mask: bool
    params: int


class Stage:
    """A part of the network. Each kind says what it holds; the faces do the rest."""

    name: ClassVar[str]
    built_last: ClassVar[bool] = False  # constructed after the others (Keras draws its seeds)
    fixed_time: ClassVar[bool] = False  # a traced graph must know the word length
    # What a recurrent layer reading this stage reads, in words: whole, and at one step.
    read_as: ClassVar[tuple[str, str] | None] = None
    option: ClassVar[str | None] = None  # the option that sizes it (a memory refusal names it)

    @property
    def option_value(self) -> str:
        """The value of `option` that made this stage, as the command line spells it."""
        return ""

    def weights(self) -> tuple[Weight, ...]:
        return ()

    @property
    def params(self) -> int:
        return sum(w.size for w in self.weights())

    def counts(self) -> tuple[tuple[str, str, int], ...]:
        """(label, formula, parameters) per part that holds weights, for the shapes view."""
        return ()

    def floats(self, rows: int, time: int) -> int:
        """About how many numbers the stage's output holds (for the memory estimate)."""
        return 0

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        """The rows of the layers table this stage adds, and whether a mask flows on."""
        return [], masked
