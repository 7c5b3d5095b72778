"""Each cell's step for backpropagation through time in numpy: forward, keeping what its
backward needs (its cache), and back, from the equations of `equations.py`: the gradients of
the step's input product, of the state it read (h, and c for an LSTM), and of its recurrent
kernel (and a GRU's recurrent bias). `backprop.py` runs them over the steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from rnnprobe.core.kinds import Cell
from rnnprobe.core.numpy.equations import split_bias

Step = Callable[..., Any]


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


Grads = dict[str, np.ndarray]


def _simple(w: Grads, product: np.ndarray, h: np.ndarray, c: np.ndarray) -> Any:
    new_h = np.tanh(product + w["bias"] + h @ w["recurrent_kernel"])
    return new_h, c, (h, new_h)


def _simple_back(w: Grads, cache: Any, dh: np.ndarray, dc: np.ndarray, grads: Grads) -> Any:
    h, new_h = cache
    da = dh * (1.0 - new_h**2)
    grads["recurrent_kernel"] += h.T @ da
    return da, da @ w["recurrent_kernel"].T, np.zeros_like(dc)


def _lstm(w: Grads, product: np.ndarray, h: np.ndarray, c: np.ndarray) -> Any:
    n = h.shape[1]
    z = product + w["bias"] + h @ w["recurrent_kernel"]
    i, f, o = _sigmoid(z[:, :n]), _sigmoid(z[:, n : 2 * n]), _sigmoid(z[:, 3 * n :])
    g = np.tanh(z[:, 2 * n : 3 * n])
    new_c = f * c + i * g
    tanh_c = np.tanh(new_c)
    return o * tanh_c, new_c, (h, c, i, f, g, o, tanh_c)


def _lstm_back(w: Grads, cache: Any, dh: np.ndarray, dc: np.ndarray, grads: Grads) -> Any:
    h, c, i, f, g, o, tanh_c = cache
    d_o = dh * tanh_c
    d_c = dc + dh * o * (1.0 - tanh_c**2)
    dz = np.concatenate(
        [d_c * g * i * (1 - i), d_c * c * f * (1 - f), d_c * i * (1 - g**2), d_o * o * (1 - o)],
        axis=1,
    )
    grads["recurrent_kernel"] += h.T @ dz
    return dz, dz @ w["recurrent_kernel"].T, d_c * f


def _gru(w: Grads, product: np.ndarray, h: np.ndarray, c: np.ndarray) -> Any:
    """Keras's GRU with reset_after=True: a (2, 3n) bias, r applied after the matmul."""
    n = h.shape[1]
    x_bias, h_bias = split_bias(w["bias"])
    mx = product + x_bias
    inner = h @ w["recurrent_kernel"] + h_bias
    z = _sigmoid(mx[:, :n] + inner[:, :n])
    r = _sigmoid(mx[:, n : 2 * n] + inner[:, n : 2 * n])
    g = np.tanh(mx[:, 2 * n :] + r * inner[:, 2 * n :])
    return z * h + (1.0 - z) * g, c, (h, z, r, g, inner[:, 2 * n :])


def _gru_back(w: Grads, cache: Any, dh: np.ndarray, dc: np.ndarray, grads: Grads) -> Any:
    h, z, r, g, inner_h = cache
    dz = dh * (h - g) * z * (1 - z)
    dg = dh * (1.0 - z) * (1 - g**2)
    dr = dg * inner_h * r * (1 - r)
    d_inner = np.concatenate([dz, dr, dg * r], axis=1)
    grads["recurrent_kernel"] += h.T @ d_inner
    grads["bias"][1] += d_inner.sum(axis=0)
    d_h = dh * z + d_inner @ w["recurrent_kernel"].T
    return np.concatenate([dz, dr, dg], axis=1), d_h, np.zeros_like(dc)


def _gru_before(w: Grads, product: np.ndarray, h: np.ndarray, c: np.ndarray) -> Any:
    """A GRU with reset_after=False (a (3n,) bias): r scales h before the matmul."""
    n = h.shape[1]
    u = w["recurrent_kernel"]
    mx = product + w["bias"]
    zr = _sigmoid(mx[:, : 2 * n] + h @ u[:, : 2 * n])
    z, r = zr[:, :n], zr[:, n:]
    g = np.tanh(mx[:, 2 * n :] + (r * h) @ u[:, 2 * n :])
    return z * h + (1.0 - z) * g, c, (h, z, r, g)


def _gru_before_back(w: Grads, cache: Any, dh: np.ndarray, dc: np.ndarray, grads: Grads) -> Any:
    h, z, r, g = cache
    n = h.shape[1]
    u = w["recurrent_kernel"]
    dz = dh * (h - g) * z * (1 - z)
    dg = dh * (1.0 - z) * (1 - g**2)
    d_rh = dg @ u[:, 2 * n :].T
    dr = d_rh * h * r * (1 - r)
    d_zr = np.concatenate([dz, dr], axis=1)
    grads["recurrent_kernel"][:, 2 * n :] += (r * h).T @ dg
    grads["recurrent_kernel"][:, : 2 * n] += h.T @ d_zr
    d_h = dh * z + d_rh * r + d_zr @ u[:, : 2 * n].T
    return np.concatenate([dz, dr, dg], axis=1), d_h, np.zeros_like(dc)


# Each cell's step forward and back, by (cell, the bias's number of axes).
STEPS: dict[tuple[Cell, int], tuple[Step, Step]] = {
    (Cell.simple, 1): (_simple, _simple_back),
    (Cell.lstm, 1): (_lstm, _lstm_back),
    (Cell.gru, 2): (_gru, _gru_back),
    (Cell.gru, 1): (_gru_before, _gru_before_back),
}
