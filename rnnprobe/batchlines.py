"""One line of `rnnprobe batch`: its arguments, parsed by the `run` command's own parser.

Parsing with the real command (not a copy of its options) is what makes each output line
exactly what `rnnprobe run <same args> --json` prints.
"""

from __future__ import annotations

import shlex
from typing import Any

from rnnprobe.core.errors import InputError, click_message


class LineError(Exception):
    """A batch line that could not run: its message goes into the JSON Lines output."""


def read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read {path!r}: {reason}") from None


def parse_line(run_command: Any, line: str) -> dict[str, Any]:
    """The `run` parameters a batch line gives (with --json), or a LineError saying why not."""
    try:
        args = shlex.split(line)
    except ValueError as error:  # unbalanced quotes
        raise LineError(f"bad quoting: {error}") from None
    try:
        with run_command.make_context("run", [*args, "--json"]) as ctx:
            params = dict(ctx.params)
    except Exception as error:
        message = click_message(error)
        if message is None:
            raise
        raise LineError(message) from None
    if params.get("words") == ["-"]:
        raise LineError("a batch line cannot read words from stdin")
    return params
