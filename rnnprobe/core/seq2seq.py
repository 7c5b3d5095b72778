"""`rnnprobe seq2seq`: an encoder and a decoder joined by the state handed over.

Both halves are probes' model descriptions (`Seq2SeqSpec.encoder`, `.decoder`), built by
`probe.build` like any other; this module adds only what joins them: the encoder's final
state passed as the decoder's `initial_state`, and, with attention, a context of the
encoder's outputs read at every decoder step. It imports TensorFlow through `probe`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rnnprobe.core import equations, probe
from rnnprobe.core.encdec import Seq2SeqResult, Seq2SeqSpec
from rnnprobe.core.errors import InputError
from rnnprobe.core.result import (
    TOLERANCE,
    Batch,
    CheckResult,
    Tensor,
)
from rnnprobe.core.vocab import source_batch, target_batch

ATTENTION_LAYERS = ("W1", "W2", "V")  # additive attention: V·tanh(W1·enc_outputs + W2·h)


def make_batches(
    pairs: Sequence[tuple[str, str]], spec: Seq2SeqSpec
) -> tuple[Batch, Batch, Tensor]:
    """The source ids, the decoder's input and its target, checked."""
    if not pairs:
        raise InputError("no pairs given: give SOURCE TARGET sentences, two by two")
    for number, pair in enumerate(pairs, start=1):
        for side, text in zip(("source", "target"), pair, strict=True):
            if not text.split() or (spec.tokens.value == "char" and not text):
                raise InputError(f"pair {number}: the {side} is empty: give at least one token")
    source = source_batch([s for s, _ in pairs], spec.tokens)
    target, decoder_target = target_batch([t for _, t in pairs], spec.tokens)
    return source, target, decoder_target


def _names(spec: Seq2SeqSpec) -> tuple[str, ...]:
    return ("h", "c") if spec.cell.value == "lstm" else ("h",)


def _renamed(named: list[tuple[str, Any, Any]], side: str) -> list[tuple[str, Any, Any]]:
    """`embedding/embeddings` -> `encoder/embeddings`, `kernel` -> `encoder/kernel`."""
    found = []
    for name, variable, dims in named:
        if name.startswith("head/"):
            found.append((name, variable, dims))
        else:
            found.append((f"{side}/{name.rpartition('/')[2]}", variable, dims))
    return found


