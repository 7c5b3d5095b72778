"""The Keras code of an encoder-decoder, as lines of Python: its layers and its calls, each
written once per stage kind (the encoder's and the decoder's stages, the hand-over between
them, attention), shown in the tables and run as the `--code` script."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatch

from rnnprobe import __version__
from rnnprobe.core.batch import Batch
from rnnprobe.core.commands.seq2seq import Seq2SeqResult
from rnnprobe.core.kinds import Tokens
from rnnprobe.core.stages import Attention, Embedding, Head, Network, Recurrent, Stage, TokenIds
from rnnprobe.core.stages.encdec import EncoderDecoder, HandOver
from rnnprobe.show.keras_code import lookup, printed


@dataclass
class Side:
    """One side's code: `encoder` or `decoder`, its variables, and the lines so far."""

    name: str  # `encoder`, `decoder`
    short: str  # `enc`, `dec`
    handover: HandOver
    lines: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # what the script prints
    attention: bool = False

    @property
    def ids(self) -> str:
        return "source_ids" if self.name == "encoder" else "decoder_input"

    @property
    def embedded(self) -> str:
        return "source_emb" if self.name == "encoder" else "target_emb"

    @property
    def mask(self) -> str:
        return "source_mask" if self.name == "encoder" else "target_mask"

    @property
    def states(self) -> list[str]:
        return self.handover.variables(self.short)


# -- the layers ------------------------------------------------------------------------------
@singledispatch
def constructor(stage: Stage, side: Side) -> list[str]:
    return []


@constructor.register
def _(stage: Embedding, side: Side) -> list[str]:
    return [f"{side.name}_embed = {stage.keras_code()}"]


@constructor.register
def _(stage: Recurrent, side: Side) -> list[str]:
    return [f"{side.name}_rnn = {code}" for code in stage.keras_code()]


@constructor.register
def _(stage: Head, side: Side) -> list[str]:
    return [f"head = {stage.keras_code()}"]


@constructor.register
def _(stage: Attention, side: Side) -> list[str]:
    return [stage.keras_code()]


def _sides(network: EncoderDecoder) -> list[tuple[Network, Side]]:
    handover = network.handover
    return [
        (network.encoder, Side("encoder", "enc", handover)),
        (network.decoder, Side("decoder", "dec", handover)),
    ]


def seq2seq_layer_lines(network: EncoderDecoder) -> list[str]:
    """The layers of the encoder, the decoder, the head (and the attention), in the order
    they are made (the order Keras draws their seeds)."""
    return [
        line
        for half, side in _sides(network)
        for stage in half.construction_order
        for line in constructor(stage, side)
    ]


# -- the calls -------------------------------------------------------------------------------
@singledispatch
def call(stage: Stage, side: Side) -> None:
    return None


@call.register
def _(stage: TokenIds, side: Side) -> None:
    side.shown.append(side.ids)


@call.register
def _(stage: Embedding, side: Side) -> None:
    side.lines += [
        f"{side.embedded} = {side.name}_embed({side.ids})",
        f"{side.mask} = {side.name}_embed.compute_mask({side.ids})",
    ]


@call.register
def _(stage: Attention, side: Side) -> None:
    side.attention = True


@call.register
def _(stage: Recurrent, side: Side) -> None:
    states = ", ".join(side.states)
    if side.name == "encoder":
        side.lines.append(f"enc_outputs, {states} = encoder_rnn(source_emb, mask=source_mask)")
        side.shown += ["enc_outputs", *side.states]
        return
    handed = ", ".join(side.handover.variables("enc"))
    if not side.attention:
        side.lines.append(
            f"dec_outputs, {states} = decoder_rnn(target_emb, mask=target_mask, "
            f"initial_state=[{handed}])"
        )
        side.shown += ["dec_outputs", *side.states]
        return
    side.lines += [
        f"states = [{handed}]  # handed over: the decoder starts from them",
        "previous = ops.zeros_like(states[0])",
        "keys = W1(enc_outputs)",
        "outputs, weights, contexts = [], [], []",
        "for t in range(decoder_input.shape[1]):",
        "    score = V(ops.tanh(keys + W2(ops.expand_dims(states[0], 1))))",
        "    score = ops.where(source_mask[:, :, None], score, -np.inf)  # padding: no weight",
        "    weight = ops.softmax(score, axis=1)",
        "    context = ops.sum(weight * enc_outputs, axis=1)",
        "    output, new_states = decoder_rnn.cell(",
        "        ops.concatenate([target_emb[:, t], context], axis=-1), states",
        "    )",
        "    real = target_mask[:, t, None]  # a padded step keeps the state",
        "    states = [ops.where(real, new, old) for new, old in zip(new_states, states)]",
        "    previous = ops.where(real, output, previous)",
        "    outputs.append(previous)",
        "    weights.append(weight[..., 0])",
        "    contexts.append(context)",
        "dec_outputs = ops.stack(outputs, axis=1)",
        f"{states}{',' if len(side.states) == 1 else ''} = states",
        "attention_weights = ops.stack(weights, axis=1)",
        "context = ops.stack(contexts, axis=1)",
    ]
    side.shown += ["attention_weights", "context", "dec_outputs", *side.states]


