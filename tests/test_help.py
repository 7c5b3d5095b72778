"""Help pages that read at a glance: options in panels, examples, wide descriptions."""

from __future__ import annotations

import re

import pytest

PANELS = {
    "Words": ["WORD...", "--vocab CHARS", "--tokens TOKENS", "--window T", "--stride S",
              "--from FILE", "--columns NAME,...", "--limit N"],
    "Network": ["--hidden, -H N[,N...]", "--style STYLE", "--cell CELL", "--seed N",
                "--[no-]return-sequences", "--[no-]return-state", "--[no-]bidirectional",
                "--merge-mode MODE", "--initial-state STATE", "--chunks K", "--reset-between"],
    "Model": ["--embed onehot|N", "--head N", "--each-step", "--torch", "--load FILE.keras"],
    "Show": ["--weights", "--check", "--shapes", "--steps", "--at T", "--diagram", "--word N",
             "--code", "--all"],
    "Output": ["--json", "--export FILE"],
    "Server": ["--no-server"],
}  # fmt: skip
LECTURE = [
    "rnnprobe run hello --hidden 2",
    "rnnprobe run hello eolll lleel --style cell",
    "rnnprobe run hello eolll lleel --json | jq '.outputs.shape'",
]


def panels(text: str) -> dict[str, list[str]]:
    """Panel title -> the option column of each row that starts an option."""
    found: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        title = re.match(r"^╭─ (.+?) ─", line)
        if title:
            current = found.setdefault(title.group(1), [])
        elif current is not None and line.startswith("│ ") and line[2] != " ":
            current.append(re.split(r"\s{2,}", line[2:].rstrip("│ "))[0])
    return found


def help_text(cli, *args: str, columns: int = 80) -> str:
    return cli.ok(*args, "--help", env={"COLUMNS": str(columns)}).stdout


def test_run_help_groups_its_options_in_panels(cli):
    found = panels(help_text(cli, "run"))
    assert list(found)[:6] == list(PANELS)
    for title, options in PANELS.items():
        assert found[title] == options, title


def test_seed_has_a_short_metavar_and_its_range_in_words(cli):
    text = " ".join(help_text(cli, "run", columns=120).split())
    assert "--seed N Seed for the weights, 0 to 4294967295 (default: drawn and reported)." in text
    assert "<=x<=" not in text


@pytest.mark.parametrize("args", [["run"], []], ids=["run", "rnnprobe"])
def test_the_examples_start_with_the_lectures_three_commands(cli, args):
    lines = [line.strip() for line in help_text(cli, *args).splitlines()]
    start = lines.index("Examples: the lecture's three steps, then more")
    assert lines[start + 1 : start + 4] == LECTURE


@pytest.mark.parametrize(
    "command", ["run", "compare", "vocab", "batch", "serve", "seq2seq", "series"]
)
def test_at_80_columns_no_description_is_narrower_than_35(cli, command):
    text = help_text(cli, command, columns=80)
    rows = [line for line in text.splitlines() if line.startswith("│ ")]
    assert rows
    for line in rows:
        names = re.match(r"│ (\S.*?)\s{2,}\S", line)
        if names:  # a row that starts an option: its description starts after the names
            start = names.end() - 1
            assert len(line) - 2 - start >= 35, line
    assert max(len(line) for line in text.splitlines()) <= 80


def test_compare_shares_the_panels(cli):
    found = panels(help_text(cli, "compare"))
    assert found["Words"] == ["WORD...", "--vocab CHARS", "--tokens TOKENS"]
    assert found["Model"] == ["--embed onehot|N", "--head N", "--each-step"]  # no --torch
    assert found["Network"][:2] == ["--hidden, -H N[,N...]", "--cell CELL"]
    assert found["Output"] == ["--json"] and found["Server"] == ["--no-server"]