def run(
    pairs: Sequence[tuple[str, str]],
    spec: Seq2SeqSpec,
    seed: int,
    *,
    check: bool = False,
    batches: tuple[Batch, Batch, Tensor] | None = None,
) -> Seq2SeqResult:
    """Build the encoder and the decoder under one seed, run them, collect every tensor."""
    source, target, decoder_target = batches or make_batches(pairs, spec)
    keras = probe.load_keras()
    layers = keras.layers
    decoder_spec = spec.decoder(target.width)
    with probe._build_lock:
        probe.seed_keras(seed)
        # Constructed in the order the data flows, as the --code script constructs them.
        encoder = probe.build(keras, spec.encoder, source.width)
        decoder = probe.build(keras, decoder_spec, target.width)
        attention = (
            {name: layers.Dense(1 if name == "V" else spec.hidden) for name in ATTENTION_LAYERS}
            if spec.attention
            else {}
        )
        enc_planned = spec.encoder.layers(source.width)
        dec_planned = decoder_spec.layers(target.width)
        probe._build_layers(encoder, enc_planned, source.rows, source.time)
        probe._build_layers(decoder, dec_planned, target.rows, target.time)
        for dense in attention.values():
            dense.build((source.rows, source.time, spec.hidden))
        named = _renamed(probe._named_variables(layers, enc_planned, encoder), "encoder")
        named += _renamed(probe._named_variables(layers, dec_planned, decoder), "decoder")
        for name, dense in attention.items():
            named += [
                (f"attention/{name}/kernel", dense.kernel, ("hidden", "units")),
                (f"attention/{name}/bias", dense.bias, ("units",)),
            ]
        with probe._tensorflow_logs_quiet():
            found = _call(keras, spec, encoder, decoder, attention, source, target)
        weights = probe._collect_weights(named, [variable.numpy() for _, variable, _ in named])
    names = _names(spec)
    states = found.pop("encoder_states")
    decoder_states = found.pop("decoder_states")
    logits = _array(found.pop("logits"))
    result = Seq2SeqResult(
        spec=spec,
        seed=seed,
        source=source,
        target=target,
        decoder_target=decoder_target,
        source_embedding=Tensor(
            "source_embedding",
            ("batch", "source_time", "embedding"),
            _array(found["source_embedding"]),
        ),
        target_embedding=Tensor(
            "target_embedding",
            ("batch", "target_time", "embedding"),
            _array(found["target_embedding"]),
        ),
        encoder_outputs=Tensor(
            "outputs", ("batch", "source_time", "hidden"), _array(found["encoder_outputs"])
        ),
        encoder_states=tuple(
            Tensor(n, ("batch", "hidden"), _array(v)) for n, v in zip(names, states, strict=True)
        ),
        decoder_outputs=Tensor(
            "outputs", ("batch", "target_time", "hidden"), _array(found["decoder_outputs"])
        ),
        decoder_states=tuple(
            Tensor(n, ("batch", "hidden"), _array(v))
            for n, v in zip(names, decoder_states, strict=True)
        ),
        logits=Tensor("logits", ("batch", "target_time", "class"), logits),
        predicted=Tensor("predicted", ("batch", "target_time"), np.argmax(logits, axis=-1)),
        weights=weights,
        attention_weights=(
            Tensor(
                "weights",
                ("batch", "target_time", "source_time"),
                _array(found["attention_weights"]),
            )
            if spec.attention
            else None
        ),
        context=(
            Tensor("context", ("batch", "target_time", "hidden"), _array(found["context"]))
            if spec.attention
            else None
        ),
    )
    if check:
        diff = max_abs_diff(result, recompute(result))
        result = replace(result, check=CheckResult(max_abs_diff=diff, ok=diff < TOLERANCE))
    return result


def _array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _call(
    keras: Any,
    spec: Seq2SeqSpec,
    encoder: probe.Model,
    decoder: probe.Model,
    attention: dict[str, Any],
    source: Batch,
    target: Batch,
) -> dict[str, Any]:
    """Call the encoder, hand its state to the decoder, call the decoder and its head."""
    ops = keras.ops
    source_mask = source.mask
    target_mask = target.mask
    source_embedding = encoder.embedding(source.input.array)
    enc_outputs, *enc_states = encoder.recurrent[0](source_embedding, mask=source_mask)
    target_embedding = decoder.embedding(target.input.array)
    found: dict[str, Any] = {
        "source_embedding": source_embedding,
        "target_embedding": target_embedding,
        "encoder_outputs": enc_outputs,
        "encoder_states": enc_states,
    }
    rnn = decoder.recurrent[0]
    if not attention:
        dec_outputs, *dec_states = rnn(
            target_embedding, mask=target_mask, initial_state=list(enc_states)
        )
    else:
        cell = rnn.cell
        states = list(enc_states)
        previous = ops.zeros_like(enc_states[0])
        outputs, weights, contexts = [], [], []
        keys = attention["W1"](enc_outputs)  # the same at every step
        real_source = ops.convert_to_tensor(source_mask[:, :, None])
        for t in range(target.time):
            query = attention["W2"](ops.expand_dims(states[0], 1))
            score = attention["V"](ops.tanh(keys + query))  # (batch, source_time, 1)
            score = ops.where(real_source, score, -np.inf)  # padded source words: no weight
            weight = ops.softmax(score, axis=1)
            context = ops.sum(weight * enc_outputs, axis=1)
            x_t = ops.concatenate([target_embedding[:, t], context], axis=-1)
            output, new_states = cell(x_t, states)
            real = ops.convert_to_tensor(target_mask[:, t, None])
            states = [
                ops.where(real, new, old) for new, old in zip(new_states, states, strict=True)
            ]
            previous = ops.where(real, output, previous)
            outputs.append(previous)
            weights.append(weight[..., 0])
            contexts.append(context)
        dec_outputs = ops.stack(outputs, axis=1)
        dec_states = states
        found["attention_weights"] = ops.stack(weights, axis=1)
        found["context"] = ops.stack(contexts, axis=1)
    found["decoder_outputs"] = dec_outputs
    found["decoder_states"] = dec_states
    found["logits"] = decoder.head(dec_outputs)
    return found


