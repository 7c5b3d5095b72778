"""`seq2seq --train`: the encoder-decoder trained by teacher forcing, then decoded greedily.

The decoding loop is re-computed here by a small numpy encoder-decoder written in this file
(GRU equations, additive attention) from the weights the JSON reports, never against values
pasted from an earlier run. Training tests pin seeds and assert with margins.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnprobe.core.keras import env

from .conftest import start_script

LAB = [
    "i feel hungry", "나는 배가 고프다",
    "tensorflow is very difficult", "텐서플로우는 매우 어렵다",
    "tensorflow is a framework for deep learning", "텐서플로우는 딥러닝을 위한 프레임워크이다",
    "tensorflow is very fast changing", "텐서플로우는 매우 빠르게 변화한다",
]  # fmt: skip
SMALL = ["i feel hungry", "나는 배가 고프다", "you are hungry", "너는 배가 고프다"]


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v))


def _gru(x: np.ndarray, h: np.ndarray, w: dict[str, np.ndarray], side: str) -> np.ndarray:
    """One step of Keras's GRU (reset_after: two biases), written out."""
    kernel, recurrent = w[f"{side}/kernel"], w[f"{side}/recurrent_kernel"]
    bias = w[f"{side}/bias"]
    n = h.shape[-1]
    xz, hz = x @ kernel + bias[0], h @ recurrent + bias[1]
    z = _sigmoid(xz[:, :n] + hz[:, :n])
    r = _sigmoid(xz[:, n : 2 * n] + hz[:, n : 2 * n])
    g = np.tanh(xz[:, 2 * n :] + r * hz[:, 2 * n :])
    return z * h + (1 - z) * g


def _greedy(obj: dict, sentence: str, max_steps: int) -> tuple[list[str], list[float], list]:
    """Encode one sentence, then feed <bos> and each prediction back: tokens, probabilities
    and each step's attention, from the reported weights only."""
    w = {t["name"]: np.asarray(t["values"], dtype=np.float64) for t in obj["weights"]}
    source_vocab, target_vocab = obj["source"]["vocab"], obj["target"]["vocab"]
    ids = [source_vocab.index(token) for token in sentence.split()]
    h = np.zeros((1, obj["hidden"]))
    outputs = []
    for i in ids:
        h = _gru(w["encoder/embeddings"][[i]], h, w, "encoder")
        outputs.append(h[0])
    memory = np.asarray(outputs)
    token, tokens, probabilities, attention = target_vocab.index("<bos>"), [], [], []
    for _ in range(max_steps):
        x = w["decoder/embeddings"][[token]]
        if "attention/V/kernel" in w:
            keys = memory @ w["attention/W1/kernel"] + w["attention/W1/bias"]
            query = h @ w["attention/W2/kernel"] + w["attention/W2/bias"]
            score = np.tanh(keys + query) @ w["attention/V/kernel"] + w["attention/V/bias"]
            weight = np.exp(score[:, 0] - score.max())
            weight /= weight.sum()
            attention.append(weight)
            x = np.concatenate([x, (weight @ memory)[None]], axis=-1)
        h = _gru(x, h, w, "decoder")
        logits = (h @ w["head/kernel"] + w["head/bias"])[0]
        p = np.exp(logits - logits.max())
        p /= p.sum()
        token = int(np.argmax(p))
        tokens.append(target_vocab[token])
        probabilities.append(float(p[token]))
        if tokens[-1] == "<eos>":
            break
    return tokens, probabilities, attention


@pytest.fixture(scope="module")
def lab(cli) -> dict:
    """Lab 12-5's recipe: its four pairs, GRU 32, embeddings of 32, Adam 0.001, 200 epochs,
    one batch of four; and a sentence of its source words to translate."""
    return cli.json("seq2seq", *LAB, "--hidden", "32", "--embed", "32", "--train", "200",
                    "--seed", "0", "--weights", "--check",
                    "--translate", "tensorflow is very hungry")  # fmt: skip


