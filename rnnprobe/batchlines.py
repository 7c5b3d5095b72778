"""One line of `rnnprobe batch`: run it through the `run` command with --json, capture it.

Running the real command (not a copy of its logic) is what makes each output line
exactly what `rnnprobe run <same args> --json` prints.
"""

from __future__ import annotations

import contextlib
import io
import shlex
from typing import Any

from rnnprobe.errors import InputError, RnnProbeError, click_message


class LineError(Exception):
    """A batch line that could not run: its message goes into the JSON Lines output."""


def read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read {path!r}: {reason}") from None


def run_line(run_command: Any, line: str) -> tuple[bytes, bool]:
    """Run one batch line as `run ... --json`: the bytes it printed, and whether it passed."""
    try:
        args = shlex.split(line)
    except ValueError as error:  # unbalanced quotes
        raise LineError(f"bad quoting: {error}") from None
    captured = io.BytesIO()
    try:
        with run_command.make_context("run", [*args, "--json"]) as line_ctx:
            if line_ctx.params.get("words") == ["-"]:
                raise InputError("a batch line cannot read words from stdin")
            stream = io.TextIOWrapper(captured, encoding="utf-8", write_through=True)
            with contextlib.redirect_stdout(stream):
                run_command.invoke(line_ctx)
    except RnnProbeError as error:
        raise LineError(str(error)) from None
    except Exception as error:
        kind = type(error).__name__
        if kind == "Exit" and captured.getvalue():  # run wrote its object, then failed --check
            return captured.getvalue(), False
        message = click_message(error)
        if message is None:
            raise
        raise LineError(message) from None
    return captured.getvalue(), True
