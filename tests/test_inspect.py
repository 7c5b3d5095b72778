"""`rnnprobe inspect FILE`: any saved Keras model, layer by layer, and a forward pass.

The lecture's lab 12-1 ... 12-4 models are built and saved here by plain Keras code; what
`inspect` reports is checked against Keras's own `summary()` and `model(x)`.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnprobe.core.keras import env

MAX_SEQUENCE = 10  # the labs' padding length


def _lab_models(keras):
    """Labs 12-1 (many to one), 12-2 (stacked, dropout), 12-3 (many to many) and 12-4
    (bidirectional), as their notebooks build them (Keras 3 spells the input with Input)."""
    layers = keras.layers

    def one_hot(size):
        table = keras.initializers.Constant(np.eye(size))
        return layers.Embedding(size, size, trainable=False, mask_zero=True,
                                embeddings_initializer=table)  # fmt: skip

    keras.utils.set_random_seed(0)
    given = keras.Input((MAX_SEQUENCE,))
    stacks = {
        "12-1": [one_hot(11), layers.SimpleRNN(10), layers.Dense(2)],
        "12-2": [one_hot(42), layers.SimpleRNN(10, return_sequences=True),
                 layers.TimeDistributed(layers.Dropout(0.2)), layers.SimpleRNN(10),
                 layers.Dropout(0.2), layers.Dense(2)],
        "12-3": [one_hot(15), layers.SimpleRNN(10, return_sequences=True),
                 layers.TimeDistributed(layers.Dense(8))],
        "12-4": [one_hot(15), layers.Bidirectional(layers.SimpleRNN(10, return_sequences=True)),
                 layers.TimeDistributed(layers.Dense(8))],
    }  # fmt: skip
    return {name: keras.Sequential([given, *stack]) for name, stack in stacks.items()}


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """The four lab models, saved as .keras files (12-3 also as a legacy .h5)."""
    keras = env.load_keras()
    folder = tmp_path_factory.mktemp("labs")
    found = {}
    with env.tensorflow_logs_quiet():
        for name, model in _lab_models(keras).items():
            path = folder / f"lab-{name}.keras"
            model.save(path)
            found[name] = (str(path), keras.models.load_model(path))
        legacy = folder / "lab-12-3.h5"
        found["12-3"][1].save(legacy)
    found["h5"] = (str(legacy), found["12-3"][1])
    return found


def _summary(model, monkeypatch) -> tuple[list[tuple[str, str, str, int]], list[int]]:
    """(name, class, output shape, params) per row of Keras's summary, and its totals."""
    lines: list[str] = []
    monkeypatch.setenv("COLUMNS", "250")  # Keras's rich console: no row cut short
    model.summary(line_length=250, print_fn=lambda text, **_: lines.extend(text.splitlines()))
    rows = []
    for line in lines:
        found = re.match(r"│ (\S+) \((\S+)\)\s*│ (.+?)\s*│\s*([\d,]+) │", line)
        if found:
            name, cls, shape, params = found.groups()
            rows.append((name, cls, shape, int(params.replace(",", ""))))
    totals = []
    for line in lines:
        found = re.search(r"(Total|Trainable|Non-trainable) params: ([\d,]+)", line)
        if found:
            totals.append(int(found.group(2).replace(",", "")))
    return rows, totals


def _shape_text(shape):
    return "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


@pytest.mark.parametrize("lab", ["12-1", "12-2", "12-3", "12-4", "h5"])
def test_the_labs_layers_are_what_keras_summary_lists(cli, labs, lab, monkeypatch):
    path, model = labs[lab]
    obj = cli.json("inspect", path)
    rows, totals = _summary(model, monkeypatch)
    assert rows, "the summary was not read"
    listed = [row for row in obj["layers"] if row["class"] != "InputLayer"]
    assert [(r["name"], r["class"].split("(")[0]) for r in listed] == [
        (n, c) for n, c, _, _ in rows
    ]
    for row, (_, _, shape, params) in zip(listed, rows, strict=True):
        outputs = row["output_shape"]
        shown = _shape_text(outputs[0]) if len(outputs) == 1 else None
        assert shown == shape
        assert row["trainable_params"] + row["non_trainable_params"] == params
    assert [obj["params"], obj["trainable_params"], obj["non_trainable_params"]] == totals
    assert obj["format"] == ("h5" if lab == "h5" else "keras")
    assert obj["unsupported"] == [] and obj["description"] is None
    embedding = listed[0]
    assert embedding["mask"] is True and embedding["trainable_params"] == 0


