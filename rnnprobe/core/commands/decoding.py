"""Greedy decoding: the inference loop of an encoder-decoder, one token in, one token out.

The decoder starts from the encoder's final state and `<bos>`; at every step it predicts
the likeliest target token, which is fed back as the next step's input, with the state
carried by hand, until `<eos>` or a length limit. The loop is written once (`greedy`); a
step is a face: Keras's (`core/keras/pairs.py`, the trained layers) or numpy's (`NumpyStep`
here, rnnprobe's engine walking the decoder's stages from the reported weights).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core import progress
from rnnprobe.core.batch import Batch
from rnnprobe.core.kinds import BOS, EOS
from rnnprobe.core.numpy import engine
from rnnprobe.core.numpy.equations import softmax
from rnnprobe.core.stages.encdec import Seq2SeqSpec

# tokens (rows, 1), states -> logits (rows, classes), new states, attention (rows, source)
Step = Callable[[np.ndarray, list[Any]], tuple[np.ndarray, list[Any], np.ndarray | None]]


@dataclass(frozen=True)
class DecodedStep:
    """One turn of the loop: the token fed in, the token predicted and its probability."""

    input: str
    predicted: str
    probability: float


@dataclass(frozen=True)
class Decoded:
    """One source decoded greedily."""

    source: str
    steps: tuple[DecodedStep, ...]
    attention: np.ndarray | None  # (steps, the source's tokens), with attention
    reached_eos: bool
    expected: str | None = None  # a training pair's target; None for `--translate`
    unknown: tuple[str, ...] = ()  # the source's tokens read as <unk>

    @property
    def tokens(self) -> tuple[str, ...]:
        """The decoded target tokens, `<eos>` included when reached."""
        return tuple(step.predicted for step in self.steps)

    @property
    def sentence(self) -> tuple[str, ...]:
        """The decoded tokens before `<eos>`."""
        return self.tokens[:-1] if self.reached_eos else self.tokens


@dataclass(frozen=True)
class Loop:
    """What the loop gave for every row: ids and probabilities (rows, steps), each row's
    number of steps, and attention (rows, steps, source_time) when the decoder attends."""

    ids: np.ndarray
    probabilities: np.ndarray
    counts: np.ndarray
    attention: np.ndarray | None


def greedy(step: Step, states: list[Any], rows: int, *, bos: int, eos: int,
           max_steps: int) -> Loop:  # fmt: skip
    """Feed `<bos>`, then each prediction back, until every row has predicted `<eos>` or
    `max_steps` steps are taken. A row that reached `<eos>` stops counting; the others
    still go on (the batch moves together)."""
    tokens = np.full((rows, 1), bos, dtype=np.int32)
    ids, probabilities, attention = [], [], []
    counts = np.zeros(rows, dtype=np.int64)
    running = np.ones(rows, dtype=bool)
    for _ in range(max_steps):
        progress.check()
        logits, states, weights = step(tokens, states)
        p = softmax(np.asarray(logits, dtype=np.float64))
        predicted = np.argmax(p, axis=-1)
        ids.append(predicted)
        probabilities.append(p[np.arange(rows), predicted])
        if weights is not None:
            attention.append(np.asarray(weights))
        counts += running
        running &= predicted != eos
        if not running.any():
            break
        tokens = predicted[:, None].astype(np.int32)
    return Loop(
        ids=np.stack(ids, axis=1),
        probabilities=np.stack(probabilities, axis=1),
        counts=counts,
        attention=np.stack(attention, axis=1) if attention else None,
    )


def decoded(loop: Loop, sources: Batch, vocab: Sequence[str], expected: Sequence[str | None],
            unknown: Sequence[Sequence[str]] | None = None) -> tuple[Decoded, ...]:  # fmt: skip
    """Each row of the loop, by name (and each source's tokens read as <unk>)."""
    found = []
    eos = vocab.index(EOS)
    for row, source in enumerate(sources.words or ()):
        count = int(loop.counts[row])
        ids = loop.ids[row, :count]
        inputs = [BOS, *(vocab[int(i)] for i in ids[:-1])]
        steps = tuple(
            DecodedStep(fed, vocab[int(i)], float(p))
            for fed, i, p in zip(inputs, ids, loop.probabilities[row, :count], strict=True)
        )
        attention = None
        if loop.attention is not None:
            attention = loop.attention[row, :count, : sources.lengths[row]].astype(np.float32)
        said = tuple(unknown[row]) if unknown else ()
        found.append(Decoded(source, steps, attention, bool(ids[-1] == eos), expected[row], said))
    return tuple(found)


class NumpyStep:
    """The greedy loop's numpy face: rnnprobe's engine, from the weights alone, walks the
    encoder's stages once, then the decoder's one step at a time."""

    def __init__(self, spec: Seq2SeqSpec, target_vocab: int, weights: Mapping[str, np.ndarray],
                 source: Batch) -> None:  # fmt: skip
        self.decoder = spec.decoder(target_vocab)
        self.names = spec.cell.state_names
        self.weights = weights
        lengths = np.asarray(source.lengths)
        encoder = engine.trace(spec.encoder, source.input.array, lengths, weights,
                               keep_steps=False).computed  # fmt: skip
        self.states = [encoder[name] for name in self.names]
        self.memory = (encoder["outputs"], source.mask)

    def __call__(self, tokens: np.ndarray, states: list[Any]) -> tuple[Any, ...]:
        real = (tokens[:, 0] != 0).astype(np.int64)  # a fed <pad> is masked, as in Keras
        found = engine.trace(
            self.decoder, tokens, real, self.weights,
            keep_steps=False, initial=states, memory=self.memory,
        ).computed  # fmt: skip
        attention = found.get("attention_weights")
        return (
            found["logits"][:, 0],
            [found[name] for name in self.names],
            None if attention is None else attention[:, 0],
        )
