"""Big batches, summarised tables, `--export`, and the progress spinner."""

from __future__ import annotations

import json
import os
import pty
import random
import re
import select
import string
import subprocess
import sys

import numpy as np
import pytest


def random_words(count: int, alphabet: str = "abcde") -> list[str]:
    rng = random.Random(0)
    return ["".join(rng.choices(alphabet, k=rng.randint(1, 16))) for _ in range(count)]


def test_ten_thousand_words_from_stdin(cli):
    words = random_words(10_000)
    obj = cli.json("run", "-", "--hidden", "4", "--seed", "1", input="\n".join(words))
    lengths = np.asarray(obj["lengths"])
    assert obj["x_data"]["shape"] == [10_000, 16, 5]
    assert obj["outputs"]["shape"] == [10_000, 16, 4]
    assert lengths.tolist() == [len(w) for w in words]
    outputs = np.asarray(obj["outputs"]["values"], dtype=np.float32)
    state = np.asarray(obj["states"][0]["values"], dtype=np.float32)
    np.testing.assert_array_equal(state, outputs[np.arange(10_000), lengths - 1])
    x = np.asarray(obj["x_data"]["values"])
    assert (x.sum(axis=-1) == (np.arange(16)[None, :] < lengths[:, None])).all()


def test_tables_show_the_first_eight_words_then_a_note(cli):
    words = [f"w{letter}" for letter in string.ascii_lowercase[:11]]
    out = cli.ok("run", *words, "--seed", "1").stdout
    assert len(re.findall(r"^word \d+: ", out, flags=re.M)) == 8
    assert "word 8: wh" in out and "word 9:" not in out
    assert "... 3 more words (use --all to show every word, or --json)" in out
    everything = cli.ok("run", *words, "--seed", "1", "--all").stdout
    assert len(re.findall(r"^word \d+: ", everything, flags=re.M)) == 11
    assert "more word" not in everything


def test_vocab_tables_are_summarised_too(cli):
    words = [f"v{n}" for n in range(9)]
    assert "... 1 more word (use --all" in cli.ok("vocab", *words).stdout
    assert "more word" not in cli.ok("vocab", *words, "--all").stdout


def test_a_long_single_word_is_shown_in_full(cli):
    word = "abcdefghij" * 6
    out = cli.ok("run", word, "--seed", "1").stdout
    assert " 59 │ j " in out


@pytest.mark.parametrize(
    ("suffix", "starts", "contains"),
    [(".svg", "<svg", "hello"), (".html", "<!DOCTYPE html>", "<html"), (".txt", "rnn = ", "h =")],
)
def test_export_writes_the_tables_and_leaves_stdout_alone(cli, tmp_path, suffix, starts, contains):
    target = tmp_path / f"probe{suffix}"
    plain = cli.ok("run", "hello", "--seed", "1").stdout
    exported = cli.ok("run", "hello", "--seed", "1", "--export", str(target))
    assert exported.stdout == plain
    text = target.read_text(encoding="utf-8")
    assert text.lstrip().startswith(starts)
    assert contains in text
    if suffix == ".txt":
        assert "\x1b[" not in text
        assert text == plain
    if suffix == ".svg":
        assert "fill: #" in text or "fill:#" in text  # coloured, even though stdout is piped


def test_export_with_json_writes_tables_to_the_file_and_json_to_stdout(cli, tmp_path):
    target = tmp_path / "probe.txt"
    result = cli.ok("run", "hello", "--seed", "1", "--json", "--export", str(target))
    assert json.loads(result.stdout)["seed"] == 1
    assert "outputs, h = rnn(x_data)" in target.read_text(encoding="utf-8")


@pytest.fixture
def no_probe(monkeypatch):
    """Any attempt to run a model fails the test: the error must come before that work."""
    from rnnprobe.core.commands import run as commands

    def refuse(*args, **kwargs):
        raise AssertionError("the probe ran")

    monkeypatch.setattr(commands, "run", refuse)


@pytest.mark.parametrize(
    ("target", "needle"),
    [
        ("missing/probe.svg", "the directory '{tmp}/missing' does not exist"),
        ("file.txt/probe.svg", "'{tmp}/file.txt' is not a directory"),
        ("folder.svg", "'{tmp}/folder.svg' is a directory: give a file name"),
    ],
)
def test_an_export_that_cannot_be_written_is_refused_before_any_work(
    cli, tmp_path, no_probe, target, needle
):
    (tmp_path / "file.txt").write_text("x", encoding="utf-8")
    (tmp_path / "folder.svg").mkdir()
    line = cli.usage_error("run", "hello", "--seed", "1", "--export", str(tmp_path / target))
    assert needle.format(tmp=tmp_path) in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to any directory")
