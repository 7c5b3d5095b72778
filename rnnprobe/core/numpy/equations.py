"""rnnprobe's own numpy equations of the cells: one step of each, written out as text, and
additive attention. `engine.py` runs them through the stages (`--check`, `--steps`).

It reads only `x_data`, the word lengths and the weights, never the Keras call path, and
follows the equations in the Keras documentation:
  simple: h_t = tanh(x_t W + h_(t-1) U + b)
  LSTM:   gate blocks i, f, c, o side by side; c_t = f c_(t-1) + i g, h_t = o tanh(c_t)
  GRU:    gate blocks z, r, h; with a (2, 3n) bias the reset gate acts after the recurrent
          matmul (reset_after=True, Keras's default), with a (3n,) bias before it.
A masked (padded) step keeps the state; its output repeats the previous output, or is
zero inside `Bidirectional` when it returns sequences (Keras's zero_output_for_mask).

Every step's input product x_t W is one matrix product for all steps at once; only the
recurrent product h_(t-1) U needs a loop over time, vectorised over the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnprobe.core.kinds import Cell

# The quantities `--steps` reports per cell, in order; h and c are states.
QUANTITIES = {
    Cell.simple: ("xW", "hU", "a", "h"),
    Cell.lstm: ("i", "f", "g", "o", "c", "h"),
    Cell.gru: ("z", "r", "g", "h"),
}
STATES = ("h", "c")


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def equation_lines(cell: Cell, *, backward: bool = False) -> tuple[str, ...]:
    """The cell's equations in plain text; a backward direction reads the step after."""
    prev = "(t+1)" if backward else "(t-1)"
    h, c = f"h_{prev}", f"c_{prev}"
    if cell is Cell.simple:
        return (
            f"h_t = tanh(x_t·W + {h}·U + b)",
            f"columns: xW = x_t·W, hU = {h}·U, a = xW + hU + b, h = tanh(a)",
        )
    if cell is Cell.lstm:
        return (
            f"i, f, o = sigmoid(x_t·W_[i,f,o] + {h}·U_[i,f,o] + b_[i,f,o])",
            f"g = tanh(x_t·W_c + {h}·U_c + b_c)",
            f"c_t = f*{c} + i*g",
            "h_t = o*tanh(c_t)",
        )
    return (
        f"z, r = sigmoid(x_t·W_[z,r] + b_[z,r] + {h}·U_[z,r] + b'_[z,r])",
        f"g = tanh(x_t·W_h + b_h + r*({h}·U_h + b'_h))",
        f"h_t = z*{h} + (1-z)*g",
        "b: the input bias row, b': the recurrent bias row (Keras's reset_after=True)",
    )


def split_bias(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(input bias, recurrent bias): GRU's (2, 3n) bias has both rows, others only one."""
    if bias.ndim == 2:
        return bias[0], bias[1]
    return bias, np.zeros_like(bias)


@dataclass(frozen=True)
class CellWeights:
    """One direction's weights, split as the equations use them."""

    cell: Cell
    kernel: np.ndarray
    recurrent: np.ndarray
    x_bias: np.ndarray
    h_bias: np.ndarray
    reset_before: bool  # GRU with a (3n,) bias: the reset gate acts before the matmul

    @classmethod
    def of(cls, cell: Cell, weights: Mapping[str, np.ndarray]) -> CellWeights:
        x_bias, h_bias = split_bias(weights["bias"])
        return cls(
            cell=cell,
            kernel=weights["kernel"],
            recurrent=weights["recurrent_kernel"],
            x_bias=x_bias,
            h_bias=h_bias,
            reset_before=cell is Cell.gru and weights["bias"].ndim == 1,
        )


def cell_step(
    w: CellWeights, x_product: np.ndarray, h: np.ndarray, c: np.ndarray, *, keep: bool = False
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """One step of the cell: (h_t, c_t, the step's quantities when `keep`).

    `x_product` is x_t·W for every word of the batch (the input bias is added here).
    """
    n = w.recurrent.shape[0]
    step: dict[str, np.ndarray] = {}
    if w.cell is Cell.simple:
        h_u = h @ w.recurrent
        a = x_product + h_u + w.x_bias
        if keep:
            step = {"xW": x_product, "hU": h_u, "a": a}
        return np.tanh(a), c, step
    xt = x_product + w.x_bias
    if w.cell is Cell.lstm:
        pre = xt + h @ w.recurrent
        gates = _sigmoid(pre)  # i, f and o; the c block goes through tanh instead
        i, f, o = gates[:, :n], gates[:, n : 2 * n], gates[:, 3 * n :]
        g = np.tanh(pre[:, 2 * n : 3 * n])
        new_c = f * c + i * g
        if keep:
            step = {"i": i, "f": f, "g": g, "o": o}
        return o * np.tanh(new_c), new_c, step
    if w.reset_before:  # the reset gate scales h before the recurrent matmul
        zr = _sigmoid(xt[:, : 2 * n] + h @ w.recurrent[:, : 2 * n])
        z, r = zr[:, :n], zr[:, n:]
        g = np.tanh(xt[:, 2 * n :] + (r * h) @ w.recurrent[:, 2 * n :])
    else:
        h_part = h @ w.recurrent + w.h_bias
        zr = _sigmoid(xt[:, : 2 * n] + h_part[:, : 2 * n])
        z, r = zr[:, :n], zr[:, n:]
        g = np.tanh(xt[:, 2 * n :] + r * h_part[:, 2 * n :])
    if keep:
        step = {"z": z, "r": r, "g": g}
    return z * h + (1.0 - z) * g, c, step


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """A value head's activation: linear (as is), tanh or sigmoid."""
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return _sigmoid(z)
    return z


def activation_slope(name: str, out: np.ndarray) -> np.ndarray:
    """The activation's derivative, from its output: 1, 1 - out^2, out (1 - out)."""
    if name == "tanh":
        return 1.0 - out**2
    if name == "sigmoid":
        return out * (1.0 - out)
    return np.ones_like(out)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis (the classes), shifted by the maximum for safety."""
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def attention_scores(
    weights: Mapping[str, np.ndarray],
    enc_outputs: np.ndarray,
    h: np.ndarray,
    source_mask: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Additive attention for one decoder step: (weights (batch, source), context).

    score = V·tanh(W1·enc_outputs + W2·h_(t-1)); padded source steps get no weight at all.
    """
    keys = enc_outputs @ weights["attention/W1/kernel"] + weights["attention/W1/bias"]
    query = h @ weights["attention/W2/kernel"] + weights["attention/W2/bias"]
    score = np.tanh(keys + query[:, None, :]) @ weights["attention/V/kernel"]
    score = score[..., 0] + weights["attention/V/bias"][0]
    score = np.where(source_mask, score, -np.inf)
    shifted = np.exp(score - np.max(score, axis=1, keepdims=True))
    attention = shifted / np.sum(shifted, axis=1, keepdims=True)
    return attention, np.einsum("bs,bsu->bu", attention, enc_outputs)
