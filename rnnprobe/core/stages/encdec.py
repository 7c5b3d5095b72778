"""An encoder-decoder's description (`rnnprobe seq2seq`).

Two networks of stages joined by a hand-over stage: the encoder (token ids -> Embedding ->
one recurrent layer), the hand-over (the encoder's final state becomes the decoder's
initial state; with attention, its outputs are what every decoder step reads), and the
decoder (token ids -> Embedding -> [attention] -> the same kind of layer -> a Dense head
over the target vocabulary at every step).

Not imported by `stages/__init__.py`, which `vocab` and `--help` import: creating these
classes costs start-up time that only `seq2seq` should pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnprobe.core.kinds import Cell, Tokens
from rnnprobe.core.stages import Network, ProbeSpec, Stage


@dataclass(frozen=True)
class HandOver(Stage):
    """The encoder's final states, passed as the decoder's `initial_state`; with attention,
    the encoder's outputs (and the source mask) passed on for every decoder step to read."""

    state_names: tuple[str, ...]  # `h`, or `h`, `c` for an LSTM
    attention: bool
    name: ClassVar[str] = "handover"

    def variables(self, side: str) -> list[str]:
        """The states as the code names them on one side: `enc_h`, `dec_c`."""
        return [f"{side}_{name}" for name in self.state_names]


@dataclass(frozen=True)
class EncoderDecoder:
    """The whole encoder-decoder as stages: encoder, hand-over, decoder."""

    encoder: Network
    handover: HandOver
    decoder: Network

    @property
    def networks(self) -> tuple[Network, Network]:
        return (self.encoder, self.decoder)


@dataclass(frozen=True)
class Seq2SeqSpec:
    """An encoder and a decoder: what the options ask for, before it is stages.

    The encoder is Embedding -> one recurrent layer (returning sequences and its state);
    the decoder is Embedding -> the same kind of layer, started from the encoder's state
    -> a Dense head over the target vocabulary at every step. With `attention`, each
    decoder step also reads a context of the encoder's outputs (additive attention).
    """

    cell: Cell = Cell.gru
    hidden: int = 4
    embed: int = 4
    attention: bool = False
    tokens: Tokens = Tokens.word
    loss: bool = False  # the decoder ends with the masked loss: the network as it is trained

    @property
    def encoder(self) -> ProbeSpec:
        return ProbeSpec(
            cell=self.cell,
            hidden=(self.hidden,),
            embed=self.embed,
            tokens=self.tokens,
            scope="encoder/",
        )

    def decoder(self, target_vocab: int) -> ProbeSpec:
        """The decoder's description: its head has a logit per target token."""
        return ProbeSpec(
            cell=self.cell,
            hidden=(self.hidden,),
            embed=self.embed,
            tokens=self.tokens,
            head=target_vocab,
            each_step=True,
            context=self.hidden if self.attention else 0,
            scope="decoder/",
            loss=self.loss,
        )

    def network(self, source_vocab: int, target_vocab: int) -> EncoderDecoder:
        return EncoderDecoder(
            encoder=self.encoder.network(source_vocab),
            handover=HandOver(self.cell.state_names, self.attention),
            decoder=self.decoder(target_vocab).network(target_vocab),
        )
