"""Long words run the layers as one TensorFlow graph: the same bits as the eager call."""

from __future__ import annotations

import json
import string
from dataclasses import replace

import numpy as np
import pytest

from rnnprobe.core import options
from rnnprobe.core.commands import run as commands
from rnnprobe.core.inputs.vocab import build_batch, vocabulary
from rnnprobe.core.keras import env, probe, runner
from rnnprobe.core.kinds import Cell, MergeMode, Style
from rnnprobe.core.stages import ProbeSpec

WORDS = ("hello", "hi", (string.ascii_lowercase * 4)[:90])  # padded, and past the threshold
SPECS = [
    ProbeSpec(cell=Cell.simple, hidden=(3,)),
    ProbeSpec(cell=Cell.lstm, hidden=(3,)),
    ProbeSpec(cell=Cell.gru, hidden=(3,)),
    ProbeSpec(cell=Cell.lstm, hidden=(3, 2), bidirectional=True),
    ProbeSpec(cell=Cell.gru, hidden=(3, 2), bidirectional=True, merge_mode=MergeMode.ave),
    ProbeSpec(cell=Cell.simple, hidden=(4, 2), return_sequences=False),
    ProbeSpec(cell=Cell.gru, hidden=(2,), bidirectional=True, return_state=False),
]


def _arrays(result):
    return [result.outputs.array, *(s.array for s in result.states)]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.cell.value}{s.hidden}{s.bidirectional}")
def test_graph_calls_give_the_bits_of_the_eager_call(spec):
    """In layer style; the cell style's graph gives the layer style's bits (the next test)."""
    spec = replace(spec, style=Style.layer)
    batch = build_batch(WORDS, vocabulary(WORDS))
    eager = probe.run_probe(batch, spec, seed=5, strategy=runner.EAGER)
    graph = probe.run_probe(batch, spec, seed=5, strategy=runner.GRAPH)
    for a, b in zip(_arrays(eager), _arrays(graph), strict=True):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)
    assert [w.array.tolist() for w in eager.weights] == [w.array.tolist() for w in graph.weights]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.cell.value}{s.hidden}{s.bidirectional}")
def test_cell_style_stays_bit_identical_to_layer_style_as_a_graph(spec):
    batch = build_batch(WORDS, vocabulary(WORDS))
    cell = probe.run_probe(batch, replace(spec, style=Style.cell), seed=9, strategy=runner.GRAPH)
    layer = probe.run_probe(batch, replace(spec, style=Style.layer), seed=9, strategy=runner.GRAPH)
    for a, b in zip(_arrays(cell), _arrays(layer), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.cell.value}{s.hidden}{s.bidirectional}")
@pytest.mark.parametrize("style", list(Style))
def test_an_unrolled_call_gives_the_bits_of_the_loop(spec, style, monkeypatch):
    """Short words run their forward layers unrolled (`layer.unroll = True` set after the
    layer is made): the same bits as Keras's loop, for every cell and structure."""
    spec = replace(spec, style=style)
    words = ("hello", "hi", "elo")  # padded, and short
    batch = build_batch(words, vocabulary(words))
    flags = []
    real = runner.unroll_forward

    def unroll(built):
        real(built)
        flags.extend(getattr(layer, "unroll", False) for layer in built.recurrent)

    monkeypatch.setattr(runner, "unroll_forward", unroll)
    loop = probe.run_probe(batch, spec, seed=5, strategy=runner.EAGER)
    assert flags == []
    unrolled = probe.run_probe(batch, spec, seed=5, strategy=runner.UNROLLED)
    assert any(flags) is not spec.bidirectional  # a Bidirectional layer keeps its loop
    for a, b in zip(_arrays(loop), _arrays(unrolled), strict=True):
        assert a.shape == b.shape
        np.testing.assert_array_equal(a, b)


def test_short_words_are_called_unrolled_by_default(no_runners, monkeypatch):
    called = []
    monkeypatch.setattr(runner, "unroll_forward", lambda built: called.append(built))
    batch = build_batch(("hello", "hi"), vocabulary(("hello", "hi")))
    probe.run_probe(batch, ProbeSpec(cell=Cell.gru), seed=1)
    assert len(called) == 1
    long = "a" * (runner.UNROLL_UP_TO + 1)
    probe.run_probe(build_batch((long,), vocabulary((long,))), ProbeSpec(), seed=1)
    assert len(called) == 1  # a longer word keeps Keras's loop


