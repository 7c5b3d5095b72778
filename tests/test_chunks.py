"""`run --chunks K` and stateful layers: the state carried between calls, and a reset.

The reference is the word-by-word trace of tests/test_steps.py: the chunked outputs must be
the whole word's (the state carried), and with `--reset-between` those of K separate runs
from zeros, each over its own steps.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from .test_steps import PADDED, reference

CASES = [
    ["--cell", "simple"],
    ["--cell", "lstm"],
    ["--cell", "gru"],
    ["--cell", "lstm", "--hidden", "3,2"],
    ["--cell", "gru", "--hidden", "2,2", "--style", "cell"],
]


def _top(obj, found):
    """The reference's top-layer h at every step: what `outputs` holds at real steps."""
    return found[-1]["h"]


def _real(obj):
    return np.asarray(obj["mask"]["values"]) if obj.get("mask") else (
        np.arange(np.shape(obj["x_data"]["values"])[1])[None, :]
        < np.asarray(obj["lengths"])[:, None]
    )  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: " ".join(c))
def test_chunks_carry_the_state_and_a_reset_loses_it(cli, case):
    obj = cli.json("run", *PADDED, *case, "--seed", "2", "--chunks", "3", "--weights", "--check")
    assert [(c["start"], c["end"]) for c in obj["chunks"]] == [(0, 2), (2, 4), (4, 5)]
    real = _real(obj)
    whole = _top(obj, reference(obj))
    joined = np.concatenate([np.asarray(c["outputs"]["values"]) for c in obj["chunks"]], axis=1)
    np.testing.assert_allclose(joined[real], whole[real], atol=1e-5)
    assert obj["max_abs_diff"] < 1e-5 and obj["reset_between"] is False
    assert obj["chunks_check"]["ok"] and obj["check"]["ok"]
    # The last chunk ends with the whole run's states, for the words that ended before it too.
    last = {s["name"]: s["values"] for s in obj["chunks"][-1]["states"]}
    for state in obj["states"]:
        np.testing.assert_allclose(last[state["name"]], state["values"], atol=1e-5)
    reset = cli.json("run", *PADDED, *case, "--seed", "2", "--chunks", "3", "--reset-between",
                     "--weights", "--check")  # fmt: skip
    x = np.asarray(obj["x_data"]["values"])
    lengths = np.asarray(obj["lengths"])
    for chunk in reset["chunks"]:
        start, end = chunk["start"], chunk["end"]
        steps = np.clip(lengths - start, 0, end - start)
        alone = {**obj, "x_data": {"values": x[:, start:end]}, "lengths": steps.tolist()}
        mine = np.asarray(chunk["outputs"]["values"])
        expected = _top(alone, reference(alone))
        inside = np.arange(end - start)[None, :] < steps[:, None]
        np.testing.assert_allclose(mine[inside], expected[inside], atol=1e-5)
    assert reset["max_abs_diff"] > 1e-3 and reset["chunks_check"]["ok"]


def test_a_masked_word_keeps_its_state_and_the_initial_state_starts_chunk_one(cli):
    obj = cli.json("run", *PADDED, "--cell", "lstm", "--seed", "3", "--chunks", "5",
                   "--initial-state", "random", "--weights")  # fmt: skip
    starts = {s["name"]: np.asarray(s["values"]) for s in obj["initial_state"]}
    found = reference(obj, starts)
    whole = _top(obj, found)
    real = _real(obj)
    joined = np.concatenate([np.asarray(c["outputs"]["values"]) for c in obj["chunks"]], axis=1)
    np.testing.assert_allclose(joined[real], whole[real], atol=1e-5)
    # "o" ends at step 0: every later chunk ends with the state it had then.
    first = {s["name"]: s["values"][2] for s in obj["chunks"][0]["states"]}
    for chunk in obj["chunks"][1:]:
        for state in chunk["states"]:
            np.testing.assert_allclose(state["values"][2], first[state["name"]], atol=1e-6)


