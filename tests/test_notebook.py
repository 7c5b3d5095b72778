"""The lecture notebook, executed in a real Jupyter kernel, shows rnnprobe's tables as HTML."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest

from . import texts

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "lecture.ipynb"

# Executes the notebook as saved, its outputs cleared (what the kernel prints now, not what
# was saved), in a directory of its own; the executed notebook goes to stdout.
EXECUTE = """
import sys, tempfile
import nbformat
from nbclient import NotebookClient

notebook = nbformat.read(sys.argv[1], as_version=4)
for cell in notebook.cells:
    if cell.cell_type == "code":
        cell.outputs = []
with tempfile.TemporaryDirectory() as here:
    client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": here}})
    client.execute()
nbformat.write(notebook, sys.stdout)
"""
# Run beside the other tests, from the moment they are collected.
BACKGROUND = {"notebook": [sys.executable, "-c", EXECUTE, str(EXAMPLE)]}


def _results(notebook) -> list:
    return [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "execute_result"
    ]


@pytest.fixture(scope="module")
def executed(background):
    done = background("notebook")
    assert done.returncode == 0, done.stderr[-3000:]
    return nbformat.reads(done.stdout, as_version=4)


def test_the_first_result_is_html_with_the_tables(executed):
    first = _results(executed)[0]
    assert set(first.data) >= {"text/html", "text/plain"}
    html = first.data["text/html"]
    assert html.startswith("<pre")
    for needle in ("rnn = layers.RNN(layers.SimpleRNNCell(2), return_sequences=True",
                   "(1, 1, 4)", "(1, 1, 2)", "batch x time x vocab", "word 1: h"):  # fmt: skip
        assert needle in html


def test_every_step_of_the_lecture_shows_its_result_and_nothing_goes_wrong(executed):
    streams = [
        output
        for cell in executed.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type in ("stream", "error")
    ]
    assert streams == []  # no error, and no TensorFlow logging
    html = [r.data["text/html"] for r in _results(executed) if "text/html" in r.data]
    assert len(html) == 18  # the eighteen rnnprobe results; the others are plain values
    *html, inspected, started, chunked = html
    plain = [r.data["text/plain"] for r in _results(executed)]
    *plain, loaded, keras_alone, _, _, _ = plain  # saved, loaded, inspected; the state
    started = re.sub(r"<[^>]+>", "", started)
    assert (
        "initial_h = [0.5000 -0.2000]" in started
        and "initial_state=[initial_h, initial_c]" in started
    )
    chunked = re.sub(r"<[^>]+>", "", chunked)
    assert "2 chunks through the same layers built stateful=True" in chunked
    assert "after the first chunk the outputs differ from the whole run" in chunked
    assert loaded.startswith("(True, ['텐서플로우는', '매우', '어렵다', '<eos>'], 100)")
    assert keras_alone == "['1', '1']"  # lab 12-1's classes of "good" and "so good"
    inspected = re.sub(r"<[^>]+>", "", inspected)
    assert "from mine.keras, keras format" in inspected and "(4, 7, 11)" in inspected
    assert "forward pass: 4 rows of token ids" in inspected
    assert "(3, 5, 4)" in html[2] and "word 3: lleel" in html[2]
    assert "✓ identical (within 1e-06)" in html[3]
    assert "# your layer 'lstm'" in html[4] and "outputs, h, c = rnn(x_data)" in html[4]
    assert "((3, 5, 4), (3, 5, 2), (3, 2))" in plain
    assert "((4, 7), (4, 7, 11), (4, 10), (4, 2))" in plain  # ids, embedding, outputs, logits
    assert "('TimeDistributed(Dense)', [2, 4, 8], True)" in " ".join(plain)
    assert "total: 363 parameters" in html[5] and "total: 363 parameters" in html[6]
    assert "loss per epoch" in html[7] and "hihello │ ihello" in html[7]
    assert "frozen, no gradient" in html[8] and "2 batches an epoch" in html[8]
    assert "([['h', 'h', 'h', 'h', 'h', 'h']], [['i', 'h', 'e', 'l', 'l', 'o']]" in plain[-15]
    assert "(['embedding/embeddings'], ['1', '0', '0', '1'], 1.0)" in plain[-13]
    strips = re.sub(r"<[^>]+>", "", html[9])
    assert re.search(r"^SimpleRNN +[·░▒▓█]{25}$", strips, re.M) and "GRU " in strips
    assert "[('simple', " in plain[-11] and "('gru', " in plain[-11]
    assert "decoder initial_state = encoder state " in html[10] and "pair 2: " in html[10]
    assert "(2, 4, 4)" in plain[-9] and "(2, 4))" in plain[-9]
    assert "greedy decoding after training" in html[11] and "✓ the target" in html[11]
    assert "'나는 배가 고프다 <eos>'" in plain[-7] and plain[-7].rstrip().endswith("True)")
    assert "attention of each decoded step over the source" in html[12]
    assert "--translate: tensorflow is very hungry" in html[12]
    assert plain[-5].endswith("[4, 4, 4, 4])")  # a row per decoded step, a column per word
    stock = re.sub(r"<[^>]+>", "", html[13])
    assert re.search(r"x_data +│ \(725, 7, 5\)", stock) and "not better than the baseline" in stock
    assert plain[-3] == "((725, 7, 5), (725, 10), (725, 1), 505)"
    chart = re.sub(r"<[^>]+>", "", html[14])
    assert "• actual Close" in chart and "window 725" in chart
    rebuilt, accuracy = ast.literal_eval(plain[-1])
    assert rebuilt.startswith("f you want to build a ship") and accuracy >= 0.95


def test_the_saved_notebook_shows_the_same_results_without_running(executed):
    """What a reader sees without running is what a fresh run prints: the same text, and
    the same numbers up to float noise (another CPU rounds the last digits differently).

    The saved outputs were made with the TensorFlow and the Keras named in the notebook's
    metadata (`python examples/refresh.py` saves them); with other versions the seeded
    weights themselves may differ, and only shapes are held.
    """
    import keras
    import tensorflow

    saved_notebook = nbformat.read(EXAMPLE, as_version=4)
    saved = _results(saved_notebook)
    fresh = _results(executed)
    assert len(saved) == len(fresh)
    versions = saved_notebook.metadata.get("rnnprobe", {})
    made_with = (versions.get("tensorflow"), versions.get("keras"))
    assert all(made_with), "the notebook's metadata names the TensorFlow and Keras that made it"

    def shape_lines(output) -> list[str]:
        text = output.data.get("text/html") or output.data["text/plain"]
        return re.findall(r"\(\d+(?:, \d+)*\)", text)

    for old, new in zip(saved, fresh, strict=True):
        assert shape_lines(old) == shape_lines(new)
        if made_with == (tensorflow.__version__, keras.__version__):
            assert old.data.keys() == new.data.keys()
            for kind in old.data:
                said = texts.difference(texts.plain(old.data[kind]), texts.plain(new.data[kind]))
                assert said is None, f"{kind}: {said}"
