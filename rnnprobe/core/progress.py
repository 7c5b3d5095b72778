"""A spinner on stderr while something slow happens, only when stderr is a terminal; a bar
per epoch of a training; and the check a long loop makes between its batches or steps
(`check`): a served request whose client went away stops there."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator

from rnnprobe.core.errors import RnnProbeError

ENABLED = True  # `rnnprobe serve` turns spinners off: its terminal is not the client's
# Set by `rnnprobe serve` while a request runs: the client that sent it went away.
ABANDONED: threading.Event | None = None


class Abandoned(RnnProbeError):
    """The client of a served request went away: the work stops (no one reads it)."""

    exit_code = 130


# Set by `spinner` while it shows: what a long pass reports its batches to (`advance`).
_ADVANCE: Callable[[int, int], None] | None = None
# True while a spinner or a training's bar is drawn: a second one inside it (TensorFlow
# loading while a bar is up) would draw over it and leave a broken line on the terminal.
_LIVE = False


@contextlib.contextmanager
def _live() -> Iterator[None]:
    global _LIVE
    before, _LIVE = _LIVE, True
    try:
        yield
    finally:
        _LIVE = before


def check() -> None:
    """Stop here if the request this work answers was abandoned (a served client that was
    killed or interrupted): called between the batches and steps of long loops."""
    if ABANDONED is not None and ABANDONED.is_set():
        raise Abandoned("the client went away: the request stopped")


def advance(done: int, total: int) -> None:
    """A long pass is `done` batches of `total` in: stop here if its client went away, and
    let the spinner on the terminal (if any) say how far it is and the time left."""
    check()
    if _ADVANCE is not None and total > 1:
        _ADVANCE(done, total)


def _left(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1, round(seconds))} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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
    global _ADVANCE, _LIVE
    if not ENABLED or not stderr_is_terminal() or _LIVE:  # one live line at a time
        yield
        return
    from rich.console import Console

    with os.fdopen(os.dup(2), "w", encoding="utf-8") as terminal:
        console = Console(file=terminal)
        with console.status(message, spinner="dots") as status:
            began = [0.0]

            def advanced(done: int, total: int) -> None:
                now = time.monotonic()
                if done == 0:  # a pass starts: its time counts from here
                    began[0] = now
                    return
                left = (now - began[0]) / done * (total - done)
                status.update(f"{message} batch {done:,} of {total:,}, about {_left(left)} left")

            before, _ADVANCE, _LIVE = _ADVANCE, advanced, True
            try:
                yield
            finally:
                _ADVANCE, _LIVE = before, False


@contextlib.contextmanager
def training(
    epochs: int, batches: int, *, shown: bool = True
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[int, int, float], None] | None]]:
    """A bar per epoch on the terminal behind stderr: the epoch, its batches done, the
    running loss and the time left; and the two functions a training calls (after an
    epoch, after a batch). Nothing is drawn when not `shown` or stderr is no terminal."""
    if not shown or not ENABLED or not stderr_is_terminal() or _LIVE:
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
        with Progress(*columns, console=console, transient=True) as shown_bar, _live():
            task = shown_bar.add_task(f"epoch 1/{epochs}", total=batches, loss="…")

            def on_epoch(epoch: int) -> None:
                if epoch < epochs:
                    described = f"epoch {epoch + 1}/{epochs}"
                    shown_bar.reset(task, total=batches, description=described, loss="…")

            def on_batch(done: int, total: int, loss: float) -> None:
                shown_bar.update(task, completed=done, total=total, loss=f"{loss:.4f}")

            yield on_epoch, on_batch
