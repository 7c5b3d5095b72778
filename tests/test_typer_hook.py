"""The private Typer hook (`_runtime_param`) is a speed-up, never a change of behaviour.

Where the installed Typer has the hook (0.29), rnnprobe's text and flag parameters skip
pydantic; where it has not (the lowest Typer pyproject.toml allows), Typer's own coercion
runs. Either way, and with the hook switched off on purpose, the same arguments give the
same output and the same one-line messages.
"""

from __future__ import annotations

import pytest
from typer.main import get_command

import rnnprobe.cli.typer_hook as cli_module
from rnnprobe.cli import app
from rnnprobe.cli.typer_hook import _AsParsed, _WhenGiven

MESSAGES = [
    (["--seed", "-1"], "rnnprobe: error: Invalid value for '--seed': -1 is not in the range "
                       "0<=x<=4294967295."),
    (["--seed", "abc"], "rnnprobe: error: Invalid value for '--seed': 'abc' is not a valid "
                        "integer."),
    (["--seed", "4294967296"], "rnnprobe: error: Invalid value for '--seed': 4294967296 is not "
                               "in the range 0<=x<=4294967295."),
    (["--cell", "foo"], "rnnprobe run: error: Invalid value for '--cell': 'foo' is not one of "
                        "'simple', 'lstm', 'gru'."),
    (["--at", "x", "--steps"], "rnnprobe: error: Invalid value for '--at': 'x' is not a valid "
                               "integer."),
]  # fmt: skip


def _run_params() -> dict:
    command = get_command(app).commands["run"]  # type: ignore[attr-defined]
    ctx = command.make_context("run", ["hi"])
    return {param.name: param for param in command.get_params(ctx)}


def test_the_hook_is_taken_only_where_typer_has_it():
    params = _run_params()
    if hasattr(params["seed"], "type_descriptor"):  # a Typer with the hook
        for name in ("words", "vocab_", "hidden", "seed", "json_", "bidirectional"):
            assert type(params[name]._runtime_param) is _AsParsed, name
        for name in ("cell", "style", "tokens", "export"):
            assert type(params[name]._runtime_param) is _WhenGiven, name
    else:  # Typer's own coercion: nothing of rnnprobe's is set
        for param in params.values():
            assert getattr(param, "_runtime_param", None) is None


@pytest.mark.parametrize("hooked", [True, False], ids=["hook", "no-hook"])
@pytest.mark.parametrize(("args", "message"), MESSAGES, ids=lambda v: " ".join(v)[:30])
def test_the_same_message_with_or_without_the_hook(cli, monkeypatch, hooked, args, message):
    if not hooked:
        monkeypatch.setattr(cli_module, "_as_parsed", lambda params: params)
    assert cli.usage_error("run", "hi", *args) == message


def test_the_same_output_with_or_without_the_hook(cli, monkeypatch):
    args = ["run", "hello", "hi", "--cell", "gru", "--seed", "3", "--style", "cell",
            "--merge-mode", "sum", "--bidirectional", "--at", "1", "--steps"]  # fmt: skip
    vocab = ["vocab", "i feel", "--tokens", "word", "--vocab", "feel,i"]
    hooked, hooked_vocab = cli.ok(*args).stdout, cli.json(*vocab)
    monkeypatch.setattr(cli_module, "_as_parsed", lambda params: params)
    assert cli.ok(*args).stdout == hooked
    assert cli.json(*vocab) == hooked_vocab
