"""`rnnprobe run`: shapes, numbers against numpy, seeds, JSON contract and tables."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import numpy as np
import pytest

from .conftest import LECTURE_WORDS, RUN_KEYS_BASE, assert_matches_numpy

RUN_KEYS = [*RUN_KEYS_BASE, "tokenizer", "embed", "head", "each_step", "layers"]


def test_json_keys_are_pinned(cli):
    obj = cli.json("run", *LECTURE_WORDS, "--seed", "123")
    assert list(obj) == RUN_KEYS
    assert obj["style"] == "layer" and obj["cell"] == "simple"
    assert obj["hidden"] == 2 and obj["seed"] == 123
    assert obj["outputs"]["dims"] == ["batch", "time", "hidden"]
    assert [s["name"] for s in obj["states"]] == ["h"]
    assert list(obj["states"][0]) == ["name", "shape", "dims", "values"]
    assert list(cli.json("run", "hi", "--seed", "1", "--weights")) == [*RUN_KEYS, "weights"]


def test_lecture_shapes(cli):
    obj = cli.json("run", *LECTURE_WORDS, "--seed", "0")
    assert obj["x_data"]["shape"] == [3, 5, 4]
    assert obj["outputs"]["shape"] == [3, 5, 2]
    assert obj["states"][0]["shape"] == [3, 2]
    assert obj["states"][0]["dims"] == ["batch", "hidden"]
    assert np.asarray(obj["outputs"]["values"]).shape == (3, 5, 2)


@pytest.mark.parametrize("style", ["layer", "cell"])
@pytest.mark.parametrize("words", [LECTURE_WORDS, ["hello", "hi", "o", "elo"]])
def test_numbers_match_numpy_from_the_reported_weights(cli, style, words):
    obj = cli.json("run", *words, "--style", style, "--seed", "7", "--hidden", "3", "--weights")
    assert_matches_numpy(obj)


def test_state_is_each_words_last_real_step(cli):
    obj = cli.json("run", "hello", "hi", "o", "--seed", "3")
    outputs = np.asarray(obj["outputs"]["values"])
    state = np.asarray(obj["states"][0]["values"])
    for row, length in enumerate(obj["lengths"]):
        np.testing.assert_array_equal(state[row], outputs[row, length - 1])


def test_weights_have_the_keras_shapes(cli):
    obj = cli.json("run", *LECTURE_WORDS, "--seed", "1", "--weights", "-H", "3")
    shapes = {w["name"]: w["shape"] for w in obj["weights"]}
    assert shapes == {"kernel": [4, 3], "recurrent_kernel": [3, 3], "bias": [3]}
    dims = {w["name"]: w["dims"] for w in obj["weights"]}
    assert dims["kernel"] == ["vocab", "hidden"]


def test_hidden_sets_the_units(cli):
    obj = cli.json("run", "hello", "--hidden", "5", "--seed", "1")
    assert obj["hidden"] == 5
    assert obj["outputs"]["shape"] == [1, 5, 5]


def test_both_styles_are_bit_identical_under_one_seed(cli):
    layer = cli.json("run", *LECTURE_WORDS, "--style", "layer", "--seed", "42", "--weights")
    cell = cli.json("run", *LECTURE_WORDS, "--style", "cell", "--seed", "42", "--weights")
    assert cell["style"] == "cell"
    for key in ("outputs", "states", "weights"):
        assert cell[key] == layer[key]


def test_seed_makes_weights_reproducible_and_differs_between_seeds(cli):
    first = cli.json("run", "hello", "--seed", "9", "--weights")
    again = cli.json("run", "hello", "--seed", "9", "--weights")
    other = cli.json("run", "hello", "--seed", "10", "--weights")
    assert first["weights"] == again["weights"]
    assert first["outputs"] == again["outputs"]
    assert first["weights"] != other["weights"]


def test_without_seed_one_is_drawn_and_reported_so_the_run_repeats(cli):
    drawn = cli.json("run", "hello", "--weights")
    assert isinstance(drawn["seed"], int)
    repeated = cli.json("run", "hello", "--weights", "--seed", str(drawn["seed"]))
    assert repeated["outputs"] == drawn["outputs"]


def test_vocab_option_orders_the_one_hot_columns(cli):
    obj = cli.json("run", "hello", "--vocab", "olhex", "--seed", "1")
    assert obj["vocab"] == ["o", "l", "h", "e", "x"]
    assert obj["x_data"]["shape"] == [1, 5, 5]
    assert obj["x_data"]["values"][0][0] == [0.0, 0.0, 1.0, 0.0, 0.0]


def test_words_from_stdin(cli):
    obj = cli.json("run", "-", "--seed", "1", input="hello eolll\nlleel\n")
    assert obj["words"] == LECTURE_WORDS


def test_floats_are_the_shortest_text_of_the_float32_value(cli):
    text = cli.ok("run", *LECTURE_WORDS, "--seed", "5", "--json", "--weights").stdout
    tokens: list[str] = []
    json.loads(text, parse_float=lambda s: tokens.append(s) or float(s))
    assert len(tokens) > 60
    for token in tokens:
        value = np.float32(token)
        shortest = np.format_float_positional(value, unique=True, trim="-")
        assert Decimal(token) == Decimal(shortest), token


def test_table_shows_shapes_with_axis_names_and_per_word_steps(cli):
    out = cli.ok("run", *LECTURE_WORDS, "--seed", "1").stdout
    assert re.search(r"x_data\s+│\s+\(3, 5, 4\)\s+│ batch x time x vocab", out)
    assert re.search(r"outputs\s+│\s+\(3, 5, 2\)\s+│ batch x time x hidden", out)
    assert re.search(r"h\s+│\s+\(3, 2\)\s+│ batch x hidden", out)
    assert re.search(r"tensor\s+┃\s+shape ┃ axes\s+┃ role", out)
    assert re.search(r"x_data .*│ input\s*$", out, flags=re.M)
    assert re.search(r"outputs .*│ outputs\s*$", out, flags=re.M)
    assert re.search(r"^ h .*│ state\s*$", out, flags=re.M)
    assert "outputs, h = rnn(x_data)" in out
    assert "seed 1" in out
    for number, word in enumerate(LECTURE_WORDS, start=1):
        assert f"word {number}: {word}" in out
    assert re.search(r"t ┃ char ┃ h ┃ e ┃ l ┃ o ┃\s+out 0 ┃\s+out 1", out)
    assert re.search(r" 4 │ o\s+│ 0 │ 0 │ 0 │ 1 │\s+-?\d\.\d{4} │", out)
    assert len(re.findall(r"^h = \[", out, flags=re.M)) == 3


def test_table_values_are_the_json_values_to_four_decimals(cli):
    obj = cli.json("run", "hello", "--seed", "11")
    out = cli.ok("run", "hello", "--seed", "11").stdout
    final = obj["states"][0]["values"][0]
    assert f"h = [{final[0]:.4f} {final[1]:.4f}]" in out


def test_weights_table(cli):
    out = cli.ok("run", "hello", "--seed", "1", "--weights").stdout
    assert "kernel (4, 2) = vocab x hidden" in out
    assert "recurrent_kernel (2, 2) = hidden x hidden" in out
    assert "bias (2,) = hidden" in out
    assert "kernel" not in cli.ok("run", "hello", "--seed", "1").stdout


def test_style_cell_is_shown_as_the_keras_call(cli):
    out = cli.ok("run", "hello", "--style", "cell", "--seed", "1").stdout
    assert "layers.RNN(layers.SimpleRNNCell(2), return_sequences=True, return_state=True)" in out


COLOUR = re.compile(r"\x1b\[[0-9;]*3[12]m")  # red or green foreground


def test_colour_on_a_terminal_and_not_with_no_color(cli):
    coloured = cli.ok("run", "hello", "--seed", "1", env={"FORCE_COLOR": "1", "NO_COLOR": None})
    assert COLOUR.search(coloured.stdout)
    plain = cli.ok("run", "hello", "--seed", "1", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not COLOUR.search(plain.stdout)
    piped = cli.ok("run", "hello", "--seed", "1", env={"FORCE_COLOR": None, "NO_COLOR": None})
    assert "\x1b[" not in piped.stdout


def test_the_returned_states_are_labelled_states(cli):
    out = cli.ok("run", "hi", "--seed", "1", "--cell", "lstm", "--bidirectional").stdout
    roles = dict(re.findall(r"^ (\S+)\s+│.*│ (input|outputs|state)\s*$", out, flags=re.M))
    assert roles == {
        "x_data": "input",
        "outputs": "outputs",
        "forward_h": "state",
        "forward_c": "state",
        "backward_h": "state",
        "backward_c": "state",
    }
    shapes = cli.ok("run", "hi", "--seed", "1", "--shapes").stdout
    assert re.search(r"^ h .*│ state\s+│\s*$", shapes, flags=re.M)
    assert re.search(r"^ kernel .*│ weight\s+│\s+4\s*$", shapes, flags=re.M)
