"""`seq2seq --train`: the encoder-decoder trained on the pairs, then decoded greedily.

Training is teacher forcing: the decoder reads `<bos>` + the whole target at once and its
head predicts the target + `<eos>`; the loss is the decoder network's loss stage (masked
where the target is `<pad>`), and `train`'s loop (`core/keras/train.py`) trains both
networks with Adam. Inference is a loop (`decoding.py`): one token in, one token out,
the state carried by hand. `--check` recomputes the final loss and the loop in numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core import options
from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.commands import decoding
from rnnprobe.core.commands.decoding import Decoded
from rnnprobe.core.commands.seq2seq import Seq2SeqResult
from rnnprobe.core.commands.trained import Counted, Epoch, Snapshot
from rnnprobe.core.inputs.tasks import TrainData
from rnnprobe.core.kinds import BOS, EOS, TOLERANCE, UNK, Task
from rnnprobe.core.options import default_every
from rnnprobe.core.stages.encdec import EncoderDecoder, Seq2SeqSpec

DEFAULT_LR = 0.001  # Keras's Adam default: what labs 12-5 and 12-6 run


@dataclass(frozen=True)
class PairsCheck:
    """`seq2seq --train --check`: the final teacher-forced loss and the greedy loop again,
    in numpy from the trained weights, against Keras."""

    loss_diff: float
    decoding_diff: float  # the largest |Keras - numpy| over the loop's probabilities (and
    # attention weights)
    same_tokens: bool  # every decoded sentence, token for token

    @property
    def max_abs_diff(self) -> float:
        return max(self.loss_diff, self.decoding_diff)

    @property
    def ok(self) -> bool:
        return self.same_tokens and self.max_abs_diff < TOLERANCE


@dataclass(frozen=True)
class PairsTraining(Counted):
    """An encoder-decoder trained with Adam on the learner's pairs, and what it decodes."""

    spec: Seq2SeqSpec  # with the decoder's loss
    seed: int
    epochs: int
    lr: float
    batch_size: int  # pairs per batch
    every: int
    max_steps: int  # the greedy loop's length limit
    source: Batch  # the encoder's ids
    data: TrainData  # the decoder's side: <bos> + target in, target + <eos> to predict
    initial: Snapshot
    final: Snapshot
    gradients: tuple[Tensor, ...]  # of the initial whole-set loss, every trainable weight
    history: tuple[Epoch, ...]
    decoded: tuple[Decoded, ...]  # the pairs' sources, then each --translate
    probe: Seq2SeqResult  # the trained teacher-forced pass, as `seq2seq` shows one
    frozen: tuple[str, ...] = ()
    stopped: str | None = None
    check: PairsCheck | None = None
    shuffle: bool = False

    @property
    def network(self) -> EncoderDecoder:
        return self.spec.network(self.source.width, self.data.batch.width)

    @property
    def pairs(self) -> tuple[Decoded, ...]:
        return tuple(d for d in self.decoded if d.expected is not None)

    @property
    def translations(self) -> tuple[Decoded, ...]:
        return tuple(d for d in self.decoded if d.expected is None)


def pair_data(pairs: Sequence[tuple[str, str]], target: Batch, decoder_target: Tensor) -> TrainData:
    """The decoder's side as `train` names a task: each pair (by its source) reads `<bos>` +
    its target and is taught its target + `<eos>`."""
    return TrainData(
        task=Task.seq2seq,
        words=tuple(source for source, _ in pairs),
        batch=target,
        classes=tuple(target.vocab or ()),
        targets=decoder_target,
        reads=tuple((BOS, *tokens) for tokens in target.tokens or ()),
    )


def max_steps_of(value: Any, target: Batch) -> int:
    """`--max-steps`, checked; by default the longest target + 1 (its `<eos>`)."""
    from rnnprobe.core.options import positive_int

    return target.time if value is None else positive_int("max_steps", value)


@dataclass(frozen=True)
class Plan:
    """What `seq2seq --train` will do, checked before TensorFlow loads: the pairs as ids,
    the network with its loss, the seed, the recipe and the sources to decode."""

    pairs: tuple[tuple[str, str], ...]
    spec: Seq2SeqSpec  # with the decoder's loss
    source: Batch
    target: Batch
    decoder_target: Tensor
    seed: int
    epochs: int
    lr: float
    batch_size: int
    every: int
    max_steps: int
    translate: Batch | None  # the `--translate` sentences as encoder ids
    shuffle: bool = False  # each epoch takes the pairs in a new order, drawn from the seed
    shown: int | None = None  # the pairs of the teacher-forced pass (None: every one)
    unknown: tuple[tuple[str, ...], ...] = ()  # each sentence to translate's tokens read as <unk>

    @property
    def batches(self) -> tuple[Batch, Batch, Tensor]:
        return self.source, self.target, self.decoder_target

    @property
    def network(self) -> EncoderDecoder:
        return self.spec.network(self.source.width, self.target.width)


