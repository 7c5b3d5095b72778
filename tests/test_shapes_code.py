"""`run --shapes` (structure and parameter counts) and `run --code` (a runnable script)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rnnprobe.core.kinds import identifier

from .conftest import run_script

PADDED = ["hello", "hi", "o"]


def _keras_params(build) -> int:
    from tensorflow.keras import layers

    x = np.zeros((1, 3, 4), dtype=np.float32)
    built = build(layers)
    flow = x
    for layer in built:
        out = layer(flow)
        flow = out[0] if isinstance(out, list | tuple) else out
    return sum(layer.count_params() for layer in built)


def _has_values(node) -> bool:
    if isinstance(node, dict):
        return "values" in node or any(_has_values(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_values(v) for v in node)
    return False


@pytest.mark.parametrize(
    ("extra", "build"),
    [
        (["-H", "3"], lambda L: [L.SimpleRNN(3)]),
        (["--cell", "lstm", "-H", "3"], lambda L: [L.LSTM(3)]),
        (["--cell", "gru", "-H", "3"], lambda L: [L.GRU(3)]),
        (
            ["--cell", "lstm", "-H", "4,2"],
            lambda L: [L.LSTM(4, return_sequences=True), L.LSTM(2)],
        ),
        (
            ["--cell", "gru", "--bidirectional", "-H", "3,2"],
            lambda L: [L.Bidirectional(L.GRU(3, return_sequences=True)), L.Bidirectional(L.GRU(2))],
        ),
        (
            ["--bidirectional", "--merge-mode", "sum", "-H", "3,2"],
            lambda L: [
                L.Bidirectional(L.SimpleRNN(3, return_sequences=True), merge_mode="sum"),
                L.Bidirectional(L.SimpleRNN(2), merge_mode="sum"),
            ],
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_shapes_json_has_no_values_and_keras_parameter_counts(cli, extra, build):
    obj = cli.json("run", "hole", *extra, "--shapes", "--seed", "1")  # vocab of 4, like x
    assert not _has_values(obj)
    assert obj["params"] == _keras_params(build)
    assert obj["params"] == sum(int(np.prod(w["shape"])) for w in obj["weights"])
    assert obj["x_data"]["shape"] == [1, 4, 4]


def test_params_is_present_in_a_normal_run(cli):
    obj = cli.json("run", "hole", "--cell", "lstm", "-H", "2", "--seed", "1")
    assert obj["params"] == 4 * (4 + 2 + 1) * 2
    assert "values" in obj["outputs"]


@pytest.mark.parametrize(
    ("extra", "lines"),
    [
        (
            ["--cell", "lstm", "-H", "3"],
            [
                "kernel │ (4, 12) │ vocab x 4*hidden │ weight │ 48",
                "kernel vocab x 4 gates (i, f, c, o) x hidden",
                "layer 1: 4 x (vocab 4 + hidden 3 + 1) x hidden 3 = 96 parameters",
                "total: 96 parameters",
            ],
        ),
        (
            ["--cell", "gru", "-H", "3"],
            [
                "bias │ (2, 9) │ input/recurrent x 3*hidden │ weight │ 18",
                "bias input/recurrent rows x 3 gates (z, r, h) x hidden",
                "layer 1: 3 x (vocab 4 + hidden 3 + 2) x hidden 3 = 81 parameters",
            ],
        ),
        (
            ["--bidirectional", "-H", "3,2"],
            [
                "layer 1: 2 directions x (vocab 4 + hidden 3 + 1) x hidden 3 = 48 parameters",
                "layer 2: 2 directions x (input 6 + hidden 2 + 1) x hidden 2 = 36 parameters",
                "total: 84 parameters",
            ],
        ),
    ],
)
def test_shapes_table_explains_each_weight_and_counts(cli, extra, lines):
    out = cli.ok("run", "hole", *extra, "--shapes", "--seed", "1").stdout
    flat = "\n".join(" ".join(line.split()) for line in out.splitlines())
    for line in lines:
        assert line in flat
    assert not re.search(r"-?\d\.\d{4}", out)  # no values, only structure


def test_code_is_python_that_names_the_same_layers(cli):
    script = cli.ok("run", *PADDED, "--cell", "lstm", "-H", "3,2", "--code", "--seed", "4").stdout
    compile(script, "probe.py", "exec")
    assert "keras.utils.set_random_seed(4)" in script
    assert "rnn_1 = layers.LSTM(3, return_sequences=True, return_state=True)" in script
    assert "outputs, h_2, c_2 = rnn_2(outputs_1, mask=mask)" in script
    assert "import tensorflow" not in script.replace("from tensorflow", "")


DUMP = """
import json as _json
_tensors = {"outputs": outputs, %s}
print("RNNPROBE-JSON", _json.dumps({k: np.asarray(v).tolist() for k, v in _tensors.items()}))
"""


@pytest.mark.parametrize(
    "extra",
    [
        ["--cell", "lstm", "-H", "3,2", "--style", "cell"],
        ["--cell", "gru", "--bidirectional", "--no-return-sequences"],
    ],
    ids=" ".join,
)
def test_the_printed_script_reproduces_shapes_and_numbers(cli, extra):
    script = cli.ok("run", *PADDED, *extra, "--code", "--seed", "12").stdout
    obj = cli.json("run", *PADDED, *extra, "--seed", "12")
    names = {s["name"]: identifier(s["name"]) for s in obj["states"]}
    dump = DUMP % ", ".join(f"{name!r}: {var}" for name, var in names.items())
    printed = run_script(script + dump)
    assert "x_data: " in printed
    assert f"shape: {tuple(obj['x_data']['shape'])}" in printed
    assert "outputs: " in printed and f"shape: {tuple(obj['outputs']['shape'])}" in printed
    for state in obj["states"]:
        assert f"{names[state['name']]}: " in printed
    got = json.loads(printed.split("RNNPROBE-JSON ", 1)[1])
    expected = {
        "outputs": obj["outputs"]["values"],
        **{s["name"]: s["values"] for s in obj["states"]},
    }
    for name, values in expected.items():
        np.testing.assert_array_equal(np.float32(got[name]), np.float32(values), err_msg=name)


@pytest.mark.parametrize("flag", ["--json", "--check", "--shapes", "--weights"])
def test_code_does_not_combine_with_other_outputs(cli, flag):
    assert f"does not combine with {flag}" in cli.usage_error("run", "hi", "--code", flag)
