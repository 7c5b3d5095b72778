"""`inspect --input` and `--random`: the batch a saved model reads, from what a user types.

Pure numpy: the Keras face says what the model's input is (`InputKind`); this reads each
`--input` into one row of it (token strings, token ids, numbers from a CSV file or stdin,
or a whole `.npy` batch), pads the rows as Keras pads them, and checks the shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.table import parse_table, read_text

RANDOM_TIME = 5  # the steps of a --random row when the model takes any length


@dataclass(frozen=True)
class InputKind:
    """What a model's input holds.

    `kind` is "strings" (token strings, `""` as padding; or whole texts for a
    TextVectorization in front), "ids" (whole-number token ids, 0 as padding) or "values"
    (numbers, (batch, time, features)). `shape` is the input's, without the batch axis
    (None where any size goes); `split` how a text becomes tokens: "char", "word" or
    "text" (kept whole); `vocabulary` what --random draws from; `ids` the ids' range.
    """

    kind: str
    shape: tuple[int | None, ...]
    dtype: str
    split: str = "word"
    vocabulary: tuple[str, ...] = ()
    ids: int = 0  # token ids are below this (an Embedding's input_dim); 0: not known

    @property
    def shown(self) -> str:
        return "(" + ", ".join(str(n) for n in (None, *self.shape)) + ")"


def _fits(found: tuple[int, ...], kind: InputKind) -> None:
    wanted = kind.shape
    if len(found) != len(wanted) + 1 or any(
        want is not None and want != got for want, got in zip(wanted, found[1:], strict=True)
    ):
        raise InputError(
            Param("input"), f" has shape {found}: the model reads {kind.shown} (batch first)"
        )


def _tokens(text: str, kind: InputKind) -> list[str]:
    if kind.split == "char":
        return list(text)
    return text.split()


def _padded(
    rows: Sequence[Sequence[object]], fill: object, time: int | None, dtype: Any
) -> np.ndarray:
    longest = max(len(row) for row in rows)
    width = longest if time is None else time
    if longest > width:
        raise InputError(
            Param("input"), f" has a row of {longest} steps: the model reads {width} at most"
        )
    return np.array([[*row, *([fill] * (width - len(row)))] for row in rows], dtype=dtype)


def _ids(text: str) -> list[int]:
    found = []
    for item in text.replace(",", " ").split():
        try:
            number = int(item)
        except ValueError:
            raise InputError(
                Param("input"), f" {text!r}: {item!r} is not a token id (give whole numbers)"
            ) from None
        if number < 0:
            raise InputError(Param("input"), f" {text!r}: token ids are 0 or more")
        found.append(number)
    if not found:
        raise InputError(Param("input"), ' is empty: give token ids such as "3 1 4"')
    return found


def _numbers(given: Sequence[str], kind: InputKind, stdin: Callable[[], str]) -> np.ndarray:
    """One CSV/TSV file (or `-`): its rows are the time steps, its columns the features;
    with a fixed window, every `window` rows are one row of the batch."""
    if len(given) != 1:
        raise InputError(
            Param("input"), ": a model of numbers reads one CSV file, - or a .npy file"
        )
    path = given[0]
    table = parse_table(stdin() if path == "-" else read_text(path), path)
    values = table.values
    features = kind.shape[-1]
    if features is not None and values.shape[1] != features:
        raise InputError(
            Param("input"),
            f" {path!r} has {values.shape[1]} columns: the model reads {features} features "
            f"a step {kind.shown}",
        )
    time = kind.shape[0] if len(kind.shape) == 2 else None
    if time is None:
        return values[None]
    if len(values) % time:
        raise InputError(
            Param("input"),
            f" {path!r} has {len(values)} rows: the model reads windows of {time} rows "
            f"{kind.shown}",
        )
    return values.reshape(-1, time, values.shape[1])


def model_batch(given: Sequence[str], kind: InputKind, stdin: Callable[[], str]) -> np.ndarray:
    """The batch that `--input` gives (each one a row; or one file holding them all)."""
    if len(given) == 1 and given[0].endswith(".npy"):
        try:
            batch = np.load(given[0], allow_pickle=False)
        except FileNotFoundError:
            raise InputError(Param("input"), f" {given[0]!r}: no such file") from None
        except (OSError, ValueError) as error:
            raise InputError(Param("input"), f" {given[0]!r} is not a .npy array: "
                             f"{error}") from None  # fmt: skip
    elif kind.kind == "values":
        batch = _numbers(given, kind, stdin)
    elif kind.kind == "ids":
        batch = _padded([_ids(text) for text in given], 0, kind.shape[0], np.int64)
    elif kind.split == "text":
        batch = np.array(given, dtype=object).reshape(-1, *([1] * len(kind.shape)))
    else:
        rows: list[list[object]] = [list(_tokens(text, kind)) for text in given]
        if not all(rows):
            raise InputError(Param("input"), " has an empty row: give at least one token")
        batch = _padded(rows, "", kind.shape[0], object)
    _fits(tuple(int(n) for n in batch.shape), kind)
    _ids_fit(batch, kind)
    return batch


def _ids_fit(batch: np.ndarray, kind: InputKind) -> None:
    if kind.kind == "ids" and kind.ids and batch.size and int(batch.max()) >= kind.ids:
        raise InputError(Param("input"), f" has token id {int(batch.max())}: the model's "
                         f"Embedding reads ids 0 to {kind.ids - 1}")  # fmt: skip


def checked(batch: np.ndarray, kind: InputKind) -> np.ndarray:
    """A whole batch given as an array, checked against the model's input shape."""
    _fits(tuple(int(n) for n in batch.shape), kind)
    _ids_fit(batch, kind)
    return batch


def random_batch(rows: int, kind: InputKind, seed: int) -> np.ndarray:
    """`--random N`: N rows of the model's input shape, drawn from the seed (tokens from
    the model's vocabulary, ids from its range, numbers from a standard normal)."""
    rng = np.random.default_rng(seed)
    shape = (rows, *(RANDOM_TIME if n is None else n for n in kind.shape))
    if kind.kind == "values":
        return rng.standard_normal(shape)
    if kind.kind == "ids":
        return rng.integers(1, kind.ids if kind.ids > 1 else 10, size=shape)
    if not kind.vocabulary:
        raise InputError(Param("random"), ": the model's tokens are not known: give --input")
    if kind.split == "text":
        words = rng.choice(np.array(kind.vocabulary, dtype=object), size=(rows, RANDOM_TIME))
        texts = np.array([" ".join(row) for row in words], dtype=object)
        return texts.reshape(shape) if len(shape) == 2 else texts
    return rng.choice(np.array(kind.vocabulary, dtype=object), size=shape)
