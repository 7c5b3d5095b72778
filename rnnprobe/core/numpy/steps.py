"""`run --steps`: every step of every layer and direction as named tensors, and one step of
word 1 written out with its numbers, from the numpy engine's trace."""

from __future__ import annotations

import numpy as np

from rnnprobe.core.kinds import Cell
from rnnprobe.core.numpy.engine import DirectionTrace, Trace
from rnnprobe.core.numpy.equations import equation_lines, split_bias
from rnnprobe.core.result import StepTrace, Tensor


def _previous(trace: DirectionTrace, name: str, row: int, t: int) -> np.ndarray:
    """The state `name` a step read: after the step before it in the direction's order."""
    values = trace.quantities[name][row]
    before = t + 1 if trace.direction == "backward" else t - 1
    if 0 <= before < values.shape[0]:
        return values[before]
    return np.asarray(trace.starts[name][row])  # the initial state: zeros, or given


def worked(trace: DirectionTrace, row: int, t: int) -> tuple[tuple[str | np.ndarray, ...], ...]:
    """Step t of word `row` written out: each line as text and the vectors it shows."""
    cell = trace.layer.cell
    w = trace.weights
    kernel, recurrent = w["kernel"], w["recurrent_kernel"]
    x_bias, h_bias = split_bias(w["bias"])
    units = recurrent.shape[0]
    prev = "(t+1)" if trace.direction == "backward" else "(t-1)"
    h_prev = _previous(trace, "h", row, t)
    x_w = trace.inputs[row, t] @ kernel
    h_u = h_prev @ recurrent
    out = trace.quantities
    if cell is Cell.simple:
        a = x_w + h_u + x_bias
        return (
            ("a = x_t·W ", x_w, f" + h_{prev}·U ", h_u, " + b ", x_bias, " = ", a),
            ("h_t = tanh(a) = ", np.tanh(a)),
        )

    def block(v: np.ndarray, k: int) -> np.ndarray:
        return v[k * units : (k + 1) * units]

    if cell is Cell.lstm:
        lines: list[tuple[str | np.ndarray, ...]] = []
        for k, (name, keras_block, act) in enumerate(
            (
                ("i", "i", "sigmoid"),
                ("f", "f", "sigmoid"),
                ("g", "c", "tanh"),
                ("o", "o", "sigmoid"),
            )
        ):
            xw, hu, b = block(x_w, k), block(h_u, k), block(x_bias, k)
            pre = xw + hu + b
            lines.append((
                f"{name} = {act}(x_t·W_{keras_block} ", xw, f" + h_{prev}·U_{keras_block} ", hu,
                f" + b_{keras_block} ", b, f") = {act}(", pre, ") = ", out[name][row, t],
            ))  # fmt: skip
        c_prev = _previous(trace, "c", row, t)
        i, f, g, o = (out[name][row, t] for name in ("i", "f", "g", "o"))
        c, h = out["c"][row, t], out["h"][row, t]
        lines.append((f"c_t = f*c_{prev} + i*g = ", f, "*", c_prev, " + ", i, "*", g, " = ", c))
        lines.append(("h_t = o*tanh(c_t) = ", o, "*tanh(", c, ") = ", h))
        return tuple(lines)
    z, r, g, h = (out[name][row, t] for name in ("z", "r", "g", "h"))
    gates = []
    for k, (name, value) in enumerate((("z", z), ("r", r))):
        xw, b, hu, rb = block(x_w, k), block(x_bias, k), block(h_u, k), block(h_bias, k)
        gates.append((
            f"{name} = sigmoid(x_t·W_{name} ", xw, f" + b_{name} ", b, f" + h_{prev}·U_{name} ",
            hu, f" + b'_{name} ", rb, ") = sigmoid(", xw + b + hu + rb, ") = ", value,
        ))  # fmt: skip
    xw, b = block(x_w, 2), block(x_bias, 2)
    if w["bias"].ndim == 1:  # reset before the recurrent matmul
        rh_u = (r * h_prev) @ recurrent[:, 2 * units :]
        candidate: tuple[str | np.ndarray, ...] = (
            "g = tanh(x_t·W_h ", xw, " + b_h ", b, f" + (r*h_{prev})·U_h ", rh_u,
            ") = tanh(", xw + b + rh_u, ") = ", g,
        )  # fmt: skip
    else:
        hu, rb = block(h_u, 2), block(h_bias, 2)
        candidate = (
            "g = tanh(x_t·W_h ", xw, " + b_h ", b, f" + r*(h_{prev}·U_h ", hu, " + b'_h ", rb,
            ")) = tanh(", xw + b + r * (hu + rb), ") = ", g,
        )  # fmt: skip
    state = (f"h_t = z*h_{prev} + (1-z)*g = ", z, "*", h_prev, " + (1-", z, ")*", g, " = ", h)
    return (*gates, candidate, state)


def step_traces(traced: Trace, at: int) -> tuple[StepTrace, ...]:
    """The result objects for `--steps`: named tensors and word 1's step `at` worked out."""
    found = []
    for one in traced.traces:
        tensors = tuple(
            Tensor(name, ("batch", "time", "hidden"), values.astype(np.float32))
            for name, values in one.quantities.items()
        )
        found.append(
            StepTrace(
                layer=one.layer.number,
                direction=one.direction or None,
                equations=equation_lines(one.layer.cell, backward=one.direction == "backward"),
                tensors=tensors,
                worked=worked(one, 0, at),
            )
        )
    return tuple(found)