def test_the_view_and_a_batch_line(cli):
    table = " ".join(cli.ok("run", "hello", "hi", "--seed", "1", "--chunks", "2",
                            env={"COLUMNS": "200"}).stdout.split())  # fmt: skip
    assert "2 chunks through the same layers built stateful=True (batch size 2, fixed)" in table
    assert "✓ the chunked outputs equal the whole run's: max |diff| = 0" in table
    reset = " ".join(cli.ok("run", "hello", "hi", "--seed", "1", "--chunks", "2",
                            "--reset-between", env={"COLUMNS": "200"}).stdout.split())  # fmt: skip
    assert "reset_states() between them: each starts from zeros" in reset
    assert "the largest |chunked - whole| at each step" in reset
    assert "after the first chunk the outputs differ from the whole run's" in reset
    lines = "hello hi --seed 1 --chunks 2\nhello hi --seed 1 --chunks 2 --reset-between\n"
    first, second = (json.loads(x) for x in cli.ok("batch", "-", input=lines).stdout.splitlines())
    assert first["max_abs_diff"] < 1e-5 < second["max_abs_diff"]


def test_bad_chunks_are_one_line(cli):
    assert "--chunks '0': give at least 1" in cli.usage_error("run", "hello", "--chunks", "0")
    assert "--chunks 6: the words have 5 steps; give at most 5" in cli.usage_error(
        "run", "hello", "--chunks", "6"
    )
    assert "--reset-between needs --chunks" in cli.usage_error("run", "hello", "--reset-between")
    last_only = "outputs at the last step only (--no-return-sequences, or --head alone)"
    for flag, expected in ((["--bidirectional"], "--bidirectional"), (["--steps"], "--steps"),
                           (["--diagram"], "--diagram"), (["--no-return-sequences"], last_only),
                           (["--embed", "3", "--head", "2"], last_only)):  # fmt: skip
        said = cli.usage_error("run", "hello", "--chunks", "2", *flag)
        assert said.endswith(f"does not combine with {expected}")


def test_probe_runs_a_stateful_layer_from_the_state_it_holds():
    import keras

    import rnnprobe

    x = np.random.default_rng(0).random((2, 5, 3)).astype("float32")
    layer = keras.layers.GRU(2, return_sequences=True, return_state=True, stateful=True)
    first = rnnprobe.probe(layer, x[:, :3])
    second = rnnprobe.probe(layer, x[:, 3:])
    assert first.to_dict()["stateful"] is True
    np.testing.assert_array_equal(first.to_dict()["initial_state"][0]["values"], np.zeros((2, 2)))
    np.testing.assert_allclose(second.result.initial_state[0].array, first.states["h"])
    whole = keras.layers.GRU(2, return_sequences=True)
    whole.build((2, None, 3))
    whole.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.concatenate([first.outputs, second.outputs], axis=1),
                               np.asarray(whole(x)), atol=1e-6)  # fmt: skip
    again = rnnprobe.probe(layer, x[:, :3], reset=True)
    np.testing.assert_array_equal(again.outputs, first.outputs)
    model = keras.Sequential([keras.Input((None, 3), batch_size=2),
                              keras.layers.LSTM(2, return_sequences=True, stateful=True),
                              keras.layers.Dense(2)])  # fmt: skip
    one, two = rnnprobe.probe(model, x[:, :2]), rnnprobe.probe(model, x[:, 2:])
    plain = keras.Sequential([keras.Input((None, 3)), keras.layers.LSTM(2, return_sequences=True),
                              keras.layers.Dense(2)])  # fmt: skip
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(np.concatenate([one.logits, two.logits], axis=1),
                               np.asarray(plain(x)), atol=1e-6)  # fmt: skip
    assert two.result.stateful and np.abs(two.result.initial_state[0].array).max() > 0
    with pytest.raises(ValueError, match="stateful Bidirectional"):
        rnnprobe.probe(keras.layers.Bidirectional(keras.layers.LSTM(2, stateful=True)), x)


def test_the_api_takes_the_same_options(cli):
    import rnnprobe

    found = rnnprobe.run(PADDED, cell="gru", seed=2, chunks=2, initial_state="h=1,-1")
    assert found.result.chunks.max_abs_diff < 1e-5
    same = cli.json("run", *PADDED, "--cell", "gru", "--seed", "2", "--chunks", "2",
                    "--initial-state", "h=1,-1")  # fmt: skip
    assert found.to_dict() == same
    assert rnnprobe.compare(PADDED, cell="lstm", initial_state="random", seed=1).identical
    grads = rnnprobe.grads(PADDED[:2], initial_state=["h=0.5,0.5"], seed=1, check=True)
    assert grads.check["ok"] and grads.to_dict()["initial_state"][0]["values"][0] == [0.5, 0.5]
    with pytest.raises(ValueError, match="reset_between needs chunks"):
        rnnprobe.run("hello", reset_between=True)
    with pytest.raises(ValueError, match="initial_state h has 1 values"):
        rnnprobe.run("hello", initial_state="h=1")
