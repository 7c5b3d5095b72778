"""`rnnprobe.seq2seq`: an encoder and a decoder on (source, target) pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import RenderableType

from rnnprobe.api.shown import Picture, Shown, array_of, check_of
from rnnprobe.core import options
from rnnprobe.core.commands import run as commands
from rnnprobe.core.commands import seq2seq_train as pairs_training
from rnnprobe.core.commands.seq2seq import Seq2SeqResult
from rnnprobe.core.commands.seq2seq_train import PairsTraining
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.pairs import make_batches
from rnnprobe.show import jsonout, jsontrain


class Seq2Seq(Shown):
    """What `rnnprobe seq2seq` shows: an encoder, the state handed over, a decoder.

    The arrays carry the JSON's names: `source_ids`, `decoder_input`, `decoder_target`,
    `encoder_outputs`, `encoder_states`, `initial_state` and `decoder_states` (dicts by
    state name), `decoder_outputs`, `logits`, and with attention `attention_weights`
    (batch, target_time, source_time) and `context`.
    """

    def __init__(self, result: Seq2SeqResult) -> None:
        self.result = result
        source, target = result.source, result.target
        assert source.ids is not None and target.ids is not None
        self.sources: list[str] = list(source.words or ())
        self.targets: list[str] = list(target.words or ())
        self.source_vocab: list[str] = list(source.vocab or ())
        self.target_vocab: list[str] = list(target.vocab or ())
        self.seed: int = result.seed
        self.source_ids: np.ndarray = source.ids.array
        self.decoder_input: np.ndarray = target.ids.array
        self.decoder_target: np.ndarray = result.decoder_target.array
        self.encoder_outputs: np.ndarray = result.encoder_outputs.array
        self.encoder_states = {s.name: s.array for s in result.encoder_states}
        self.initial_state = {s.name: s.array for s in result.initial_state}
        self.decoder_outputs: np.ndarray = result.decoder_outputs.array
        self.decoder_states = {s.name: s.array for s in result.decoder_states}
        self.logits: np.ndarray = result.logits.array
        self.attention_weights: np.ndarray | None = array_of(result.attention_weights)
        self.context: np.ndarray | None = array_of(result.context)
        self.weights: dict[str, np.ndarray] = {w.name: w.array for w in result.weights}
        self.params: int = result.params
        self.check: dict[str, Any] | None = check_of(result.check)

    def _view(self) -> RenderableType:
        from rnnprobe.show import seq2seq_view

        return seq2seq_view.seq2seq_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsonout.seq2seq_object(self.result)

    def diagram(self, pair: int = 1) -> Picture:
        """The encoder and the decoder unrolled over pair `pair` (from 1)."""
        from rnnprobe.show import seq2seq_view

        options.check_drawn("pair", pair, len(self.sources))
        return Picture(seq2seq_view.seq2seq_diagram(self.result, pair - 1))

    def __repr__(self) -> str:
        shapes = f"logits {self.logits.shape}"
        if self.attention_weights is not None:
            shapes += f", attention {self.attention_weights.shape}"
        return f"<rnnprobe.Seq2Seq {self.result.spec.cell.keras_layer}: {shapes}>"


class Seq2SeqTraining(Shown):
    """What `rnnprobe seq2seq --train` shows: `.history`, `.initial` and `.final` (as
    `rnnprobe.train` has them: the teacher-forced loss, accuracy and predictions),
    `.gradients`, `.decoded` (each source decoded greedily, as the JSON's `"decoded"`),
    `.trained` (the trained network's teacher-forced pass, a `Seq2Seq`), `.check`."""

    def __init__(self, result: PairsTraining) -> None:
        from rnnprobe.api.training import _state

        self.result = result
        self.sources: list[str] = list(result.data.words)
        self.seed: int = result.seed
        self.history: list[dict[str, Any]] = [
            {"epoch": e.epoch, "loss": e.loss, "accuracy": e.accuracy} for e in result.history
        ]
        self.initial = _state(result, result.initial)
        self.final = _state(result, result.final)
        self.gradients: dict[str, np.ndarray] = {g.name: g.array for g in result.gradients}
        self.decoded: list[dict[str, Any]] = [jsontrain.decoded_object(d) for d in result.decoded]
        self.trained = Seq2Seq(result.probe)
        self.check: dict[str, Any] | None = check_of(result.check, "same_tokens")

    def save(self, path: str) -> str:
        """The trained network written to `path` (.keras), as `--save` writes it: a plain
        Keras model that reads what a user has, rnnprobe's description inside."""
        from rnnprobe.api.saved import save

        return save(self.result, path)

    def _view(self) -> RenderableType:
        from rnnprobe.show import pairs_view

        return pairs_view.pairs_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsontrain.pairs_object(self.result)

    def curve(self) -> Picture:
        """The loss per epoch, drawn as `train` draws it."""
        from rnnprobe.show.curve import curve

        return Picture(curve([entry["loss"] for entry in self.history]))

    def __repr__(self) -> str:
        return (
            f"<rnnprobe.Seq2SeqTraining: loss {self.initial.loss:.4f} -> "
            f"{self.final.loss:.4f} in {len(self.history)} epochs>"
        )


def seq2seq(
    pairs: Sequence[tuple[str, str]],
    *,
    cell: str = "gru",
    hidden: int = 4,
    embed: int = 4,
    attention: bool = False,
    seed: int | None = None,
    tokens: str = "word",
    check: bool = False,
    train: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    every: int | None = None,
    max_steps: int | None = None,
    translate: Sequence[str] = (),
    shuffle: bool | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
) -> Seq2Seq | Seq2SeqTraining:
    """An encoder and a decoder on (source, target) pairs: `rnnprobe seq2seq`.

    The encoder's final state is the decoder's initial state; the decoder reads `<bos>` +
    the target and predicts the target + `<eos>`. With `attention`, each decoder step also
    reads a context of the encoder's outputs. With `train=N`, trained N epochs with Adam
    (`lr` 0.001 by default), then every source (and each of `translate`) decoded greedily:
    a `Seq2SeqTraining`. `shuffle` takes the pairs in a new order every epoch (by default
    when there is more than one batch); `max_vocab` / `min_count` read the rarer tokens as
    `<unk>`, as a word of `translate` the pairs never have.
    """
    if isinstance(pairs, str) or not all(
        isinstance(p, tuple | list) and len(p) == 2 and all(isinstance(s, str) for s in p)
        for p in pairs
    ):
        raise InputError(Param("pairs"), " takes a list of (source, target) strings")
    spec = options.make_seq2seq_spec(
        cell=cell, hidden=hidden, embed=embed, attention=attention, tokens=tokens
    )
    given = [(s, t) for s, t in pairs]
    limits = options.vocab_limits(max_vocab, min_count)
    if train is None:
        training_only = {"lr": lr, "batch_size": batch_size, "every": every,
                         "max_steps": max_steps, "translate": translate or None,
                         "shuffle": shuffle}  # fmt: skip
        for name, value in training_only.items():
            if value is not None:
                raise InputError(Param(name), " needs ", Param("train"), ": it is about training")
        return Seq2Seq(commands.seq2seq(given, spec, seed=seed, check=check,
                                        batches=make_batches(given, spec, **limits)))  # fmt: skip
    if isinstance(translate, str):
        translate = [translate]
    planned = pairs_training.plan(
        given, spec, seed=seed,
        epochs=options.positive_int("train", train),
        lr=pairs_training.DEFAULT_LR if lr is None else options.learning_rate(lr),
        batch_size=None if batch_size is None else options.positive_int("batch_size", batch_size),
        every=None if every is None else options.positive_int("every", every),
        max_steps=max_steps, translate=list(translate),
        shuffle=None if shuffle is None else bool(shuffle), **limits,
    )  # fmt: skip
    return Seq2SeqTraining(pairs_training.train_pairs(planned, check=check))
