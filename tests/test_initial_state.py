"""`--initial-state`: the layers start from a given state, in Keras, numpy and PyTorch.

The reference is the word-by-word trace written in tests/test_steps.py, started from the
states the JSON reports: Keras's outputs and final states must be its numbers, `--check`
(rnnprobe's numpy) and `--torch` (the twin, given h0/c0) must agree.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import run_scripts
from .test_steps import PADDED, reference

CASES = [
    ["--cell", "simple"],
    ["--cell", "lstm"],
    ["--cell", "gru"],
    ["--cell", "lstm", "--hidden", "3,2"],
    ["--cell", "gru", "--hidden", "2,2", "--style", "cell"],
    ["--cell", "lstm", "--bidirectional"],
    ["--cell", "gru", "--bidirectional", "--hidden", "2,3", "--merge-mode", "sum"],
]


def _finals(obj, found):
    """The reference's final states, named as Keras returns them, and its outputs."""
    hidden = obj["hidden"] if isinstance(obj["hidden"], list) else [obj["hidden"]]
    directions = ["forward", "backward"] if obj["bidirectional"] else [""]
    kinds = ["h", "c"] if obj["cell"] == "lstm" else ["h"]
    lengths = obj["lengths"]
    states = {}
    traces = iter(found)
    for number in range(1, len(hidden) + 1):
        for direction in directions:
            values = next(traces)
            for kind in kinds:
                name = "".join((f"{number}/" if len(hidden) > 1 else "",
                                f"{direction}_" if direction else "", kind))  # fmt: skip
                last = [values[kind][b, 0 if direction == "backward" else n - 1]
                        for b, n in enumerate(lengths)]  # fmt: skip
                states[name] = np.asarray(last)
    return states


@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(c))
def test_keras_numpy_and_pytorch_start_where_the_option_says(cli, case):
    obj = cli.json("run", *PADDED, *case, "--seed", "4", "--initial-state", "random",
                   "--weights", "--check", "--torch")  # fmt: skip
    starts = {s["name"]: np.asarray(s["values"]) for s in obj["initial_state"]}
    assert list(starts) == [s["name"] for s in obj["states"]]  # every state, Keras's order
    for values in starts.values():  # one draw per state, the same for every word
        assert np.all(values == values[0]) and np.abs(values).max() < 1 and values.any()
    expected = _finals(obj, reference(obj, starts))
    zero = _finals(obj, reference(obj))
    for state in obj["states"]:
        np.testing.assert_allclose(state["values"], expected[state["name"]], atol=1e-5)
        assert not np.allclose(state["values"], zero[state["name"]], atol=1e-3)
    assert obj["check"]["ok"] and obj["torch"]["ok"]


def test_values_per_state_and_the_zeros_of_the_others(cli):
    obj = cli.json("run", *PADDED, "--cell", "lstm", "--seed", "1",
                   "--initial-state", "c=1,-2")  # fmt: skip
    given = {s["name"]: s["values"] for s in obj["initial_state"]}
    assert given == {"h": [[0.0, 0.0]] * 4, "c": [[1.0, -2.0]] * 4}
    assert obj["initial_state"][0]["dims"] == ["batch", "hidden"]
    both = cli.json("run", *PADDED, "--cell", "lstm", "--seed", "1", "--weights",
                    "--initial-state", "h=0.5,-0.2", "--initial-state", "c=1,-2")  # fmt: skip
    starts = {s["name"]: np.asarray(s["values"]) for s in both["initial_state"]}
    np.testing.assert_allclose(starts["h"][2], [0.5, -0.2], rtol=1e-7)
    expected = _finals(both, reference(both, starts))
    np.testing.assert_allclose(both["states"][1]["values"], expected["c"], atol=1e-5)
    plain = cli.json("run", *PADDED, "--cell", "lstm", "--seed", "1")
    zeros = cli.json("run", *PADDED, "--cell", "lstm", "--seed", "1", "--initial-state", "zeros")
    assert zeros["outputs"] == plain["outputs"] and zeros["states"] == plain["states"]
    assert "initial_state" not in plain and list(zeros)[-1] == "initial_state"