def test_recurrent_settings_and_the_view(cli, labs):
    obj = cli.json("inspect", labs["12-4"][0])
    bidirectional = next(r for r in obj["layers"] if r["class"].startswith("Bidirectional"))
    assert bidirectional["class"] == "Bidirectional(SimpleRNN)"
    assert bidirectional["settings"] == {
        "units": 10, "cell": "SimpleRNNCell", "return_sequences": True, "return_state": False,
        "activation": "tanh", "go_backwards": False, "stateful": False, "use_bias": True,
        "dropout": 0.0, "recurrent_dropout": 0.0, "unroll": False, "merge_mode": "concat",
    }  # fmt: skip
    assert bidirectional["output_shape"] == [[None, MAX_SEQUENCE, 20]]
    table = " ".join(cli.ok("inspect", labs["12-2"][0]).stdout.split())
    assert "params: 2,526 (trainable 762, non-trainable 1,764)" in table  # 42 tokens, one-hot
    assert "input: input_layer" in table and f"(None, {MAX_SEQUENCE}) float32" in table
    assert re.search(r"simple_rnn\w*: units=10, cell=SimpleRNNCell, return_sequences=False", table)


@pytest.mark.parametrize("lab", ["12-1", "12-2", "12-3", "12-4"])
def test_the_probed_logits_are_the_models(cli, labs, lab, tmp_path):
    path, model = labs[lab]
    obj = cli.json("inspect", path, "--input", "1 2 3", "--input", "4 5 6 7 8 9 1 2 3 4")
    ids = np.array([[1, 2, 3] + [0] * 7, [4, 5, 6, 7, 8, 9, 1, 2, 3, 4]])
    expected = np.asarray(model(ids), dtype=np.float32)
    np.testing.assert_array_equal(np.asarray(obj["logits"]["values"], np.float32), expected)
    assert obj["tokens"]["values"] == ids.tolist() and obj["lengths"] == [3, 10]
    batch = tmp_path / "x.npy"
    np.save(batch, ids)
    again = cli.json("inspect", path, "--input", str(batch))
    assert again["logits"] == obj["logits"]


def test_random_rows_and_the_api(cli, labs):
    import rnnprobe

    path, model = labs["12-1"]
    obj = cli.json("inspect", path, "--random", "3", "--seed", "5")
    ids = np.asarray(obj["tokens"]["values"])
    assert ids.shape == (3, MAX_SEQUENCE) and ids.min() >= 1 and ids.max() < 11
    np.testing.assert_array_equal(np.asarray(obj["logits"]["values"], np.float32),
                                  np.asarray(model(ids), np.float32))  # fmt: skip
    assert cli.json("inspect", path, "--random", "3", "--seed", "5") == obj
    assert cli.json("inspect", path, "--random", "3", "--seed", "6") != obj
    found = rnnprobe.inspect(path, ids)
    assert found.to_dict() == obj and found.run is not None
    assert [row["class"] for row in rnnprobe.inspect(path).layers][-1] == "Dense"


def test_a_network_rnnprobe_saved_reads_its_tokens(cli, tmp_path):
    path = str(tmp_path / "hi.keras")
    cli.ok("train", "hihello", "--epochs", "2", "--seed", "0", "--save", path)
    obj = cli.json("inspect", path, "--input", "hihello", "--input", "hex")
    loaded = cli.json("run", "--load", path, "hihello", "hex")
    assert obj["logits"] == loaded["logits"]
    layers = cli.json("inspect", path)
    assert [r["class"] for r in layers["layers"]][:2] == ["InputLayer", "StringLookup"]
    assert layers["description"]["kind"] == "train" and layers["inputs"][0]["dtype"] == "string"
    said = " ".join(cli.ok("inspect", path, env={"COLUMNS": "400"}).stdout.split())
    assert "saved by rnnprobe" in said and f"rnnprobe run --load {path} WORDS" in said


