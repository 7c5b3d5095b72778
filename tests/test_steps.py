"""`run --steps`: every quantity of every step against a trace written here, word by word.

The reference below walks each word on its own, one character at a time, with each gate's
weights sliced out by hand: it shares no code with rnnprobe's vectorised engine.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from .conftest import LECTURE_WORDS

PADDED = ["hello", "hi", "o", "elo"]
NAMES = {
    "simple": ["xW", "hU", "a", "h"],
    "lstm": ["i", "f", "g", "o", "c", "h"],
    "gru": ["z", "r", "g", "h"],
}


def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def one_step(cell, x, h, c, kernel, recurrent, bias):
    """The quantities of one step of one word, and the new h and c."""
    if cell == "simple":
        xw, hu = x @ kernel, h @ recurrent
        a = xw + hu + bias
        h = np.tanh(a)
        return {"xW": xw, "hU": hu, "a": a, "h": h}, h, c
    n = recurrent.shape[0]

    def gate(k, b=bias):
        return x @ kernel[:, k * n : (k + 1) * n], h @ recurrent[:, k * n : (k + 1) * n], b

    if cell == "lstm":
        pre = []
        for k in range(4):
            xw, hu, b = gate(k)
            pre.append(xw + hu + b[k * n : (k + 1) * n])
        i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), np.tanh(pre[2]), sigmoid(pre[3])
        c = f * c + i * g
        h = o * np.tanh(c)
        return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": h}, h, c
    b_in, b_rec = bias[0], bias[1]  # reset_after=True: input and recurrent bias rows
    parts = []
    for k in range(3):
        xw, hu, _ = gate(k)
        parts.append((xw + b_in[k * n : (k + 1) * n], hu + b_rec[k * n : (k + 1) * n]))
    z = sigmoid(parts[0][0] + parts[0][1])
    r = sigmoid(parts[1][0] + parts[1][1])
    g = np.tanh(parts[2][0] + r * parts[2][1])
    h = z * h + (1 - z) * g
    return {"z": z, "r": r, "g": g, "h": h}, h, c


def reference(obj, starts=None):
    """Per layer and direction (Keras order): name -> (batch, time, units), NaN discarded.

    `starts`: each state's initial value by its name (`h`, `1/forward_c`...), per word;
    zeros without."""
    cell = obj["cell"]
    hidden = obj["hidden"] if isinstance(obj["hidden"], list) else [obj["hidden"]]
    weights = {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in obj["weights"]}
    x = np.asarray(obj["x_data"]["values"], dtype=np.float64)
    lengths = obj["lengths"]
    batch, time, _ = x.shape
    directions = ["forward", "backward"] if obj["bidirectional"] else [""]
    found = []
    layer_input = x
    for number, units in enumerate(hidden, start=1):
        outs = []
        for direction in directions:
            prefix = "".join(
                f"{p}/" for p in (str(number) if len(hidden) > 1 else "", direction) if p
            )
            kernel, recurrent, bias = (
                weights[prefix + k] for k in ("kernel", "recurrent_kernel", "bias")
            )
            values = {name: np.full((batch, time, units), np.nan) for name in NAMES[cell]}
            out = np.zeros((batch, time, units))
            state = "".join(
                f"{p}" for p in (f"{number}/" if len(hidden) > 1 else "",
                                 f"{direction}_" if direction else "")
            )  # fmt: skip
            for b, length in enumerate(lengths):
                h, c = np.zeros(units), np.zeros(units)
                if starts is not None:
                    h = np.asarray(starts[state + "h"][b], dtype=np.float64)
                    if cell == "lstm":
                        c = np.asarray(starts[state + "c"][b], dtype=np.float64)
                order = range(length - 1, -1, -1) if direction == "backward" else range(length)
                for t in order:
                    step, h, c = one_step(cell, layer_input[b, t], h, c, kernel, recurrent, bias)
                    for name, value in step.items():
                        values[name][b, t] = value
                    out[b, t] = h
                for t in range(length, time):  # padded: the state carried into (or out of) it
                    carried = direction != "backward"
                    values["h"][b, t] = h if carried else 0.0
                    if cell == "lstm":
                        values["c"][b, t] = c if carried else 0.0
            found.append(values)
            outs.append(out)
        if len(outs) == 2:
            mode = obj["merge_mode"]
            merged = {
                "concat": lambda a, b: np.concatenate([a, b], axis=-1),
                "sum": lambda a, b: a + b,
                "mul": lambda a, b: a * b,
                "ave": lambda a, b: (a + b) / 2,
            }[mode]
            layer_input = merged(*outs)
        else:
            layer_input = outs[0]
    return found


def assert_steps_match(obj):
    expected = reference(obj)
    assert len(obj["steps"]) == len(expected)
    for entry, wanted in zip(obj["steps"], expected, strict=True):
        assert [t["name"] for t in entry["tensors"]] == list(wanted)
        for tensor in entry["tensors"]:
            got = np.array(
                [
                    [[np.nan if v is None else v for v in row] for row in word]
                    for word in tensor["values"]
                ]
            )
            want = wanted[tensor["name"]]
            assert tensor["shape"] == list(want.shape)
            assert tensor["dims"] == ["batch", "time", "hidden"]
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=tensor["name"])
            np.testing.assert_allclose(got, want, atol=2e-6, err_msg=tensor["name"])


@pytest.mark.parametrize("style", ["layer", "cell"])
@pytest.mark.parametrize("cell", ["simple", "lstm", "gru"])
def test_every_quantity_matches_a_trace_written_here(cli, cell, style):
    obj = cli.json("run", *PADDED, "--cell", cell, "--style", style, "-H", "3", "--seed", "4",
                   "--steps", "--weights")  # fmt: skip
    assert [(e["layer"], e["direction"]) for e in obj["steps"]] == [(1, None)]
    assert_steps_match(obj)


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_steps_are_in_word_order(cli, mode):
    obj = cli.json("run", *PADDED, "--cell", "gru", "--bidirectional", "--merge-mode", mode,
                   "--seed", "5", "--steps", "--weights")  # fmt: skip
    assert [(e["layer"], e["direction"]) for e in obj["steps"]] == [(1, "forward"), (1, "backward")]
    assert_steps_match(obj)
    backward_h = obj["steps"][1]["tensors"][-1]["values"]
    state = {s["name"]: s["values"] for s in obj["states"]}["backward_h"]
    # it ends at the first character: its h there is the state Keras returned
    np.testing.assert_allclose([word[0] for word in backward_h], state, atol=1e-6)


@pytest.mark.parametrize("style", ["layer", "cell"])
def test_a_bidirectional_stack_reads_the_merged_outputs_below(cli, style):
    obj = cli.json("run", *PADDED, "--cell", "lstm", "-H", "3,2", "--bidirectional",
                   "--style", style, "--no-return-sequences", "--seed", "6", "--steps",
                   "--weights")  # fmt: skip
    order = [(e["layer"], e["direction"]) for e in obj["steps"]]
    assert order == [(1, "forward"), (1, "backward"), (2, "forward"), (2, "backward")]
    assert_steps_match(obj)


def test_a_stack_and_no_returned_state(cli):
    obj = cli.json("run", *PADDED, "-H", "4,2", "--no-return-state", "--seed", "7", "--steps",
                   "--weights")  # fmt: skip
    assert [e["layer"] for e in obj["steps"]] == [1, 2]
    assert_steps_match(obj)


def test_the_json_entry_keys_and_the_equations(cli):
    obj = cli.json("run", *LECTURE_WORDS, "--seed", "1", "--steps")
    assert list(obj)[-1] == "steps"
    entry = obj["steps"][0]
    assert list(entry) == ["layer", "direction", "equations", "tensors"]
    assert entry["equations"][0] == "h_t = tanh(x_t·W + h_(t-1)·U + b)"
    assert [t["name"] for t in entry["tensors"]] == ["xW", "hU", "a", "h"]
    assert list(entry["tensors"][0]) == ["name", "shape", "dims", "values"]
    assert "steps" not in cli.json("run", *LECTURE_WORDS, "--seed", "1")
    h = np.asarray(entry["tensors"][3]["values"])
    np.testing.assert_allclose(h, np.asarray(obj["outputs"]["values"]), atol=1e-6)  # = outputs


def test_a_padded_step_is_null_except_the_carried_state(cli):
    obj = cli.json("run", "hello", "hi", "--cell", "lstm", "--seed", "2", "--steps")
    tensors = {t["name"]: t["values"] for t in obj["steps"][0]["tensors"]}
    for name in ("i", "f", "g", "o"):
        assert tensors[name][1][2:] == [[None, None]] * 3
        assert None not in tensors[name][1][1]
    for name in ("c", "h"):
        assert tensors[name][1][2:] == [tensors[name][1][1]] * 3


def test_tables_show_the_equations_the_steps_and_one_step_worked_out(cli):
    out = cli.ok("run", "hello", "hi", "--cell", "lstm", "--seed", "2", "--steps",
                 env={"COLUMNS": "200"}).stdout  # fmt: skip
    obj = cli.json("run", "hello", "hi", "--cell", "lstm", "--seed", "2", "--steps")
    assert "layer 1: LSTMCell(2), reading x_data" in out
    for line in ("i, f, o = sigmoid(x_t·W_[i,f,o] + h_(t-1)·U_[i,f,o] + b_[i,f,o])",
                 "g = tanh(x_t·W_c + h_(t-1)·U_c + b_c)", "c_t = f*c_(t-1) + i*g",
                 "h_t = o*tanh(c_t)"):  # fmt: skip
        assert f"  {line}\n" in out
    assert re.search(r"t ┃ char ┃ +i 0 ┃ +i 1 ┃ +f 0 .* ┃ +h 1 $", out, flags=re.M)
    assert re.search(r"^ 2 │ pad +│ +- │ +- │ +- │", out, flags=re.M)  # discarded: dashes
    assert "word 1 at t=4 (o), worked out:" in out
    c = obj["steps"][0]["tensors"][4]["values"][0]
    h = obj["steps"][0]["tensors"][5]["values"][0]
    worked_c = f"= [{c[4][0]:.4f} {c[4][1]:.4f}]\n"
    assert "c_t = f*c_(t-1) + i*g = " in out and worked_c in out
    assert "h_t = o*tanh(c_t) = " in out
    assert out.count(f"= [{h[4][0]:.4f} {h[4][1]:.4f}]\n") == 1
    assert "✓ steps: numpy trace vs Keras outputs and states" in out


def _worked(out: str) -> list[str]:
    lines = out.split("worked out:\n", 1)[1].splitlines()
    return lines[: lines.index("")]


def test_at_picks_the_worked_step_and_its_numbers_are_the_traced_ones(cli):
    args = ["run", "hello", "--seed", "3", "--steps", "--at", "1"]
    out = cli.ok(*args, env={"COLUMNS": "200"}).stdout
    obj = cli.json(*args)
    assert "word 1 at t=1 (e), worked out:" in out
    tensors = {t["name"]: np.asarray(t["values"]) for t in obj["steps"][0]["tensors"]}
    kernel, recurrent, bias = (
        np.asarray(w["values"]) for w in cli.json(*args, "--weights")["weights"]
    )
    h0 = tensors["h"][0, 0]
    first, second = _worked(out)
    fmt = lambda v: "[" + " ".join(f"{x:.4f}" for x in v) + "]"  # noqa: E731
    assert first == (
        f"a = x_t·W {fmt(kernel[1])} + h_(t-1)·U {fmt(h0 @ recurrent)} + b {fmt(bias)} "
        f"= {fmt(tensors['a'][0, 1])}"
    )
    assert second == f"h_t = tanh(a) = {fmt(tensors['h'][0, 1])}"


def test_a_backward_worked_step_reads_the_step_after(cli):
    out = cli.ok("run", "hello", "--bidirectional", "--cell", "gru", "--seed", "3", "--steps",
                 "--at", "2", env={"COLUMNS": "300"}).stdout  # fmt: skip
    assert "layer 1, backward: GRUCell(2), reading x_data" in out
    assert "  z, r = sigmoid(x_t·W_[z,r] + b_[z,r] + h_(t+1)·U_[z,r] + b'_[z,r])" in out
    backward = out.split("layer 1, backward")[1]
    assert "h_t = z*h_(t+1) + (1-z)*g = " in _worked(backward)[-1]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--steps", "--code"], "--code prints a script; it does not combine with --steps"),
        (["--at", "2"], "--at needs --steps"),
        (["--steps", "--at", "5"], "--at 5: word 1 'hello' has steps 0 to 4"),
        (["--steps", "--at", "-1"], "--at -1: word 1 'hello' has steps 0 to 4"),
    ],
)
def test_bad_step_options_are_usage_errors(cli, args, needle):
    assert needle in cli.usage_error("run", "hello", "hi", *args)


def test_steps_that_disagree_with_keras_exit_1_with_one_line(cli, monkeypatch):
    from dataclasses import replace

    from rnnprobe.core.keras import probe
    from rnnprobe.core.result import Tensor

    real = probe.run_probe

    def drifted(*args, **kwargs):
        result = real(*args, **kwargs)
        kernel = result.weights[0]
        moved = Tensor(kernel.name, kernel.dims, kernel.array + 0.01)
        return replace(result, weights=(moved, *result.weights[1:]))

    monkeypatch.setattr(probe, "run_probe", drifted)
    for extra in ([], ["--json"]):
        result = cli("run", "hello", "--seed", "1", "--steps", *extra)
        assert result.exit_code == 1
        assert result.stdout == ""
        assert result.stderr.startswith("rnnprobe: error: the step-by-step numpy trace differs")
        assert result.stderr.count("\n") == 1


def test_steps_with_shapes_gives_shapes_only(cli):
    obj = cli.json("run", "hello", "hi", "--cell", "gru", "--steps", "--shapes", "--seed", "1")
    assert "values" not in json.dumps(obj["steps"])
    assert [t["shape"] for t in obj["steps"][0]["tensors"]] == [[2, 5, 2]] * 4
    out = cli.ok("run", "hello", "hi", "--cell", "gru", "--steps", "--shapes", "--seed", "1").stdout
    assert re.search(r"1 +│ - +│ z r g h +│ \(2, 5, 2\) │ batch x time x hidden", out)
    assert not re.search(r"-?\d\.\d{4}", out)


def test_a_batch_line_takes_steps(cli):
    line = "hello hi --cell lstm --seed 2 --steps --at 1"
    batch = cli("batch", "-", input=line + "\n")
    assert batch.exit_code == 0
    assert batch.stdout == cli.ok("run", *line.split(), "--json").stdout
