"""Saved networks: `--save` writes a plain Keras file, `--load` reads it back, `rnnprobe.load`
and `.save` do the same from Python.

A saved model is opened by a Python that imports only Keras and numpy (the session's script
interpreter, with rnnprobe made unimportable) and called on the training input: its logits
equal rnnprobe's numpy forward pass from the trained weights the training reported, and
bit for bit those of `run --load`.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnprobe.core.numpy import engine

from .conftest import start_script
from .test_train import _input, _spec, _weights

WORDS = ["hihello", "hello"]
LECTURE = ["good", "bad", "worse", "so good"]  # lab 12-1, with its one-hot Embedding
SENTENCES = ["i feel hungry", "tensorflow is very difficult", "tensorflow is easy"]
PAIRS = ["i feel hungry", "나는 배가 고프다", "tensorflow is very difficult",
         "텐서플로우는 매우 어렵다"]  # fmt: skip
VALUES = [float(n * n % 17) for n in range(60)]
SERIES = "\n".join(map(str, VALUES))

# Keras and numpy only: rnnprobe cannot be imported while the saved models are called.
KERAS_ONLY = """
import sys
assert "rnnprobe" not in sys.modules
sys.modules["rnnprobe"] = None  # `import rnnprobe` raises ImportError from here
try:
    import json
    import keras
    import numpy as np
    found = {}
    for name, path, inputs in json.loads(CASES):
        model = keras.models.load_model(path)
        given = [np.array(x, dtype=object if isinstance(x[0][0], str) else np.float64)
                 for x in inputs]
        found[name] = np.asarray(model(given[0] if len(given) == 1 else given)).tolist()
    print(json.dumps(found))
finally:
    del sys.modules["rnnprobe"]
