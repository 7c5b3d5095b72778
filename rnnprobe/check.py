"""rnnprobe's own numpy implementation of the recurrent layers, for `run --check`.

It reads only `x_data`, the word lengths and the weights, never the Keras call path,
and follows the equations in the Keras documentation:
  simple: h_t = tanh(x_t W + h_(t-1) U + b)
  LSTM:   gates i, f, c, o side by side; c_t = f c_(t-1) + i tanh(g), h_t = o tanh(c_t)
  GRU:    gates z, r, h; with a (2, 3n) bias the reset gate acts after the recurrent
          matmul (reset_after=True, Keras's default), with a (3n,) bias before it.
A masked (padded) step keeps the state; its output repeats the previous output, or is
zero inside `Bidirectional` when it returns sequences (Keras's zero_output_for_mask).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnprobe.result import WEIGHT_NAMES, CheckResult, ProbeResult, ProbeSpec

TOLERANCE = 1e-5


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def _step(
    cell: str, x: np.ndarray, state: list[np.ndarray], w: Mapping[str, np.ndarray]
) -> list[np.ndarray]:
    """One time step: the new states, h first."""
    kernel, recurrent, bias = w["kernel"], w["recurrent_kernel"], w["bias"]
    h = state[0]
    if cell == "simple":
        return [np.tanh(x @ kernel + h @ recurrent + bias)]
    if cell == "lstm":
        i, f, g, o = np.split(x @ kernel + h @ recurrent + bias, 4, axis=-1)
        c = _sigmoid(f) * state[1] + _sigmoid(i) * np.tanh(g)
        return [_sigmoid(o) * np.tanh(c), c]
    units = recurrent.shape[0]
    if bias.ndim == 2:  # reset_after=True: rows are the input and the recurrent bias
        x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
        h_z, h_r, h_h = np.split(h @ recurrent + bias[1], 3, axis=-1)
        z, r = _sigmoid(x_z + h_z), _sigmoid(x_r + h_r)
        candidate = np.tanh(x_h + r * h_h)
    else:  # reset_after=False: the reset gate scales h before the recurrent matmul
        x_z, x_r, x_h = np.split(x @ kernel + bias, 3, axis=-1)
        h_z, h_r = np.split(h @ recurrent[:, : 2 * units], 2, axis=-1)
        z, r = _sigmoid(x_z + h_z), _sigmoid(x_r + h_r)
        candidate = np.tanh(x_h + (r * h) @ recurrent[:, 2 * units :])
    return [z * h + (1.0 - z) * candidate]


def _direction(
    cell: str,
    x: np.ndarray,
    mask: np.ndarray,
    w: Mapping[str, np.ndarray],
    *,
    reverse: bool,
    zero_masked: bool,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Outputs (batch, time, units) in the original time order, and the final states."""
    batch, time, _ = x.shape
    units = w["recurrent_kernel"].shape[0]
    state = [np.zeros((batch, units)) for _ in range(2 if cell == "lstm" else 1)]
    previous = np.zeros((batch, units))
    outputs = np.zeros((batch, time, units))
    for t in reversed(range(time)) if reverse else range(time):
        new_state = _step(cell, x[:, t], state, w)
        real = mask[:, t][:, None]
        state = [np.where(real, n, s) for n, s in zip(new_state, state, strict=True)]
        outputs[:, t] = np.where(real, new_state[0], 0.0 if zero_masked else previous)
        previous = np.where(real, new_state[0], previous)
    return outputs, state


def _merge(mode: str, forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    return (forward + backward) / 2.0


def recompute(
    spec: ProbeSpec,
    x_data: np.ndarray,
    lengths: np.ndarray,
    weights: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """`outputs` and every state, by name, from x_data, the lengths and the named weights."""
    x = np.asarray(x_data, dtype=np.float64)
    mask = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
    w64 = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    finals: list[np.ndarray] = []
    flow, last = x, x[:, -1]
    for layer in spec.layers(x.shape[2]):
        # Bidirectional zeroes a masked step's output whenever the layer returns sequences.
        zero_masked = layer.bidirectional and layer.return_sequences
        runs = [
            _direction(
                spec.cell.value,
                flow,
                mask,
                {k: w64[layer.prefix(d) + k] for k in WEIGHT_NAMES},
                reverse=d == "backward",
                zero_masked=zero_masked,
            )
            for d in layer.directions
        ]
        for _, found in runs:
            finals.extend(found)
        if layer.bidirectional:
            flow = _merge(spec.merge_mode.value, runs[0][0], runs[1][0])
            last = _merge(spec.merge_mode.value, runs[0][1][0], runs[1][1][0])
        else:
            flow, last = runs[0][0], runs[0][1][0]
    computed = {"outputs": flow if spec.return_sequences else last}
    if spec.return_state:
        computed.update(zip(spec.state_names, finals, strict=True))
    return computed


def verify(result: ProbeResult) -> CheckResult:
    """Re-compute the result's outputs and states with numpy and compare with Keras."""
    computed = recompute(
        result.spec,
        result.batch.x_data.array,
        np.asarray(result.batch.lengths),
        {w.name: w.array for w in result.weights},
    )
    reported = {"outputs": result.outputs.array, **{s.name: s.array for s in result.states}}
    diff = max(float(np.max(np.abs(reported[k] - computed[k]), initial=0.0)) for k in reported)
    return CheckResult(max_abs_diff=diff, ok=diff < TOLERANCE)
