"""`rnnprobe compare`: both styles with the same weights, tensor by tensor."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rnnprobe.core.inputs.vocab import build_batch, vocabulary
from rnnprobe.core.keras import build, env, probe
from rnnprobe.core.kinds import Cell, Style
from rnnprobe.core.result import CompareResult
from rnnprobe.core.stages import ProbeSpec

PADDED = ["hello", "hi", "o"]


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        ([], ["outputs", "h"]),
        (["--cell", "lstm"], ["outputs", "h", "c"]),
        (["--cell", "gru"], ["outputs", "h"]),
        (["--bidirectional"], ["outputs", "forward_h", "backward_h"]),
        (["--cell", "lstm", "-H", "3,2"], ["outputs", "1/h", "1/c", "2/h", "2/c"]),
        (
            ["--cell", "gru", "--bidirectional", "-H", "3,2", "--merge-mode", "sum"],
            ["outputs", "1/forward_h", "1/backward_h", "2/forward_h", "2/backward_h"],
        ),
    ],
    ids=lambda v: " ".join(v) if v and v[0].startswith("-") else None,
)
def test_compare_is_identical_for_every_structure(cli, extra, names):
    obj = cli.json("compare", *PADDED, *extra)  # no seed: the weights are copied
    assert obj["identical"] is True
    assert list(obj["max_abs_diff"]) == names
    assert all(diff == 0.0 for diff in obj["max_abs_diff"].values())
    assert list(obj["shapes"]) == names


def test_compare_json_keys(cli):
    obj = cli.json("compare", "hi", "--seed", "1", "--cell", "lstm")
    assert list(obj) == [
        "rnnprobe", "words", "lengths", "vocab", "cell", "hidden", "seed", "bidirectional",
        "merge_mode", "return_sequences", "return_state", "identical", "max_abs_diff", "shapes",
    ]  # fmt: skip
    assert obj["seed"] == 1 and obj["cell"] == "lstm"


def test_compare_takes_the_vocabulary_order(cli):
    obj = cli.json("compare", "hi", "--vocab", "ihx", "--seed", "1")
    assert obj["vocab"] == ["i", "h", "x"]
    assert obj["identical"] is True


def test_compare_table_has_a_cell_and_a_layer_column(cli):
    out = cli.ok("compare", *PADDED, "--cell", "lstm", "--seed", "1").stdout
    assert "cell style" in out and "layer style" in out
    assert "rnn = layers.RNN(layers.LSTMCell(2), return_sequences=True, return_state=True)" in out
    assert "rnn = layers.LSTM(2, return_sequences=True, return_state=True)" in out
    assert "✓ identical" in out


def test_layer_style_takes_the_cell_styles_weights_whatever_its_seed():
    words = ("hello", "hi")
    batch = build_batch(words, vocabulary(words))
    spec = ProbeSpec(cell=Cell.lstm, hidden=(3, 2))
    cell = probe.run_probe(batch, replace(spec, style=Style.cell), seed=1)
    layer = probe.run_probe(batch, spec, seed=2, weights_from=cell)
    unseeded = probe.run_probe(batch, spec, seed=2)
    assert [w.array.tolist() for w in layer.weights] == [w.array.tolist() for w in cell.weights]
    assert layer.outputs.array.tolist() == cell.outputs.array.tolist()
    assert unseeded.outputs.array.tolist() != cell.outputs.array.tolist()


def test_a_difference_exits_1(cli, monkeypatch):
    real = probe.compare_styles

    def drifted(*args, **kwargs):
        result = real(*args, **kwargs)
        return CompareResult(result.cell, result.layer, {**result.max_abs_diff, "h": 0.25})

    monkeypatch.setattr(probe, "compare_styles", drifted)
    result = cli("compare", *PADDED, "--json")
    assert result.exit_code == 1
    assert '"identical":false' in result.stdout
    table = cli("compare", *PADDED)
    assert table.exit_code == 1
    assert "✗ different" in table.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-H", "0"], "at least 1 unit"),
        (["--merge-mode", "sum"], "--merge-mode needs --bidirectional"),
        (["--cell", "rnn"], "'rnn' is not one of"),
        (["--style", "cell"], "No such option: --style"),
    ],
)
def test_compare_bad_options_are_usage_errors(cli, args, needle):
    assert needle in cli.usage_error("compare", "hello", *args)


@pytest.mark.parametrize(
    "spec",
    [
        ProbeSpec(),
        ProbeSpec(cell=Cell.lstm, hidden=(3, 2), style=Style.cell),
        ProbeSpec(cell=Cell.gru, hidden=(3, 2), bidirectional=True),
        ProbeSpec(cell=Cell.lstm, bidirectional=True, style=Style.cell),
    ],
)
def test_probe_seeding_gives_the_weights_of_keras_set_random_seed(spec):
    keras = env.load_keras()
    words = ("hello", "hi")
    batch = build_batch(words, vocabulary(words))
    for seed in (0, 7, 123456):
        keras.utils.set_random_seed(seed)
        built = build.model(keras, spec.network(batch.width)).recurrent
        flow = batch.x_data.array
        for layer in built:
            flow = layer(flow)[0]  # every layer returns [outputs, *states]
        wanted = [v.numpy().tolist() for layer in built for v in layer.weights]
        got = probe.run_probe(batch, spec, seed)
        assert [w.array.tolist() for w in got.weights] == wanted
