"""rnnprobe's own numpy implementation of the recurrent layers: the one engine behind
`run --check` and `run --steps`.

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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from rnnprobe.core.result import WEIGHT_NAMES, Cell, Layer, ProbeSpec, StepTrace, Tensor

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


@dataclass
class DirectionTrace:
    """One layer and direction, step by step, in word order (index t is character t)."""

    layer: Layer
    direction: str
    weights: Mapping[str, np.ndarray]
    inputs: np.ndarray  # (batch, time, width): what this layer reads
    quantities: dict[str, np.ndarray] = field(default_factory=dict)  # (batch, time, units)
    outputs: np.ndarray = field(default_factory=lambda: np.zeros(0))  # what Keras returns, per step
    finals: list[np.ndarray] = field(default_factory=list)  # the final states, h first


@dataclass
class Trace:
    """Every layer and direction of a probe, and what Keras returns, recomputed."""

    traces: list[DirectionTrace]
    computed: dict[str, np.ndarray]  # "outputs" and each returned state, by name
    mask: np.ndarray


def _split_bias(bias: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
        x_bias, h_bias = _split_bias(weights["bias"])
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


def _direction(
    cell: Cell,
    trace: DirectionTrace,
    mask: np.ndarray,
    *,
    reverse: bool,
    zero_masked: bool,
    keep: bool,
    initial: Sequence[np.ndarray] | None = None,
) -> None:
    """Run one direction, filling `trace`; with `keep`, every step's quantities too.

    The loop over time is the recurrence itself; everything else is done for all steps
    at once, and a step where every word is real skips the masking. `initial` is the
    state to start from (h, and c for an LSTM); zeros without it.
    """
    w = CellWeights.of(cell, trace.weights)
    x = trace.inputs
    batch, time, _ = x.shape
    n = w.recurrent.shape[0]
    x_product = x @ w.kernel  # every step's input product at once
    all_real: list[bool] = np.all(mask, axis=0).tolist()
    names = QUANTITIES[cell] if keep else ()
    found = {name: np.zeros((batch, time, n)) for name in names}
    h = np.zeros((batch, n)) if initial is None else np.asarray(initial[0], dtype=np.float64)
    c = np.zeros((batch, n))
    if initial is not None and cell is Cell.lstm:
        c = np.asarray(initial[1], dtype=np.float64)
    previous = np.zeros((batch, n))  # Keras's output before the first step: zeros
    outputs = np.zeros((batch, time, n))
    for t in reversed(range(time)) if reverse else range(time):
        new_h, new_c, step = cell_step(w, x_product[:, t], h, c, keep=keep)
        if all_real[t]:
            h, c = new_h, new_c
            outputs[:, t] = new_h
            previous = new_h
        else:
            real = mask[:, t][:, None]
            h = np.where(real, new_h, h)
            c = np.where(real, new_c, c)
            outputs[:, t] = np.where(real, new_h, 0.0 if zero_masked else previous)
            previous = np.where(real, new_h, previous)
        if keep:
            step["h"], step["c"] = h, c
            for name in names:
                found[name][:, t] = step[name]
    for name in names:
        if name not in STATES:
            found[name][~mask] = np.nan  # a padded step discards what it computed
    trace.quantities = found
    trace.outputs = outputs
    trace.finals = [h, c] if cell is Cell.lstm else [h]


def _merge(mode: str, forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    if mode == "sum":
        return forward + backward
    if mode == "mul":
        return forward * backward
    return (forward + backward) / 2.0


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities over the last axis (the classes), shifted by the maximum for safety."""
    shifted = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def trace(
    spec: ProbeSpec,
    x_data: np.ndarray,
    lengths: np.ndarray,
    weights: Mapping[str, np.ndarray],
    *,
    keep_steps: bool = True,
    initial: Sequence[np.ndarray] | None = None,
) -> Trace:
    """Every layer and direction step by step, from the model's input, the lengths and the
    named weights: one-hot x_data, or token ids looked up in `embedding/embeddings`. A head
    (`head/kernel`, `head/bias`) turns the last layer's outputs into logits and softmax.

    Without `keep_steps` only what Keras returns is kept (what `--check` compares).
    `initial` is the first layer's initial state (a decoder's, handed over by an encoder).
    """
    w64 = {name: np.asarray(value, dtype=np.float64) for name, value in weights.items()}
    computed: dict[str, np.ndarray] = {}
    if spec.embed is not None:
        table = w64["embedding/embeddings"]
        x = computed["embedding"] = table[np.asarray(x_data, dtype=np.int64)]
        vocab_size = table.shape[0]
    else:
        x = np.asarray(x_data, dtype=np.float64)
        vocab_size = x.shape[2]
    mask = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]
    traces: list[DirectionTrace] = []
    finals: list[np.ndarray] = []
    flow, last = x, x[:, -1]
    for layer in spec.layers(vocab_size):
        # Bidirectional zeroes a masked step's output whenever the layer returns sequences.
        zero_masked = layer.bidirectional and layer.return_sequences
        runs = []
        for direction in layer.directions:
            one = DirectionTrace(
                layer=layer,
                direction=direction,
                weights={k: w64[layer.prefix(direction) + k] for k in WEIGHT_NAMES},
                inputs=flow,
            )
            _direction(
                spec.cell,
                one,
                mask,
                reverse=direction == "backward",
                zero_masked=zero_masked,
                keep=keep_steps,
                initial=initial if layer.first and not direction else None,
            )
            runs.append(one)
            finals.extend(one.finals)
        traces.extend(runs)
        outs = [run.outputs for run in runs]
        if layer.bidirectional:
            flow = _merge(spec.merge_mode.value, outs[0], outs[1])
            last = _merge(spec.merge_mode.value, runs[0].finals[0], runs[1].finals[0])
        else:
            flow, last = outs[0], runs[0].finals[0]
    computed["outputs"] = flow if spec.return_sequences else last
    if spec.return_state:
        computed.update(zip(spec.state_names, finals, strict=True))
    if spec.head is not None:  # Dense runs on every step it is given, padded ones too
        logits = computed["outputs"] @ w64["head/kernel"] + w64["head/bias"]
        computed["logits"], computed["probabilities"] = logits, softmax(logits)
    return Trace(traces=traces, computed=computed, mask=mask)