def test_the_lab_learns_its_four_pairs_and_decodes_them(lab):
    losses = [e["loss"] for e in lab["history"]]
    assert len(losses) == 200 and losses[0] > 10 * losses[-1]  # falls more than tenfold
    assert lab["initial"]["accuracy"] < 0.3 and lab["final"]["accuracy"] == 1.0
    pairs = [d for d in lab["decoded"] if d["expected"] is not None]
    assert [d["source"] for d in pairs] == LAB[0::2]
    for decoded, target in zip(pairs, LAB[1::2], strict=True):
        assert decoded["tokens"] == [*target.split(), "<eos>"] and decoded["reached_eos"]
        assert decoded["steps"][0]["input"] == "<bos>"
        fed = [s["input"] for s in decoded["steps"][1:]]
        assert fed == decoded["tokens"][:-1]  # each prediction is the next input
    assert lab["check"]["ok"] is True and lab["check"]["same_tokens"] is True
    assert lab["task"] == "seq2seq" and lab["lr"] == 0.001 and lab["batch_size"] == 4
    assert lab["max_steps"] == 5  # the longest target (4 words) + 1


def test_the_loop_is_numpys_greedy_loop_from_the_reported_weights(lab):
    for decoded in lab["decoded"]:
        tokens, probabilities, _ = _greedy(lab, decoded["source"], lab["max_steps"])
        assert decoded["tokens"] == tokens
        found = [s["probability"] for s in decoded["steps"]]
        np.testing.assert_allclose(found, probabilities, atol=1e-5)
    translated = lab["decoded"][-1]
    assert translated["source"] == "tensorflow is very hungry" and translated["expected"] is None


def test_the_final_loss_is_the_masked_mean_of_the_reported_logits(lab):
    logits = np.asarray(lab["logits"]["values"], dtype=np.float64)
    targets = np.asarray(lab["target"]["decoder_target"]["values"])
    real = np.arange(targets.shape[1])[None] < np.asarray(lab["target"]["lengths"])[:, None]
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    each = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0]
    assert lab["final"]["loss"] == pytest.approx(each[real].mean(), abs=1e-5)
    vocab = lab["target"]["vocab"]
    taught = [[vocab[i] for i in row[real[b]]] for b, row in enumerate(np.argmax(logits, -1))]
    assert lab["final"]["predictions"] == taught  # teacher-forced, real steps only
    weights = [w["name"] for w in lab["weights"]]
    assert [g["name"] for g in lab["gradients"]] == weights  # every weight trains


def test_attention_decodes_with_its_weights_per_step(cli):
    obj = cli.json("seq2seq", *SMALL, "--attention", "--hidden", "16", "--embed", "8",
                   "--train", "150", "--lr", "0.01", "--seed", "1", "--weights",
                   "--translate", "you feel hungry", "--translate", "i are")  # fmt: skip
    assert obj["lr"] == 0.01 and obj["history"][0]["loss"] > 10 * obj["history"][-1]["loss"]
    assert [d["tokens"] for d in obj["decoded"][:2]] == [
        [*SMALL[1].split(), "<eos>"],
        [*SMALL[3].split(), "<eos>"],
    ]
    assert [d["source"] for d in obj["decoded"][2:]] == ["you feel hungry", "i are"]
    for decoded in obj["decoded"]:
        tokens, probabilities, attention = _greedy(obj, decoded["source"], obj["max_steps"])
        assert decoded["tokens"] == tokens
        np.testing.assert_allclose([s["probability"] for s in decoded["steps"]], probabilities,
                                   atol=1e-5)  # fmt: skip
        found = np.asarray(decoded["attention"])
        assert found.shape == (len(tokens), len(decoded["source"].split()))
        np.testing.assert_allclose(found, np.asarray(attention), atol=1e-5)