def test_an_export_to_a_read_only_directory_is_refused_before_any_work(cli, tmp_path, no_probe):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    line = cli.usage_error("run", "hello", "--export", str(locked / "probe.svg"))
    assert "is not writable" in line


def test_an_export_that_fails_while_writing_is_one_line_and_exit_2(cli, tmp_path, monkeypatch):
    """A file that cannot be written is bad input (exit 2, as the README's table says)."""
    from rich.console import Console

    def full_disk(self, path, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Console, "save_text", full_disk)
    result = cli("run", "hello", "--seed", "1", "--export", str(tmp_path / "probe.txt"))
    assert result.exit_code == 2
    assert result.stderr == (
        f"rnnprobe: error: --export '{tmp_path / 'probe.txt'}' cannot be written: "
        "No space left on device\n"
    )


def _four_decimals(values) -> list[str]:
    return [f"{v:.4f}" for v in np.asarray(values, dtype=np.float64).ravel()]


def test_exports_keep_every_number_whole_at_80_columns(cli, tmp_path):
    args = ["run", "hello", "--seed", "1", "--weights", "--hidden", "4", "--cell", "lstm"]
    target = tmp_path / "probe.txt"
    shown = cli.ok(*args, "--export", str(target), env={"COLUMNS": "80"}).stdout
    exported = target.read_text(encoding="utf-8")
    weights = cli.json(*args)
    for text in (shown, exported):
        assert "…" not in text
        tokens = set(re.findall(r"-?\d+\.\d{4}", text))
        for weight in weights["weights"]:
            assert set(_four_decimals(weight["values"])) <= tokens
    table_lines = [line for line in shown.splitlines() if set(line) & set("│┃━")]
    assert max(map(len, table_lines)) <= 80  # the terminal's: blocks of columns
    widest = max(map(len, exported.splitlines()))
    assert widest > 100  # the export: each weight in one table, as wide as it needs
    assert re.search(r"row ┃ +0 ┃ .* ┃ +15 $", exported, flags=re.M)


def test_a_narrow_terminal_wraps_wide_tables_into_blocks_of_columns(cli):
    args = ["run", "hello", "hi", "--seed", "2", "--hidden", "9"]
    out = cli.ok(*args, env={"COLUMNS": "60"}).stdout
    obj = cli.json(*args)
    assert "…" not in out
    table_lines = [line for line in out.splitlines() if set(line) & set("│┃━")]
    assert max(map(len, table_lines)) <= 60  # code lines are never wrapped, tables are
    tokens = re.findall(r"-?\d+\.\d{4}", out)
    outputs = np.asarray(obj["outputs"]["values"])
    for word, length in enumerate(obj["lengths"]):
        for value in _four_decimals(outputs[word, :length]):
            assert value in tokens
    assert out.count(" t ┃ char ┃") == 6  # two words, each in three blocks
    assert cli.ok(*args, env={"COLUMNS": "80"}).stdout.count(" t ┃ char ┃") == 4
    assert cli.ok(*args, env={"COLUMNS": "200"}).stdout.count(" t ┃ char ┃") == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--export", "probe.pdf"], "unknown extension '.pdf'"),
        (["--export", "probe"], "unknown extension '(none)'"),
        (["--code", "--export", "probe.svg"], "does not combine with --export"),
    ],
)
def test_bad_export_options_are_usage_errors(cli, args, needle):
    assert needle in cli.usage_error("run", "hello", *args)


SPIN = """
import time
from rnnprobe.core import progress
with progress.spinner("Loading things"):
    time.sleep(0.6)
"""


def test_the_spinner_shows_on_a_terminal_only():
    main, secondary = pty.openpty()
    child = subprocess.Popen([sys.executable, "-c", SPIN], stderr=secondary, stdout=secondary)
    os.close(secondary)
    seen = b""
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(main, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    child.wait(timeout=30)
    os.close(main)
    assert b"Loading things" in seen
    piped = subprocess.run([sys.executable, "-c", SPIN], capture_output=True, timeout=30)
    assert piped.stderr == b"" and piped.stdout == b""
