"""The configured linters pass: ruff (rules in pyproject.toml) and mypy."""

from __future__ import annotations

import sys

PATHS = ["rnnprobe", "tests", "benchmarks"]
# Run in the repository beside the other tests, from the moment they are collected.
BACKGROUND = {
    "ruff check": [sys.executable, "-m", "ruff", "check", *PATHS],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", *PATHS],
    "mypy": [sys.executable, "-m", "mypy"],
}


def test_ruff_check_passes(background):
    done = background("ruff check")
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_format_is_applied(background):
    done = background("ruff format")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_passes(background):
    done = background("mypy")
    assert done.returncode == 0, done.stdout + done.stderr
