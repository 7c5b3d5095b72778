"""`--torch` and `rnnprobe.to_torch`: the same network in PyTorch, the numbers proven equal.

The state_dict rnnprobe reports is loaded here into PyTorch modules built by the test
itself and run on the reported x_data: its outputs must equal Keras's at every real step.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from rnnprobe.core.keras import env  # noqa: E402
from rnnprobe.core.torch import twin  # noqa: E402

from .conftest import LECTURE_WORDS, run_scripts  # noqa: E402

PADDED = ["hello", "hi", "elo"]
ROOT = Path(__file__).resolve().parent.parent
STRUCTURES = [
    [],
    ["--cell", "lstm"],
    ["--cell", "gru"],
    ["--cell", "gru", "--bidirectional"],
    ["--cell", "lstm", "-H", "3,3", "--bidirectional"],
    ["--cell", "gru", "-H", "3,2", "--style", "cell"],
    ["--cell", "lstm", "-H", "3,2", "--bidirectional", "--merge-mode", "sum"],
    ["--bidirectional", "--merge-mode", "ave", "--no-return-sequences"],
    ["--cell", "gru", "--embed", "onehot", "--head", "2"],
    ["--cell", "lstm", "--embed", "3", "--head", "4", "--each-step", "--bidirectional"],
]


def _run_module(cls, state, x, lengths, *, layers, bidirectional, hidden):
    """A PyTorch module built here, loaded with the reported state_dict, on packed x."""
    module = cls(x.shape[-1], hidden, num_layers=layers, batch_first=True,
                 bidirectional=bidirectional)  # fmt: skip
    module.load_state_dict({k: torch.tensor(v) for k, v in state.items()})
    packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(x, dtype=torch.float32), torch.tensor(lengths), batch_first=True,
        enforce_sorted=False,
    )  # fmt: skip
    with torch.no_grad():
        out, hidden_state = module(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                    total_length=x.shape[1])  # fmt: skip
    return out.numpy(), hidden_state


@pytest.mark.parametrize("extra", STRUCTURES, ids=" ".join)
def test_the_twin_agrees_with_keras(cli, extra):
    obj = cli.json("run", *PADDED, *extra, "--torch", "--seed", "3")
    found = obj["torch"]
    assert list(found)[:5] == ["module", "state_dict", "rules", "output", "h_n"]
    assert found["ok"] is True and found["max_abs_diff"] < 1e-5
    batch, time = len(PADDED), 5
    assert found["output"]["shape"][:2] == [batch, time]  # batch first, as run
    assert found["output"]["dims"][:2] == ["batch", "time"]
    states = found["h_n"] if isinstance(found["h_n"], list) else [found["h_n"]]
    assert all(h["dims"] == ["layers*directions", "batch", "hidden"] for h in states)
    assert ("c_n" in found) == ("lstm" in extra)
    output = np.asarray(found["output"]["values"])
    mask = np.arange(time)[None] < np.asarray(obj["lengths"])[:, None]
    assert (output[~mask] == 0).all() or "--merge-mode" in extra  # PyTorch pads with zeros
    if obj["return_sequences"]:
        np.testing.assert_allclose(output[mask], np.asarray(obj["outputs"]["values"])[mask],
                                   atol=1e-5)  # fmt: skip


def test_the_reported_state_dict_loads_into_pytorchs_own_modules(cli):
    obj = cli.json("run", *PADDED, "--cell", "gru", "-H", "3", "--bidirectional", "--torch",
                   "--seed", "4", "--weights")  # fmt: skip
    state = {e["name"].partition(".")[2]: e["values"] for e in obj["torch"]["state_dict"]}
    shapes = {e["name"]: e["shape"] for e in obj["torch"]["state_dict"]}
    assert shapes["rnn.weight_ih_l0"] == [9, 5] and shapes["rnn.weight_hh_l0_reverse"] == [9, 3]
    assert shapes["rnn.bias_ih_l0"] == [9] == shapes["rnn.bias_hh_l0"]
    out, h_n = _run_module(torch.nn.GRU, state, np.asarray(obj["x_data"]["values"]),
                           obj["lengths"], layers=1, bidirectional=True, hidden=3)  # fmt: skip
    keras = np.asarray(obj["outputs"]["values"])
    mask = np.arange(5)[None] < np.asarray(obj["lengths"])[:, None]
    np.testing.assert_allclose(out[mask], keras[mask], atol=1e-5)
    names = {s["name"]: np.asarray(s["values"]) for s in obj["states"]}
    np.testing.assert_allclose(h_n[0].numpy(), names["forward_h"], atol=1e-5)
    np.testing.assert_allclose(h_n[1].numpy(), names["backward_h"], atol=1e-5)
    # the rules say what was done to each Keras weight
    kernel = next(w for w in obj["weights"] if w["name"] == "forward/kernel")
    z, r, h = np.split(np.asarray(kernel["values"]), 3, axis=1)
    np.testing.assert_array_equal(np.asarray(state["weight_ih_l0"]), np.hstack([r, z, h]).T)
    rules = " ".join(obj["torch"]["rules"])
    assert "transposed" in rules and "Keras z, r, h -> PyTorch r, z, n" in rules
    assert "row 0 -> bias_ih_l0, row 1 -> bias_hh_l0" in rules
    lstm = cli.json("run", "hi", "--cell", "lstm", "--torch", "--seed", "4")
    assert "bias_hh_l0 = zeros (Keras has one bias, PyTorch two)" in " ".join(
        lstm["torch"]["rules"]
    )
    assert lstm["torch"]["slices"] == ["h_n[0] = h", "c_n[0] = c"]


def test_tables_show_the_module_the_layout_the_slices_and_the_padded_steps(cli):
    out = " ".join(cli.ok("run", *PADDED, "--cell", "lstm", "--bidirectional", "--torch",
                          "--seed", "2").stdout.split())  # fmt: skip
    assert "rnn = nn.LSTM(5, 2, batch_first=True, bidirectional=True)" in out
    assert "rnn.weight_hh_l0_reverse │ (8, 2)" in out
    assert "output │ (3, 5, 4) │ batch x time x directions*hidden" in out
    assert "(time, batch, ...) = (5, 3, 4)" in out
    assert "h_n │ (2, 3, 2) │ layers*directions x batch x hidden" in out
    assert "output, (h_n, c_n) = rnn(packed)" in out
    assert "h_n[0] = forward_h" in out and "c_n[1] = backward_c" in out
    assert "pad_packed_sequence gives zeros there, where Keras repeats the last real step" in out
    assert "keras 0 ┃" in out and "torch 0 ┃" in out
    assert "✓ torch vs keras: max |diff| = " in out


def test_a_twin_that_disagrees_exits_1(cli, monkeypatch):
    real = twin._gate_blocks
    monkeypatch.setattr(twin, "_gate_blocks", lambda cell, array, units: array)  # no reorder
    result = cli("run", *PADDED, "--cell", "gru", "--torch", "--seed", "1", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["torch"]["ok"] is False
    table = cli("run", *PADDED, "--cell", "gru", "--torch", "--seed", "1")
    assert table.exit_code == 1 and "✗ torch vs keras" in table.stdout
    monkeypatch.setattr(twin, "_gate_blocks", real)


def test_bad_input_before_tensorflow_loads(cli, monkeypatch):
    def no_tensorflow():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", no_tensorflow)
    assert "--torch shows the PyTorch twin's tensors; it does not combine with --steps" in (
        cli.usage_error("run", "hi", "--torch", "--steps")
    )
    assert "does not combine with --diagram" in cli.usage_error("run", "hi", "--torch", "--diagram")
    monkeypatch.setattr(twin, "available", lambda: False)
    line = cli.usage_error("run", "hi", "--torch")
    assert line == (
        "rnnprobe: error: --torch needs PyTorch, which is not installed: "
        'pip install "rnnprobe[torch]"'
    )


def test_the_printed_pytorch_script_prints_the_same_numbers(cli):
    cases = [
        ["run", *PADDED, "--cell", "gru", "--bidirectional", "--seed", "6"],
        ["run", *PADDED, "--cell", "lstm", "-H", "3,2", "--seed", "6"],
        ["run", "good", "so good", "--embed", "3", "--head", "2", "--seed", "6"],
    ]
    scripts, wanted = [], []
    for args in cases:
        script = cli.ok(*args, "--torch", "--code").stdout
        assert "import torch" in script and "tensorflow" not in script
        obj = cli.json(*args, "--torch")["torch"]
        names = ["output", *(["logits"] if "logits" in obj else [])]
        scripts.append((script, names))
        wanted.append({n: obj[n]["values"] for n in names})
    for got, expected in zip(run_scripts(scripts), wanted, strict=True):
        for name, values in expected.items():
            np.testing.assert_array_equal(np.float32(got[name]), np.float32(values), name)


def test_the_api_puts_the_twin_on_the_result_and_converts_a_users_layer(cli):
    import rnnprobe

    result = rnnprobe.run(PADDED, cell="lstm", torch=True, seed=8)
    assert result.to_dict() == cli.json("run", *PADDED, "--cell", "lstm", "--torch",
                                         "--seed", "8")  # fmt: skip
    assert result.torch["module"] == "rnn = nn.LSTM(5, 2, batch_first=True)"
    assert result.torch["h_n"].shape == (1, 3, 2) and result.torch["ok"]
    assert set(result.torch["state_dict"]) == {"rnn.weight_ih_l0", "rnn.weight_hh_l0",
                                               "rnn.bias_ih_l0", "rnn.bias_hh_l0"}  # fmt: skip
    keras = env.load_keras()
    layers = keras.layers
    x = rnnprobe.vocab(LECTURE_WORDS).x_data
    for layer in (
        layers.GRU(3, return_sequences=True),
        layers.LSTM(3, return_sequences=True),
        layers.Bidirectional(layers.SimpleRNN(2, return_sequences=True)),
        layers.RNN([layers.GRUCell(3), layers.GRUCell(2)], return_sequences=True),
        layers.Bidirectional(layers.LSTM(2, return_sequences=True), merge_mode="sum"),
    ):
        wanted = np.asarray(layer(x))
        module = rnnprobe.to_torch(layer)
        assert module.batch_first if hasattr(module, "batch_first") else True
        with torch.no_grad():
            got = module(torch.from_numpy(x))[0].numpy()
        np.testing.assert_allclose(got, wanted, atol=1e-5, err_msg=type(layer).__name__)
    with pytest.raises(ValueError, match="takes a built layer"):
        rnnprobe.to_torch(layers.GRU(2))


def test_only_the_twin_module_imports_torch():
    for path in sorted((ROOT / "rnnprobe").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        uses = any(name == "torch" or name.startswith("torch.") for name in names)
        assert uses == (path.name == "twin.py"), path


def test_a_batch_line_takes_torch(cli, tmp_path):
    (tmp_path / "probes.txt").write_text("hello hi --cell lstm --torch --seed 3\n", "utf-8")
    batched = cli.ok("batch", str(tmp_path / "probes.txt")).stdout
    assert batched == cli.ok("run", "hello", "hi", "--cell", "lstm", "--torch", "--seed", "3",
                             "--json").stdout  # fmt: skip
