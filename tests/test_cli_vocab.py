"""`rnnprobe vocab`: the one-hot batch without a model."""

from __future__ import annotations

from .conftest import LECTURE_WORDS


def test_vocab_json_has_the_pinned_keys(cli):
    obj = cli.json("vocab", *LECTURE_WORDS)
    assert list(obj) == ["rnnprobe", "words", "lengths", "vocab", "x_data", "tokenizer"]
    assert obj["words"] == LECTURE_WORDS
    assert obj["vocab"] == ["h", "e", "l", "o"]
    assert obj["lengths"] == [5, 5, 5]
    assert obj["x_data"]["shape"] == [3, 5, 4]
    assert obj["x_data"]["dims"] == ["batch", "time", "vocab"]
    assert obj["x_data"]["values"][0][0] == [1.0, 0.0, 0.0, 0.0]


def test_vocab_json_equals_the_same_keys_of_run_json(cli):
    vocab = cli.json("vocab", "hello", "hi", "--vocab", "olhei")
    run = cli.json("run", "hello", "hi", "--vocab", "olhei", "--seed", "1")
    assert vocab == {key: run[key] for key in vocab}


def test_vocab_reads_stdin(cli):
    obj = cli.json("vocab", "-", input="hello\neolll lleel\n")
    assert obj["words"] == LECTURE_WORDS


def test_vocab_table_shows_characters_shape_and_rows(cli):
    out = cli.ok("vocab", "hello", "hi").stdout
    assert "vocab (5): h e l o i" in out
    assert "(2, 5, 5)" in out
    assert "batch x time x vocab" in out
    assert "word 2: hi" in out
    assert "pad" in out
    assert "\x1b[" not in out  # piped output is plain text


def test_vocab_option_orders_the_table_columns(cli):
    out = cli.ok("vocab", "hello", "--vocab", "olhe").stdout
    assert "vocab (4): o l h e" in out


def test_vocab_shows_unprintable_characters_escaped(cli):
    out = cli.ok("vocab", "a\tb").stdout
    assert "vocab (3): a \\t b" in out