def plan(
    pairs: Sequence[tuple[str, str]],
    spec: Seq2SeqSpec,
    *,
    seed: int | None = None,
    epochs: int,
    lr: float = DEFAULT_LR,
    batch_size: int | None = None,
    every: int | None = None,
    max_steps: int | None = None,
    translate: Sequence[str] = (),
    batches: tuple[Batch, Batch, Tensor] | None = None,
    shuffle: bool | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
    shown: int | None = None,
) -> Plan:
    """The training asked for, checked: a usage error (a bad `--max-steps`, a sentence to
    translate with no token) comes before any model is built. A token of a sentence to
    translate that the training pairs never have reads as `<unk>`, which the source
    vocabulary then holds (as it does when `max_vocab` or `min_count` leave tokens out)."""
    from rnnprobe.core.budget import check_pairs_memory
    from rnnprobe.core.inputs import pairs as pair_inputs
    from rnnprobe.core.inputs import split

    checked = options.check_seed(seed)
    source, target, decoder_target = batches or pair_inputs.make_batches(
        pairs, spec, max_vocab=max_vocab, min_count=min_count
    )
    assert source.vocab is not None
    unknown: list[list[str]] = []
    if translate:
        unknown = pair_inputs.unseen(translate, source.vocab, spec.tokens)
        if any(unknown) and UNK not in source.vocab:
            source, target, decoder_target = pair_inputs.make_batches(
                pairs, spec, unknown=True, max_vocab=max_vocab, min_count=min_count
            )
    assert source.vocab is not None
    given = pair_inputs.sources_batch(translate, source.vocab, spec.tokens) if translate else None
    size = source.rows if batch_size is None else min(batch_size, source.rows)
    check_pairs_memory(spec, size, (source.time, source.width), (target.time, target.width),
                       batched=batch_size is not None)  # fmt: skip
    return Plan(
        pairs=tuple(pairs),
        spec=replace(spec, loss=True),
        source=source,
        target=target,
        decoder_target=decoder_target,
        seed=options.resolve_seed(checked),
        epochs=epochs,
        lr=lr,
        batch_size=size,
        every=every or default_every(epochs),
        max_steps=max_steps_of(max_steps, target),
        translate=given,
        shuffle=split.shuffled(shuffle, source.rows, size),
        shown=shown,
        unknown=tuple(tuple(tokens) for tokens in unknown),
    )


def train_pairs(planned: Plan, *, check: bool = False, on_epoch: Any = None,
                on_batch: Any = None) -> PairsTraining:  # fmt: skip
    """Train the encoder and the decoder on the pairs, then decode every source greedily
    (and each sentence to translate), batch by batch."""
    from rnnprobe.core.commands import seq2seq
    from rnnprobe.core.commands.train import first_gradients, snapshot
    from rnnprobe.core.inputs import split
    from rnnprobe.core.keras import env, passes
    from rnnprobe.core.keras import pairs as keras_pairs
    from rnnprobe.core.keras import train as keras_train
    from rnnprobe.core.keras.probe import collect_weights

    source, target, decoder_target = planned.batches
    assert target.vocab is not None
    spec, limit, given = planned.spec, planned.max_steps, planned.translate
    data = pair_data(planned.pairs, target, decoder_target)
    env.load_keras()
    with env.build_lock, env.tensorflow_logs_quiet():
        env.seed_keras(planned.seed)
        pair = keras_pairs.built(planned.network, source, target, unroll=True)
    model = keras_pairs.prepared(pair, source, target, decoder_target)
    order = split.orders(planned.seed, source.rows) if planned.shuffle else None
    fitted = keras_train.fit(data, model, epochs=planned.epochs, lr=planned.lr,
                             batch_size=planned.batch_size, order=order, on_epoch=on_epoch,
                             on_batch=on_batch, summarise=passes.classes_kept)  # fmt: skip
    shown = slice(0, source.rows if planned.shown is None else min(planned.shown, source.rows))
    expected = [t for _, t in planned.pairs]
    with env.build_lock, env.tensorflow_logs_quiet():
        found = model.forward(*(a[shown] for a in model.arrays))  # the pairs the tables show
        decoded = decode_all(lambda part: keras_pairs.Stepper(
            pair, part.input.array, part.mask), source, target.vocab, expected, limit)  # fmt: skip
        if given is not None:
            decoded += decode_all(lambda part: keras_pairs.Stepper(
                pair, part.input.array, part.mask), given, target.vocab, [None] * given.rows,
                limit, planned.unknown)  # fmt: skip
    weights = collect_weights(fitted.named, fitted.final.weights)
    batches = (
        source.take(shown),
        target.take(shown),
        Tensor(decoder_target.name, decoder_target.dims, decoder_target.array[shown]),
    )
    probe = seq2seq.result_of(replace(spec, loss=False), planned.seed, batches,
                              (found["encoder"], found), weights)  # fmt: skip
    result = PairsTraining(
        spec=spec,
        seed=planned.seed,
        epochs=planned.epochs,
        lr=planned.lr,
        batch_size=planned.batch_size,
        every=planned.every,
        max_steps=limit,
        source=source,
        data=data,
        initial=snapshot(data, fitted.named, fitted.initial),
        final=snapshot(data, fitted.named, fitted.final),
        gradients=first_gradients(fitted),
        history=tuple(Epoch(**entry) for entry in fitted.history),
        decoded=decoded,
        probe=probe,
        stopped=fitted.stopped,
        shuffle=planned.shuffle,
    )
    if check:
        result = replace(result, check=check_pairs(result, given))
    return result


