"""An independent numpy re-computation of Keras's recurrent layers, for the tests only.

It reads nothing but x_data, the lengths and the weights that rnnprobe reports, and
follows the equations in the Keras documentation:
  simple: h_t = tanh(x_t W + h_(t-1) U + b)
  LSTM:   gates i, f, c, o in that order; c_t = f c_(t-1) + i tanh(.), h_t = o tanh(c_t)
  GRU:    gates z, r, h; reset after the recurrent matmul, bias rows (input, recurrent)
A masked (padded) step keeps the state; its output repeats the previous output, or is
zero inside `Bidirectional` with return_sequences (Keras's zero_output_for_mask).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def step(cell: str, x: np.ndarray, state: list[np.ndarray], w: dict[str, np.ndarray]):
    kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w["bias"]
    h = state[0]
    if cell == "simple":
        new_h = np.tanh(x @ kernel + h @ recurrent + bias)
        return new_h, [new_h]
    if cell == "lstm":
        z = x @ kernel + h @ recurrent + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * state[1] + sigmoid(i) * np.tanh(g)
        new_h = sigmoid(o) * np.tanh(c)
        return new_h, [new_h, c]
    if cell == "gru":
        xz = x @ kernel + bias[0]
        hz = h @ recurrent + bias[1]
        x_z, x_r, x_h = np.split(xz, 3, axis=-1)
        h_z, h_r, h_h = np.split(hz, 3, axis=-1)
        z = sigmoid(x_z + h_z)
        r = sigmoid(x_r + h_r)
        candidate = np.tanh(x_h + r * h_h)
        new_h = z * h + (1.0 - z) * candidate
        return new_h, [new_h]
    raise ValueError(cell)


def run_direction(
    cell: str,
    x: np.ndarray,
    mask: np.ndarray,
    w: dict[str, np.ndarray],
    *,
    reverse: bool = False,
    zero_masked: bool = False,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs (batch, time, units) in the original time order, and the final states."""
    x = x.astype(np.float64)
    batch, time, _ = x.shape
    units = w["recurrent_kernel"].shape[0]
    state = [np.zeros((batch, units)) for _ in range(2 if cell == "lstm" else 1)]
    previous = np.zeros((batch, units))
    outputs = np.zeros((batch, time, units))
    for t in reversed(range(time)) if reverse else range(time):
        out, new_state = step(cell, x[:, t], state, w)
        real = mask[:, t][:, None]
        state = [np.where(real, n, s) for n, s in zip(new_state, state, strict=True)]
        outputs[:, t] = np.where(real, out, 0.0 if zero_masked else previous)
        previous = np.where(real, out, previous)
    return outputs, state


def merge(mode: str, forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    return {"sum": forward + backward, "mul": forward * backward, "ave": (forward + backward) / 2}[
        mode
    ]


def recompute(obj: dict[str, Any]) -> dict[str, np.ndarray]:
    """Outputs and every state, by name, from a `run --json --weights` object."""
    x = np.asarray(obj["x_data"]["values"], dtype=np.float64)
    lengths = np.asarray(obj["lengths"])
    mask = np.arange(x.shape[1])[None, :] < lengths[:, None]
    weights = {w["name"]: np.asarray(w["values"], dtype=np.float64) for w in obj["weights"]}
    hidden = obj["hidden"] if isinstance(obj["hidden"], list) else [obj["hidden"]]
    stacked = len(hidden) > 1
    cell, bidi = obj["cell"], obj["bidirectional"]
    state_names = ["h", "c"] if cell == "lstm" else ["h"]
    states: dict[str, np.ndarray] = {}
    flow = x
    for number in range(1, len(hidden) + 1):
        prefix = f"{number}/" if stacked else ""
        last = number == len(hidden)

        def w_of(direction: str, prefix: str = prefix) -> dict[str, np.ndarray]:
            head = prefix + (direction + "/" if direction else "")
            return {k: weights[head + k] for k in ("kernel", "recurrent_kernel", "bias")}

        if bidi:
            sequences = obj["return_sequences"] or not last
            fwd, fwd_states = run_direction(
                cell, flow, mask, w_of("forward"), zero_masked=sequences
            )
            bwd, bwd_states = run_direction(
                cell, flow, mask, w_of("backward"), reverse=True, zero_masked=sequences
            )
            flow = merge(obj["merge_mode"], fwd, bwd)
            last_out = merge(obj["merge_mode"], fwd_states[0], bwd_states[0])
            for direction, found in (("forward", fwd_states), ("backward", bwd_states)):
                for name, value in zip(state_names, found, strict=True):
                    states[f"{prefix}{direction}_{name}"] = value
        else:
            flow, found = run_direction(cell, flow, mask, w_of(""))
            last_out = found[0]
            for name, value in zip(state_names, found, strict=True):
                states[prefix + name] = value
    result = {"outputs": flow if obj["return_sequences"] else last_out}
    if obj["return_state"]:
        result.update(states)
    return result