@call.register
def _(stage: Head, side: Side) -> None:
    side.lines.append("logits = head(dec_outputs)")
    side.shown.append("logits")


def _calls(network: EncoderDecoder) -> tuple[list[str], list[str]]:
    lines: list[str] = []
    shown: list[str] = []
    for half, side in _sides(network):
        for stage in half.stages:
            call(stage, side)
        lines += side.lines
        shown += side.shown
    return lines, shown


def side_lines(network: EncoderDecoder) -> dict[str, list[str]]:
    """The calls of each side, by its name (`encoder`, `decoder`)."""
    found = {}
    for half, side in _sides(network):
        for stage in half.stages:
            call(stage, side)
        found[side.name] = side.lines
    return found


def seq2seq_call_lines(network: EncoderDecoder) -> list[str]:
    """The calls, with the unpacking that works and the state handed over."""
    return _calls(network)[0]


def seq2seq_script(result: Seq2SeqResult) -> str:
    """A self-contained script (numpy and tensorflow.keras) that rebuilds this probe."""
    network = result.network
    calls, shown = _calls(network)
    lines = [
        f"# Written by rnnprobe {__version__}: the same ids, seed and layers as this probe.",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers, ops",
        "",
        *data_lines(result.source, result.target, result.spec.tokens),
        "",
        f"keras.utils.set_random_seed({result.seed})  # before the layers are built",
        *seq2seq_layer_lines(network),
        "",
        *calls,
        "",
    ]
    ids = ["source_ids", "decoder_input", "decoder_target"]
    shown = ids + [name for name in shown if name not in ids]
    return "\n".join([*lines, *printed(shown)]) + "\n"


def data_lines(source: Batch, target: Batch, tokens: Tokens) -> list[str]:
    """Lines that rebuild the vocabularies and the ids from the sentences."""
    split = "sentence.split()" if tokens is Tokens.word else "list(sentence)"
    source_setup, source_find = lookup(source.vocab or (), "source_vocab", "source_")
    target_setup, target_find = lookup(target.vocab or (), "target_vocab", "target_")
    return [
        f"sources = {list(source.words or ())!r}",
        f"targets = {list(target.words or ())!r}",
        f"source_vocab = {list(source.vocab or ())!r}",
        f"target_vocab = {list(target.vocab or ())!r}",
        *source_setup,
        *target_setup,
        f"source_tokens = [{split} for sentence in sources]",
        f"target_tokens = [{split} for sentence in targets]",
        "source_ids = np.zeros((len(sources), max(map(len, source_tokens))), dtype=np.int32)",
        "for b, tokens in enumerate(source_tokens):",
        f"    source_ids[b, : len(tokens)] = [{source_find.format('token')} for token in tokens]",
        "steps = max(map(len, target_tokens)) + 1",
        "decoder_input = np.zeros((len(targets), steps), dtype=np.int32)  # <bos> + target",
        "decoder_target = np.zeros_like(decoder_input)  # target + <eos>",
        "for b, tokens in enumerate(target_tokens):",
        f"    ids = [{target_find.format('token')} for token in tokens]",
        "    decoder_input[b, : len(ids) + 1] = [target_vocab.index('<bos>'), *ids]",
        "    decoder_target[b, : len(ids) + 1] = [*ids, target_vocab.index('<eos>')]",
    ]
