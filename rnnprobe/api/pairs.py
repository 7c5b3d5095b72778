"""`rnnprobe.seq2seq`: an encoder and a decoder on (source, target) pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import RenderableType

from rnnprobe.api.shown import Picture, Shown, array_of
from rnnprobe.core import commands
from rnnprobe.core.encdec import Seq2SeqResult
from rnnprobe.core.errors import InputError, Param
from rnnprobe.show import jsonout


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
        self.check: dict[str, Any] | None = (
            None
            if result.check is None
            else {"max_abs_diff": result.check.max_abs_diff, "ok": result.check.ok}
        )

    def _view(self) -> RenderableType:
        from rnnprobe.show import seq2seq_view

        return seq2seq_view.seq2seq_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsonout.seq2seq_object(self.result)

    def diagram(self, pair: int = 1) -> Picture:
        """The encoder and the decoder unrolled over pair `pair` (from 1)."""
        from rnnprobe.show import seq2seq_view

        count = len(self.sources)
        if not 1 <= pair <= count:
            raise InputError(Param("pair"), f" {pair}: give a pair from 1 to {count}")
        return Picture(seq2seq_view.seq2seq_diagram(self.result, pair - 1))

    def __repr__(self) -> str:
        shapes = f"logits {self.logits.shape}"
        if self.attention_weights is not None:
            shapes += f", attention {self.attention_weights.shape}"
        return f"<rnnprobe.Seq2Seq {self.result.spec.cell.keras_layer}: {shapes}>"


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
) -> Seq2Seq:
    """An encoder and a decoder on (source, target) pairs: `rnnprobe seq2seq`.

    The encoder's final state is the decoder's initial state; the decoder reads `<bos>` +
    the target and predicts the target + `<eos>`. With `attention`, each decoder step also
    reads a context of the encoder's outputs.
    """
    if isinstance(pairs, str) or not all(
        isinstance(p, tuple | list) and len(p) == 2 and all(isinstance(s, str) for s in p)
        for p in pairs
    ):
        raise InputError(Param("pairs"), " takes a list of (source, target) strings")
    spec = commands.make_seq2seq_spec(
        cell=cell, hidden=hidden, embed=embed, attention=attention, tokens=tokens
    )
    found = commands.seq2seq([(s, t) for s, t in pairs], spec, seed=seed, check=check)
    return Seq2Seq(found)
