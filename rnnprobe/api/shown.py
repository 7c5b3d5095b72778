"""What every result of the Python API shares: it shows itself as the command's tables
(rich in a terminal, HTML in Jupyter) and converts to the command's JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import Console, RenderableType
from rich.jupyter import JupyterMixin

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.result import Batch, Tensor
from rnnprobe.show import jsonout, widgets


def words_of(words: str | Sequence[str], tokens: str = "char") -> list[str]:
    """A string is split on whitespace (with word tokens: one sentence per line); a list
    (or tuple) of strings is taken as it is."""
    if isinstance(words, str):
        if tokens == "word":
            return [line for line in words.splitlines() if line.strip()]
        return words.split()
    if isinstance(words, Sequence) and all(isinstance(w, str) for w in words):
        return list(words)
    raise InputError(Param("words"), f" {words!r}: give a string of words or a list of strings")


def words_or_text(words: str | Sequence[str], tokens: str, window: int | None) -> list[str]:
    """`words_of`, or with a `window`, the one text a string is (or a list's only item)."""
    if window is None:
        return words_of(words, tokens)
    return [words] if isinstance(words, str) else words_of(words, tokens)


def window_of(window: Any, stride: Any) -> tuple[int | None, int]:
    """`window` and `stride`, checked: a stride needs a window."""
    from rnnprobe.core import options

    if window is None:
        if stride is not None:
            raise InputError(Param("stride"), " needs ", Param("window"))
        return None, 1
    step = 1 if stride is None else options.positive_int("stride", stride)
    return options.positive_int("window", window), step


def array_of(tensor: Tensor | None) -> np.ndarray | None:
    return None if tensor is None else tensor.array


def check_of(found: Any, *also: str) -> dict[str, Any] | None:
    """`.check`: the largest difference and whether it is within the tolerance (and the
    check's fields named in `also`); None without a check."""
    if found is None:
        return None
    return {"max_abs_diff": found.max_abs_diff, "ok": found.ok,
            **{name: getattr(found, name) for name in also}}  # fmt: skip


class Shown(JupyterMixin):
    """A result that shows itself as the command's tables (rich, Jupyter)."""

    def _keep(self, batch: Batch) -> None:
        """The words, the vocabulary, the lengths and x_data, as lists and an array."""
        self.words: list[str] = list(batch.words or ())
        self.vocab: list[str] = list(batch.vocab or ())
        self.lengths: list[int] = list(batch.lengths)
        self.x_data: np.ndarray | None = None if batch.x_data is None else batch.x_data.array

    def _view(self) -> RenderableType:
        raise NotImplementedError

    def __rich__(self) -> RenderableType:
        return self._view()

    def show(self, *, width: int | None = None) -> None:
        """Print the tables on the terminal (or where stdout goes)."""
        widgets.show(Console(width=width, markup=False, emoji=False), self._view())

    def to_dict(self) -> dict[str, Any]:
        """What the command prints with --json, read back: same keys, same values."""
        return dict(json.loads(self.to_json()))

    def to_json(self) -> str:
        """What the command prints with --json (without its final newline)."""
        return jsonout.dumps(self._json()).decode("utf-8").rstrip("\n")

    def _json(self) -> dict[str, Any]:
        raise NotImplementedError


class Picture(JupyterMixin):
    """A view on its own (a diagram), shown as rich text or, in Jupyter, as HTML."""

    def __init__(self, view: RenderableType) -> None:
        self.view = view

    def __rich__(self) -> RenderableType:
        return self.view

    def show(self, *, width: int | None = None) -> None:
        widgets.show(Console(width=width, markup=False, emoji=False), self.view)
