"""`rnnprobe seq2seq`: an encoder and a decoder joined by the state handed over.

Both halves are networks of stages (`Seq2SeqSpec.network`), built, called and recomputed by
the same faces as any probe; this module adds only the hand-over: the encoder's final state
passed as the decoder's `initial_state`, and, with attention, the encoder's outputs passed
on for every decoder step to read. It imports TensorFlow through `core.keras`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rnnprobe.core import engine
from rnnprobe.core.check import largest_difference
from rnnprobe.core.encdec import Seq2SeqResult, Seq2SeqSpec
from rnnprobe.core.errors import InputError
from rnnprobe.core.keras import env
from rnnprobe.core.keras import pairs as keras_pairs
from rnnprobe.core.keras.probe import collect_weights
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.result import Batch, CheckResult, Tensor
from rnnprobe.core.vocab import source_batch, target_batch


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
    network = spec.network(source.width, target.width)
    env.load_keras()
    with env.build_lock:
        env.seed_keras(seed)
        pair = keras_pairs.built(network, source, target)
        with env.tensorflow_logs_quiet():
            found = keras_pairs.call(pair, source.input.array, source.mask, target.input.array,
                               target.mask)  # fmt: skip
        weights = collect_weights(pair.named, [v.numpy() for _, v, _ in pair.named])
    result = result_of(spec, seed, (source, target, decoder_target), found, weights)
    if check:
        diff = largest_difference(reported(result), recompute(result))
        result = replace(result, check=CheckResult(max_abs_diff=diff, ok=diff < TOLERANCE))
    return result


def result_of(
    spec: Seq2SeqSpec,
    seed: int,
    batches: tuple[Batch, Batch, Tensor],
    found: tuple[dict[str, Any], dict[str, Any]],
    weights: tuple[Tensor, ...],
) -> Seq2SeqResult:
    """The result, from what the encoder's and the decoder's stages found."""
    source, target, decoder_target = batches
    names = spec.cell.state_names
    enc, dec = found
    logits = _array(dec["logits"])
    return Seq2SeqResult(
        spec=spec,
        seed=seed,
        source=source,
        target=target,
        decoder_target=decoder_target,
        source_embedding=Tensor(
            "source_embedding", ("batch", "source_time", "embedding"), _array(enc["embedding"])
        ),
        target_embedding=Tensor(
            "target_embedding", ("batch", "target_time", "embedding"), _array(dec["embedding"])
        ),
        encoder_outputs=Tensor(
            "outputs", ("batch", "source_time", "hidden"), _array(enc["outputs"])
        ),
        encoder_states=_states(names, enc["states"]),
        decoder_outputs=Tensor(
            "outputs", ("batch", "target_time", "hidden"), _array(dec["outputs"])
        ),
        decoder_states=_states(names, dec["states"]),
        logits=Tensor("logits", ("batch", "target_time", "class"), logits),
        predicted=Tensor("predicted", ("batch", "target_time"), np.argmax(logits, axis=-1)),
        weights=weights,
        attention_weights=(
            Tensor(
                "weights",
                ("batch", "target_time", "source_time"),
                _array(dec["attention_weights"]),
            )
            if spec.attention
            else None
        ),
        context=(
            Tensor("context", ("batch", "target_time", "hidden"), _array(dec["context"]))
            if spec.attention
            else None
        ),
    )


def _array(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


def _states(names: tuple[str, ...], values: Sequence[Any]) -> tuple[Tensor, ...]:
    return tuple(
        Tensor(n, ("batch", "hidden"), _array(v)) for n, v in zip(names, values, strict=True)
    )


def recompute(result: Seq2SeqResult) -> dict[str, np.ndarray]:
    """Every tensor again, in rnnprobe's numpy engine, from the ids and the weights only."""
    spec = result.spec
    weights = {w.name: w.array for w in result.weights}
    source, target = result.source, result.target
    encoder = engine.trace(spec.encoder, source.input.array, np.asarray(source.lengths),
                           weights, keep_steps=False).computed  # fmt: skip
    names = result.network.handover.state_names
    initial = [encoder[n] for n in names]
    decoder = engine.trace(
        result.decoder_spec, target.input.array, np.asarray(target.lengths), weights,
        keep_steps=False, initial=initial, memory=(encoder["outputs"], source.mask),
    ).computed  # fmt: skip
    found = {
        "source_embedding": encoder["embedding"],
        "encoder_outputs": encoder["outputs"],
        **{f"encoder/{n}": encoder[n] for n in names},
        "target_embedding": decoder["embedding"],
        "decoder_outputs": decoder["outputs"],
        **{f"decoder/{n}": decoder[n] for n in names},
        "logits": decoder["logits"],
    }
    for name in ("attention_weights", "context"):
        if name in decoder:
            found[name] = decoder[name]
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
    return largest_difference(reported(result), computed)