"""


def _tokens(ids: list[list[int]], vocab: list[str]) -> list[list[str]]:
    """Ids as the token strings a saved model reads (`""` for padding)."""
    return [["" if i == 0 else vocab[i] for i in row] for row in ids]


def _padded(rows: list[list[str]]) -> list[list[str]]:
    width = max(map(len, rows))
    return [[*row, *[""] * (width - len(row))] for row in rows]


@pytest.fixture(scope="module")
def saved(cli, tmp_path_factory):
    """Networks trained and saved once for this module, and what the trainings reported."""
    folder = tmp_path_factory.mktemp("saved")
    found = {"folder": folder}
    found["char"] = cli.json("train", *WORDS, "--epochs", "30", "--seed", "3", "--save",
                             str(folder / "char.keras"))  # fmt: skip
    found["words"] = cli.json("train", *SENTENCES, "--tokens", "word", "--labels", "0,1,1",
                              "--embed", "4", "--hidden", "3", "--cell", "lstm",
                              "--bidirectional", "--epochs", "5", "--seed", "1", "--save",
                              str(folder / "words.keras"))  # fmt: skip
    found["onehot"] = cli.json("train", *LECTURE, "--labels", "1,0,0,1", "--embed", "onehot",
                               "--hidden", "4", "--epochs", "5", "--seed", "0", "--save",
                               str(folder / "onehot.keras"))  # fmt: skip
    found["grads"] = cli.json("grads", *WORDS, "--after", "3", "--seed", "3", "--save",
                              str(folder / "grads.keras"))  # fmt: skip
    found["pairs"] = cli.json("seq2seq", *PAIRS, "--attention", "-H", "8", "--embed", "4",
                              "--train", "40", "--lr", "0.05", "--seed", "0", "--translate",
                              "tensorflow is hungry", "--save",
                              str(folder / "pairs.keras"))  # fmt: skip
    found["series"] = cli.json("series", "-", "--window", "4", "--train", "3", "--seed", "0",
                               "--save", str(folder / "series.keras"), input=SERIES)  # fmt: skip
    return found


def test_the_views_and_json_say_where_the_network_was_saved(cli, saved):
    folder = saved["folder"]
    for key in ("char", "words", "grads", "pairs", "series"):
        assert Path(saved[key]["saved"]).name == f"{key}.keras"
    table = cli.ok("train", *WORDS, "--epochs", "2", "--seed", "3", "--save",
                   str(folder / "view.keras")).stdout  # fmt: skip
    said = " ".join(table.split())
    assert f"saved the trained network to {folder / 'view.keras'}" in said
    assert f"model = keras.models.load_model('{folder / 'view.keras'}')" in said
    with zipfile.ZipFile(folder / "char.keras") as archive:
        meta = json.loads(archive.read("rnnprobe.json"))
    assert meta["kind"] == "train" and meta["task"] == "next" and meta["seed"] == 3
    assert meta["vocab"] == ["<unk>", *saved["char"]["vocab"]]
    assert [e["epoch"] for e in meta["history"]] == list(range(1, 31))


def test_a_saved_network_runs_in_plain_keras_with_the_trained_logits(cli, saved):
    folder = saved["folder"]
    sentences = [s.split() for s in SENTENCES]
    source, target = saved["pairs"]["source"], saved["pairs"]["target"]
    source_in = _tokens(source["ids"]["values"], source["vocab"])
    pairs_in = _tokens(target["decoder_input"]["values"], target["vocab"])
    cases = [
        ("char", str(folder / "char.keras"), [_padded([list(w) for w in WORDS])]),
        ("words", str(folder / "words.keras"), [_padded(sentences)]),
        ("onehot", str(folder / "onehot.keras"), [_padded([list(w) for w in LECTURE])]),
        ("grads", str(folder / "grads.keras"), [_padded([list(w) for w in WORDS])]),
        ("pairs", str(folder / "pairs.keras"),
         [source_in, pairs_in]),
        ("series", str(folder / "series.keras"),
         [[[[v] for v in VALUES[i : i + 4]] for i in range(len(VALUES) - 4)]]),  # raw rows
    ]  # fmt: skip
    printed = start_script(f"CASES = {json.dumps(json.dumps(cases))}\n" + KERAS_ONLY)
    # Meanwhile, the same words through `run --load` (and its weights, for numpy).
    loaded = {
        key: cli.json("run", "--load", str(folder / f"{key}.keras"), *words, "--weights")
        for key, words in (
            ("char", WORDS),
            ("words", SENTENCES),
            ("onehot", LECTURE),
            ("grads", WORDS),
        )
    }
    keras_logits = {k: np.asarray(v, dtype=np.float32) for k, v in json.loads(printed()).items()}
    for key in ("char", "words", "onehot", "grads"):
        # Bit for bit what rnnprobe's network gives on the same tokens.
        reported = np.asarray(loaded[key]["logits"]["values"], dtype=np.float32)
        np.testing.assert_array_equal(keras_logits[key], reported)
    # The trained network's logits, recomputed in numpy from the weights the training
    # reported (the saved file adds a zero row for <unk>, which these words never read).
    for key in ("char", "words", "onehot"):
        obj = saved[key]
        computed = engine.recompute(_spec(obj), _input(obj), obj["lengths"],
                                    _weights(obj["final"]))["logits"]  # fmt: skip
        if computed.ndim == 2:  # one class per word
            np.testing.assert_allclose(keras_logits[key], computed, atol=1e-5)
            continue
        for row, steps in enumerate(obj["lengths"]):  # next token: the steps trained on
            np.testing.assert_allclose(keras_logits[key][row, :steps], computed[row, :steps],
                                       atol=1e-5)  # fmt: skip
    grads = saved["grads"]
    at = {w["name"]: np.asarray(w["values"]) for w in grads["weights"]}
    run_weights = {w["name"]: np.asarray(w["values"]) for w in loaded["grads"]["weights"]}
    assert run_weights["kernel"][0].tolist() == [0.0, 0.0]  # the <unk> row
    np.testing.assert_array_equal(run_weights["kernel"][1:], at["kernel"])
    # The encoder-decoder's teacher-forced losses, and the series' predictions.
    logits = keras_logits["pairs"].astype(np.float64)
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    wanted = np.asarray(target["decoder_target"]["values"])
    real = wanted > 0
    losses = -np.take_along_axis(log_p, wanted[..., None], axis=-1)[..., 0]
    expected = np.asarray(saved["pairs"]["final"]["step_losses"]["values"])
    np.testing.assert_allclose(losses[real], expected[real], atol=1e-5)
    predicted = np.asarray(saved["series"]["predictions"]["values"], dtype=np.float32)
    np.testing.assert_array_equal(keras_logits["series"], predicted)


def test_load_continues_training_and_translates_as_the_training_run_did(cli, saved):
    folder = saved["folder"]
    more = cli.json("train", *WORDS, "--load", str(folder / "char.keras"), "--epochs", "5",
                    "--save", str(folder / "more.keras"))  # fmt: skip
    assert [e["epoch"] for e in more["history"]] == [31, 32, 33, 34, 35]
    assert more["loaded"] == str(folder / "char.keras")
    # It starts where the saved training ended: the same loss at the same weights.
    assert more["initial"]["loss"] == pytest.approx(saved["char"]["final"]["loss"], abs=1e-6)
    with zipfile.ZipFile(folder / "more.keras") as archive:
        assert json.loads(archive.read("rnnprobe.json"))["epochs"] == 35
    after = cli.json("train", *WORDS, "--load", str(folder / "grads.keras"), "--epochs", "2")
    assert [e["epoch"] for e in after["history"]] == [4, 5]  # grads --after 3 kept no history
    trained = saved["pairs"]["decoded"]
    again = cli.json("seq2seq", "--load", str(folder / "pairs.keras"), "--translate",
                     "tensorflow is hungry", "--translate", PAIRS[0])  # fmt: skip
    first = next(d for d in trained if d["source"] == "tensorflow is hungry")
    assert again["decoded"][0]["tokens"] == first["tokens"]
    assert again["decoded"][0]["unknown"] == []
    np.testing.assert_allclose([s["probability"] for s in again["decoded"][0]["steps"]],
                               [s["probability"] for s in first["steps"]], atol=1e-6)  # fmt: skip
    same = next(d for d in trained if d["source"] == PAIRS[0])
    assert again["decoded"][1]["tokens"] == same["tokens"]
    unseen = cli.json("seq2seq", "--load", str(folder / "pairs.keras"), "--translate",
                      "tensorflow is tasty")  # fmt: skip
    assert unseen["decoded"][0]["unknown"] == ["tasty"]
    assert "<unk>" in unseen["source"]["vocab"]


def test_run_load_reads_unseen_tokens_as_unk(cli, saved):
    folder = saved["folder"]
    obj = cli.json("run", "--load", str(folder / "char.keras"), "hex")
    assert obj["vocab"][0] == "<unk>" and obj["unknown"] == ["x"]
    assert obj["loaded"] == str(folder / "char.keras") and list(obj)[-1] == "loaded"
    assert obj["x_data"]["values"][0][2][0] == 1.0  # x: the <unk> column
    assert "read as <unk>: x" in " ".join(
        cli.ok("run", "--load", str(folder / "char.keras"), "hex").stdout.split()
    )


def test_bad_saves_and_loads_are_one_line_errors(cli, saved, tmp_path):
    folder = saved["folder"]
    char = str(folder / "char.keras")
    assert "--load holds a network with --hidden 2, not 4" in cli.usage_error(
        "train", *WORDS, "--load", char, "--hidden", "4"
    )
    assert "--cell simple, not lstm" in cli.usage_error("run", "--load", char, "hi", "--cell",
                                                         "lstm")  # fmt: skip
    assert "--load brings its vocabulary" in cli.usage_error("train", *WORDS, "--load", char,
                                                              "--max-vocab", "3")  # fmt: skip
    assert "no such file" in cli.usage_error("run", "--load", str(tmp_path / "no.keras"), "hi")
    text = tmp_path / "text.keras"
    text.write_text("not a model")
    assert "is not a Keras model file" in cli.usage_error("run", "--load", str(text), "hi")
    cut = tmp_path / "cut.keras"
    cut.write_bytes((folder / "char.keras").read_bytes()[:3000])
    assert "is not a Keras model file (or it is truncated)" in cli.usage_error("inspect", str(cut))
    pairs = str(folder / "pairs.keras")
    assert "holds a seq2seq network" in cli.usage_error("run", "--load", pairs, "hi")
    assert "does not exist" in cli.usage_error("train", *WORDS, "--save",
                                               str(tmp_path / "no" / "x.keras"))  # fmt: skip
    assert "ending in .keras" in cli.usage_error("train", *WORDS, "--save",
                                                 str(tmp_path / "x.h5"))  # fmt: skip
    assert "--save writes a trained network: give --after N" in cli.usage_error(
        "grads", *WORDS, "--save", str(tmp_path / "g.keras")
    )
    assert "--save writes a trained network: give --train N" in cli.usage_error(
        "series", "-", "--save", str(tmp_path / "s.keras"), input=SERIES
    )
    assert "--save writes a trained network: give --train N" in cli.usage_error(
        "seq2seq", *PAIRS, "--save", str(tmp_path / "p.keras")
    )
    assert "it does not combine with --train" in cli.usage_error(
        "seq2seq", "--load", pairs, "--translate", "i feel", "--train", "2"
    )
    assert "holds a train network; this command reads a seq2seq one" in cli.usage_error(
        "seq2seq", "--load", char, "--translate", "i feel"
    )
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert "cannot be written" in cli.usage_error("train", *WORDS, "--save",
                                                      str(locked / "x.keras"))  # fmt: skip
    assert not list(tmp_path.glob("*.keras.*")) and not list(tmp_path.glob(".rnnprobe-*"))


def test_an_interrupted_save_leaves_the_old_file_whole(saved, monkeypatch, tmp_path):
    from rnnprobe.core.keras import saving

    target = tmp_path / "kept.keras"
    old = (saved["folder"] / "char.keras").read_bytes()
    target.write_bytes(old)

    class Interrupted:
        def save(self, path):
            Path(path).write_bytes(b"PK half a model")
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        saving.write(Interrupted(), {"kind": "train"}, str(target))
    assert target.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.keras"]


def test_the_api_saves_and_loads(saved, tmp_path):
    import rnnprobe

    lab = rnnprobe.train(WORDS, epochs=3, seed=3)
    path = lab.save(str(tmp_path / "api.keras"))
    loaded = rnnprobe.load(path)
    assert loaded.kind == "train" and loaded.description["epochs"] == 3
    run = loaded.run(WORDS)
    again = rnnprobe.load(str(saved["folder"] / "char.keras")).run(WORDS)
    assert run.logits.shape == again.logits.shape == (2, 7, 5)
    assert "x" in rnnprobe.load(path).run("hex").to_dict()["unknown"]
    pairs = rnnprobe.load(str(saved["folder"] / "pairs.keras"))
    assert pairs.translate("tensorflow is hungry").decoded[0]["tokens"] == next(
        d["tokens"] for d in saved["pairs"]["decoded"] if d["source"] == "tensorflow is hungry"
    )
    with pytest.raises(ValueError, match="holds a seq2seq network"):
        pairs.run("hi")
    with pytest.raises(ValueError, match="after=N"):
        rnnprobe.grads(WORDS, seed=0).save(str(tmp_path / "g.keras"))


def test_inspect_reads_numbers_for_a_saved_series(cli, saved, tmp_path):
    path = str(saved["folder"] / "series.keras")
    rows = "\n".join(str(v) for v in VALUES[:8])  # two windows of 4 rows: windows 0 and 4
    (tmp_path / "rows.csv").write_text(rows + "\n")
    obj = cli.json("inspect", path, "--input", str(tmp_path / "rows.csv"))
    piped = cli.json("inspect", path, "--input", "-", input=rows)
    assert obj == piped and obj["x_data"]["shape"] == [2, 4, 1]
    predicted = np.asarray(saved["series"]["predictions"]["values"])[[0, 4]]
    # Its Dense(1) head is read as a regression: the value as it is, no softmax.
    assert obj["head_activation"] == "regression" and "probabilities" not in obj
    np.testing.assert_allclose(obj["predictions"]["values"], predicted, atol=1e-6)
    assert "has 7 rows: the model reads windows of 4 rows" in cli.usage_error(
        "inspect", path, "--input", "-", input="\n".join(map(str, VALUES[:7]))
    )