def test_the_tables_lay_out_the_loss_the_curve_and_each_loop(cli, tmp_path):
    tables = tmp_path / "tables.txt"  # the tables in a file, the JSON on stdout: one run
    obj = cli.json("seq2seq", *SMALL, "--attention", "--train", "3", "--seed", "2", "--max-steps",
                   "1", "--translate", "you feel hungry", "--export", str(tables))  # fmt: skip
    out = tables.read_text()
    cut = [d for d in obj["decoded"] if not d["reached_eos"]]
    assert "task: seq2seq" in out and "teacher forcing" in out
    assert "optimizer = keras.optimizers.Adam(learning_rate=0.001)" in out
    assert "the loss before training, pair 1 step by step:" in out
    assert " 0 │ <bos>  │ 나는" in out  # step 0 reads <bos> and is taught the first word
    assert "loss per epoch" in out and "teacher-forced predictions before and after" in out
    assert cut and out.count("no <eos> within --max-steps 1") == len(cut)
    assert "pair 2: you are hungry" in out and "--translate: you feel hungry" in out
    assert "attention of each decoded step over the source" in out
    assert " step ┃ input ┃ predicted" in out


def test_check_recomputes_and_can_fail():
    from dataclasses import replace

    from rnnprobe.core import options
    from rnnprobe.core.batch import Tensor
    from rnnprobe.core.commands import seq2seq_train as pairs_training

    spec = options.make_seq2seq_spec(attention=True)
    plan = pairs_training.plan(list(zip(SMALL[0::2], SMALL[1::2], strict=True)), spec, seed=4,
                               epochs=3, translate=["i feel"])  # fmt: skip
    result = pairs_training.train_pairs(plan, check=True)
    assert result.check is not None and result.check.ok
    bent = tuple(
        Tensor(w.name, w.dims, w.array * (1.5 if w.name == "head/kernel" else 1.0))
        for w in result.final.weights
    )
    broken = replace(result, final=replace(result.final, weights=bent))
    found = pairs_training.check_pairs(broken, plan.translate)
    assert not found.ok and found.max_abs_diff > 1e-3


def test_the_code_script_trains_and_decodes_the_same(cli):
    """The history within 1e-4, the same decoded sentences."""
    cases = [
        ["--attention", "--batch-size", "1", "--train", "6", "--seed", "5"],  # 12 steps: traced
        ["--cell", "lstm", "--train", "8", "--seed", "6", "--translate", "you feel hungry"],
    ]
    running = []
    for options in cases:  # the scripts run while the commands run here
        script = cli.ok("seq2seq", *SMALL, *options, "--code").stdout
        assert "tf.GradientTape()" in script and "def greedy(" in script
        running.append(start_script(script))
    for options, script_run in zip(cases, running, strict=True):
        obj = cli.json("seq2seq", *SMALL, *options)
        printed = script_run().splitlines()
        losses = [float(line.split()[-1]) for line in printed if line.startswith("epoch ")]
        assert losses == pytest.approx([e["loss"] for e in obj["history"]], abs=1e-4)
        sentences = [line for line in printed if " -> " in line]
        assert sentences == [f"{d['source']} -> {' '.join(d['tokens'])}" for d in obj["decoded"]]


def test_a_kept_training_step_decodes_as_a_fresh_trace(cli, monkeypatch):
    """The same encoder-decoder trained again (another seed and learning rate) reuses the
    traced step; the history, the weights and the decoded sentences are the bytes of a
    step traced afresh (the decoding loop reads the trained layers)."""
    from rnnprobe.core.keras import train as keras_train

    monkeypatch.setattr(keras_train, "_kept", type(keras_train._kept)())
    base = ["seq2seq", *SMALL, "--hidden", "4", "--embed", "4", "--train", "12", "--attention",
            "--translate", "you feel hungry", "--json"]  # fmt: skip
    cli.ok(*base, "--seed", "1")
    later = [*base, "--seed", "2", "--lr", "0.05"]
    kept = cli.ok(*later).stdout
    assert len(keras_train._kept) == 1
    keras_train._kept.clear()
    assert cli.ok(*later).stdout == kept
    assert len(json.loads(kept)["decoded"]) == 3


