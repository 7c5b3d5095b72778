"""The Keras face of an encoder-decoder: its two networks' stages built under one seed, the
hand-over between them (the encoder's final state as the decoder's `initial_state`; with
attention, its outputs for every decoder step to read), the whole pass for `seq2seq` and for
training, and one decoder step for the greedy loop.

Every call walks the stages of the two networks with `build.call`; nothing here knows a
layer kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.keras import build, env, runner
from rnnprobe.core.keras.train import Prepared
from rnnprobe.core.stages.encdec import EncoderDecoder, HandOver


@dataclass(frozen=True)
class Pair:
    """The encoder's and the decoder's Keras layers, with real variables."""

    network: EncoderDecoder
    encoder: build.Model
    decoder: build.Model
    named: build.Named
    unrolled: bool = False  # short sentences' forward layers unrolled

    @property
    def stepper(self) -> build.Model:
        """The decoder's stages without its loss: what one step of the greedy loop calls."""
        model = self.network.decoder.model
        return build.Model(model, self.decoder.made[: len(model.stages)])


def built(network: EncoderDecoder, source: Batch, target: Batch, *, unroll: bool = False) -> Pair:
    """Construct the encoder's layers, then the decoder's (the order the data flows, the
    order the `--code` script constructs them: the same seeds), and create their weights.
    The caller seeds Keras and holds the build lock."""
    keras = env.load_keras()
    encoder = build.model(keras, network.encoder)
    decoder = build.model(keras, network.decoder)
    build.build_weights(encoder, source.rows, source.time)
    build.build_weights(decoder, target.rows, target.time)
    if unroll:
        for side, batch in ((encoder, source), (decoder, target)):
            if batch.time <= runner.UNROLL_UP_TO:
                runner.unroll_forward(side)  # short sentences: a faster step (float precision)
    named = build.named_variables(encoder) + build.named_variables(decoder)
    return Pair(network, encoder, decoder, named, unroll)


def handed(handover: HandOver, encoder: dict[str, Any], source_mask: Any) -> dict[str, Any]:
    """What the hand-over passes to the decoder's stages: the initial state of its recurrent
    layer, and (for attention) the encoder's outputs with the source mask."""
    return {
        "initial": [list(encoder["states"])],
        "found": {"memory": (encoder["outputs"], source_mask)},
    }


def call(
    pair: Pair,
    source_ids: Any,
    source_mask: Any,
    decoder_input: Any,
    target_mask: Any,
    targets: Any = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Call the encoder's stages, hand its state (and outputs) over, call the decoder's
    (and its loss, given the targets): what each side found."""
    enc = build.call(pair.encoder, build.Flow(source_ids, source_mask)).found
    given = handed(pair.network.handover, enc, source_mask)
    found = dict(given["found"])
    if targets is not None:
        found["targets"] = targets
    flow = build.Flow(decoder_input, target_mask, found=found, initial=given["initial"])
    decoder = pair.decoder if targets is not None else pair.stepper
    return enc, build.call(decoder, flow).found


def prepared(pair: Pair, source: Batch, target: Batch, decoder_target: Tensor) -> Prepared:
    """The pair as `train.fit` trains it: a forward pass from the ids to the masked loss."""
    assert source.ids is not None and target.ids is not None

    def forward(*arrays: Any) -> dict[str, Any]:
        enc, found = call(pair, *arrays)
        return {**found, "encoder": enc}

    trainable = [variable for _, variable, _ in pair.named if variable.trainable]
    arrays = (source.ids.array, source.mask, target.ids.array, target.mask,
              decoder_target.array)  # fmt: skip

    def rebuild() -> Prepared:
        again = built(pair.network, source, target, unroll=pair.unrolled)
        return prepared(again, source, target, decoder_target)

    return Prepared(
        (pair.encoder, pair.decoder), pair.named, trainable, forward, arrays, pair.network,
        rebuild,
    )  # fmt: skip


@dataclass
class Stepper:
    """The greedy loop's Keras face: encode once, then one decoder step at a time from the
    states carried by hand; each step gives the logits, the new states and attention."""

    pair: Pair
    source_ids: np.ndarray
    source_mask: np.ndarray

    def start(self) -> list[Any]:
        with env.tensorflow_logs_quiet():
            enc = build.call(self.pair.encoder, build.Flow(self.source_ids, self.source_mask))
        self.given = handed(self.pair.network.handover, enc.found, self.source_mask)
        states: list[Any] = self.given["initial"][0]
        return states

    def __call__(self, tokens: np.ndarray, states: list[Any]) -> tuple[Any, ...]:
        """One step: `tokens` (rows, 1) in, from `states`."""
        real = tokens != 0  # as the Embedding masks it: a fed <pad> keeps the state
        flow = build.Flow(tokens, real, found=dict(self.given["found"]), initial=[states])
        with env.tensorflow_logs_quiet():
            found = build.call(self.pair.stepper, flow).found
        attention = found.get("attention_weights")
        return (
            np.asarray(found["logits"], dtype=np.float32)[:, 0],
            list(found["states"]),
            None if attention is None else np.asarray(attention, dtype=np.float32)[:, 0],
        )
