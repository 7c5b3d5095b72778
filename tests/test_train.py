"""`rnnprobe train`: the chapter's labs trained on the learner's words.

Numbers are checked against numpy re-computations from the reported weights (the forward
engine for the loss, central finite differences for the gradients), and training against
what must hold with a margin: a loss that falls, an accuracy reached.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rnnprobe.core.keras import env
from rnnprobe.core.kinds import Cell, MergeMode, Tokens
from rnnprobe.core.numpy import engine
from rnnprobe.core.numpy.backprop import backprop
from rnnprobe.core.stages import ProbeSpec

from .conftest import start_script

HIHELLO = ["train", "hihello", "--seed", "0"]
LAB_12_1 = ["train", "good", "bad", "worse", "so good", "--labels", "1,0,0,1", "--embed",
            "onehot", "--hidden", "10", "--epochs", "30", "--lr", "0.01", "--batch-size", "2",
            "--seed", "0"]  # fmt: skip
TAGGED = [
    "i/pronoun feel/verb hungry/adjective",
    "tensorflow/noun is/verb very/adverb difficult/adjective",
    "tensorflow/noun is/verb a/determiner framework/noun for/preposition deep/adjective "
    "learning/noun",
    "tensorflow/noun is/verb very/adverb fast/adjective changing/verb",
]
TRAIN_KEYS = [
    "rnnprobe", "words", "lengths", "vocab", "style", "cell", "hidden", "seed",
    "bidirectional", "merge_mode", "return_sequences", "return_state", "task", "classes",
    "epochs", "lr", "batch_size", "shuffle", "every", "optimizer", "loss", "params",
    "trainable_params", "x_data", "tokenizer", "embed", "head", "each_step", "layers",
]  # fmt: skip


def _weights(block):
    return {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in block["weights"]}


def _spec(obj) -> ProbeSpec:
    hidden = obj["hidden"] if isinstance(obj["hidden"], list) else [obj["hidden"]]
    return ProbeSpec(
        cell=Cell(obj["cell"]),
        hidden=tuple(hidden),
        bidirectional=obj["bidirectional"],
        merge_mode=MergeMode(obj["merge_mode"] or "concat"),
        tokens=Tokens(obj["tokenizer"]),
        embed=obj["embed"],
        head=obj["head"],
        each_step=obj["each_step"],
        return_sequences=obj["return_sequences"],
        return_state=False,
    )


def _input(obj):
    return np.asarray(obj["x_data"]["values"] if obj["x_data"] else obj["tokens"]["values"])


def _numpy_loss(obj, block):
    """The masked mean of -log p(target), from the forward engine and the given weights."""
    computed = engine.recompute(_spec(obj), _input(obj), obj["lengths"], _weights(block))
    logits = computed["logits"]
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    targets = np.asarray(obj["targets"]["values"])
    every = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    if targets.ndim == 1:
        return every.mean(), every
    mask = np.asarray(obj["mask"]["values"])
    return (every * mask).sum() / mask.sum(), every * mask


def test_hihello_learns_ihello_and_its_json_holds_the_recipe(cli):
    obj = cli.json(*HIHELLO)
    assert list(obj)[: len(TRAIN_KEYS)] == TRAIN_KEYS
    assert list(obj)[len(TRAIN_KEYS) :] == [
        "mask", "targets", "initial", "gradients", "frozen", "history", "final", "stopped",
    ]  # fmt: skip
    assert obj["task"] == "next" and obj["words"] == ["hihello"]
    assert obj["classes"] == obj["vocab"] == ["h", "i", "e", "l", "o"]
    assert obj["lengths"] == [6] and obj["x_data"]["shape"] == [1, 6, 5]
    assert obj["targets"]["values"] == [[1, 0, 2, 3, 3, 4]]  # i h e l l o
    assert (obj["epochs"], obj["lr"], obj["batch_size"], obj["optimizer"]) == (50, 0.1, 1, "adam")
    assert "masked" in obj["loss"] and obj["stopped"] is None
    assert [h["epoch"] for h in obj["history"]] == list(range(1, 51))
    initial, final = obj["initial"], obj["final"]
    assert initial["loss"] > 10 * final["loss"]  # the loss falls tenfold at least
    assert final["accuracy"] == 1.0 and final["predictions"] == [list("ihello")]
    assert [w["name"] for w in final["weights"]] == [
        "kernel", "recurrent_kernel", "bias", "head/kernel", "head/bias",
    ]  # fmt: skip
    # one batch: the first epoch's loss is the initial loss, taken before its update
    assert obj["history"][0]["loss"] == pytest.approx(initial["loss"], abs=1e-6)


@pytest.mark.parametrize(
    "extra",
    [[], ["--cell", "lstm", "-H", "3,2"], ["--cell", "gru", "--bidirectional", "--embed", "4"],
     ["--bidirectional", "--merge-mode", "mul", "--cell", "lstm"]],
    ids=["simple", "lstm-stack", "gru-bi-embed", "mul"],
)  # fmt: skip
def test_reported_losses_equal_a_numpy_recomputation_from_the_reported_weights(cli, extra):
    obj = cli.json("train", "hello", "hi", "elo", "--epochs", "3", "--seed", "2", *extra)
    for block in (obj["initial"], obj["final"]):
        loss, steps = _numpy_loss(obj, block)
        assert block["loss"] == pytest.approx(loss, abs=1e-5)
        np.testing.assert_allclose(block["step_losses"]["values"], steps, atol=1e-5)
    # padding: the masked mean counts only the real steps; every padded step adds 0
    steps = np.asarray(obj["initial"]["step_losses"]["values"])
    mask = np.asarray(obj["mask"]["values"])
    assert mask.tolist() == [[True] * 4, [True, False, False, False], [True, True, False, False]]
    assert (steps[~mask] == 0).all() and (steps[mask] > 0).all()


def _finite_differences(spec, x, lengths, weights, targets, name, entries=12):
    """Central differences of the numpy loss for a few entries of one weight."""
    eps, found = 1e-6, []
    flat = [i for i in np.ndindex(weights[name].shape)][:entries]
    for index in flat:
        loss = []
        for sign in (1, -1):
            moved = {k: v.copy() for k, v in weights.items()}
            moved[name][index] += sign * eps
            loss.append(backprop(spec, x, lengths, moved, targets).loss)
        found.append((index, (loss[0] - loss[1]) / (2 * eps)))
    return found


@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_the_first_gradients_equal_central_finite_differences(cli, cell):
    obj = cli.json("train", "hello", "hi", "--cell", cell, "--hidden", "3", "--epochs", "1",
                   "--seed", "4", "--bidirectional")  # fmt: skip
    spec = _spec(obj)
    from dataclasses import replace

    spec = replace(spec, loss=True)
    weights = _weights(obj["initial"])
    targets = np.asarray(obj["targets"]["values"])
    for gradient in obj["gradients"]:
        assert gradient["shape"] == list(weights[gradient["name"]].shape)
        reported = np.asarray(gradient["values"])
        found = _finite_differences(spec, _input(obj), obj["lengths"], weights, targets,
                                    gradient["name"])  # fmt: skip
        for index, value in found:
            assert reported[index] == pytest.approx(value, abs=1e-5), (gradient["name"], index)


def test_lab_12_1_many_to_one_with_a_frozen_one_hot_embedding(cli):
    obj = cli.json(*LAB_12_1)
    assert obj["task"] == "labels" and obj["classes"] == ["1", "0"]
    assert obj["targets"] == {"shape": [4], "dims": ["batch"], "values": [0, 1, 1, 0]}
    assert obj["frozen"] == ["embedding/embeddings"]
    assert "embedding/embeddings" not in [g["name"] for g in obj["gradients"]]
    first, last = _weights(obj["initial"]), _weights(obj["final"])
    np.testing.assert_array_equal(first["embedding/embeddings"], np.eye(11))  # never trained
    np.testing.assert_array_equal(last["embedding/embeddings"], np.eye(11))
    assert obj["final"]["accuracy"] == 1.0 and obj["final"]["predictions"] == ["1", "0", "0", "1"]
    assert obj["initial"]["loss"] > 10 * obj["final"]["loss"]
    assert obj["batch_size"] == 2 and len(obj["history"]) == 30
    loss, _ = _numpy_loss(obj, obj["final"])
    assert obj["final"]["loss"] == pytest.approx(loss, abs=1e-5)
    table = cli.ok(*LAB_12_1).stdout
    assert "embedding/embeddings │ (11, 11) │ frozen, no gradient" in table
    assert "2 batches an epoch, shuffled every epoch, the order drawn from the seed" in " ".join(
        table.split()
    )
    assert "loss = mean of -log p over the 4 words" in table


def test_tagged_sentences_learn_a_tag_per_word(cli):
    obj = cli.json("train", *TAGGED, "--tokens", "word", "--tagged", "--embed", "onehot",
                   "--hidden", "10", "--seed", "1", "--epochs", "30")  # fmt: skip
    assert obj["task"] == "tags" and obj["vocab"][0] == "<pad>"
    assert obj["classes"][:3] == ["pronoun", "verb", "adjective"]
    assert obj["lengths"] == [3, 4, 7, 5]
    assert obj["final"]["predictions"][0] == ["pronoun", "verb", "adjective"]
    assert obj["final"]["accuracy"] >= 0.95
    table = cli.ok("train", *TAGGED[:2], "--tokens", "word", "--tagged", "--seed", "1",
                   "--epochs", "2").stdout  # fmt: skip
    assert "tags (one tag per word of each sentence" in table
    assert "i feel hungry" in table


def test_the_loss_laid_out_shows_what_padding_changes(cli):
    out = cli.ok("train", "hello", "hi", "--seed", "3", "--epochs", "2").stdout
    for needle in ("word 1 step by step", "p(target)", "-log p", "mask",
                   "loss = Σ(-log p · mask) / Σ mask over every word",
                   "all 8 steps, padding counted (target 0)",
                   "each word's real steps, then the words (the lecture's)"):  # fmt: skip
        assert needle in out, needle
    obj = cli.json("train", "hello", "hi", "--seed", "3", "--epochs", "2")
    _, steps = _numpy_loss(obj, obj["initial"])
    masked = steps.sum() / np.asarray(obj["mask"]["values"]).sum()
    plain = re.search(r"padding counted \(target 0\) +│ (\d+\.\d+)", out)
    lecture = re.search(r"then the words \(the lecture's\) +│ (\d+\.\d+)", out)
    assert plain and lecture
    per_word = steps.sum(axis=1) / np.asarray(obj["lengths"])
    assert float(lecture.group(1)) == pytest.approx(per_word.mean(), abs=1e-4)
    assert float(plain.group(1)) != pytest.approx(masked, abs=1e-3)  # padding does change it


def test_the_view_shows_recipe_gradients_history_curve_and_predictions(cli):
    out = cli.ok(*HIHELLO).stdout
    for needle in ("rnn = layers.SimpleRNN(2, return_sequences=True)",
                   "head = layers.TimeDistributed(layers.Dense(5))",
                   "from_logits=True", "keras.optimizers.Adam(learning_rate=0.1)",
                   "epochs 50, batch size 1", "31 trainable parameters",
                   "gradients of the loss at the initial weights",
                   "recurrent_kernel │ (2, 2) │ (2, 2)", "loss per epoch", "█",
                   "epoch 50", "hihello │ ihello", "accuracy 0.17 -> 1.00"):  # fmt: skip
        assert needle in out, needle
    shown = re.findall(r"^epoch +(\d+) +loss", out, re.M)
    assert shown == ["1", "5", "10", "15", "20", "25", "30", "35", "40", "45", "50"]
    every = re.findall(r"^epoch +(\d+) +loss", cli.ok(*HIHELLO, "--every", "20").stdout, re.M)
    assert every == ["1", "20", "40", "50"]


def test_batch_size_epochs_and_lr_change_the_training(cli):
    base = cli.json("train", "hello", "hi", "elo", "--seed", "5", "--epochs", "4")
    small = cli.json("train", "hello", "hi", "elo", "--seed", "5", "--epochs", "4",
                     "--batch-size", "1")  # fmt: skip
    slower = cli.json("train", "hello", "hi", "elo", "--seed", "5", "--epochs", "4",
                      "--lr", "0.001")  # fmt: skip
    assert base["batch_size"] == 3 and small["batch_size"] == 1 and len(base["history"]) == 4
    assert small["history"][0]["loss"] != base["history"][0]["loss"]
    assert base["initial"] == small["initial"] == slower["initial"]  # the same seed's weights
    drop = base["initial"]["loss"] - base["final"]["loss"]
    assert drop > 5 * (slower["initial"]["loss"] - slower["final"]["loss"]) > 0


def test_the_same_seed_gives_the_same_history_bit_for_bit(cli):
    first = cli.json("train", "hello", "eolll", "--seed", "9", "--epochs", "5", "--cell", "gru")
    again = cli.json("train", "hello", "eolll", "--seed", "9", "--epochs", "5", "--cell", "gru")
    assert first["history"] == again["history"] and first["final"] == again["final"]


@pytest.fixture
def no_kept_steps(monkeypatch):
    """The test starts with no traced training step kept."""
    from rnnprobe.core.keras import train as keras_train

    monkeypatch.setattr(keras_train, "_kept", type(keras_train._kept)())
    return keras_train


def test_a_kept_training_step_gives_the_bits_of_a_fresh_trace(cli, no_kept_steps):
    """A later training of the same structure reuses the traced step (a server, a batch):
    its own seed's weights copied in, Adam new, its own learning rate and batches, the
    trained weights copied back; the same bytes as with a step traced afresh."""
    keras_train = no_kept_steps
    base = ["hello", "hi", "--cell", "gru", "--json"]
    assert keras_train.EAGER_STEPS_UP_TO < 12  # so every training here is traced
    cli.ok("train", *base, "--seed", "1", "--epochs", "12")
    assert len(keras_train._kept) == 1
    later = [
        ["train", *base, "--seed", "2", "--epochs", "7", "--lr", "0.05", "--batch-size", "1"],
        ["grads", *base, "--seed", "3", "--after", "12", "--lr", "0.2"],  # reads the layers
    ]
    kept = [cli.ok(*args).stdout for args in later]
    assert len(keras_train._kept) == 1  # one structure, one trace
    for args, got in zip(later, kept, strict=True):
        keras_train._kept.clear()
        assert cli.ok(*args).stdout == got, args
    assert json.loads(kept[0])["lr"] == 0.05


def test_a_trainings_layers_stay_its_own_when_the_structure_trains_again(no_kept_steps):
    """The kept step trains layers of its own: the layers a training returns with (read
    after it, by the decoding loop or `grads`) are not changed by the next training of the
    same structure, which a server may run at that moment."""
    from rnnprobe.core.inputs.tasks import task_data, train_spec

    keras_train = no_kept_steps
    data = task_data(["hello", "hi"], kind=Tokens.char, embedded=False)
    spec = train_spec(ProbeSpec(cell=Cell.lstm), data)
    first = keras_train.prepared(data, spec, 1)
    keras_train.fit(data, first, epochs=12, lr=0.1, batch_size=2)
    trained = [np.array(v.numpy()) for _, v, _ in first.named]
    second = keras_train.prepared(data, spec, 2)
    keras_train.fit(data, second, epochs=12, lr=0.1, batch_size=2)
    (kept,) = keras_train._kept.values()
    mine = {id(v) for p in (first, second) for _, v, _ in p.named}
    assert not mine & {id(v) for _, v, _ in kept.model.named}
    for (_, variable, _), values in zip(first.named, trained, strict=True):
        np.testing.assert_array_equal(variable.numpy(), values)
    assert not np.array_equal(trained[0], second.named[0][1].numpy())  # another seed


def test_the_kept_steps_are_bounded(cli, no_kept_steps, monkeypatch):
    monkeypatch.setattr(no_kept_steps, "STEPS_KEPT", 2)
    for cell in ("simple", "lstm", "gru"):
        cli.ok("train", "hello", "--cell", cell, "--epochs", "11", "--json")
    cells = [stage.cell.value for key in no_kept_steps._kept for stage in key[0].stages
             if type(stage).__name__ == "Recurrent"]  # fmt: skip
    assert cells == ["lstm", "gru"]  # the oldest left


def test_check_recomputes_in_numpy_and_a_wrong_gradient_exits_1(cli, monkeypatch):
    obj = cli.json(*HIHELLO, "--epochs", "2", "--check", "--cell", "lstm")
    assert obj["check"]["ok"] is True and obj["check"]["max_abs_diff"] < 1e-5
    assert "✓ check ok" in cli.ok(*HIHELLO, "--epochs", "2", "--check").stdout
    from rnnprobe.core.numpy import backprop as numpy_backprop

    real = numpy_backprop.backprop

    def off(*args, **kwargs):
        found = real(*args, **kwargs)
        found.gradients["kernel"] = found.gradients["kernel"] + 1e-3
        return found

    monkeypatch.setattr(numpy_backprop, "backprop", off)
    result = cli(*HIHELLO, "--epochs", "2", "--check")
    assert result.exit_code == 1 and "✗ check FAILED" in result.stdout


def test_the_printed_script_trains_to_the_same_history(cli):
    args = ["train", "hello", "hi", "elo", "--cell", "lstm", "--seed", "1", "--epochs", "6",
            "--batch-size", "2"]  # fmt: skip
    labels = ["train", "good", "bad", "so good", "--labels", "y,n,y", "--embed", "3", "--seed",
              "2", "--epochs", "6"]  # fmt: skip
    running = []
    for given in (args, labels):  # the scripts run while the commands run here
        script = cli.ok(*given, "--code").stdout
        assert "GradientTape" in script and "sparse_categorical_crossentropy" in script
        running.append(start_script(script))
    for given, printed in zip((args, labels), running, strict=True):
        obj = cli.json(*given)
        stdout = printed()
        losses = [float(v) for v in re.findall(r"^epoch \d+ loss (\S+)$", stdout, re.M)]
        history = [h["loss"] for h in obj["history"]]
        assert len(losses) == len(history) == 6
        np.testing.assert_allclose(losses, history, atol=1e-4)
        shown = re.findall(r"^(.+) -> (.*)$", stdout, re.M)
        assert [after for _, after in shown] == [
            "".join(p) if isinstance(p, list) else p for p in obj["final"]["predictions"]
        ]


def test_a_loss_that_becomes_nan_stops_training_and_exits_1(cli):
    result = cli("train", "hello", "hi", "--seed", "1", "--lr", "1e38", "--epochs", "30",
                 "--cell", "lstm", "--json")  # fmt: skip
    assert result.exit_code == 1
    obj = json.loads(result.stdout)
    assert obj["stopped"] is not None and "training stopped there" in obj["stopped"]
    assert len(obj["history"]) < 30
    assert len(result.stderr.splitlines()) == 1 and "--lr" in result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["hello", "hi", "--labels", "1"], "--labels gives 1 labels for 2 words"),
        (["hello", "--labels", "1", "--tagged", "--tokens", "word"], "do not combine"),
        (["i/x", "--tagged"], "--tagged needs --tokens word"),
        (["i/x feel", "--tagged", "--tokens", "word"], "'feel' has no tag"),
        (["hello", "--epochs", "0"], "--epochs '0': give at least 1"),
        (["hello", "--lr", "0"], "--lr '0': give a finite number above 0"),
        (["hello", "--lr", "-1"], "--lr '-1'"),
        (["hello", "--lr", "nan"], "--lr 'nan'"),
        (["hello", "--lr", "fast"], "--lr 'fast': give a number"),
        (["hello", "--batch-size", "0"], "--batch-size '0': give at least 1"),
        (["hello", "--every", "x"], "--every 'x'"),
        (["hello", "h"], "word 2 'h' has one token: next-token prediction needs at least two"),
        (["hello", "--word", "1"], "--word needs --diagram"),
        (["hello", "--code", "--json"], "--code prints a script"),
    ],
)
def test_bad_input_is_one_line_before_tensorflow_loads(cli, monkeypatch, args, needle):
    def no_tensorflow():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", no_tensorflow)
    assert needle in cli.usage_error("train", *args)


def test_shapes_diagram_weights_export_and_batch(cli, tmp_path):
    shapes = cli.json(*HIHELLO, "--epochs", "2", "--shapes")
    assert "values" not in shapes["initial"]["weights"][0] and "values" not in shapes["targets"]
    table = cli.ok(*HIHELLO, "--epochs", "2", "--shapes").stdout
    assert re.search(r"targets +│ +\(1, 6\) │ batch x time", table) and "gradient" in table
    drawn = cli.ok(*HIHELLO, "--epochs", "2", "--diagram").stdout
    assert "the trained network:" in drawn and "unrolled" in drawn and "logits" in drawn
    weights = cli.ok(*HIHELLO, "--epochs", "2", "--weights").stdout
    final = cli.json(*HIHELLO, "--epochs", "2")["final"]["weights"]
    assert f"{final[0]['values'][0][0]:.4f}" in weights and "head/kernel (2, 5)" in weights
    svg = tmp_path / "train.svg"
    cli.ok(*HIHELLO, "--epochs", "20", "--export", str(svg))
    text = svg.read_text(encoding="utf-8")
    assert "loss&#160;per&#160;epoch" in text or "loss per epoch" in text
    assert "█" in text
    (tmp_path / "lines.txt").write_text("train hihello --seed 0 --epochs 5\n", "utf-8")
    batched = cli.ok("batch", str(tmp_path / "lines.txt")).stdout
    assert batched == cli.ok(*HIHELLO, "--epochs", "5", "--json").stdout


def test_a_progress_bar_per_epoch_counts_its_batches_only_on_a_terminal(cli, monkeypatch):
    from rnnprobe.core import progress

    seen = []
    real = progress.training

    def training(epochs, batches, *, shown=True):
        seen.append((epochs, batches, shown))
        return real(epochs, batches, shown=shown)

    monkeypatch.setattr(progress, "training", training)
    result = cli.ok(*HIHELLO, "--epochs", "3", "--batch-size", "1")
    assert seen == [(3, 1, True)] and result.stderr == ""  # not a terminal: nothing drawn
    cli.ok("train", "hi", "hello", "hey", "--epochs", "2", "--batch-size", "2", "--seed", "1",
           "--json")  # fmt: skip
    assert seen[-1] == (2, 2, False)  # --json: no bar, even on a terminal
    from rich.progress import Progress

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    shown = []
    monkeypatch.setattr(Progress, "update", lambda self, task, **fields: shown.append(fields))
    monkeypatch.setattr(Progress, "reset", lambda self, task, **fields: shown.append(fields))
    with real(2, 3) as (epoch, batch):
        assert epoch is not None and batch is not None
        batch(1, 3, 0.75)
        epoch(1)
        epoch(2)  # the last: nothing to reset
    assert shown == [{"completed": 1, "total": 3, "loss": "0.7500"},
                     {"total": 3, "description": "epoch 2/2", "loss": "…"}]  # fmt: skip


def test_the_python_api_is_the_cli_json(cli):
    import rnnprobe

    found = rnnprobe.train("hihello", seed=0, epochs=50)
    assert found.to_dict() == cli.json(*HIHELLO)
    assert found.final.predictions == [list("ihello")] and found.history[-1]["epoch"] == 50
    assert set(found.gradients) == {"kernel", "recurrent_kernel", "bias", "head/kernel",
                                    "head/bias"}  # fmt: skip
    assert found.initial.loss > found.final.loss
    html = found._repr_mimebundle_(include=[], exclude=[])["text/html"]
    assert "loss per epoch" in html and "█" in html
    labels = rnnprobe.train(["good", "bad"], labels=["1", "0"], epochs=3, seed=1, check=True)
    assert labels.task == "labels" and labels.check["ok"] is True
    with pytest.raises(ValueError, match="epochs 0: give at least 1"):
        rnnprobe.train("hihello", epochs=0)