DECODE_ROWS = 1024  # sources decoded together: memory grows with them, not the corpus


def decode_all(stepper: Any, sources: Batch, vocab: Sequence[str],
                expected: Sequence[str | None], limit: int,
                unknown: Sequence[Sequence[str]] = ()) -> tuple[Decoded, ...]:  # fmt: skip
    """Every source decoded greedily, DECODE_ROWS at a time, with its tokens read as <unk>."""
    from rnnprobe.core.keras.passes import slices

    found: tuple[Decoded, ...] = ()
    for part in slices(sources.rows, DECODE_ROWS):
        chunk = sources.take(part)
        step = stepper(chunk)
        loop = decoding.greedy(step, step.start(), chunk.rows, bos=vocab.index(BOS),
                               eos=vocab.index(EOS), max_steps=limit)  # fmt: skip
        found += decoding.decoded(loop, chunk, vocab, expected[part],
                                  list(unknown[part]) if unknown else None)  # fmt: skip
    return found


def check_pairs(result: PairsTraining, given: Batch | None) -> PairsCheck:
    """The final teacher-forced loss by the decoder's loss stage, and the greedy loop, in
    rnnprobe's numpy engine from the trained weights only."""
    from rnnprobe.core.commands.seq2seq import recompute
    from rnnprobe.core.numpy.backprop import loss_weights
    from rnnprobe.core.numpy.equations import softmax

    data, probe = result.data, result.probe
    logits = recompute(probe)["logits"]
    log_p = np.log(softmax(logits.astype(np.float64)))
    targets = data.targets.array.astype(np.int64)
    each = -np.take_along_axis(log_p, targets[..., None], axis=-1)[..., 0]
    loss = float(np.sum(each * loss_weights(result.network.decoder.loss, data.batch.mask)))
    weights = {w.name: w.array for w in result.final.weights}
    vocab = data.classes
    width = len(vocab)
    found: tuple[Decoded, ...] = ()
    groups: list[tuple[Batch | None, list[str | None]]] = [
        (result.source, [d.expected for d in result.pairs]),
        (given, [None] * len(result.translations)),
    ]
    from rnnprobe.core.keras.passes import slices

    for sources, expected in groups:
        if sources is None:
            continue
        for part in slices(sources.rows, DECODE_ROWS):
            chunk = sources.take(part)
            step = decoding.NumpyStep(result.spec, width, weights, chunk)
            loop = decoding.greedy(step, step.states, chunk.rows, bos=vocab.index(BOS),
                                   eos=vocab.index(EOS), max_steps=result.max_steps)  # fmt: skip
            found += decoding.decoded(loop, chunk, vocab, expected[part])
    same = [d.tokens for d in found] == [d.tokens for d in result.decoded]
    differences = [0.0]
    for mine, theirs in zip(found, result.decoded, strict=True):
        if mine.tokens != theirs.tokens:
            continue  # told by same_tokens; the steps after a difference do not compare
        differences += [abs(a.probability - b.probability)
                        for a, b in zip(mine.steps, theirs.steps, strict=True)]  # fmt: skip
        if mine.attention is not None and theirs.attention is not None:
            differences.append(float(np.max(np.abs(mine.attention - theirs.attention))))
    return PairsCheck(
        loss_diff=abs(loss - result.final.loss),
        decoding_diff=max(differences),
        same_tokens=same,
    )
