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
    (["run", "hello", "--vocab", "olh"], None, "lacks 'e'"),
    (["run", "hello", "--vocab", "olhel"], None, "repeats 'l'"),
    (["run", "-"], "  \n", "no words on stdin"),
    (["run", "hello", "--seed", "-1"], None, "--seed"),
    (["run", "hello", "--seed", "x"], None, "--seed"),
    (["run", "hello", "--no-such-flag"], None, "No such option: --no-such-flag"),
    (["vocab"], None, "no words given"),
    (["vocab", "-"], "", "no words on stdin"),
    (["vocab", "ab", "--vocab", "a"], None, "lacks 'b'"),
]


@pytest.mark.parametrize(("args", "stdin", "needle"), BAD_RUNS)
def test_bad_input_is_one_line_and_exit_2(cli, args, stdin, needle):
    line = cli.usage_error(*args, input=stdin)
    assert needle in line
    assert "error" in line


def test_a_probe_too_big_for_memory_is_refused_with_the_estimate(cli):
    line = cli.usage_error("run", "hello", "--hidden", "200000")
    assert "recurrent_kernel (200000, 200000) alone is 160.0 GB" in line
    assert "more than the" in line


def test_an_x_data_too_big_for_memory_is_refused_before_allocation(cli):
    # 400 distinct characters x 400 words x 40000 steps of float32 = 25.6 GB
    words = [chr(0x4E00 + i) * (40000 if i == 0 else 1) for i in range(400)]
    line = cli.usage_error("vocab", *words)
    assert "x_data (400, 40000, 400) needs about 25.6 GB" in line