@pytest.fixture
def no_runners(monkeypatch):
    """Each test starts with no graph kept and no structure seen."""
    monkeypatch.setattr(runner, "_runners", type(runner._runners)())
    monkeypatch.setattr(runner, "_seen", type(runner._seen)())


def test_the_size_of_the_work_chooses_how_to_call(no_runners):
    spec = options.make_spec(cell="gru")
    short = "a" * (runner.GRAPH_FROM_STEPS - 1)
    for seed in range(runner.EAGER_CALLS_BEFORE_GRAPH):
        commands.run([short], spec, seed=seed)
    assert not runner._runners  # a structure seen this often is still called eagerly
    commands.run([short], spec, seed=99)
    assert len(runner._runners) == 1  # once more: a graph is traced for it, once
    commands.run([short + "a"], options.make_spec(cell="lstm"), seed=1)
    assert len(runner._runners) == 2  # a long word: a graph at once


def test_probes_known_to_come_get_their_graph_at_once(no_runners):
    spec = options.make_spec(cell="lstm")
    batch = build_batch(("hi", "hello"), vocabulary(("hi", "hello")))
    probe.run_probe(batch, spec, seed=1, expected=runner.GRAPH_WHEN_EXPECTED - 1)
    assert not runner._runners
    probe.run_probe(batch, spec, seed=1, expected=runner.GRAPH_WHEN_EXPECTED)
    assert len(runner._runners) == 1


def test_one_graph_serves_every_size_of_a_structure(no_runners):
    """Hidden sizes, vocabularies, word lengths, padding and batch rows all vary; the
    structure's one graph gives each probe the bits of its own eager call."""
    probes = [
        (("hello", "hi", "elo"), (3,)),
        (("abcdefgh",), (1,)),
        (("xy", "yx"), (5,)),  # not padded
        (("qrstu", "q", "rs", "tuvwq"), (2,)),
    ]
    for cell in (Cell.simple, Cell.lstm):
        for seed, (words, hidden) in enumerate(probes):
            spec = ProbeSpec(cell=cell, hidden=hidden, style=Style.cell)
            batch = build_batch(words, vocabulary(words))
            kept = probe.run_probe(batch, spec, seed=seed, expected=runner.GRAPH_WHEN_EXPECTED)
            eager = probe.run_probe(batch, spec, seed=seed, strategy=runner.EAGER)
            for a, b in zip(_arrays(eager), _arrays(kept), strict=True):
                assert a.shape == b.shape
                np.testing.assert_array_equal(a, b)
    assert len(runner._runners) == 2  # one per cell


def test_gru_keeps_a_graph_per_hidden_size(no_runners):
    words = ("hello", "hi")
    for hidden in ((2,), (3,), (2,)):
        spec = ProbeSpec(cell=Cell.gru, hidden=hidden)
        batch = build_batch(words, vocabulary(words))
        kept = probe.run_probe(batch, spec, seed=4, expected=runner.GRAPH_WHEN_EXPECTED)
        eager = probe.run_probe(batch, spec, seed=4, strategy=runner.EAGER)
        for a, b in zip(_arrays(eager), _arrays(kept), strict=True):
            np.testing.assert_array_equal(a, b)
    assert len(runner._runners) == 2


def test_a_probe_leaves_nothing_pending_in_keras():
    """Keras's list of variables waiting to be created is left as it was: a user's own
    entry stays there, uncreated, and none of the probe's is added."""
    from keras.src.backend.common import global_state

    keras = env.load_keras()
    with keras.StatelessScope(initialize_variables=False):
        mine = keras.Variable(keras.initializers.Zeros(), shape=(2,))
    pending = global_state.get_global_attribute
    assert [id(v) for v in pending("uninitialized_variables")] == [id(mine)]
    batch = build_batch(("hi", "hello"), vocabulary(("hi", "hello")))
    probe.run_probe(batch, ProbeSpec(cell=Cell.lstm), seed=3)
    try:
        assert [id(v) for v in pending("uninitialized_variables")] == [id(mine)]
        assert mine._value is None  # not created behind the user's back
    finally:
        global_state.set_global_attribute("uninitialized_variables", [])


EMBEDDED = [
    ProbeSpec(cell=Cell.lstm, hidden=(3,), embed="onehot", head=2, return_sequences=False),
    ProbeSpec(cell=Cell.gru, hidden=(3, 2), bidirectional=True, embed=4, head=3, each_step=True),
    ProbeSpec(cell=Cell.simple, hidden=(2,), head=2, each_step=True, style=Style.cell),
]