def test_json_keys_add_trainings_to_seq2seqs_and_a_batch_line_gives_them(cli):
    obj = cli.json("seq2seq", *SMALL[:2], "--train", "2", "--seed", "0", "--every", "1")
    line = "seq2seq 'i feel hungry' '나는 배가 고프다' --train 2 --seed 0 --every 1 --json\n"
    batched = cli("batch", "-", input=line)
    assert batched.exit_code == 0, batched.stderr
    assert json.loads(batched.stdout) == obj
    seq2seqs = ["rnnprobe", "tokenizer", "cell", "hidden", "embed", "seed", "params", "source",
                "target", "encoder", "decoder", "logits"]  # fmt: skip
    assert list(obj)[:12] == seq2seqs
    for key in ("task", "epochs", "lr", "batch_size", "every", "optimizer", "loss",
                "trainable_params", "max_steps", "initial", "gradients", "frozen", "history",
                "final", "stopped", "decoded"):  # fmt: skip
        assert key in obj
    assert obj["every"] == 1 and set(obj["initial"]) >= {"loss", "weights", "predictions"}
    assert list(obj["decoded"][0]) == ["source", "expected", "tokens", "reached_eos", "unknown",
                                       "steps"]  # fmt: skip
    assert list(obj["decoded"][0]["steps"][0]) == ["input", "predicted", "probability"]
    shapes = cli.json("seq2seq", *SMALL[:2], "--train", "2", "--seed", "0", "--shapes")
    assert "values" not in shapes["logits"] and "values" not in shapes["final"]["weights"][0]


def test_the_api_is_the_cli_json(cli):
    import rnnprobe

    pairs = [(SMALL[0], SMALL[1]), (SMALL[2], SMALL[3])]
    found = rnnprobe.seq2seq(pairs, train=4, seed=3, translate="i feel", max_steps=3)
    assert isinstance(found, rnnprobe.Seq2SeqTraining)
    assert found.to_dict() == cli.json("seq2seq", *SMALL, "--train", "4", "--seed", "3",
                                       "--translate", "i feel", "--max-steps", "3")  # fmt: skip
    assert len(found.history) == 4 and found.decoded[-1]["source"] == "i feel"
    assert found.trained.logits.shape == (2, 4, 7)  # <pad> <bos> <eos> + 4 words
    html = found._repr_mimebundle_(include=[], exclude=[])["text/html"]
    assert "greedy decoding after training" in html
    with pytest.raises(ValueError, match="translate needs train"):
        rnnprobe.seq2seq(pairs, translate=["i feel"])
    unseen = rnnprobe.seq2seq(pairs, train=2, translate=["i am"], max_steps=2)
    assert unseen.decoded[-1]["unknown"] == ["am"] and unseen.decoded[0]["unknown"] == []


def test_the_diagram_draws_the_trained_network(cli):
    out = cli.ok("seq2seq", *SMALL, "--train", "2", "--seed", "0", "--diagram", "--pair",
                 "2").stdout  # fmt: skip
    assert "the trained network, teacher-forced:" in out
    assert "pair 2: you are hungry  ->  너는 배가 고프다  unrolled" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--train", "0"], "--train '0': give at least 1"),
        (["--train", "x"], "--train 'x': give a whole number"),
        (["--train", "2", "--lr", "0"], "--lr '0': give a finite number above 0"),
        (["--train", "2", "--lr", "-1"], "--lr '-1': give a finite number above 0"),
        (["--train", "2", "--lr", "nan"], "--lr 'nan': give a finite number above 0"),
        (["--translate", "i feel"], "--translate needs --train N"),
        (["--max-steps", "3"], "--max-steps needs --train N"),
        (["--train", "2", "--max-steps", "0"], "--max-steps '0': give at least 1"),
        (["--train", "2", "--batch-size", "0"], "--batch-size '0': give at least 1"),
    ],
)
def test_bad_input_is_one_line_before_tensorflow_loads(cli, monkeypatch, args, needle):
    def no_tensorflow():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", no_tensorflow)
    assert needle in cli.usage_error("seq2seq", *SMALL, *args)
