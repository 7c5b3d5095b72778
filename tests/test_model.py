"""The network around the RNN: word tokens, Embedding and its mask, Dense heads.

Every number is checked against numpy fed only what the JSON reports (ids, weights);
Keras itself is asked for parameter counts and masks through models built here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from rnnprobe.core.keras import env
from rnnprobe.core.numpy import check
from rnnprobe.core.result import Tensor

from .conftest import RUN_KEYS_BASE, recompute_json, run_scripts

LECTURE = ["good", "bad", "worse", "so good"]  # the lecture's many-to-one words
SENTENCES = ["i feel hungry", "tensorflow is very difficult", "tensorflow is easy"]
MANY_TO_ONE = ["--embed", "onehot", "--hidden", "10", "--head", "2"]
MANY_TO_MANY = ["--tokens", "word", "--embed", "onehot", "--hidden", "10", "--head", "8",
                "--each-step"]  # fmt: skip
ROOT = Path(__file__).resolve().parent.parent


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def weights_of(obj: dict) -> dict[str, np.ndarray]:
    return {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in obj["weights"]}


def test_json_keys_are_added_after_the_existing_ones(cli):
    obj = cli.json("run", *LECTURE, *MANY_TO_ONE, "--seed", "0")
    assert list(obj) == [*RUN_KEYS_BASE, "tokenizer", "embed", "head", "each_step", "layers",
                         "tokens", "mask", "embedding", "logits", "probabilities",
                         "head_activation"]  # fmt: skip
    assert obj["head_activation"] == "linear"  # rnnprobe's head gives logits
    assert obj["x_data"] is None
    assert obj["tokenizer"] == "char" and obj["embed"] == "onehot" and obj["head"] == 2
    assert list(obj["tokens"]) == ["name", "shape", "dims", "values"]
    assert obj["tokens"]["dims"] == ["batch", "time"] and obj["mask"]["dims"] == ["batch", "time"]
    assert obj["embedding"]["dims"] == ["batch", "time", "embedding"]
    assert obj["logits"]["dims"] == ["batch", "class"]
    assert obj["probabilities"]["dims"] == ["batch", "class"]
    assert list(obj["layers"][0]) == ["name", "class", "shape", "mask", "params"]
    plain = cli.json("run", "hello", "--seed", "0")
    assert plain["tokenizer"] == "char" and plain["embed"] is None and plain["head"] is None
    assert [layer["class"] for layer in plain["layers"]] == ["SimpleRNN"]
    assert "logits" not in plain and "tokens" not in plain


def test_the_lecture_many_to_one_shapes(cli):
    obj = cli.json("run", *LECTURE, *MANY_TO_ONE, "--seed", "0")
    vocab = obj["vocab"]
    assert vocab[0] == "<pad>" and vocab[1:] == ["g", "o", "d", "b", "a", "w", "r", "s", "e", " "]
    size = len(vocab)
    assert obj["tokens"]["shape"] == [4, 7]
    assert obj["embedding"]["shape"] == [4, 7, size]
    assert obj["outputs"]["shape"] == [4, 10] and obj["outputs"]["dims"] == ["batch", "hidden"]
    assert obj["return_sequences"] is False
    assert obj["logits"]["shape"] == [4, 2] and obj["probabilities"]["shape"] == [4, 2]
    ids = np.asarray(obj["tokens"]["values"])
    assert ids.dtype.kind == "i" and ids[3].tolist() == [8, 2, 10, 1, 2, 2, 3]
    assert ids[1].tolist() == [4, 5, 3, 0, 0, 0, 0]  # bad, padded with <pad> = 0 at the end
    assert obj["mask"]["values"][1] == [True, True, True, False, False, False, False]
    layers = [(x["class"], x["shape"], x["mask"]) for x in obj["layers"]]
    assert layers == [
        ("Embedding", [4, 7, size], True),
        ("SimpleRNN", [4, 10], False),
        ("Dense", [4, 2], False),
    ]


def test_the_pos_tagging_many_to_many_shapes(cli):
    obj = cli.json("run", *SENTENCES, *MANY_TO_MANY, "--seed", "0")
    size = len(obj["vocab"])
    assert obj["tokenizer"] == "word" and size == 1 + 8
    assert obj["tokens"]["shape"] == [3, 4] and obj["embedding"]["shape"] == [3, 4, size]
    assert obj["outputs"]["shape"] == [3, 4, 10] and obj["logits"]["shape"] == [3, 4, 8]
    assert obj["logits"]["dims"] == ["batch", "time", "class"]
    bi = cli.json("run", *SENTENCES, *MANY_TO_MANY, "--bidirectional", "--seed", "0")
    assert [x["class"] for x in bi["layers"]] == [
        "Embedding", "Bidirectional(SimpleRNN)", "TimeDistributed(Dense)",
    ]  # fmt: skip
    assert [x["shape"] for x in bi["layers"]] == [[3, 4, size], [3, 4, 20], [3, 4, 8]]
    assert [x["mask"] for x in bi["layers"]] == [True, True, True]


@pytest.mark.parametrize(
    "extra",
    [
        [*MANY_TO_ONE],
        ["--embed", "3", "--head", "4", "--each-step", "--cell", "lstm"],
        ["--embed", "5", "--cell", "gru", "-H", "3,2", "--bidirectional", "--head", "2"],
        ["--embed", "onehot", "--style", "cell", "-H", "4,3", "--head", "3", "--each-step"],
        ["--head", "3"],  # one-hot x_data, no Embedding
        ["--embed", "4"],  # an Embedding, no head
    ],
    ids=" ".join,
)
def test_numbers_match_numpy_from_the_reported_ids_and_weights(cli, extra):
    obj = cli.json("run", *LECTURE, *extra, "--seed", "3", "--weights")
    weights = weights_of(obj)
    if obj["embed"] is not None:
        ids = np.asarray(obj["tokens"]["values"])
        looked_up = weights["embedding/embeddings"][ids]  # the Embedding is a table lookup
        np.testing.assert_allclose(obj["embedding"]["values"], looked_up, atol=1e-7)
        assert obj["x_data"] is None
    expected = recompute_json(obj)
    np.testing.assert_allclose(obj["outputs"]["values"], expected["outputs"], atol=1e-5)
    for state in obj["states"]:
        np.testing.assert_allclose(state["values"], expected[state["name"]], atol=1e-5)
    if obj["head"] is not None:
        outputs = np.asarray(obj["outputs"]["values"], dtype=np.float64)
        logits = outputs @ weights["head/kernel"] + weights["head/bias"]
        np.testing.assert_allclose(obj["logits"]["values"], logits, atol=1e-5)
        np.testing.assert_allclose(obj["probabilities"]["values"], softmax(logits), atol=1e-6)
        np.testing.assert_allclose(np.sum(obj["probabilities"]["values"], axis=-1), 1, atol=1e-6)


def test_padded_steps_the_embedding_is_not_zero_and_the_head_still_runs(cli):
    obj = cli.json("run", "good", "so good", "--embed", "onehot", "--head", "2", "--each-step",
                   "--seed", "1", "--weights")  # fmt: skip
    embedding = np.asarray(obj["embedding"]["values"])
    size = len(obj["vocab"])
    e0 = np.eye(size)[0]
    np.testing.assert_array_equal(embedding[0, 4:], np.tile(e0, (3, 1)))  # the <pad> row, e_0
    assert obj["mask"]["values"][0] == [True] * 4 + [False] * 3
    logits = np.asarray(obj["logits"]["values"])
    # the RNN keeps its state on padded steps, and the Dense head runs there anyway
    np.testing.assert_allclose(logits[0, 4:], np.tile(logits[0, 3], (3, 1)), atol=1e-7)
    table = cli.ok("run", "good", "so good", "--embed", "onehot", "--head", "2", "--each-step",
                   "--seed", "1").stdout  # fmt: skip
    assert " 4 │ <pad> │  0 │ off " in table
    said = " ".join(table.split())
    assert "t=4 to 6: padding; <pad> (id 0), mask off;" in said
    assert "the embedding is the <pad> row of the table, not zero" in said
    assert "the head still runs on them (Keras does not mask a Dense)" in said
    assert "logit 0" in table and "p 1" in table


def test_word_tokens_and_a_vocab_of_words(cli):
    obj = cli.json("run", *SENTENCES, "--tokens", "word", "--seed", "0")
    assert obj["vocab"] == ["i", "feel", "hungry", "tensorflow", "is", "very", "difficult", "easy"]
    assert obj["x_data"]["shape"] == [3, 4, 8] and obj["lengths"] == [3, 4, 3]
    ordered = cli.json("run", "i feel", "--tokens", "word", "--vocab", "feel,i,you", "--seed", "0")
    assert ordered["vocab"] == ["feel", "i", "you"]
    assert ordered["x_data"]["values"][0][0] == [0.0, 1.0, 0.0]
    chars = cli.json("run", "so good", "--seed", "0")
    assert chars["lengths"] == [7] and " " in chars["vocab"]  # a space is a character
    table = cli.ok("run", *SENTENCES, "--tokens", "word", "--seed", "0").stdout
    assert "vocab (8 words): i feel hungry" in table
    assert " t ┃ word " in table and " 1 │ feel " in table


def test_the_layers_table_counts_what_keras_counts(cli):
    keras = env.load_keras()
    layers = keras.layers
    obj = cli.json("run", *SENTENCES, "--tokens", "word", "--embed", "6", "--hidden", "5,3",
                   "--cell", "gru", "--bidirectional", "--head", "4", "--each-step",
                   "--seed", "2", "--weights")  # fmt: skip
    size = len(obj["vocab"])
    model = keras.Sequential([
        layers.Embedding(size, 6, mask_zero=True),
        layers.Bidirectional(layers.GRU(5, return_sequences=True)),
        layers.Bidirectional(layers.GRU(3, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(4)),
    ])  # fmt: skip
    ids = np.asarray(obj["tokens"]["values"])
    flow, masks = ids, []
    for layer in model.layers:  # what Keras attaches as the mask after each layer
        flow = layer(flow)
        masks.append(getattr(flow, "_keras_mask", None) is not None)
    assert obj["params"] == sum(layer.count_params() for layer in model.layers)
    assert [x["params"] for x in obj["layers"]] == [x.count_params() for x in model.layers]
    assert [x["mask"] for x in obj["layers"]] == masks
    one = cli.json("run", *LECTURE, *MANY_TO_ONE, "--seed", "0")
    lecture = keras.Sequential([
        layers.Embedding(11, 11, mask_zero=True), layers.SimpleRNN(10), layers.Dense(2),
    ])  # fmt: skip
    flow, masks = np.asarray(one["tokens"]["values"]), []
    for layer in lecture.layers:
        flow = layer(flow)
        masks.append(getattr(flow, "_keras_mask", None) is not None)
    assert one["params"] == sum(layer.count_params() for layer in lecture.layers) == 363
    assert [x["mask"] for x in one["layers"]] == masks == [True, False, False]
    table = cli.ok("run", *LECTURE, *MANY_TO_ONE, "--seed", "0").stdout
    assert "layer     ┃ class     ┃ output shape ┃ mask out ┃ params" in table
    assert "total: 363 parameters" in table


def test_check_recomputes_the_embedding_and_the_head_and_can_fail(cli, monkeypatch):
    obj = cli.json("run", *LECTURE, *MANY_TO_ONE, "--check", "--seed", "4")
    assert obj["check"]["ok"] is True
    from rnnprobe.core import options
    from rnnprobe.core.commands import run as commands

    spec = options.make_spec(hidden=3, embed=4, head=2, each_step=True)
    result = commands.run(LECTURE, spec, seed=4)
    assert check.verify(result).ok
    for name in ("embedding/embeddings", "head/kernel", "head/bias"):
        weights = []
        for weight in result.weights:
            array = weight.array.copy()
            if weight.name == name:
                array[-1] += 0.05  # the last row: a real token's, or the last bias
            weights.append(Tensor(weight.name, weight.dims, array))
        from dataclasses import replace

        assert not check.verify(replace(result, weights=tuple(weights))).ok, name


def test_steps_shapes_diagram_weights_and_export_include_the_embedding_and_the_head(cli, tmp_path):
    args = ["run", "good", "so good", "--embed", "3", "--head", "2", "--seed", "5"]
    steps = cli.ok(*args, "--steps").stdout
    assert "layer 1: SimpleRNNCell(2), reading the embedding" in steps
    assert "head: Dense(2), reading outputs (the last real step)" in steps
    assert "probabilities = [" in steps
    each = cli.ok(*args, "--each-step", "--steps").stdout
    assert "head: TimeDistributed(Dense(2)), reading every step of outputs" in each
    shapes = cli.ok(*args, "--shapes").stdout
    assert "embedding: vocab 6 x embedding 3 = 18 parameters" in shapes
    assert "head: (hidden 2 + 1) x class 2 = 6 parameters" in shapes
    assert "row ids[b, t] of the embeddings table" in shapes
    shaped = cli.json(*args, "--shapes")
    assert "values" not in shaped["logits"] and "values" not in shaped["tokens"]
    assert [w["name"] for w in shaped["weights"]][::4] == ["embedding/embeddings", "head/kernel"]
    diagram = cli.ok(*args, "--diagram").stdout.splitlines()
    start = next(i for i, line in enumerate(diagram) if line.startswith("word 1: good"))
    picture = [line.split()[0] for line in diagram[start + 3 :] if line and line[0] != " "]
    assert picture[0] == "logits" and picture[1] == "outputs"
    assert picture.index("embedding") < picture.index("ids")
    ids_line = next(line for line in diagram if line.startswith("ids "))
    assert ids_line.split() == ["ids", "id", "1", "id", "2", "id", "2", "id", "3", "id", "0",
                                "id", "0", "id", "0"]  # fmt: skip
    weights = cli.ok(*args, "--weights").stdout
    assert "embedding/embeddings (6, 3) = vocab x embedding" in weights
    assert "head/kernel (2, 2) = hidden x class" in weights
    assert " <pad> │" in weights  # the embedding's rows are labelled by token
    export = tmp_path / "model.txt"
    cli.ok(*args, "--export", str(export))
    assert "logits" in export.read_text() and "embedding" in export.read_text()


def test_compare_and_batch_take_the_new_options(cli, tmp_path):
    compared = cli.json("compare", *LECTURE, *MANY_TO_ONE, "--seed", "1")
    assert compared["identical"] is True
    assert set(compared["max_abs_diff"]) == {"outputs", "h", "logits", "probabilities"}
    line = '"i feel" "you are" --tokens word --embed 3 --head 2 --each-step --seed 2'
    (tmp_path / "probes.txt").write_text(line + "\n", encoding="utf-8")
    batched = cli.ok("batch", str(tmp_path / "probes.txt")).stdout
    run = cli.ok("run", "i feel", "you are", "--tokens", "word", "--embed", "3", "--head", "2",
                 "--each-step", "--seed", "2", "--json").stdout  # fmt: skip
    assert batched == run


def test_bad_input_names_the_option_before_tensorflow_loads(cli, monkeypatch):
    def no_tensorflow():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", no_tensorflow)
    cases = [
        (["--each-step"], "--each-step needs --head"),
        (["--embed", "0"], "--embed '0': an Embedding needs at least 1 dimension"),
        (["--embed", "foo"], "--embed 'foo': give onehot or a number of dimensions"),
        (["--head", "0"], "--head '0': a head needs at least 1 class"),
        (["--head", "x"], "--head 'x': give the number of classes"),
        (["--tokens", "foo"], "'--tokens'"),
        (["--tokens", "word", "--vocab", "good,good"], "--vocab repeats 'good'"),
        (["--head", "2", "--each-step", "--no-return-sequences"],
         "--each-step reads every step: it does not combine with --no-return-sequences"),
    ]  # fmt: skip
    for extra, needle in cases:
        assert needle in cli.usage_error("run", "good", "bad", *extra), extra
    assert "--embed" in cli.usage_error("compare", "good", "--embed", "0")


def test_the_printed_sequential_script_reproduces_the_numbers(cli):
    cases = [
        ["run", *LECTURE, *MANY_TO_ONE, "--seed", "12"],
        ["run", *SENTENCES, *MANY_TO_MANY, "--bidirectional", "--cell", "lstm", "--seed", "13"],
        ["run", "hello", "hi", "--head", "3", "--seed", "14"],  # one-hot x_data: a Masking
    ]
    scripts, expected = [], []
    for args in cases:
        script = cli.ok(*args, "--code").stdout
        assert "model = keras.Sequential([" in script
        names = ["outputs", "logits", "probabilities"] + (
            ["embedding"] if "--embed" in args else []
        )
        scripts.append((script, names))
        obj = cli.json(*args)
        expected.append({n: obj[n]["values"] for n in names})
    for got, wanted in zip(run_scripts(scripts), expected, strict=True):
        for name, values in wanted.items():
            np.testing.assert_allclose(np.float32(got[name]), np.float32(values), atol=1e-6,
                                       err_msg=name)  # fmt: skip


def test_the_api_takes_the_same_options_and_holds_the_arrays(cli):
    import rnnprobe

    result = rnnprobe.run(SENTENCES, tokens="word", embed="onehot", hidden=10, head=8,
                          each_step=True, seed=6)  # fmt: skip
    assert result.to_dict() == cli.json("run", *SENTENCES, *MANY_TO_MANY, "--seed", "6")
    assert result.tokens.shape == (3, 4) and result.mask.dtype == bool
    assert result.embedding.shape == (3, 4, 9) and result.logits.shape == (3, 4, 8)
    np.testing.assert_allclose(result.probabilities.sum(axis=-1), 1, atol=1e-6)
    assert result.x_data is None
    assert [layer["class"] for layer in result.layers] == [
        "Embedding", "SimpleRNN", "TimeDistributed(Dense)",
    ]  # fmt: skip
    one_line = rnnprobe.run("i feel hungry\ntensorflow is very difficult\n", tokens="word", seed=1)
    assert one_line.words == ["i feel hungry", "tensorflow is very difficult"]
    plain = rnnprobe.run("hello", seed=1)
    assert plain.tokens is None and plain.logits is None and plain.embedding is None
    with pytest.raises(ValueError, match="each_step needs head"):
        rnnprobe.run("hello", each_step=True)
    with pytest.raises(ValueError, match="with return_sequences=False"):
        rnnprobe.run("hello", head=2, each_step=True, return_sequences=False)


def test_probe_takes_a_users_sequential_or_functional_model():
    import rnnprobe

    keras = env.load_keras()
    layers = keras.layers
    ids = np.array([[3, 1, 2, 0, 0], [2, 2, 4, 1, 3]])
    sequential = keras.Sequential([
        layers.Embedding(5, 4, mask_zero=True),
        layers.LSTM(3, return_sequences=True),
        layers.Dropout(0.5),
        layers.Bidirectional(layers.GRU(2, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(6)),
    ])  # fmt: skip
    found = rnnprobe.probe(sequential, ids)
    np.testing.assert_allclose(found.logits, np.asarray(sequential(ids)), atol=1e-6)
    assert found.params == sequential.count_params()
    assert [layer["class"] for layer in found.layers] == [
        "Embedding", "LSTM", "Dropout", "Bidirectional(GRU)", "TimeDistributed(Dense)",
    ]  # fmt: skip
    assert [layer["shape"] for layer in found.layers] == [
        [2, 5, 4], [2, 5, 3], [2, 5, 3], [2, 5, 4], [2, 5, 6],
    ]  # fmt: skip
    assert [layer["mask"] for layer in found.layers] == [True] * 5
    assert found.lengths == [3, 5]
    assert list(found.states) == ["1/h", "1/c", "2/forward_h", "2/backward_h"]
    assert found.outputs.shape == (2, 5, 4)
    np.testing.assert_allclose(found.probabilities.sum(axis=-1), 1, atol=1e-6)
    # the LSTM's final h is its output at each sequence's last real step
    inner = np.asarray(sequential.layers[1](sequential.layers[0](ids)))
    np.testing.assert_allclose(found.states["1/h"], inner[[0, 1], [2, 4]], atol=1e-6)

    tokens = keras.Input(shape=(None,), dtype="int32")
    hidden = layers.SimpleRNN(4)(layers.Embedding(5, 3, mask_zero=True)(tokens))
    functional = keras.Model(tokens, layers.Dense(2)(hidden))
    found = rnnprobe.probe(functional, ids)
    np.testing.assert_allclose(found.logits, np.asarray(functional(ids)), atol=1e-6)
    assert found.params == functional.count_params()
    assert found.logits.shape == (2, 2) and list(found.states) == ["h"]
    assert "Embedding" in found.to_json()

    conv = keras.Sequential([layers.Embedding(5, 3), layers.Conv1D(2, 2), layers.SimpleRNN(2)])
    with pytest.raises(ValueError, match=r"layer 'conv1d.*' is Conv1D"):
        rnnprobe.probe(conv, ids)
    with pytest.raises(ValueError, match="this model has no RNN"):
        rnnprobe.probe(keras.Sequential([layers.Embedding(5, 3), layers.Dense(2)]), ids)


def test_vocab_and_compare_take_word_tokens_and_a_head_on_every_step(cli):
    words = cli.json("vocab", "i feel", "you feel", "--tokens", "word")
    assert words["tokenizer"] == "word" and words["vocab"] == ["i", "feel", "you"]
    assert words["x_data"]["shape"] == [2, 2, 3]
    compared = cli.json("compare", "i feel", "you feel", "--tokens", "word", "--embed", "3",
                        "--head", "2", "--each-step", "--seed", "1")  # fmt: skip
    assert compared["identical"] is True
    assert compared["shapes"]["logits"] == [2, 2, 2]  # every step: (batch, time, class)


def test_a_one_hot_embeddings_columns_are_the_vocabulary_in_whole_numbers(cli):
    out = cli.ok("run", "good", "bad", "--embed", "onehot", "--head", "2", "--seed", "0").stdout
    assert re.search(r"┃ id ┃ mask ┃ <pad> ┃ g ┃ o ┃ d ┃ b ┃ a $", out, re.M)
    assert re.search(r"^ 0 │ g +│ +1 │ +on +│ +0 +│ 1 │ 0 │ 0 │ 0 │ 0 $", out, re.M)
    assert "emb 0" not in out and "1.0000" not in out
    random = cli.ok("run", "good", "--embed", "3", "--seed", "0").stdout
    assert re.search(r"emb 0 ┃ +emb 1 ┃ +emb 2", random)  # a trained one keeps numbered columns
