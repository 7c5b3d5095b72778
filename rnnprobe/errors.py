"""The errors the core raises; `cli.py` turns them into a message and an exit code."""

from __future__ import annotations


class RnnProbeError(Exception):
    """An expected failure at run time: one line on stderr, exit code 1."""

    exit_code = 1


class InputError(RnnProbeError):
    """Bad input from the user (words, options, stdin): a usage error, exit code 2."""

    exit_code = 2