def test_the_views_the_code_and_compare_show_it(cli):
    args = ["run", "hello", "hi", "--cell", "lstm", "--seed", "2", "--initial-state",
            "h=0.5,-0.2", "--initial-state", "c=1,-2"]  # fmt: skip
    table = " ".join(cli.ok(*args, env={"COLUMNS": "200"}).stdout.split())
    assert "initial_h = [0.5000 -0.2000]" in table and "initial_c = [1.0000 -2.0000]" in table
    assert "rnn(x_data, mask=mask, initial_state=[initial_h, initial_c])" in table
    steps = " ".join(cli.ok(*args, "--steps", "--at", "0", env={"COLUMNS": "200"}).stdout.split())
    assert "h_-1 = [0.5000 -0.2000] (--initial-state h, every word)" in steps
    assert "h_(t-1)·U_i" in steps and "✓ steps" in steps
    drawn = " ".join(cli.ok(*args, "--diagram", env={"COLUMNS": "200"}).stdout.split())
    assert "starts from h_-1 = [0.5000 -0.2000], c_-1 = [1.0000 -2.0000]" in drawn
    script = cli.ok(*args, "--code").stdout
    assert "initial_state=[initial_h, initial_c]" in script
    (found,) = run_scripts([(script, ["outputs", "h", "c"])])
    obj = cli.json(*args)
    np.testing.assert_allclose(found["outputs"], obj["outputs"]["values"], atol=1e-6)
    np.testing.assert_allclose(found["c"], obj["states"][1]["values"], atol=1e-6)
    torch_script = cli.ok(*args, "--torch", "--code").stdout
    assert "h0 = torch.tensor(" in torch_script and "rnn(packed, (h0, c0))" in torch_script
    compared = cli.json("compare", "hello", "hi", "--cell", "gru", "--hidden", "2,2",
                        "--initial-state", "random", "--seed", "3")  # fmt: skip
    assert compared["identical"] and [s["name"] for s in compared["initial_state"]] == [
        "1/h", "2/h"]  # fmt: skip


def test_a_batch_line_takes_it(cli):
    lines = (
        "hello hi --cell gru --seed 5 --initial-state h=1,-1 --json\nhello hi --cell gru --seed 5\n"
    )
    done = cli.ok("batch", "-", input=lines).stdout.splitlines()
    first, second = (json.loads(line) for line in done)
    assert first["initial_state"][0]["values"] == [[1.0, -1.0]] * 2
    assert first["outputs"] != second["outputs"]


def test_bad_initial_states_are_one_line(cli):
    def error(*given: str) -> str:
        flags = [part for value in given for part in ("--initial-state", value)]
        return cli.usage_error("run", "hello", "--cell", "lstm", *flags)

    assert error("h=1") == ("rnnprobe: error: --initial-state h has 1 values: the state h has 2 "
                            "units")  # fmt: skip
    assert "x: no such state; this network's states are h, c" in error("x=1,2")
    assert "'h=1,a': 'a' is not a number" in error("h=1,a")
    assert "'h=1,inf': 'inf' is not a finite number" in error("h=1,inf")
    assert "gives h twice" in error("h=1,2", "h=3,4")
    assert "zeros stands alone" in error("zeros", "h=1,2")
    assert "give zeros, random or NAME=V,V,..." in error("ones")
    assert "states are 1/forward_h, 1/backward_h, 2/forward_h, 2/backward_h" in cli.usage_error(
        "run", "hi", "--bidirectional", "--hidden", "2,2", "--initial-state", "h=1,2"
    )


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_grads_start_there_in_keras_numpy_and_pytorch(cli, cell):
    obj = cli.json("grads", "hello", "hi", "--cell", cell, "--seed", "6", "--initial-state",
                   "random", "--check", "--torch")  # fmt: skip
    assert obj["check"]["ok"] and obj["torch"]["ok"]
    starts = {s["name"]: np.asarray(s["values"]) for s in obj["initial_state"]}
    # The loss, recomputed here from the reported weights and the initial state.
    (found,) = reference({**obj, "return_sequences": True}, starts)
    weights = {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in obj["weights"]}
    logits = found["h"] @ weights["head/kernel"] + weights["head/bias"]
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    targets = np.asarray(obj["targets"]["values"])
    real = np.asarray(obj["mask"]["values"])
    losses = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    assert obj["loss"] == pytest.approx(losses[real].mean(), abs=1e-5)
    zero = cli.json("grads", "hello", "hi", "--cell", cell, "--seed", "6")
    assert abs(zero["loss"] - obj["loss"]) > 1e-4 and "initial_state" not in zero


@pytest.mark.parametrize(
    "case",
    [
        ["good", "bad", "--embed", "onehot", "--head", "2", "--cell", "lstm", "--hidden", "3"],
        ["i feel", "you are fine", "--tokens", "word", "--embed", "3", "--head", "2",
         "--each-step", "--hidden", "2,2"],
        ["hi", "hello", "--embed", "2", "--hidden", "2,3", "--style", "cell", "--cell", "gru",
         "--head", "3"],
    ],
    ids=["many-to-one", "many-to-many stack", "cells"],
)  # fmt: skip
def test_the_printed_script_of_a_whole_model_starts_there_too(cli, case):
    args = ["run", *case, "--seed", "0", "--initial-state", "random"]
    script = cli.ok(*args, "--code").stdout
    assert "would start from zeros: the layers one by one below start from initial_state" in script
    (found,) = run_scripts([(script, ["outputs", "logits"])])
    obj = cli.json(*args)
    np.testing.assert_allclose(found["logits"], obj["logits"]["values"], atol=1e-5)
    real = np.asarray(obj["mask"]["values"])
    outputs = np.asarray(found["outputs"])
    reported = np.asarray(obj["outputs"]["values"])
    if outputs.ndim == 3:
        outputs, reported = outputs[real], reported[real]
    np.testing.assert_allclose(outputs, reported, atol=1e-5)
