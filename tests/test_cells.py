"""Cells and layer structure: LSTM, GRU, return toggles, bidirectional, stacked layers."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import LECTURE_WORDS, assert_matches_numpy

PADDED = ["hello", "hi", "o", "elo"]


@pytest.mark.parametrize("style", ["layer", "cell"])
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_each_cell_matches_numpy_with_padded_words(cli, style, cell):
    obj = cli.json("run", *PADDED, "--cell", cell, "--style", style, "-H", "3", "--seed", "2",
                   "--weights")  # fmt: skip
    assert obj["cell"] == cell
    assert_matches_numpy(obj)


@pytest.mark.parametrize(
    "extra",
    [
        ["--cell", "lstm"],
        ["--cell", "gru"],
        ["--cell", "lstm", "-H", "4,2"],
        ["--cell", "gru", "-H", "3,2,2"],
        ["--bidirectional", "--cell", "lstm"],
        ["--bidirectional", "--cell", "gru", "-H", "3,2", "--merge-mode", "ave"],
        ["--cell", "lstm", "-H", "4,2", "--no-return-sequences"],
    ],
    ids=" ".join,
)
def test_both_styles_are_bit_identical_under_one_seed(cli, extra):
    layer = cli.json("run", *PADDED, *extra, "--style", "layer", "--seed", "8", "--weights")
    cell = cli.json("run", *PADDED, *extra, "--style", "cell", "--seed", "8", "--weights")
    for key in ("outputs", "states", "weights"):
        assert cell[key] == layer[key], key
    assert_matches_numpy(layer)


def test_state_names_follow_keras_order(cli):
    def names(*extra):
        return [s["name"] for s in cli.json("run", "hi", "--seed", "1", *extra)["states"]]

    assert names("--cell", "simple") == ["h"]
    assert names("--cell", "gru") == ["h"]
    assert names("--cell", "lstm") == ["h", "c"]
    assert names("--cell", "lstm", "--bidirectional") == [
        "forward_h", "forward_c", "backward_h", "backward_c",
    ]  # fmt: skip
    assert names("-H", "4,2") == ["1/h", "2/h"]
    assert names("--cell", "lstm", "-H", "4,2", "--style", "cell") == ["1/h", "1/c", "2/h", "2/c"]
    assert names("--bidirectional", "-H", "3,2") == [
        "1/forward_h", "1/backward_h", "2/forward_h", "2/backward_h",
    ]  # fmt: skip


def test_weight_names_and_keras_shapes(cli):
    def shapes(*extra):
        obj = cli.json("run", *LECTURE_WORDS, "--seed", "1", "--weights", *extra)
        return {w["name"]: w["shape"] for w in obj["weights"]}

    assert shapes("--cell", "lstm", "-H", "3") == {
        "kernel": [4, 12], "recurrent_kernel": [3, 12], "bias": [12],
    }  # fmt: skip
    gru = shapes("--cell", "gru", "-H", "3")
    assert gru["bias"] == [2, 9]  # reset_after=True: input and recurrent bias rows
    assert shapes("-H", "4,2") == {
        "1/kernel": [4, 4], "1/recurrent_kernel": [4, 4], "1/bias": [4],
        "2/kernel": [4, 2], "2/recurrent_kernel": [2, 2], "2/bias": [2],
    }  # fmt: skip
    bidi = shapes("--bidirectional", "-H", "3,2")
    assert list(bidi) == [
        "1/forward/kernel", "1/forward/recurrent_kernel", "1/forward/bias",
        "1/backward/kernel", "1/backward/recurrent_kernel", "1/backward/bias",
        "2/forward/kernel", "2/forward/recurrent_kernel", "2/forward/bias",
        "2/backward/kernel", "2/backward/recurrent_kernel", "2/backward/bias",
    ]  # fmt: skip
    assert bidi["2/forward/kernel"] == [6, 2]  # layer 2 reads both directions of layer 1


def test_no_return_sequences_gives_the_last_real_step(cli):
    full = cli.json("run", *PADDED, "--seed", "4", "--cell", "gru")
    last = cli.json("run", *PADDED, "--seed", "4", "--cell", "gru", "--no-return-sequences")
    assert last["return_sequences"] is False
    assert last["outputs"]["shape"] == [4, 2]
    assert last["outputs"]["dims"] == ["batch", "hidden"]
    outputs = np.asarray(full["outputs"]["values"])
    for row, length in enumerate(full["lengths"]):
        assert last["outputs"]["values"][row] == outputs[row, length - 1].tolist()


def test_no_return_state_gives_no_states(cli):
    obj = cli.json("run", "hello", "--seed", "4", "--no-return-state")
    assert obj["return_state"] is False
    assert obj["states"] == []
    out = cli.ok("run", "hello", "--seed", "4", "--no-return-state").stdout
    assert "outputs = rnn(x_data)" in out
    assert "no states" in out


@pytest.mark.parametrize(("mode", "width"), [("concat", 6), ("sum", 3), ("mul", 3), ("ave", 3)])
def test_bidirectional_merge_modes_shape_and_numbers(cli, mode, width):
    obj = cli.json("run", *PADDED, "--bidirectional", "--merge-mode", mode, "-H", "3",
                   "--seed", "6", "--weights")  # fmt: skip
    assert obj["bidirectional"] is True and obj["merge_mode"] == mode
    assert obj["outputs"]["shape"] == [4, 5, width]
    assert_matches_numpy(obj)


def test_bidirectional_defaults_to_concat_and_no_bidirectional_has_no_merge_mode(cli):
    assert cli.json("run", "hi", "--seed", "1", "--bidirectional")["merge_mode"] == "concat"
    assert cli.json("run", "hi", "--seed", "1")["merge_mode"] is None


@pytest.mark.parametrize("style", ["layer", "cell"])
def test_stacked_bidirectional_without_sequences_matches_numpy(cli, style):
    obj = cli.json(
        "run", *PADDED, "--bidirectional", "--cell", "lstm", "-H", "3,2",
        "--no-return-sequences", "--style", style, "--seed", "3", "--weights",
    )  # fmt: skip
    assert obj["outputs"]["shape"] == [4, 4]
    assert_matches_numpy(obj)


def test_stack_reports_hidden_as_a_list(cli):
    assert cli.json("run", "hi", "--seed", "1", "-H", "4,2")["hidden"] == [4, 2]
    assert cli.json("run", "hi", "--seed", "1", "-H", "4")["hidden"] == 4


@pytest.mark.parametrize(
    ("extra", "lines"),
    [
        (["--cell", "lstm"], ["outputs, h, c = rnn(x_data)"]),
        (["--bidirectional"], ["outputs, forward_h, backward_h = rnn(x_data)"]),
        (
            ["--cell", "lstm", "-H", "4,2", "--style", "cell"],
            [
                "rnn = layers.RNN([layers.LSTMCell(4), layers.LSTMCell(2)], "
                "return_sequences=True, return_state=True)",
                "outputs, [h_1, c_1], [h_2, c_2] = rnn(x_data)",
            ],
        ),
        (
            ["-H", "4,2", "--no-return-sequences"],
            [
                "rnn_1 = layers.SimpleRNN(4, return_sequences=True, return_state=True)",
                "rnn_2 = layers.SimpleRNN(2, return_state=True)",
                "outputs_1, h_1 = rnn_1(x_data)",
                "outputs, h_2 = rnn_2(outputs_1)",
            ],
        ),
    ],
)
def test_tables_show_the_keras_code_and_the_matching_unpacking(cli, extra, lines):
    out = cli.ok("run", "hello", "--seed", "1", *extra).stdout
    for line in lines:
        assert line in out


def test_padded_batch_shows_the_mask_in_the_call(cli):
    assert "rnn(x_data, mask=mask)" in cli.ok("run", "hello", "hi", "--seed", "1").stdout


def test_tables_show_every_state_per_word(cli):
    out = cli.ok("run", "hello", "hi", "--seed", "1", "--cell", "lstm", "-H", "3,2").stdout
    for name in ("1/h", "1/c", "2/h", "2/c"):
        assert out.count(f"\n{name} = [") == 2


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-H", "4,0"], "at least 1 unit"),
        (["-H", "4,,2"], "an empty size is not a whole number"),
        (["-H", ","], "not a whole number"),
        (["--merge-mode", "sum"], "--merge-mode needs --bidirectional"),
        (["--cell", "transformer"], "'transformer' is not one of 'simple', 'lstm', 'gru'"),
        (["--bidirectional", "--merge-mode", "max"], "'max' is not one of"),
    ],
)
def test_bad_structure_options_are_usage_errors(cli, args, needle):
    assert needle in cli.usage_error("run", "hello", *args)


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_the_numpy_comparison_fails_for_a_perturbed_weight(cli, cell):
    obj = cli.json("run", *PADDED, "--cell", cell, "--seed", "2", "--weights")
    obj["weights"][1]["values"][0][0] += 0.01  # recurrent_kernel[0, 0]
    with pytest.raises(AssertionError):
        assert_matches_numpy(obj)