def recompute(
    spec: ProbeSpec,
    x_data: np.ndarray,
    lengths: np.ndarray,
    weights: Mapping[str, np.ndarray],
) -> dict[str, np.ndarray]:
    """`outputs` and every state by name (and `embedding`, `logits`, `probabilities` where
    the model has them), from its input, the lengths and the named weights."""
    return trace(spec, x_data, lengths, weights, keep_steps=False).computed


def _previous(trace: DirectionTrace, name: str, row: int, t: int) -> np.ndarray:
    """The state `name` a step read: after the step before it in the direction's order."""
    values = trace.quantities[name][row]
    before = t + 1 if trace.direction == "backward" else t - 1
    if 0 <= before < values.shape[0]:
        return values[before]
    return np.zeros(values.shape[-1])


def worked(trace: DirectionTrace, row: int, t: int) -> tuple[tuple[str | np.ndarray, ...], ...]:
    """Step t of word `row` written out: each line as text and the vectors it shows."""
    cell = trace.layer.cell
    w = trace.weights
    kernel, recurrent = w["kernel"], w["recurrent_kernel"]
    x_bias, h_bias = _split_bias(w["bias"])
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


def attention_decoder(
    cell: Cell,
    weights: Mapping[str, np.ndarray],
    embedding: np.ndarray,
    mask: np.ndarray,
    enc_outputs: np.ndarray,
    source_mask: np.ndarray,
    initial: Sequence[np.ndarray],
) -> dict[str, np.ndarray]:
    """A decoder that reads [embedding_t, context_t] at each step, from the handed-over state.

    `weights` holds the decoder cell's `kernel`, `recurrent_kernel`, `bias` and the
    attention's Dense layers (`attention/W1/kernel`...). Returns `outputs`, the final
    states (`h`, and `c` for an LSTM), `weights` (batch, time, source) and `context`.
    """
    w64 = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    w = CellWeights.of(cell, w64)
    enc = np.asarray(enc_outputs, dtype=np.float64)
    emb = np.asarray(embedding, dtype=np.float64)
    batch, time, _ = emb.shape
    n = w.recurrent.shape[0]
    h = np.asarray(initial[0], dtype=np.float64)
    c = np.asarray(initial[1], dtype=np.float64) if cell is Cell.lstm else np.zeros((batch, n))
    previous = np.zeros((batch, n))
    outputs = np.zeros((batch, time, n))
    attention = np.zeros((batch, time, enc.shape[1]))
    context = np.zeros((batch, time, n))
    for t in range(time):
        attention[:, t], context[:, t] = attention_scores(w64, enc, h, source_mask)
        x_t = np.concatenate([emb[:, t], context[:, t]], axis=-1)
        new_h, new_c, _ = cell_step(w, x_t @ w.kernel, h, c)
        real = mask[:, t][:, None]
        h, c = np.where(real, new_h, h), np.where(real, new_c, c)
        outputs[:, t] = previous = np.where(real, new_h, previous)
    found = {"outputs": outputs, "h": h, "weights": attention, "context": context}
    if cell is Cell.lstm:
        found["c"] = c
    return found