def test_layers_it_cannot_run_are_named_and_the_table_still_shown(cli, tmp_path):
    keras = env.load_keras()
    layers = keras.layers
    model = keras.Sequential([keras.Input((6,)), layers.Embedding(5, 3), layers.Conv1D(2, 2),
                              layers.SimpleRNN(2)])  # fmt: skip
    path = str(tmp_path / "conv.keras")
    model.save(path)
    conv = model.layers[1].name  # conv1d, or conv1d_N after other models
    said = " ".join(cli.ok("inspect", path).stdout.split())
    assert f"rnnprobe cannot run {conv} (Conv1D)" in said and "simple_rnn" in said
    assert cli.json("inspect", path)["unsupported"] == [{"name": conv, "class": "Conv1D"}]
    assert f"rnnprobe cannot run the layers {conv} (Conv1D)" in cli.usage_error(
        "inspect", path, "--input", "1 2"
    )


def test_bad_input_is_one_line(cli, labs, tmp_path):
    path = labs["12-1"][0]
    assert "no file given" in cli.usage_error("inspect")
    assert "no such file" in cli.usage_error("inspect", str(tmp_path / "none.keras"))
    assert "no such file" in cli.usage_error("inspect", str(tmp_path / "none.h5"))
    (tmp_path / "notes.txt").write_text("x")
    assert "give a Keras model file" in cli.usage_error("inspect", str(tmp_path / "notes.txt"))
    fake = tmp_path / "fake.keras"
    fake.write_text("not a zip")
    assert "is not a Keras model file" in cli.usage_error("inspect", str(fake))
    (tmp_path / "fake.h5").write_text("not hdf5")
    assert "not HDF5" in cli.usage_error("inspect", str(tmp_path / "fake.h5"))
    assert "the model reads 10 at most" in cli.usage_error("inspect", path, "--input",
                                                            " ".join(["1"] * 11))  # fmt: skip
    np.save(tmp_path / "bad.npy", np.zeros((2, 3, 4)))
    assert f"has shape (2, 3, 4): the model reads (None, {MAX_SEQUENCE})" in cli.usage_error(
        "inspect", path, "--input", str(tmp_path / "bad.npy")
    )
    assert "is not a token id" in cli.usage_error("inspect", path, "--input", "1 x")
    assert "has token id 11: the model's Embedding reads ids 0 to 10" in cli.usage_error(
        "inspect", path, "--input", "1 11"
    )
    assert "not both" in cli.usage_error("inspect", path, "--input", "1", "--random", "2")
    assert "--random '0': give at least 1" in cli.usage_error("inspect", path, "--random", "0")


def test_a_text_vectorization_in_front_reads_whole_sentences(cli, tmp_path):
    keras = env.load_keras()
    vectorize = keras.layers.TextVectorization(max_tokens=20, output_sequence_length=6)
    vectorize.adapt(["i feel hungry", "tensorflow is very difficult"])
    given = keras.Input(shape=(1,), dtype="string")
    flow = keras.layers.Embedding(20, 4, mask_zero=True)(vectorize(given))
    model = keras.Model(given, keras.layers.Dense(2)(keras.layers.GRU(3)(flow)))
    path = str(tmp_path / "text.keras")
    model.save(path)
    obj = cli.json("inspect", path, "--input", "i feel", "--input", "tensorflow is hungry")
    expected = np.asarray(model(np.array([["i feel"], ["tensorflow is hungry"]])), np.float32)
    np.testing.assert_array_equal(np.asarray(obj["logits"]["values"], np.float32), expected)
    assert obj["tokens"]["shape"] == [2, 6] and obj["lengths"] == [2, 3]
    assert cli.json("inspect", path, "--random", "2")["logits"]["shape"] == [2, 2]


def test_all_rows_and_an_export(cli, labs, tmp_path):
    path = labs["12-3"][0]
    some = cli.ok("inspect", path, "--random", "12", env={"COLUMNS": "200"}).stdout
    every = cli.ok("inspect", path, "--random", "12", "--all", env={"COLUMNS": "200"}).stdout
    assert "sequence 12 " in every and "sequence 12 " not in some
    exported = tmp_path / "lab.txt"
    shown = cli.ok("inspect", path, "--export", str(exported), env={"COLUMNS": "200"}).stdout
    assert "params: 573 (trainable 348, non-trainable 225)" in exported.read_text()
    assert exported.read_text().split() == shown.split()
