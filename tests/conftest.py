"""Shared fixtures: an in-process CLI runner (TensorFlow loads once per test run)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from rnnprobe.cli import app

LECTURE_WORDS = ["hello", "eolll", "lleel"]


class Cli:
    """Invoke rnnprobe in this process and check the stream discipline of each call."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        return self.runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        result = self(*args, input=input, env=env)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""
        return result

    def json(self, *args: str, input: str | None = None) -> dict[str, Any]:
        return json.loads(self.ok(*args, "--json", input=input).stdout)

    def usage_error(self, *args: str, input: str | None = None) -> str:
        """Exit 2, nothing on stdout, one line on stderr, no traceback: that line."""
        result = self(*args, input=input)
        assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()
