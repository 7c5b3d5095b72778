"""Every example that `--help` shows runs as written."""

from __future__ import annotations

import importlib.util
import json
import shlex

import pytest

from rnnprobe.cli import grads, options, seq2seq, train


def _examples() -> list[str]:
    found = []
    for text in (options.EXAMPLES, grads.EXAMPLES, seq2seq.EXAMPLES, train.EXAMPLES):
        lines = text.replace("\\\n", " ").splitlines()[1:]  # after "Examples: ..."
        found += [" ".join(line.split()) for line in lines]
    return found


def _invocation(example: str) -> tuple[list[str], str | None, bool]:
    """The arguments after `rnnprobe`, stdin from a `printf` before it, and whether a `jq`
    reads its JSON."""
    stdin = None
    if example.startswith("printf "):
        before, example = example.split(" | ", 1)
        stdin = shlex.split(before)[1].encode().decode("unicode_escape").encode("latin-1")
        stdin = stdin.decode("utf-8")
    piped = " | jq " in example
    command = example.split(" | ")[0].split(" #")[0]
    words = shlex.split(command)
    assert words[0] == "rnnprobe", example
    return words[1:], stdin, piped


@pytest.mark.parametrize("example", _examples())
def test_every_help_example_runs(cli, example):
    args, stdin, piped = _invocation(example)
    if "--torch" in args and importlib.util.find_spec("torch") is None:
        pytest.skip("PyTorch is not installed")
    done = cli.ok(*args, input=stdin)
    assert done.stdout.strip()
    if piped or "--json" in args:
        json.loads(done.stdout)


def test_the_examples_are_found():
    found = _examples()
    assert len(found) >= 16 and all("rnnprobe " in line for line in found)
    assert any(line.startswith("printf ") for line in found)
