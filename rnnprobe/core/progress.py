"""A spinner on stderr while something slow happens, only when stderr is a terminal."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator

ENABLED = True  # `rnnprobe serve` turns spinners off: its terminal is not the client's


def stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


@contextlib.contextmanager
def spinner(message: str) -> Iterator[None]:
    """Show `message` with a spinner on the terminal behind stderr; nothing otherwise.

    The spinner writes to its own duplicate of file descriptor 2, so it stays visible
    while the code inside silences descriptor 2 (TensorFlow's C++ start-up logging).
    """
    if not ENABLED or not stderr_is_terminal():
        yield
        return
    from rich.console import Console

    with os.fdopen(os.dup(2), "w", encoding="utf-8") as terminal:
        console = Console(file=terminal)
        with console.status(message, spinner="dots"):
            yield


@contextlib.contextmanager
def bar(total: int, message: str) -> Iterator[Callable[[int], None]]:
    """A progress bar of `total` steps on the terminal behind stderr, and the function that
    says how many are done; nothing is drawn when stderr is not a terminal."""
    if not ENABLED or not stderr_is_terminal():
        yield lambda done: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with os.fdopen(os.dup(2), "w", encoding="utf-8") as terminal:
        console = Console(file=terminal)
        columns = (TextColumn(message), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=console, transient=True) as shown:
            task = shown.add_task(message, total=total)
            yield lambda done: shown.update(task, completed=done)
