"""`rnnprobe seq2seq`: the encoder, the state handed over, the decoder, and attention.

Numbers are checked against numpy fed only what the JSON reports: the ids and the weights
(and, for one attention step, the reported states it reads).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rnnprobe.core.commands import seq2seq as encoder_decoder
from rnnprobe.core.keras import env
from rnnprobe.core.kinds import Cell
from rnnprobe.core.numpy import engine
from rnnprobe.core.result import Tensor
from rnnprobe.core.stages import ProbeSpec

from .conftest import run_scripts

LECTURE = [
    "i feel hungry", "나는 배가 고프다",
    "tensorflow is very difficult", "텐서플로우는 매우 어렵다",
    "tensorflow is a framework for deep learning", "텐서플로우는 딥러닝을 위한 프레임워크이다",
    "tensorflow is very fast changing", "텐서플로우는 매우 빠르게 변화한다",
]  # fmt: skip
KEYS = ["rnnprobe", "tokenizer", "cell", "hidden", "embed", "seed", "params", "source",
        "target", "encoder", "decoder", "logits"]  # fmt: skip


def weights_of(obj: dict) -> dict[str, np.ndarray]:
    return {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in obj["weights"]}


def side(weights: dict[str, np.ndarray], name: str) -> dict[str, np.ndarray]:
    return {
        "embedding/embeddings" if key.endswith("embeddings") else key.split("/", 1)[1]: value
        for key, value in weights.items()
        if key.startswith(name + "/")
    }


def test_json_keys_and_the_lecture_shapes(cli):
    obj = cli.json("seq2seq", *LECTURE, "--seed", "0")
    assert list(obj) == KEYS
    assert obj["cell"] == "gru" and obj["hidden"] == 4 and obj["embed"] == 4
    assert obj["tokenizer"] == "word"
    source, target = obj["source"], obj["target"]
    assert source["vocab"][0] == "<pad>" and target["vocab"][:3] == ["<pad>", "<bos>", "<eos>"]
    assert source["lengths"] == [3, 4, 7, 5] and target["lengths"] == [4, 4, 5, 5]
    assert source["ids"]["shape"] == [4, 7] and source["ids"]["dims"] == ["batch", "source_time"]
    assert target["decoder_input"]["shape"] == [4, 5] == target["decoder_target"]["shape"]
    decoder_input = np.asarray(target["decoder_input"]["values"])
    decoder_target = np.asarray(target["decoder_target"]["values"])
    assert (decoder_input[:, 0] == 1).all()  # <bos> first: teacher forcing
    np.testing.assert_array_equal(decoder_input[0], [1, 3, 4, 5, 0])
    np.testing.assert_array_equal(decoder_target[0], [3, 4, 5, 2, 0])  # target + <eos>
    encoder, decoder = obj["encoder"], obj["decoder"]
    assert encoder["outputs"]["shape"] == [4, 7, 4]
    assert encoder["outputs"]["dims"] == ["batch", "source_time", "hidden"]
    assert [s["name"] for s in encoder["states"]] == ["h"]
    assert decoder["initial_state"] == encoder["states"]  # handed over
    assert decoder["outputs"]["shape"] == [4, 5, 4]
    assert obj["logits"]["shape"] == [4, 5, len(target["vocab"])]
    lstm = cli.json("seq2seq", *LECTURE[:4], "--cell", "lstm", "--seed", "0", "--attention")
    assert [s["name"] for s in lstm["encoder"]["states"]] == ["h", "c"]
    assert list(lstm) == [*KEYS, "attention"]
    assert lstm["attention"]["weights"]["shape"] == [2, 4, 4]
    assert lstm["attention"]["weights"]["dims"] == ["batch", "target_time", "source_time"]
    assert lstm["attention"]["context"]["shape"] == [2, 4, 4]


@pytest.mark.parametrize("cell", ["gru", "lstm", "simple"])
def test_the_decoder_starts_from_the_encoders_final_state(cli, cell):
    obj = cli.json("seq2seq", *LECTURE, "--cell", cell, "--seed", "3", "--weights")
    weights = weights_of(obj)
    spec = ProbeSpec(cell=Cell(cell), hidden=(4,), embed=4)
    source_ids = np.asarray(obj["source"]["ids"]["values"])
    encoder = engine.recompute(
        spec, source_ids, np.asarray(obj["source"]["lengths"]), side(weights, "encoder")
    )
    np.testing.assert_allclose(obj["encoder"]["outputs"]["values"], encoder["outputs"], atol=1e-5)
    initial = [encoder[s["name"]] for s in obj["encoder"]["states"]]
    target_vocab = len(obj["target"]["vocab"])
    decoder_spec = replace(spec, head=target_vocab, each_step=True)
    decoder_weights = {**side(weights, "decoder"), "head/kernel": weights["head/kernel"],
                       "head/bias": weights["head/bias"]}  # fmt: skip
    decoder_input = np.asarray(obj["target"]["decoder_input"]["values"])
    lengths = np.asarray(obj["target"]["lengths"])
    handed = engine.trace(decoder_spec, decoder_input, lengths, decoder_weights,
                             keep_steps=False, initial=initial).computed  # fmt: skip
    np.testing.assert_allclose(obj["decoder"]["outputs"]["values"], handed["outputs"], atol=1e-5)
    np.testing.assert_allclose(obj["logits"]["values"], handed["logits"], atol=1e-5)
    for state in obj["decoder"]["states"]:
        np.testing.assert_allclose(state["values"], handed[state["name"]], atol=1e-5)
    # from zeros (no state passed, the mistake of tensorflow#38248) the numbers differ
    zeros = engine.recompute(decoder_spec, decoder_input, lengths, decoder_weights)
    first = np.asarray(obj["decoder"]["outputs"]["values"])[:, 0]
    assert np.max(np.abs(first - zeros["outputs"][:, 0])) > 1e-4


def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


def test_attention_weights_sum_to_one_over_real_words_and_the_context_is_their_sum(cli):
    obj = cli.json("seq2seq", *LECTURE, "--attention", "--seed", "5", "--weights", "--check")
    assert obj["check"]["ok"] is True
    weights = weights_of(obj)
    attention = np.asarray(obj["attention"]["weights"]["values"])
    context = np.asarray(obj["attention"]["context"]["values"])
    enc = np.asarray(obj["encoder"]["outputs"]["values"], dtype=np.float64)
    dec = np.asarray(obj["decoder"]["outputs"]["values"], dtype=np.float64)
    source_lengths = obj["source"]["lengths"]
    for b, length in enumerate(source_lengths):
        real = attention[b, : obj["target"]["lengths"][b]]
        np.testing.assert_allclose(real[:, :length].sum(axis=-1), 1, atol=1e-6)
        assert (attention[b, :, length:] == 0).all()  # exactly 0 on padding
    np.testing.assert_allclose(context, np.einsum("bts,bsu->btu", attention, enc), atol=1e-6)
    # one step by hand: scores from the previous decoder state, V·tanh(W1·enc + W2·h)
    h_prev = np.stack(
        [np.asarray(obj["encoder"]["states"][0]["values"])[:, None, :][:, 0], dec[:, 0]], axis=0
    )  # step 0 reads the encoder's h, step 1 the decoder's
    for t in (0, 1):
        keys = enc @ weights["attention/W1/kernel"] + weights["attention/W1/bias"]
        query = h_prev[t] @ weights["attention/W2/kernel"] + weights["attention/W2/bias"]
        score = (np.tanh(keys + query[:, None]) @ weights["attention/V/kernel"])[..., 0]
        score = score + weights["attention/V/bias"][0]
        mask = np.arange(enc.shape[1])[None] < np.asarray(source_lengths)[:, None]
        exp = np.where(mask, np.exp(score - score.max(axis=1, keepdims=True)), 0)
        np.testing.assert_allclose(attention[:, t], exp / exp.sum(axis=1, keepdims=True),
                                   atol=1e-6)  # fmt: skip
    # the decoder's first step reads [embedding of <bos>, context] from the encoder's h
    table = weights["decoder/embeddings"]
    x0 = np.concatenate([table[np.full(4, 1)], context[:, 0]], axis=-1)
    kernel, recurrent = weights["decoder/kernel"], weights["decoder/recurrent_kernel"]
    bias = weights["decoder/bias"]
    n = 4
    xz, hz = x0 @ kernel + bias[0], h_prev[0] @ recurrent + bias[1]
    z = _sigmoid(xz[:, :n] + hz[:, :n])
    r = _sigmoid(xz[:, n : 2 * n] + hz[:, n : 2 * n])
    g = np.tanh(xz[:, 2 * n :] + r * hz[:, 2 * n :])
    np.testing.assert_allclose(dec[:, 0], z * h_prev[0] + (1 - z) * g, atol=1e-5)


@pytest.mark.parametrize("attention", [[], ["--attention"]], ids=["plain", "attention"])
def test_check_can_fail(attention):
    from rnnprobe.core import options
    from rnnprobe.core.commands import run as commands
    from rnnprobe.core.inputs import pairs as pair_inputs

    pairs = pair_inputs.pairs_from_sentences(LECTURE[:4])
    spec = options.make_seq2seq_spec(attention=bool(attention), cell="lstm")
    result = commands.seq2seq(pairs, spec, seed=2, check=True)
    assert result.check is not None and result.check.ok
    for name in ("encoder/recurrent_kernel", "decoder/kernel", "head/bias",
                 *(("attention/W1/kernel",) if attention else ())):  # fmt: skip
        # the encoder's outputs are small: attention's keys need a larger push to move
        scale = 100.0 if name.startswith("attention") else 1.0
        changed = tuple(
            Tensor(w.name, w.dims, w.array * scale + 0.05) if w.name == name else w
            for w in result.weights
        )
        broken = replace(result, weights=changed)
        diff = encoder_decoder.max_abs_diff(broken, encoder_decoder.recompute(broken))
        assert diff > 1e-5, name


def test_tables_say_the_hand_over_and_unpack_like_working_code(cli):
    out = " ".join(cli.ok("seq2seq", *LECTURE[:4], "--seed", "1").stdout.split())
    assert "decoder initial_state = encoder state h (2, 4)" in out
    assert "enc_outputs, enc_h = encoder_rnn(source_emb, mask=source_mask)" in out
    assert ("dec_outputs, dec_h = decoder_rnn(target_emb, mask=target_mask, "
            "initial_state=[enc_h])") in out  # fmt: skip
    assert "pair 1: i feel hungry -> 나는 배가 고프다" in out
    assert "predicted ┃ expected" in out and "│ <bos> │" in out
    lstm = " ".join(cli.ok("seq2seq", *LECTURE[:4], "--cell", "lstm", "--seed", "1").stdout.split())
    assert "decoder initial_state = encoder state h (2, 4), c (2, 4)" in lstm
    assert "initial_state=[enc_h, enc_c]" in lstm
    att = cli.ok("seq2seq", *LECTURE[:4], "--attention", "--seed", "1").stdout
    assert "attention weights (each row sums to 1" in att
    assert " i ┃   feel ┃ hungry ┃  <pad>" in att
    assert "drops it and starts every step from zeros" in " ".join(att.split())


def test_the_diagram_draws_both_halves_and_the_state_crossing(cli):
    out = cli.ok("seq2seq", *LECTURE[:4], "--diagram", "--pair", "2", "--seed", "1").stdout
    assert "pair 2: tensorflow is very difficult" in out
    assert "═ h (2, 4) ═▶" in out
    assert out.count("│  GRU  │") == 4 + 4 and "encoder" in out and "decoder" in out
    att = cli.ok("seq2seq", *LECTURE[:4], "--diagram", "--attention", "--seed", "1").stdout
    assert "attention: what each decoder step reads of the source" in att
    assert len([line for line in att.splitlines() if "◀─ " in line]) == 4
    assert "--pair needs --diagram" in cli.usage_error("seq2seq", *LECTURE[:2], "--pair", "1")


def test_stdin_batch_lines_shapes_weights_and_export(cli, tmp_path):
    lines = "i feel hungry\t나는 배가 고프다\n\ntensorflow is fast\t텐서플로우는 빠르다\n"
    from_stdin = cli.json("seq2seq", "-", "--seed", "4", input=lines)
    args = cli.json("seq2seq", "i feel hungry", "나는 배가 고프다", "tensorflow is fast",
                    "텐서플로우는 빠르다", "--seed", "4")  # fmt: skip
    assert from_stdin == args
    (tmp_path / "probes.txt").write_text(
        'seq2seq "i feel" "je sens" --attention --seed 2\nhello --seed 1\n', encoding="utf-8"
    )
    batched = cli.ok("batch", str(tmp_path / "probes.txt")).stdout.splitlines()
    alone = cli.ok("seq2seq", "i feel", "je sens", "--attention", "--seed", "2", "--json")
    assert batched[0] == alone.stdout.rstrip("\n")
    shaped = cli.json("seq2seq", *LECTURE[:4], "--shapes", "--attention", "--seed", "1")
    assert "values" not in shaped["logits"] and "values" not in shaped["attention"]["weights"]
    names = [w["name"] for w in shaped["weights"]]
    assert names[:4] == ["encoder/embeddings", "encoder/kernel", "encoder/recurrent_kernel",
                         "encoder/bias"]  # fmt: skip
    assert names[4:10] == ["decoder/embeddings", "decoder/kernel", "decoder/recurrent_kernel",
                           "decoder/bias", "head/kernel", "head/bias"]  # fmt: skip
    assert names[10:] == [f"attention/{d}/{w}" for d in ("W1", "W2", "V")
                          for w in ("kernel", "bias")]  # fmt: skip
    assert sum(np.prod(w["shape"]) for w in shaped["weights"]) == shaped["params"]
    kernel = next(w for w in shaped["weights"] if w["name"] == "decoder/kernel")
    assert kernel["shape"] == [4 + 4, 3 * 4]  # the decoder reads [embedding, context]
    table = cli.ok("seq2seq", *LECTURE[:4], "--shapes", "--seed", "1").stdout
    assert "total: " in table and "encoder: " in table
    export = tmp_path / "s2s.txt"
    cli.ok("seq2seq", *LECTURE[:4], "--seed", "1", "--export", str(export))
    assert "decoder initial_state = encoder state h" in export.read_text(encoding="utf-8")


def test_bad_input_is_one_line_before_tensorflow_loads(cli, monkeypatch):
    def no_tensorflow():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", no_tensorflow)
    cases = [
        ((*LECTURE[:3],), None, "an odd number of sentences (3)"),
        (("i feel", " "), None, "pair 1: the target is empty"),
        (("-",), "i feel hungry\n", "stdin line 1 'i feel hungry': give one tab"),
        ((*LECTURE[:2], "--hidden", "0"), None, "--hidden '0': every layer needs at least 1"),
        ((*LECTURE[:2], "--embed", "0"), None, "--embed '0'"),
        ((*LECTURE[:2], "--code", "--json"), None, "--code prints a script"),
    ]
    for args, stdin, needle in cases:
        assert needle in cli.usage_error("seq2seq", *args, input=stdin), args


def test_the_api_gives_the_arrays_and_the_cli_json(cli):
    import rnnprobe

    pairs = [(LECTURE[i], LECTURE[i + 1]) for i in range(0, 8, 2)]
    found = rnnprobe.seq2seq(pairs, attention=True, seed=7, cell="lstm")
    assert found.to_dict() == cli.json("seq2seq", *LECTURE, "--attention", "--seed", "7",
                                       "--cell", "lstm")  # fmt: skip
    assert found.attention_weights.shape == (4, 5, 7) and found.context.shape == (4, 5, 4)
    assert list(found.initial_state) == ["h", "c"]
    np.testing.assert_array_equal(found.initial_state["h"], found.encoder_states["h"])
    assert found.logits.shape == (4, 5, len(found.target_vocab))
    assert found.params == sum(w.size for w in found.weights.values())
    assert "unrolled" in str(found.diagram(2).view.renderables[0])
    with pytest.raises(ValueError, match="pairs takes a list"):
        rnnprobe.seq2seq("i feel hungry")
    with pytest.raises(ValueError, match="hidden '0'"):
        rnnprobe.seq2seq(pairs, hidden=0)


def test_the_printed_script_reproduces_the_numbers(cli):
    cases = [[], ["--attention", "--cell", "lstm"]]
    scripts, wanted = [], []
    for extra in cases:
        args = ["seq2seq", *LECTURE, *extra, "--seed", "11"]
        names = ["enc_outputs", "dec_outputs", "logits"]
        names += ["attention_weights"] if extra else []
        scripts.append((cli.ok(*args, "--code").stdout, names))
        obj = cli.json(*args)
        expected = {"enc_outputs": obj["encoder"]["outputs"]["values"],
                    "dec_outputs": obj["decoder"]["outputs"]["values"],
                    "logits": obj["logits"]["values"]}  # fmt: skip
        if extra:
            expected["attention_weights"] = obj["attention"]["weights"]["values"]
        wanted.append(expected)
    for got, expected in zip(run_scripts(scripts), wanted, strict=True):
        for name, values in expected.items():
            np.testing.assert_allclose(np.float32(got[name]), np.float32(values), atol=1e-6,
                                       err_msg=name)  # fmt: skip


def test_tokens_sizes_and_all_pairs(cli):
    chars = cli.json("seq2seq", "hi", "yo", "abc", "xyz", "--tokens", "char", "--hidden", "3",
                     "--embed", "5", "--seed", "1")  # fmt: skip
    assert chars["tokenizer"] == "char" and chars["source"]["vocab"] == ["<pad>", "h", "i", "a",
                                                                         "b", "c"]  # fmt: skip
    assert chars["source"]["ids"]["shape"] == [2, 3] and chars["target"]["lengths"] == [3, 4]
    assert chars["encoder"]["outputs"]["shape"] == [2, 3, 3]
    assert chars["encoder"]["embedding"]["shape"] == [2, 3, 5]
    nine = [s for n in range(9) for s in (f"source {n}", f"target {n}")]
    shown = cli.ok("seq2seq", *nine, "--seed", "1").stdout
    assert "pair 8: " in shown and "pair 9: " not in shown and "... 1 more pair" in shown
    every = cli.ok("seq2seq", *nine, "--seed", "1", "--all").stdout
    assert "pair 9: source 8" in every and "more pair" not in every