def _all_arrays(result):
    extra = [result.embedding, result.logits, result.probabilities]
    return [*_arrays(result), *(t.array for t in extra if t is not None)]


@pytest.mark.parametrize(
    "spec", SPECS + EMBEDDED, ids=lambda s: f"{s.cell.value}{s.hidden}{s.bidirectional}{s.embed}"
)
def test_a_kept_graph_gives_each_probe_the_bits_of_its_own_eager_call(no_runners, spec):
    batches = [("hello", "hi", "elo"), ("hi", "hello", "ole"), ("olleh", "eh", "hel")]
    for seed, words in enumerate(batches):  # the first traces the graph, the others reuse it
        batch = build_batch(words, vocabulary(words, "heloi"), ids=spec.embed is not None)
        kept = probe.run_probe(batch, spec, seed=seed, expected=runner.GRAPH_WHEN_EXPECTED)
        eager = probe.run_probe(batch, spec, seed=seed, strategy=runner.EAGER)
        for a, b in zip(_all_arrays(eager), _all_arrays(kept), strict=True):
            assert a.shape == b.shape
            np.testing.assert_array_equal(a, b)
        assert [w.array.tolist() for w in eager.weights] == [w.array.tolist() for w in kept.weights]
    assert len(runner._runners) == 1


def test_a_long_word_through_the_cli_checks_out(cli):
    word = (string.ascii_lowercase * 40)[:1000]
    obj = cli.json("run", word, "hi", "--cell", "lstm", "--bidirectional", "--seed", "2", "--check")
    assert obj["check"]["ok"] is True
    assert obj["outputs"]["shape"] == [2, 1000, 4]
    steps = cli.json("run", word, "--cell", "gru", "--seed", "2", "--steps")
    assert steps["steps"][0]["tensors"][0]["shape"] == [1, 1000, 2]


def test_many_graphs_leave_no_tensorflow_warning(cli, monkeypatch):
    """Each long word traces a graph; TensorFlow's warning about retracing stays quiet."""
    import logging

    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("tensorflow")
    handler = Keep(level=logging.WARNING)
    logger.addHandler(handler)
    monkeypatch.setattr(runner, "_runners", type(runner._runners)())
    try:
        lines = "\n".join(f"{'ab' * (35 + n)} --seed {n}" for n in range(8))
        result = cli("batch", "-", input=lines)
    finally:
        logger.removeHandler(handler)
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 8
    assert [r.getMessage()[:60] for r in seen] == []
    assert logger.level != logging.ERROR  # put back after each probe


def test_a_batch_counts_its_lines_of_one_structure(cli, no_runners):
    """Lines of one structure (hidden sizes and words differ) share one graph, traced at
    the first of them when the batch holds enough; fewer run eagerly."""
    enough = runner.GRAPH_WHEN_EXPECTED
    lines = [f"ab{'c' * (n % 4)} ba --hidden {1 + n % 3} --seed {n}" for n in range(enough)]
    result = cli("batch", "-", input="\n".join(lines[1:]))
    assert result.exit_code == 0
    assert not runner._runners
    result = cli("batch", "-", input="\n".join(["--cell lstm hi", *lines]))
    assert result.exit_code == 0
    assert [key[0].cell for key in runner._runners] == [Cell.simple]
    outputs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(outputs) == enough + 1
    for line, got in zip(lines, outputs[1:], strict=True):
        words, hidden, seed = line.split(" --")[0].split(), line.split()[3], line.split()[5]
        spec = ProbeSpec(hidden=(int(hidden),))
        batch = build_batch(words, vocabulary(words))
        eager = probe.run_probe(batch, spec, seed=int(seed), strategy=runner.EAGER)
        shown = np.asarray(got["outputs"]["values"], dtype=np.float32)
        np.testing.assert_array_equal(shown, eager.outputs.array)


def test_still_to_come_counts_each_key_from_its_line_on():
    from rnnprobe.batchlines import still_to_come

    assert still_to_come(["a", "b", None, "a", "a", "b"]) == [3, 2, 1, 2, 1, 1]
    assert still_to_come([]) == []


def test_the_weights_of_a_result_are_writable_arrays():
    """Copies, as a variable's numpy() gave: PyTorch warns about reading read-only ones."""
    batch = build_batch(("hi", "hello"), vocabulary(("hi", "hello")))
    result = probe.run_probe(batch, ProbeSpec(cell=Cell.gru), seed=2)
    assert result.weights and all(w.array.flags.writeable for w in result.weights)
