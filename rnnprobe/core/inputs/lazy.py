"""Arrays and sequences made when read: windows of a long series or text stand for
(windows, window, ...) arrays whose rows are cut from the data as a pass reads a batch of
them, so that memory grows with the data and the batch, never with the windows times
their length. Each gives what the passes, the views and the JSON writer ask of an array
(`shape`, `dtype`, `ndim`, `size`, `len`, indexing) and `__array__` for the whole, when a
caller wants it all. Pure numpy."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np


class _Rows3D:
    """What a (rows, time, width) float32 array made when read answers like an array: its
    `dtype`, `ndim`, `size` and length, from the `shape` each kind gives."""

    @property
    def shape(self) -> tuple[int, int, int]:
        raise NotImplementedError

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(np.float32)

    @property
    def ndim(self) -> int:
        return 3

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __len__(self) -> int:
        return self.shape[0]


class WindowRows(_Rows3D):
    """(windows, window, features) float32, cut on demand from the rows: indexing gives
    those windows as an array (a slice, an index array or one window)."""

    def __init__(self, rows: np.ndarray, starts: np.ndarray, window: int) -> None:
        self.rows = np.ascontiguousarray(rows, dtype=np.float32)
        self.starts = np.asarray(starts, dtype=np.int64)
        self.window = window
        view = np.lib.stride_tricks.sliding_window_view(self.rows, window, axis=0)
        self._view = view.transpose(0, 2, 1)  # (every start, window, features), no copy

    @property
    def shape(self) -> tuple[int, int, int]:
        return (len(self.starts), self.window, self.rows.shape[1])

    def __getitem__(self, key: Any) -> np.ndarray:
        rest: tuple[Any, ...] = ()
        if isinstance(key, tuple):
            key, rest = key[0], key[1:]
        found: np.ndarray = self._view[self.starts[key]]
        if not rest:
            return found
        within = (slice(None), *rest)  # every window, then the rest of the key
        return found[within] if found.ndim == 3 else found[rest]

    def take(self, which: Any) -> WindowRows:
        """Some of the windows (an index array or a boolean mask), still cut on demand."""
        return WindowRows(self.rows, self.starts[which], self.window)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        found = self._view[self.starts]
        return found if dtype is None else found.astype(dtype)


class OneHotRows(_Rows3D):
    """(rows, time, width) float32 one-hot rows of token ids (rows, time), made when read:
    a batch of them at a time (the ids of a long text's windows are a view of its ids)."""

    def __init__(self, ids: np.ndarray, width: int) -> None:
        self.ids = ids
        self.width = width
        self._eye = np.eye(width, dtype=np.float32)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (int(self.ids.shape[0]), int(self.ids.shape[1]), self.width)

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple) and len(key) == 3:
            return self[key[:2]][..., key[2]]
        found: np.ndarray = self._eye[self.ids[key]]
        return found

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        found = self[:]
        return found if dtype is None else found.astype(dtype)


class Repeated(Sequence[int]):
    """One number, `count` times (every window's length): a sequence without the list."""

    def __init__(self, value: int, count: int) -> None:
        self.value, self.rows = value, count

    def __len__(self) -> int:
        return self.rows

    @overload
    def __getitem__(self, index: int) -> int: ...

    @overload
    def __getitem__(self, index: slice) -> Repeated: ...

    def __getitem__(self, index: int | slice) -> int | Repeated:
        if isinstance(index, slice):
            return Repeated(self.value, len(range(*index.indices(self.rows))))
        if not -self.rows <= index < self.rows:
            raise IndexError(index)
        return self.value

    def __iter__(self) -> Iterator[int]:
        return iter([self.value] * self.rows) if self.rows < 4096 else (
            self.value for _ in range(self.rows))  # fmt: skip

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.full(self.rows, self.value, dtype=dtype or np.int64)


class WindowTexts(Sequence[str]):
    """Each window of one long text as a string (`size` tokens from token `i * stride`),
    made when read; `tokens(i)` its tokens."""

    def __init__(self, tokens: Sequence[str], size: int, stride: int, count: int,
                 joiner: str) -> None:  # fmt: skip
        self._tokens, self.size, self.stride, self.rows = tokens, size, stride, count
        self.joiner = joiner

    def __len__(self) -> int:
        return self.rows

    def tokens(self, index: int) -> tuple[str, ...]:
        start = range(self.rows)[index] * self.stride
        return tuple(self._tokens[start : start + self.size])

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.rows))]
        return self.joiner.join(self.tokens(index))

    def token_rows(self) -> TokenRows:
        return TokenRows(self)


class TokenRows(Sequence[tuple[str, ...]]):
    """Each window's tokens, made when read (what `Batch.tokens` holds for a long text)."""

    def __init__(self, texts: WindowTexts) -> None:
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, index: int) -> tuple[str, ...]: ...

    @overload
    def __getitem__(self, index: slice) -> list[tuple[str, ...]]: ...

    def __getitem__(self, index: int | slice) -> tuple[str, ...] | list[tuple[str, ...]]:
        if isinstance(index, slice):
            return [self.texts.tokens(i) for i in range(*index.indices(len(self)))]
        return self.texts.tokens(index)
