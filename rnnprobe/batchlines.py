"""One line of `rnnprobe batch`: its arguments, parsed by the `run` command's own parser.

Parsing with the real command (not a copy of its options) is what makes each output line
exactly what `rnnprobe run <same args> --json` prints.
"""

from __future__ import annotations

import shlex
from typing import Any

from rnnprobe.core.errors import InputError, click_message

LINE_COMMANDS = ("run", "seq2seq", "train", "series")  # what a batch line may run


class LineError(Exception):
    """A batch line that could not run: its message goes into the JSON Lines output."""


def read_file(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise InputError(f"cannot read {path!r}: {reason}") from None


def split_line(line: str) -> tuple[str, list[str]]:
    """The command a batch line runs (`run`, or `seq2seq`, `train` or `series` when it
    starts with that word) and its arguments."""
    try:
        args = shlex.split(line)
    except ValueError as error:  # unbalanced quotes
        raise LineError(f"bad quoting: {error}") from None
    if args and args[0] in LINE_COMMANDS[1:]:
        return args[0], args[1:]
    return "run", args


def still_to_come(keys: list[Any]) -> list[int]:
    """For each line, how many lines from it to the end have its key (None counts 1)."""
    counts: dict[Any, int] = {}
    found = []
    for key in reversed(keys):
        if key is None:
            found.append(1)
            continue
        counts[key] = counts.get(key, 0) + 1
        found.append(counts[key])
    return found[::-1]


def parse_line(command: Any, line: str) -> dict[str, Any]:
    """The parameters a batch line gives its command (with --json), or a LineError."""
    name, args = split_line(line)
    try:
        with command.make_context(name, [*args, "--json"]) as ctx:
            params = dict(ctx.params)
    except Exception as error:
        message = click_message(error)
        if message is None:
            raise
        raise LineError(message) from None
    given = params.get("words") or params.get("sentences") or params.get("data") or ()
    if list(given) == ["-"]:  # a list, or a tuple from an older Typer
        what = "data" if params.get("data") else "words"
        raise LineError(f"a batch line cannot read {what} from stdin")
    return params
