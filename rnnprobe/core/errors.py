"""The errors the core raises; the CLI and the Python API each say them in their own words.

A message names a parameter as a `Param`; the Python API spells it as the keyword
(`hidden`), the CLI as its option (`--hidden`). Everything else in the message is the same.
"""

from __future__ import annotations

from collections.abc import Mapping


class RnnProbeError(Exception):
    """An expected failure at run time: one line on stderr, exit code 1."""

    exit_code = 1


class Param(str):
    """The name of a parameter inside an error message (`hidden`, `merge_mode`)."""


# How the Python API spells a parameter where the plain keyword would read badly.
API_NAMES: Mapping[str, str] = {
    "bidirectional": "bidirectional=True",
    "no_return_sequences": "return_sequences=False",
}


class InputError(RnnProbeError, ValueError):
    """Bad input from the user (words, options, stdin): a usage error, exit code 2."""

    exit_code = 2

    def __init__(self, *parts: str) -> None:
        self.parts = parts
        super().__init__(self.message(API_NAMES))

    def message(self, names: Mapping[str, str]) -> str:
        """The message with each parameter spelled as `names` says (else as itself)."""
        return "".join(names.get(p, p) if isinstance(p, Param) else p for p in self.parts)


def shown(text: str, limit: int = 60) -> str:
    """A user's text inside a message: quoted; bytes that are not UTF-8 (read from a command
    line as surrogates) as \\xNN; a long one cut in its middle, with its length."""
    plain = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if len(plain) > limit:
        keep = limit // 2
        return f"'{plain[:keep]}…{plain[-keep // 2 :]}' ({len(text):,} characters)"
    return repr(plain) if "\\" not in plain else f"'{plain}'"


def click_message(error: Exception) -> str | None:
    """The message of a Click usage error (Typer may vendor its own Click), else None."""
    format_message = getattr(error, "format_message", None)
    if format_message is None or not isinstance(getattr(error, "exit_code", None), int):
        return None
    # Typer validates choices with pydantic, whose messages start with "Value error, ".
    return str(format_message()).replace("Value error, ", "")
