"""Bad input: exit 2, one line on stderr naming the problem, nothing on stdout."""

from __future__ import annotations

import pytest

BAD_RUNS = [
    (["run"], None, "no words given"),
    (["run", "hello", ""], None, "word 2 is empty"),
    (["run", "hello", "--hidden", "0"], None, "at least 1 unit"),
    (["run", "hello", "-H", "-3"], None, "'-3' is not a whole number"),
    (["run", "hello", "--hidden", "two"], None, "'two' is not a whole number"),
    (["run", "hello", "--hidden", "\u0663"], None, "is not a whole number"),  # Arabic-Indic 3
    (["run", "hello", "--style", "loop"], None, "'loop' is not one of 'layer', 'cell'"),
    (["run", "hello", "--vocab", "olhel"], None, "repeats 'l'"),
    (["run", "-"], "  \n", "no words on stdin"),
    (["run", "hello", "--seed", "-1"], None, "--seed"),
    (["run", "hello", "--seed", "x"], None, "--seed"),
    (["run", "hello", "--no-such-flag"], None, "No such option: --no-such-flag"),
    (["vocab"], None, "no words given"),
    (["vocab", "-"], "", "no words on stdin"),
    (["vocab", "ab", "--vocab", "aa"], None, "repeats 'a'"),
]


@pytest.mark.parametrize(("args", "stdin", "needle"), BAD_RUNS)
def test_bad_input_is_one_line_and_exit_2(cli, args, stdin, needle):
    line = cli.usage_error(*args, input=stdin)
    assert needle in line
    assert "error" in line


# The memory available is lowered for these tests, so that they hold on any machine.
SMALL_MACHINE = {"RNNPROBE_MEMORY_LIMIT": "4GB"}


def test_a_probe_too_big_for_memory_is_refused_with_the_estimate(cli):
    line = cli.usage_error("run", "hello", "--hidden", "100000", env=SMALL_MACHINE)
    assert line.startswith("rnnprobe: error: --hidden 100000: this probe needs about ")
    assert "recurrent_kernel (100000, 100000) alone is 40.0 GB" in line
    assert line.endswith("more than the 4.0 GB available")


def test_the_memory_limit_only_lowers_what_is_available(cli):
    obj = cli.json("run", "hello", "--hidden", "3", "--seed", "1")
    assert obj["outputs"]["shape"] == [1, 5, 3]
    line = cli.usage_error("run", "hello", "--hidden", "3", env={"RNNPROBE_MEMORY_LIMIT": "100B"})
    assert "more than the 100 bytes available" in line
    high = {"RNNPROBE_MEMORY_LIMIT": "1000PB"}  # above this machine's memory: no effect
    assert "more than the" in cli.usage_error("run", "hello", "--hidden", "200000", env=high)


def test_an_absurd_hidden_size_gets_one_short_line(cli):
    line = cli.usage_error("run", "hello", "--hidden", "99999999999999999999")
    assert line.startswith("rnnprobe: error: --hidden 99999999999999999999: this probe needs ")
    assert "more than 1 PB of memory" in line
    assert len(line) < 140
    assert "00000000000000000000000" not in line.replace("99999999999999999999", "")


def test_an_x_data_too_big_for_memory_is_refused_before_allocation(cli):
    # 400 distinct characters x 400 words x 40000 steps of float32 = 25.6 GB
    words = [chr(0x4E00 + i) * (40000 if i == 0 else 1) for i in range(400)]
    line = cli.usage_error("vocab", *words, env=SMALL_MACHINE)
    assert "x_data (400, 40000, 400) needs about 25.6 GB" in line
