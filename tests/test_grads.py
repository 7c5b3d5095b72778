"""`rnnprobe grads` and `train --torch`: gradients through time, in Keras, numpy and PyTorch.

dL/dh_t is checked against central finite differences of a small numpy RNN written here
(a perturbation added to the state after step t), and against the numpy backpropagation
and the PyTorch twin; the weight gradients against `train`'s and the clipping against
the formula Keras's optimizers document.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from rnnprobe.core.keras import env

pytest.importorskip("torch")

PADDED = ["grads", "hello", "hi", "elo", "--seed", "2"]
KEYS = [
    "rnnprobe", "words", "lengths", "vocab", "style", "cell", "hidden", "seed",
    "bidirectional", "merge_mode", "task", "classes", "x_data", "tokenizer", "embed", "head",
    "each_step", "mask", "targets", "after", "shuffle", "at", "loss", "weights", "gradients",
    "frozen", "state_gradients", "state_gradient_norms", "global_norm", "nonfinite",
]  # fmt: skip


def _simple_loss(weights, x, lengths, targets, at=None, nudge=None):
    """The masked mean cross-entropy of a one-layer SimpleRNN with a TimeDistributed head,
    written out here; `nudge` = (t, vector) adds the vector to the state after step t."""
    kernel, recurrent, bias = (weights[n] for n in ("kernel", "recurrent_kernel", "bias"))
    rows, time, _ = x.shape
    h = np.zeros((rows, recurrent.shape[0]))
    states = []
    for t in range(time):
        new = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        if nudge is not None and nudge[0] == t:
            new = new + nudge[1]
        real = (t < np.asarray(lengths))[:, None]
        h = np.where(real, new, h)
        states.append(h)
    logits = np.stack(states, 1) @ weights["head/kernel"] + weights["head/bias"]
    shifted = logits - logits.max(-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    every = -np.take_along_axis(log_p, targets[..., None], -1)[..., 0]
    mask = np.arange(time)[None] < np.asarray(lengths)[:, None]
    if at is not None:
        mask = mask & (np.arange(time)[None] == at)
    return float((every * mask).sum() / mask.sum())


def _weights(obj):
    return {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in obj["weights"]}


@pytest.mark.parametrize("at", [None, 3])
def test_state_gradients_equal_finite_differences_of_a_numpy_rnn(cli, at):
    args = [*PADDED] + (["--at", str(at)] if at is not None else [])
    obj = cli.json(*args)
    assert list(obj) == KEYS
    assert obj["at"] == at and obj["task"] == "next" and obj["lengths"] == [4, 1, 2]
    weights = _weights(obj)
    x = np.asarray(obj["x_data"]["values"], dtype=np.float64)
    targets = np.asarray(obj["targets"]["values"])
    (state,) = obj["state_gradients"]
    assert state["name"] == "h" and state["shape"] == [3, 4, 2]
    assert state["dims"] == ["batch", "time", "hidden"]
    found = np.asarray(state["values"])
    assert obj["loss"] == pytest.approx(_simple_loss(weights, x, obj["lengths"], targets, at),
                                        abs=1e-5)  # fmt: skip
    eps = 1e-6
    for b in range(3):
        for t in range(4):
            for unit in range(2):
                up, down = (np.zeros((3, 2)) for _ in range(2))
                up[b, unit], down[b, unit] = eps, -eps
                slope = _simple_loss(
                    weights, x, obj["lengths"], targets, at, (t, up)
                ) - _simple_loss(weights, x, obj["lengths"], targets, at, (t, down))
                assert found[b, t, unit] == pytest.approx(slope / (2 * eps), abs=1e-5), (b, t)
    mask = np.asarray(obj["mask"]["values"])
    assert (found[~mask] == 0).all()  # a padded step keeps the state: 0 there
    norms = np.asarray(obj["state_gradient_norms"])
    np.testing.assert_allclose(norms, np.linalg.norm(found, axis=-1), rtol=1e-5)
    if at is not None:
        assert (found[:, at + 1 :] == 0).all() and (norms[0, : at + 1] > 0).all()
        assert (norms[1:] == 0).all()  # only word 1 has a real step 3


def test_the_weight_gradients_are_trains_first_ones_and_after_n_its_nth(cli):
    for extra in ([], ["--cell", "lstm", "-H", "3,2"], ["--cell", "gru", "--bidirectional",
                                                         "--embed", "3"]):  # fmt: skip
        grads = cli.json(*PADDED, *extra)
        train = cli.json("train", *PADDED[1:], "--epochs", "1", *extra)
        assert [g["name"] for g in grads["gradients"]] == [g["name"] for g in train["gradients"]]
        for ours, theirs in zip(grads["gradients"], train["gradients"], strict=True):
            assert ours["shape"] == theirs["shape"]
            np.testing.assert_allclose(ours["values"], theirs["values"], atol=1e-6)
        assert grads["weights"] == train["initial"]["weights"]
    after = cli.json(*PADDED, "--after", "4")
    trained = cli.json("train", *PADDED[1:], "--epochs", "4")
    assert after["after"] == 4 and after["weights"] == trained["final"]["weights"]


def test_stacks_and_directions_each_get_their_dl_dh_named_as_their_states(cli):
    obj = cli.json(*PADDED, "--cell", "lstm", "-H", "3,2", "--bidirectional", "--check")
    assert [s["name"] for s in obj["state_gradients"]] == [
        "1/forward_h", "1/backward_h", "2/forward_h", "2/backward_h",
    ]  # fmt: skip
    assert [s["shape"] for s in obj["state_gradients"]] == [[3, 4, 3], [3, 4, 3], [3, 4, 2],
                                                           [3, 4, 2]]  # fmt: skip
    assert obj["check"]["ok"] is True and obj["check"]["state_diff"] < 1e-6
    table = cli.ok(*PADDED, "--cell", "lstm", "-H", "3,2", "--bidirectional").stdout
    assert "layer 1, backward (its gradient flows left to right)" in table
    assert "layer 2, forward (2/forward_h)" in table and "pad: 0" in table


def test_at_shows_the_ratio_between_neighbouring_steps(cli):
    out = cli.ok("grads", "abcdefghij", "--seed", "1", "--at", "8").stdout
    assert "of the loss at step 8 alone" in out and "ratio" in out
    obj = cli.json("grads", "abcdefghij", "--seed", "1", "--at", "8")
    norms = np.asarray(obj["state_gradient_norms"])[0]
    shown = re.findall(r"^ +(\d) │ (\S+) │ +(\S*)", out, re.M)
    for step, value, ratio in shown:
        t = int(step)
        assert float(value) == pytest.approx(norms[t], rel=1e-3)
        if t < 8:
            assert float(ratio) == pytest.approx(norms[t] / norms[t + 1], rel=1e-2)


def test_cells_put_the_strips_one_under_another_even_for_a_long_word(cli):
    word = ("thequickbrownfoxjumpsoverthelazydog" * 9)[:300]
    obj = cli.json("grads", word, "--cells", "simple,lstm,gru", "--at", "298", "--seed", "0")
    assert [c["cell"] for c in obj["cells"]] == ["simple", "lstm", "gru"]
    for cell in obj["cells"]:
        norms = np.asarray(cell["state_gradient_norms"])
        assert norms.shape == (1, 299) and norms[0, 298] > 0 and norms[0, 0] < norms[0, 298]
    out = cli.ok("grads", "abcdefghijklmnop", "--cells", "simple,lstm,gru", "--seed", "0",
                 "--at", "14").stdout  # fmt: skip
    strips = re.findall(r"^(SimpleRNN|LSTM|GRU) +([ ·░▒▓█]+)$", out, re.M)
    assert [name for name, _ in strips] == ["SimpleRNN", "LSTM", "GRU"]
    assert all(len(strip.rstrip()) == 15 for _, strip in strips)
    assert "how much of the last step's gradient reaches the first" in out


def test_cells_without_a_seed_share_one_drawn_seed(cli):
    obj = cli.json("grads", "hihello", "--cells", "simple,gru")
    assert obj["cells"][0]["seed"] == obj["cells"][1]["seed"]


def test_the_api_compares_cells_as_grads_cells_does(cli):
    import rnnprobe

    found = rnnprobe.grads("abcdefgh", cells=["simple", "lstm"], at=6, seed=0)
    assert found.cells == ["simple", "lstm"] and found.results[1].gradients
    assert found.to_dict() == cli.json("grads", "abcdefgh", "--cells", "simple,lstm",
                                       "--at", "6", "--seed", "0")  # fmt: skip
    html = found._repr_mimebundle_(include=[], exclude=[])["text/html"]
    assert "SimpleRNN" in html and "LSTM" in html
    drawn = rnnprobe.grads("abc", cells=["simple", "gru"])
    assert drawn.results[0].seed == drawn.results[1].seed
    with pytest.raises(ValueError, match="does not combine with torch"):
        rnnprobe.grads("abc", cells=["simple"], torch=True)


def test_clipping_is_keras_formula(cli):
    obj = cli.json(*PADDED, "--clipnorm", "0.05")
    for before, after in zip(obj["gradients"], obj["clipped"]["gradients"], strict=True):
        g = np.asarray(before["values"])
        norm = np.linalg.norm(g)
        np.testing.assert_allclose(after["values"], g * 0.05 / max(norm, 0.05), rtol=1e-5)
    whole = cli.json(*PADDED, "--global-clipnorm", "0.1")
    assert whole["clipped"]["global_norm"] == pytest.approx(min(whole["global_norm"], 0.1),
                                                            rel=1e-5)  # fmt: skip
    scale = 0.1 / max(whole["global_norm"], 0.1)
    for before, after in zip(whole["gradients"], whole["clipped"]["gradients"], strict=True):
        np.testing.assert_allclose(after["values"], np.asarray(before["values"]) * scale,
                                   rtol=1e-5)  # fmt: skip
    assert "global norm" in cli.ok(*PADDED, "--clipnorm", "0.05").stdout
    assert "clipped" in cli.ok(*PADDED, "--clipnorm", "0.05").stdout


def test_nan_gradients_are_flagged(cli):
    """Training to NaN before the pass: the gradients are shown and flagged, the training's
    stop said on stderr, exit 1 (as a training stopped on a NaN loss exits)."""
    args = ["grads", "hello", "hi", "--seed", "1", "--after", "3", "--lr", "1e38", "--cell", "lstm"]
    result = cli(*args, "--json")
    assert result.exit_code == 1
    assert result.stderr.startswith("rnnprobe: the loss became nan at epoch")
    obj = json.loads(result.stdout)
    assert obj["nonfinite"]["weights"] and obj["nonfinite"]["steps"]
    result = cli(*args)
    assert result.exit_code == 1 and "NaN or infinite gradients:" in result.stdout


def test_check_fails_when_numpy_disagrees(cli, monkeypatch):
    from rnnprobe.core.numpy import backprop

    real = backprop.backprop

    def off(*args, **kwargs):
        found = real(*args, **kwargs)
        found.state_gradients["h"] = found.state_gradients["h"] * 1.01
        return found

    monkeypatch.setattr(backprop, "backprop", off)
    result = cli(*PADDED, "--check")
    assert result.exit_code == 1 and "✗ check FAILED" in result.stdout


def test_the_torch_twin_gives_the_same_gradients_and_state_gradients(cli):
    for extra in ([], ["--cell", "lstm", "-H", "3,3", "--bidirectional"],
                  ["--cell", "gru", "--embed", "4", "--at", "2"]):  # fmt: skip
        obj = cli.json(*PADDED, "--torch", *extra)
        twin = obj["torch"]
        assert twin["ok"] is True and twin["max_abs_diff"] < 1e-5
        assert [s["name"] for s in twin["state_gradients"]] == [
            s["name"] for s in obj["state_gradients"]
        ]
        for ours, theirs in zip(obj["state_gradients"], twin["state_gradients"], strict=True):
            np.testing.assert_allclose(ours["values"], theirs["values"], atol=1e-5)
        names = [g["name"] for g in twin["gradients"]]
        assert "rnn.weight_ih_l0" in names and "head.weight" in names
        assert not any(n.startswith("rnn.bias_hh") for n in names) or extra[1] == "gru"
    head = np.asarray(next(g for g in twin["gradients"] if g["name"] == "head.weight")["values"])
    keras = np.asarray(next(g for g in obj["gradients"] if g["name"] == "head/kernel")["values"])
    np.testing.assert_allclose(head, keras.T, atol=1e-6)  # transposed, as the rules say
    out = cli.ok(*PADDED, "--torch").stdout
    assert "retain_grad()" in out and "✓ torch vs keras" in out


def test_a_twin_that_disagrees_exits_1(cli, monkeypatch):
    from rnnprobe.core.torch import twin

    monkeypatch.setattr(twin, "_gate_blocks", lambda cell, array, units: array)  # no reorder
    result = cli(*PADDED, "--cell", "gru", "--torch", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["torch"]["ok"] is False


def test_the_diagram_draws_the_backward_arrows_with_norms(cli):
    out = cli.ok(*PADDED, "--diagram", "--word", "1").stdout
    obj = cli.json(*PADDED)
    norms = np.asarray(obj["state_gradient_norms"])[0]
    assert "the gradient flowing back through time" in out and "◀─ loss" in out
    assert f"{norms[0]:.2e}" in out and f"{norms[3]:.2e}" in out
    assert "◀─" in out


def test_train_torch_trains_the_twin_to_the_same_curve(cli):
    obj = cli.json("train", "hello", "hi", "elo", "--seed", "1", "--epochs", "20", "--torch",
                   "--batch-size", "2", "--embed", "3")  # fmt: skip
    twin = obj["torch"]
    assert len(twin["history"]) == 20 and len(twin["epoch_diffs"]) == 20
    assert twin["max_abs_diff"] < 1e-4 and twin["weights_max_abs_diff"] < 1e-3
    np.testing.assert_allclose(twin["history"], [h["loss"] for h in obj["history"]], atol=1e-4)
    assert obj["history"][0]["loss"] > 2 * obj["history"][-1]["loss"]  # it does train
    out = cli.ok("train", "hihello", "--seed", "0", "--epochs", "10", "--torch").stdout
    assert "the same training in PyTorch" in out and "keras: loss per epoch" in out
    assert "pytorch: loss per epoch" in out and "epsilon 1e-07" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["hello", "--at", "9"], "--at 9: the longest word has steps 0 to 3"),
        (["hello", "--at", "-1"], "--at -1"),
        (["good", "bad", "--labels", "a,b", "--at", "0"], "--at is for a loss on every step"),
        (["hello", "--cells", "simple,rnn"], "'rnn' is not one of"),
        (["hello", "--cells", "simple,lstm", "--torch"], "--cells compares"),
        (["hello", "--clipnorm", "0"], "--clipnorm '0': give a finite number above 0"),
        (["hello", "--clipnorm", "-1"], "--clipnorm '-1'"),
        (["hello", "--global-clipnorm", "x"], "--global-clipnorm 'x'"),
        (["hello", "--clipnorm", "1", "--global-clipnorm", "1"], "do not combine"),
        (["hello", "--after", "0"], "--after '0': give at least 1"),
        (["hello", "--word", "2"], "--word needs --diagram"),
    ],
)
def test_bad_input_is_one_line_before_tensorflow_loads(cli, monkeypatch, args, needle):
    def no_tensorflow():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", no_tensorflow)
    assert needle in cli.usage_error("grads", *args)


def test_bad_train_torch_combinations(cli):
    assert "--torch trains the twin" in cli.usage_error("train", "hello", "--torch", "--code")


def test_the_python_api_is_the_cli_json(cli):
    import rnnprobe

    found = rnnprobe.grads(["hello", "hi", "elo"], seed=2, at=3)
    assert found.to_dict() == cli.json(*PADDED, "--at", "3")
    assert set(found.state_gradients) == {"h"} and found.state_gradient_norms.shape == (3, 4)
    html = found._repr_mimebundle_(include=[], exclude=[])["text/html"]
    assert "dL/dh_t" in html and "█" in html
    assert "the gradient flowing back" in str(found.diagram(1).view.renderables[0])
    with pytest.raises(ValueError, match="at 7: the longest word has steps 0 to 3"):
        rnnprobe.grads(["hello", "hi"], at=7)
