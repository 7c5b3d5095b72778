"""The core functions the CLI, batch, server and API share, and the one network description."""

from __future__ import annotations

import io

import numpy as np
import pytest
from rich.console import Console

from rnnprobe.cli import CLI_NAMES
from rnnprobe.core import options
from rnnprobe.core.commands import run as core
from rnnprobe.core.errors import InputError, RnnProbeError
from rnnprobe.core.keras import build, env
from rnnprobe.core.kinds import Cell, MergeMode, Style
from rnnprobe.core.stages import ProbeSpec
from rnnprobe.show import keras_code, views, widgets

from .conftest import LECTURE_WORDS

SPECS = [
    ProbeSpec(),
    ProbeSpec(cell=Cell.lstm, hidden=(3,)),
    ProbeSpec(cell=Cell.gru, hidden=(3, 2)),
    ProbeSpec(cell=Cell.lstm, hidden=(3, 2), style=Style.cell),
    ProbeSpec(cell=Cell.gru, hidden=(3, 2), bidirectional=True),
    ProbeSpec(hidden=(4, 2), bidirectional=True, merge_mode=MergeMode.sum),
]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.cell.value}-{s.hidden}")
def test_the_layer_description_is_what_keras_builds(spec):
    """Weight names, shapes, parameter counts and state names, read from one description."""
    words = ("hello", "hi")
    result = core.run(words, spec, seed=1)
    planned = spec.layers(len(result.batch.vocab))
    described = {
        layer.prefix(d) + name: layer.weight_shape(name)
        for layer in planned
        for d in layer.directions
        for name in ("kernel", "recurrent_kernel", "bias")
    }
    assert {w.name: w.shape for w in result.weights} == described
    assert sum(layer.params for layer in planned) == result.params
    assert tuple(s.name for s in result.states) == spec.state_names
    assert result.outputs.shape[-1] == planned[-1].output_width


def test_layer_structure_of_a_bidirectional_stack():
    first, second = ProbeSpec(cell=Cell.lstm, hidden=(3, 2), bidirectional=True).layers(4)
    assert (first.input_width, first.input_axis, first.output_width) == (4, "vocab", 6)
    assert (second.input_width, second.input_axis) == (6, "input")
    assert second.prefix("backward") == "2/backward/"
    assert second.state_names("forward") == ("2/forward_h", "2/forward_c")
    assert first.return_sequences and second.return_sequences
    assert first.formula == "2 directions x 4 x (vocab 4 + hidden 3 + 1) x hidden 3"
    assert first.params == 2 * 4 * (4 + 3 + 1) * 3


def test_cells_carry_their_keras_names_and_gates():
    assert (Cell.lstm.keras_layer, Cell.lstm.keras_cell) == ("LSTM", "LSTMCell")
    assert Cell.simple.keras_cell == "SimpleRNNCell"
    assert Cell.gru.gate_names == ("z", "r", "h") and Cell.gru.gates == 3
    assert Cell.simple.gate_names == () and Cell.simple.gates == 1
    assert Cell.lstm.state_names == ("h", "c")


def test_the_shown_code_builds_the_described_layers():
    spec = ProbeSpec(cell=Cell.gru, hidden=(3, 2), bidirectional=True)
    lines = keras_code.layer_lines(spec)
    assert lines == [
        "rnn_1 = layers.Bidirectional(layers.GRU(3, return_sequences=True, return_state=True))",
        "rnn_2 = layers.Bidirectional(layers.GRU(2, return_sequences=True, return_state=True))",
    ]
    keras = env.load_keras()
    built = build.model(keras, spec.network(4)).recurrent
    assert [type(layer.forward_layer).__name__ for layer in built] == ["GRU", "GRU"]


def test_core_run_checks_and_draws_a_seed():
    result = core.run(LECTURE_WORDS, options.make_spec(cell="lstm"), check=True)
    assert result.check is not None and result.check.ok
    assert 0 <= result.seed < 2**31
    again = core.run(LECTURE_WORDS, options.make_spec(cell="lstm"), seed=result.seed)
    np.testing.assert_array_equal(again.outputs.array, result.outputs.array)


def test_core_compare_and_vocab():
    compared = core.compare(["hello", "hi"], options.make_spec(hidden=(3, 2)), seed=4)
    assert compared.identical
    batch = core.vocab(["hi"], "ohi")
    assert batch.vocab == ("o", "h", "i") and batch.x_data.shape == (1, 2, 3)


@pytest.mark.parametrize(
    ("call", "api", "cli"),
    [
        (
            lambda: options.make_spec(hidden=0),
            "hidden '0': every layer",
            "--hidden '0': every layer",
        ),
        (lambda: options.make_spec(hidden=[4, 0]), "hidden '4,0'", "--hidden '4,0'"),
        (lambda: options.make_spec(hidden="two"), "'two' is not a whole number", None),
        (lambda: options.make_spec(hidden=2.5), "hidden 2.5: give units per layer", None),
        (
            lambda: options.make_spec(merge_mode="sum"),
            "merge_mode needs bidirectional=True",
            "--merge-mode needs --bidirectional",
        ),
        (
            lambda: options.make_spec(style="loop"),
            "Invalid value for 'style': 'loop' is not one of 'layer', 'cell'.",
            "Invalid value for '--style': 'loop'",
        ),
        (
            lambda: options.make_spec(cell="rnn"),
            "'rnn' is not one of 'simple', 'lstm', 'gru'",
            None,
        ),
        (
            lambda: core.vocab(["hello"], "olhel"),
            "vocab repeats 'l'",
            "--vocab repeats 'l'",
        ),
        (lambda: core.vocab([]), "no words given", None),
        (
            lambda: options.check_seed(-1),
            "'seed': -1 is not in the range 0<=x<=4294967295.",
            "--seed",
        ),
        (
            lambda: options.check_seed(2**32),
            "4294967296 is not in the range 0<=x<=4294967295",
            None,
        ),
        (lambda: options.check_seed("7"), "'seed': '7' is not an int", None),
    ],
)
def test_core_errors_name_parameters_as_a_library_user_knows_them(call, api, cli):
    with pytest.raises(InputError) as caught:
        call()
    assert isinstance(caught.value, ValueError)
    assert caught.value.exit_code == 2
    assert api in str(caught.value)
    assert "--" not in str(caught.value)
    if cli is not None:
        assert cli in caught.value.message(CLI_NAMES)


def test_a_probe_too_big_is_an_input_error_naming_hidden(monkeypatch):
    monkeypatch.setenv("RNNPROBE_MEMORY_LIMIT", "1MB")
    with pytest.raises(InputError, match=r"^hidden 1000: this probe needs about"):
        core.run(["hello"], options.make_spec(hidden=1000))
    assert issubclass(InputError, RnnProbeError)


def test_views_are_renderables_the_cli_prints(cli):
    result = core.run(["hello", "hi"], options.make_spec(cell="gru"), seed=3, check=True)
    console = Console(file=io.StringIO(), width=80)
    widgets.show(console, views.run_view(result, weights=True))
    printed = cli.ok("run", "hello", "hi", "--cell", "gru", "--seed", "3", "--check",
                     "--weights", env={"COLUMNS": "80"}).stdout  # fmt: skip
    assert console.file.getvalue() == printed
