"""A spinner on stderr while something slow happens, only when stderr is a terminal; a bar
per epoch of a training; and the check a long loop makes between its batches or steps
(`check`): a served request whose client went away stops there."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator

from rnnprobe.core.errors import RnnProbeError

ENABLED = True  # `rnnprobe serve` turns spinners off: its terminal is not the client's
# Set by `rnnprobe serve` while a request runs: the client that sent it went away.
ABANDONED: threading.Event | None = None


class Abandoned(RnnProbeError):
    """The client of a served request went away: the work stops (no one reads it)."""

    exit_code = 130


def check() -> None:
    """Stop here if the request this work answers was abandoned (a served client that was
    killed or interrupted): called between the batches and steps of long loops."""
    if ABANDONED is not None and ABANDONED.is_set():
        raise Abandoned("the client went away: the request stopped")


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
def training(
    epochs: int, batches: int, *, shown: bool = True
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[int, int, float], None] | None]]:
    """A bar per epoch on the terminal behind stderr: the epoch, its batches done, the
    running loss and the time left; and the two functions a training calls (after an
    epoch, after a batch). Nothing is drawn when not `shown` or stderr is no terminal."""
    if not shown or not ENABLED or not stderr_is_terminal():
        yield None, None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with os.fdopen(os.dup(2), "w", encoding="utf-8") as terminal:
        console = Console(file=terminal)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("batches  loss {task.fields[loss]}"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=True) as shown_bar:
            task = shown_bar.add_task(f"epoch 1/{epochs}", total=batches, loss="…")

            def on_epoch(epoch: int) -> None:
                if epoch < epochs:
                    described = f"epoch {epoch + 1}/{epochs}"
                    shown_bar.reset(task, total=batches, description=described, loss="…")

            def on_batch(done: int, total: int, loss: float) -> None:
                shown_bar.update(task, completed=done, total=total, loss=f"{loss:.4f}")

            yield on_epoch, on_batch
