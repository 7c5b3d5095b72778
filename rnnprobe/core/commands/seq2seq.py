"""`rnnprobe seq2seq`: an encoder and a decoder joined by the state handed over.

Both halves are networks of stages (`Seq2SeqSpec.network`), built, called and recomputed by
the same faces as any probe; this module adds only the hand-over: the encoder's final state
passed as the decoder's `initial_state`, and, with attention, the encoder's outputs passed
on for every decoder step to read. It imports TensorFlow through `core.keras`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core.inputs.pairs import make_batches
from rnnprobe.core.keras import env
from rnnprobe.core.keras import pairs as keras_pairs
from rnnprobe.core.keras.probe import collect_weights
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.numpy import engine
from rnnprobe.core.numpy.check import largest_difference
from rnnprobe.core.result import Batch, CheckResult, Tensor
from rnnprobe.core.stages import ProbeSpec
from rnnprobe.core.stages.encdec import EncoderDecoder, Seq2SeqSpec


@dataclass(frozen=True)
class Seq2SeqResult:
    """What `rnnprobe seq2seq` produced, named as its JSON names it."""

    spec: Seq2SeqSpec
    seed: int
    source: Batch  # source ids (batch, source_time) over <pad> + the source vocabulary
    target: Batch  # decoder input ids: <bos> + target, over <pad> <bos> <eos> + vocabulary
    decoder_target: Tensor  # target + <eos>, (batch, target_time)
    source_embedding: Tensor
    target_embedding: Tensor
    encoder_outputs: Tensor
    encoder_states: tuple[Tensor, ...]
    decoder_outputs: Tensor
    decoder_states: tuple[Tensor, ...]
    logits: Tensor
    predicted: Tensor  # the target token each step's logits pick, (batch, target_time)
    weights: tuple[Tensor, ...]
    attention_weights: Tensor | None = None  # (batch, target_time, source_time)
    context: Tensor | None = None  # (batch, target_time, hidden)
    check: CheckResult | None = None

    @property
    def params(self) -> int:
        return sum(int(w.array.size) for w in self.weights)

    @property
    def initial_state(self) -> tuple[Tensor, ...]:
        """What the decoder starts from: the encoder's final state(s), handed over."""
        return self.encoder_states

    @property
    def decoder_spec(self) -> ProbeSpec:
        return self.spec.decoder(self.target.width)

    @property
    def network(self) -> EncoderDecoder:
        return self.spec.network(self.source.width, self.target.width)


def run(
    pairs: Sequence[tuple[str, str]],
    spec: Seq2SeqSpec,
    seed: int,
    *,
    check: bool = False,
    batches: tuple[Batch, Batch, Tensor] | None = None,
) -> Seq2SeqResult:
    """Build the encoder and the decoder under one seed, run them, collect every tensor."""
    from rnnprobe.core.budget import check_pairs_memory

    source, target, decoder_target = batches or make_batches(pairs, spec)
    check_pairs_memory(spec, source.rows, (source.time, source.width),
                       (target.time, target.width), batched=False)  # fmt: skip
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
