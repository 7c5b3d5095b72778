"""The errors the core raises; `cli.py` turns them into a message and an exit code."""

from __future__ import annotations


class RnnProbeError(Exception):
    """An expected failure at run time: one line on stderr, exit code 1."""

    exit_code = 1


class InputError(RnnProbeError):
    """Bad input from the user (words, options, stdin): a usage error, exit code 2."""

    exit_code = 2


def click_message(error: Exception) -> str | None:
    """The message of a Click usage error (Typer may vendor its own Click), else None."""
    format_message = getattr(error, "format_message", None)
    if format_message is None or not isinstance(getattr(error, "exit_code", None), int):
        return None
    # Typer validates choices with pydantic, whose messages start with "Value error, ".
    return str(format_message()).replace("Value error, ", "")
