"""`--window` on `run`, `train` and `grads`: one long text cut into windows, the lab's long
sentence (its 170 windows of 10), and the text rebuilt from the trained predictions."""

from __future__ import annotations

import json

import numpy as np
import pytest

SENTENCE = (
    "if you want to build a ship, don't drum up people together to collect wood and don't "
    "assign them tasks and work, but rather teach them to long for the endless immensity of "
    "the sea."
)


def test_run_cuts_the_lab_sentence_into_its_170_windows_of_10(cli):
    obj = cli.json("run", SENTENCE, "--window", "10", "--seed", "1")
    assert len(SENTENCE) == 180
    assert obj["words"] == [SENTENCE[i : i + 10] for i in range(170)]
    assert obj["x_data"]["shape"][:2] == [170, 10]
    from_stdin = cli.json("run", "-", "--window", "10", "--seed", "1", input=SENTENCE + "\n")
    assert from_stdin["words"] == obj["words"]


def test_the_labs_recipe_rebuilds_the_sentence(cli):
    obj = cli.json("train", SENTENCE, "--window", "10", "--cell", "lstm", "--hidden", "25,25",
                   "--lr", "0.1", "--epochs", "100", "--seed", "2")  # fmt: skip
    assert len(obj["words"]) == 170 and all(len(w) == 11 for w in obj["words"])
    assert len(obj["classes"]) == 25 and obj["batch_size"] == 170
    assert obj["stride"] == 1
    rebuilt = obj["rebuilt"]
    assert len(rebuilt) == len(SENTENCE) - 1  # it starts with the prediction of the 2nd
    right = sum(a == b for a, b in zip(rebuilt, SENTENCE[1:], strict=True))
    assert obj["rebuilt_accuracy"] == pytest.approx(right / len(rebuilt))
    assert obj["rebuilt_accuracy"] >= 0.95, rebuilt
    # The rebuilt text is the first window's predictions, then each next window's last.
    predicted = obj["final"]["predictions"]
    assert rebuilt == "".join(predicted[0]) + "".join(p[-1] for p in predicted[1:])


def test_a_stride_rebuilds_from_the_last_steps_of_each_window(cli):
    text = "abcdefghijabcdefghijabcdefghij"
    obj = cli.json("train", text, "--window", "6", "--stride", "4", "--epochs", "2",
                   "--seed", "3")  # fmt: skip
    assert obj["words"] == [text[i : i + 7] for i in range(0, len(text) - 6, 4)]
    predicted = obj["final"]["predictions"]
    assert obj["rebuilt"] == "".join(predicted[0]) + "".join("".join(p[-4:]) for p in predicted[1:])
    shown = cli.ok("train", text, "--window", "6", "--stride", "4", "--epochs", "2", "--seed",
                   "3", env={"COLUMNS": "100"}).stdout  # fmt: skip
    assert "the text rebuilt from the predictions" in shown and obj["rebuilt"] in shown


def test_word_tokens_and_grads_take_windows_too(cli):
    text = "the cat sat on the mat and the dog sat on the log"
    obj = cli.json("train", text, "--tokens", "word", "--window", "3", "--epochs", "2",
                   "--seed", "4")  # fmt: skip
    assert obj["words"][0] == "the cat sat on" and len(obj["words"]) == 13 - 3
    assert len(obj["rebuilt"].split()) == 12
    grads = cli.json("grads", SENTENCE, "--window", "10", "--seed", "5")
    assert grads["x_data"]["shape"][:2] == [170, 10]
    text = SENTENCE.replace("'", "")  # one shell word on a batch line
    batch = cli.ok("batch", "-", input=f"train '{text}' --window 10 --epochs 1\n").stdout
    assert json.loads(batch)["words"][0] == text[:11]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "hello", "world", "--window", "3"], "--window cuts one long text"),
        (["run", "hello", "--stride", "2"], "--stride needs --window"),
        (["train", "hello", "--window", "5"], "the text has 5 characters"),
        (["train", "hello world", "--window", "2", "--labels", "a"],
         "--window cuts one text into next-token windows: it does not combine with --labels"),
        (["grads", "hello world", "--window", "0"], "--window '0': give at least 1"),
        (["run", "hello world", "--window", "2", "--stride", "x"], "--stride 'x'"),
    ],
)  # fmt: skip
def test_bad_windows_are_one_line_and_exit_2(cli, args, needle):
    assert needle in cli.usage_error(*args)


def test_the_api_takes_a_window_as_the_commands_do(cli):
    import rnnprobe

    text = SENTENCE[:60]
    ran = rnnprobe.run(text, window=8, stride=2, seed=7)
    assert ran.to_dict() == cli.json("run", text, "--window", "8", "--stride", "2", "--seed", "7")
    trained = rnnprobe.train(text, window=8, epochs=3, seed=7)
    obj = cli.json("train", text, "--window", "8", "--epochs", "3", "--seed", "7")
    assert trained.to_dict() == obj and trained.rebuilt == obj["rebuilt"]
    found = rnnprobe.grads(text, window=8, seed=7)
    assert found.to_dict() == cli.json("grads", text, "--window", "8", "--seed", "7")
    with pytest.raises(ValueError, match="stride needs window"):
        rnnprobe.run(text, stride=2)


def test_a_long_text_is_never_cut_whole_its_memory_grows_with_the_text_not_the_windows():
    """10 MB of text in windows of 40: one-hot x_data would hold 10 million windows x 40
    steps x 30 tokens (48 GB in float32); the windows are views of the text's ids, their
    one-hot rows made a batch at a time, so building the data costs a few bytes a
    character, and a batch is what a pass reads."""
    import tracemalloc

    from rnnprobe.core.inputs.tasks import task_data
    from rnnprobe.core.kinds import Tokens

    letters = "abcdefghijklmnopqrstuvwxyz ,.\n"
    text = "".join(letters[(i * 7 + i // 13) % len(letters)] for i in range(10_000_000))
    tracemalloc.start()
    data = task_data([text], kind=Tokens.char, embedded=False, window=40)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    x_data = data.batch.x_data
    assert x_data is not None
    rows = len(text) - 40
    assert x_data.shape == (rows, 40, len(letters)) and data.targets.shape == (rows, 40)
    assert peak < 30 * len(text)  # a few arrays of the text's length, never rows x 40
    batch = x_data.array[1000:1064]
    assert batch.shape == (64, 40, 30) and batch.dtype == np.float32
    assert data.batch.words[1000] == text[1000:1040] and data.words[1000] == text[1000:1041]
    assert data.counts["a"] == text.count("a")  # the text's characters, each counted once
