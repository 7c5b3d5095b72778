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


def test_an_unwritable_export_path_is_a_clear_error(cli, tmp_path):
    result = cli("run", "hello", "--seed", "1", "--export", str(tmp_path / "no" / "dir.svg"))
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "cannot write --export file" in result.stderr


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
from rnnprobe import progress
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
