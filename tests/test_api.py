"""The Python API: the CLI's JSON, the CLI's tables, your own layer, and ValueError."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest
from rich.console import Console

import rnnprobe
from rnnprobe.cli import CLI_NAMES

from .conftest import LECTURE_WORDS

PADDED = ["hello", "hi", "o"]


@pytest.mark.parametrize(
    ("kwargs", "flags"),
    [
        ({}, []),
        ({"cell": "lstm", "hidden": 3, "style": "cell"},
         ["--cell", "lstm", "-H", "3", "--style", "cell"]),
        ({"cell": "gru", "hidden": [3, 2]}, ["--cell", "gru", "-H", "3,2"]),
        ({"bidirectional": True, "merge_mode": "sum"}, ["--bidirectional", "--merge-mode", "sum"]),
        ({"return_sequences": False, "return_state": False},
         ["--no-return-sequences", "--no-return-state"]),
        ({"steps": True, "check": True, "at": 0}, ["--steps", "--check", "--at", "0"]),
        ({"vocab": "olhei"}, ["--vocab", "olhei"]),
    ],
)  # fmt: skip
def test_run_to_dict_is_the_cli_json(cli, kwargs, flags):
    result = rnnprobe.run(PADDED, seed=4, **kwargs)
    assert result.to_dict() == cli.json("run", *PADDED, "--seed", "4", *flags)
    assert json.loads(result.to_json()) == result.to_dict()


def test_run_holds_arrays_by_name(cli):
    result = rnnprobe.run("hello hi", cell="lstm", hidden=[3, 2], seed=5, steps=True)
    obj = cli.json("run", "hello", "hi", "--cell", "lstm", "-H", "3,2", "--seed", "5", "--weights")
    assert result.words == ["hello", "hi"] and result.lengths == [5, 2]
    assert result.vocab == ["h", "e", "l", "o", "i"] and result.seed == 5
    assert isinstance(result.outputs, np.ndarray) and result.outputs.shape == (2, 5, 2)
    np.testing.assert_array_equal(result.x_data, np.float32(obj["x_data"]["values"]))
    np.testing.assert_array_equal(result.outputs, np.float32(obj["outputs"]["values"]))
    assert list(result.states) == ["1/h", "1/c", "2/h", "2/c"]
    for state in obj["states"]:
        np.testing.assert_array_equal(result.states[state["name"]], np.float32(state["values"]))
    assert list(result.weights) == [w["name"] for w in obj["weights"]]
    assert result.params == obj["params"] == sum(w.size for w in result.weights.values())
    assert result.dims["outputs"] == ("batch", "time", "hidden")
    assert [(s["layer"], list(s["tensors"])[-1]) for s in result.steps] == [(1, "h"), (2, "h")]


def test_without_a_seed_one_is_drawn_and_kept():
    first = rnnprobe.run(LECTURE_WORDS)
    again = rnnprobe.run(LECTURE_WORDS, seed=first.seed)
    assert isinstance(first.seed, int)
    np.testing.assert_array_equal(first.outputs, again.outputs)


def test_words_as_a_string_or_a_list_are_the_same():
    as_text = rnnprobe.run(" hello\teolll\nlleel ", seed=1)
    as_list = rnnprobe.run(LECTURE_WORDS, seed=1)
    assert as_text.to_dict() == as_list.to_dict()


def test_compare_and_vocab_are_the_cli_json(cli):
    compared = rnnprobe.compare(PADDED, cell="gru", hidden=[3, 2], bidirectional=True, seed=2)
    assert compared.identical is True
    assert compared.to_dict() == cli.json(
        "compare", *PADDED, "--cell", "gru", "-H", "3,2", "--bidirectional", "--seed", "2"
    )
    np.testing.assert_array_equal(compared.cell.outputs, compared.layer.outputs)
    vocabulary = rnnprobe.vocab("hello hi", vocab="ohelix")
    assert vocabulary.to_dict() == cli.json("vocab", "hello", "hi", "--vocab", "ohelix")
    assert vocabulary.x_data.shape == (2, 5, 6)
    sentences = rnnprobe.vocab("i feel hungry\ni feel", tokens="word", vocab="feel,i,hungry")
    assert sentences.to_dict() == cli.json(
        "vocab", "i feel hungry", "i feel", "--tokens", "word", "--vocab", "feel,i,hungry"
    )
    assert sentences.vocab == ["feel", "i", "hungry"] and sentences.x_data.shape == (2, 3, 3)
    with pytest.raises(ValueError, match="'tokens': 'words' is not one of 'char', 'word'"):
        rnnprobe.vocab("hi", tokens="words")


def _printed(renderable, width=100) -> str:
    console = Console(file=io.StringIO(), width=width, markup=False, emoji=False)
    console.print(renderable, crop=False)
    return console.file.getvalue()


def test_a_result_shows_as_the_cli_tables(cli):
    result = rnnprobe.run(PADDED, cell="lstm", seed=3)
    tables = cli.ok("run", *PADDED, "--cell", "lstm", "--seed", "3", env={"COLUMNS": "100"})
    assert _printed(result) == tables.stdout
    compared = rnnprobe.compare(PADDED, seed=3)
    assert _printed(compared) == cli.ok("compare", *PADDED, "--seed", "3",
                                        env={"COLUMNS": "100"}).stdout  # fmt: skip
    assert (
        _printed(rnnprobe.vocab(PADDED)) == cli.ok("vocab", *PADDED, env={"COLUMNS": "100"}).stdout
    )


def test_in_jupyter_a_result_is_html_and_text():
    bundle = rnnprobe.run("hello", seed=1)._repr_mimebundle_(include=[], exclude=[])
    assert set(bundle) == {"text/plain", "text/html"}
    assert bundle["text/html"].startswith("<pre")
    for needle in ("rnn = layers.SimpleRNN(2", "x_data", "batch x time x vocab", "word 1: hello"):
        assert needle in bundle["text/html"]
        assert needle in bundle["text/plain"]


def test_show_prints_and_nothing_else_does(capsys):
    result = rnnprobe.run("hi", seed=1)
    rnnprobe.compare("hi", seed=1)
    rnnprobe.vocab("hi")
    assert capsys.readouterr() == ("", "")
    result.show(width=80)
    assert "word 1: hi" in capsys.readouterr().out


# -- bad input: ValueError with the CLI's message ------------------------------------------


def _api_name(cli_message: str) -> str:
    for param, flag in CLI_NAMES.items():
        cli_message = cli_message.replace(flag, param)
    return cli_message.replace(
        "merge_mode needs bidirectional", "merge_mode needs bidirectional=True"
    )


@pytest.mark.parametrize(
    ("kwargs", "args"),
    [
        ({"words": "hello", "hidden": 0}, ["hello", "--hidden", "0"]),
        ({"words": "hello", "hidden": [4, 0]}, ["hello", "--hidden", "4,0"]),
        ({"words": "hello", "vocab": "olhel"}, ["hello", "--vocab", "olhel"]),
        ({"words": "hello", "merge_mode": "sum"}, ["hello", "--merge-mode", "sum"]),
        ({"words": ["hello", ""]}, ["hello", ""]),
        ({"words": []}, []),
        ({"words": "hello", "at": 1}, ["hello", "--at", "1"]),
        ({"words": "hello", "steps": True, "at": 9}, ["hello", "--steps", "--at", "9"]),
    ],
)
def test_bad_input_raises_value_error_with_the_cli_message(cli, kwargs, args):
    with pytest.raises(ValueError) as caught:
        rnnprobe.run(**kwargs)
    line = cli.usage_error("run", *args)
    assert line.startswith("rnnprobe: error: ")
    assert _api_name(line.removeprefix("rnnprobe: error: ")) == str(caught.value)


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"words": 5}, "words 5: give a string of words or a list of strings"),
        ({"words": "hi", "style": "loop"}, "Invalid value for 'style': 'loop' is not one of"),
        ({"words": "hi", "cell": "rnn"}, "'rnn' is not one of 'simple', 'lstm', 'gru'"),
        ({"words": "hi", "seed": -1}, "Invalid value for 'seed'"),
        ({"words": "hi", "hidden": "two"}, "'two' is not a whole number"),
        ({"words": "hi", "bidirectional": True, "merge_mode": "max"}, "'max' is not one of"),
    ],
)
def test_more_bad_input_raises_value_error(kwargs, needle):
    with pytest.raises(ValueError, match=needle.replace("(", r"\(")):
        rnnprobe.run(**kwargs)


# -- your own layer ----------------------------------------------------------------------

X = np.random.default_rng(0).random((3, 4, 5)).astype(np.float32)
MASK = np.array([[1, 1, 1, 1], [1, 1, 0, 0], [1, 0, 0, 0]], dtype=bool)


def _layers():
    from tensorflow.keras import layers

    both = {"return_sequences": True, "return_state": True}
    return [
        ("SimpleRNN", lambda: layers.SimpleRNN(3, **both), ["h"]),
        ("LSTM", lambda: layers.LSTM(3, **both), ["h", "c"]),
        ("GRU", lambda: layers.GRU(2, return_state=True), ["h"]),
        ("RNN(cell)", lambda: layers.RNN(layers.LSTMCell(2), **both), ["h", "c"]),
        ("RNN(cells)", lambda: layers.RNN([layers.GRUCell(3), layers.GRUCell(2)], **both),
         ["1/h", "2/h"]),
        ("Bidirectional(LSTM)", lambda: layers.Bidirectional(layers.LSTM(2, **both)),
         ["forward_h", "forward_c", "backward_h", "backward_c"]),
        ("Bidirectional(RNN(cells))",
         lambda: layers.Bidirectional(layers.RNN([layers.SimpleRNNCell(3),
                                                   layers.SimpleRNNCell(2)], **both),
                                      merge_mode="ave"),
         ["1/forward_h", "2/forward_h", "1/backward_h", "2/backward_h"]),
        ("SimpleRNN, outputs only", lambda: layers.SimpleRNN(4), []),
    ]  # fmt: skip


@pytest.mark.parametrize("kind", range(8), ids=[name for name, _, _ in _layers()])
@pytest.mark.parametrize("mask", [None, MASK], ids=["unmasked", "masked"])
@pytest.mark.parametrize("built", [False, True], ids=["new", "built"])
def test_probe_names_what_your_layer_returned_and_keeps_its_values(kind, mask, built):
    _, make, names = _layers()[kind]
    layer = make()
    if built:
        layer(X[:1, :2])  # built (and its weights made) before rnnprobe sees it
    result = rnnprobe.probe(layer, X, mask)
    direct = layer(X, mask=mask)
    direct = list(direct) if isinstance(direct, list | tuple) else [direct]
    flat = [
        direct[0],
        *[s for item in direct[1:] for s in (item if isinstance(item, list) else [item])],
    ]
    np.testing.assert_array_equal(result.outputs, np.asarray(flat[0]))
    assert list(result.states) == names
    for name, value in zip(names, flat[1:], strict=True):
        np.testing.assert_array_equal(result.states[name], np.asarray(value))
    assert result.params == layer.count_params()
    assert [w.shape for w in result.weights.values()] == [tuple(v.shape) for v in layer.weights]
    assert result.lengths == ([4, 2, 1] if mask is not None else [4, 4, 4])
    assert result.seed is None and result.words == []
    assert f"# your layer {layer.name!r}" in _printed(result)


def test_probe_refuses_what_it_does_not_know_naming_what_it_takes():
    from tensorflow.keras import layers

    accepted = "takes a Keras recurrent layer: SimpleRNN, LSTM, GRU, layers.RNN over one cell"
    cases = [
        (layers.Dense(3), X, "got Dense"),
        (layers.RNN([layers.LSTMCell(2), layers.GRUCell(2)]), X, "cells of more than one kind"),
        (layers.Bidirectional(layers.LSTM(2, stateful=True)), X, "stateful Bidirectional"),
        (layers.SimpleRNN(2, use_bias=False), X, "use_bias=False"),
        (layers.Bidirectional(layers.LSTM(2), merge_mode=None), X, "merge_mode=None"),
    ]
    for layer, x, needle in cases:
        with pytest.raises(ValueError, match=needle) as caught:
            rnnprobe.probe(layer, x)
        assert accepted in str(caught.value)
    with pytest.raises(ValueError, match=r"x_data has shape \(4, 5\): give \(batch, time"):
        rnnprobe.probe(layers.LSTM(2), X[0])
    with pytest.raises(ValueError, match="mask must be"):
        rnnprobe.probe(layers.LSTM(2), X, np.array([[1, 0, 1, 1]] * 3, dtype=bool))
    built = layers.LSTM(2)
    built(X)
    with pytest.raises(ValueError, match=r"the layer refused x_data \(3, 4, 2\)"):
        rnnprobe.probe(built, X[:, :, :2])


def test_import_rnnprobe_loads_neither_numpy_nor_tensorflow():
    code = (
        "import sys, rnnprobe; "
        "print(sorted(m for m in ('numpy', 'tensorflow', 'keras', 'rich') if m in sys.modules)); "
        "rnnprobe.vocab('hi'); "
        "print(sorted(m for m in ('numpy', 'tensorflow', 'keras') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["[]", "['numpy']"], done.stderr


def test_a_run_draws_its_diagram(cli):
    result = rnnprobe.run("hello hi", cell="lstm", seed=2)
    drawn = _printed(result.diagram(word=2))
    shown = cli.ok("run", "hello", "hi", "--cell", "lstm", "--seed", "2", "--diagram", "--word",
                   "2", env={"COLUMNS": "100"}).stdout  # fmt: skip
    assert drawn == shown
    assert "text/html" in result.diagram()._repr_mimebundle_(include=[], exclude=[])
    with pytest.raises(ValueError, match="word 3: give a word from 1 to 2"):
        result.diagram(word=3)