def recompute(result: Seq2SeqResult) -> dict[str, np.ndarray]:
    """Every tensor again, in rnnprobe's numpy engine, from the ids and the weights only."""
    spec = result.spec
    weights = {w.name: w.array for w in result.weights}

    def side(name: str) -> dict[str, np.ndarray]:
        prefix = f"{name}/"
        found = {
            ("embedding/embeddings" if k == f"{name}/embeddings" else k[len(prefix) :]): v
            for k, v in weights.items()
            if k.startswith(prefix)
        }
        return found

    source, target = result.source, result.target
    encoder = equations.trace(
        spec.encoder,
        source.input.array,
        np.asarray(source.lengths),
        side("encoder"),
        keep_steps=False,
    ).computed
    names = _names(spec)
    initial = [encoder[n] for n in names]
    found = {
        "source_embedding": encoder["embedding"],
        "encoder_outputs": encoder["outputs"],
        **{f"encoder/{n}": encoder[n] for n in names},
    }
    decoder_weights = {**side("decoder"), "head/kernel": weights["head/kernel"],
                       "head/bias": weights["head/bias"]}  # fmt: skip
    if not spec.attention:
        decoder = equations.trace(
            result.decoder_spec,
            target.input.array,
            np.asarray(target.lengths),
            decoder_weights,
            keep_steps=False,
            initial=initial,
        ).computed
        found["target_embedding"] = decoder["embedding"]
        found["decoder_outputs"] = decoder["outputs"]
        found.update({f"decoder/{n}": decoder[n] for n in names})
        found["logits"] = decoder["logits"]
        return found
    table = np.asarray(decoder_weights["embedding/embeddings"], dtype=np.float64)
    embedding = table[target.input.array]
    attended = equations.attention_decoder(
        spec.cell,
        {**decoder_weights, **{k: v for k, v in weights.items() if k.startswith("attention/")}},
        embedding,
        target.mask,
        encoder["outputs"],
        source.mask,
        initial,
    )
    found["target_embedding"] = embedding
    found["decoder_outputs"] = attended["outputs"]
    found.update({f"decoder/{n}": attended[n] for n in names})
    found["logits"] = (
        attended["outputs"] @ np.asarray(weights["head/kernel"], dtype=np.float64)
        + weights["head/bias"]
    )
    found["attention_weights"] = attended["weights"]
    found["context"] = attended["context"]
    return found


def reported(result: Seq2SeqResult) -> dict[str, np.ndarray]:
    """What Keras gave, by the names `recompute` uses."""
    found = {
        "source_embedding": result.source_embedding.array,
        "target_embedding": result.target_embedding.array,
        "encoder_outputs": result.encoder_outputs.array,
        "decoder_outputs": result.decoder_outputs.array,
        "logits": result.logits.array,
        **{f"encoder/{s.name}": s.array for s in result.encoder_states},
        **{f"decoder/{s.name}": s.array for s in result.decoder_states},
    }
    if result.attention_weights is not None and result.context is not None:
        found["attention_weights"] = result.attention_weights.array
        found["context"] = result.context.array
    return found


def max_abs_diff(result: Seq2SeqResult, computed: dict[str, np.ndarray]) -> float:
    keras = reported(result)
    return max(float(np.max(np.abs(keras[k] - computed[k]), initial=0.0)) for k in keras)
