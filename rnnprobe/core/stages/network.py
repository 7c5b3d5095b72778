"""A whole network as stages, and `ProbeSpec`: the options, turned into stages here."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from rnnprobe.core.kinds import ONEHOT, Cell, MergeMode, Style, Tokens
from rnnprobe.core.stages.around import (
    Attention,
    Embedding,
    Features,
    GivenInput,
    Head,
    OneHotEmbedding,
    OneHotInput,
    StepHead,
    TokenIds,
    ValueHead,
)
from rnnprobe.core.stages.base import KerasLayer, Stage, Weight
from rnnprobe.core.stages.loss import Loss, Objective, SquaredLoss, StepLoss
from rnnprobe.core.stages.recurrent import Layer, Recurrent


# -- the whole network -----------------------------------------------------------------------
@dataclass(frozen=True)
class Network:
    """Stages in the order the data flows: an input, maybe an Embedding (and attention), the
    recurrent stack, maybe a head."""

    stages: tuple[Stage, ...]

    @property
    def input(self) -> Stage:
        return self.stages[0]

    @property
    def recurrent(self) -> Recurrent:
        return next(s for s in self.stages if isinstance(s, Recurrent))

    @property
    def loss(self) -> Objective:
        """The loss a trained network ends with."""
        return next(s for s in self.stages if isinstance(s, Objective))

    @property
    def model(self) -> Network:
        """The stages that make the model's output (all but a loss)."""
        return Network(tuple(s for s in self.stages if not isinstance(s, Objective)))

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.recurrent.layers

    @property
    def read_as(self) -> tuple[str, str]:
        """What the first recurrent layer reads, in words: whole, and at one step."""
        found = self.stages[self.stages.index(self.recurrent) - 1].read_as
        assert found is not None, "a recurrent stack reads an input or an Embedding"
        return found

    @property
    def construction_order(self) -> tuple[Stage, ...]:
        """The stages in the order their Keras layers are made (and their weights listed):
        the order of the data, but attention's layers last, as the lab makes them."""
        return tuple(sorted(self.stages, key=lambda stage: stage.built_last))

    def weights(self) -> tuple[Weight, ...]:
        return tuple(w for stage in self.construction_order for w in stage.weights())

    @property
    def params(self) -> int:
        return sum(stage.params for stage in self.stages)

    @property
    def fixed_time(self) -> bool:
        return any(stage.fixed_time for stage in self.stages)

    def keras_rows(self, rows: int, time: int, padded: bool) -> tuple[KerasLayer, ...]:
        """The Keras layers in the order the data flows, as `model.summary()` lists them."""
        found: list[KerasLayer] = []
        masked = padded
        for stage in self.stages:
            added, masked = stage.keras_rows(rows, time, masked)
            found += added
        return tuple(found)


@dataclass(frozen=True)
class ProbeSpec:
    """Everything that decides which Keras RNN is built: the options, before they are stages."""

    style: Style = Style.layer
    cell: Cell = Cell.simple
    hidden: tuple[int, ...] = (2,)
    return_sequences: bool = True
    return_state: bool = True
    bidirectional: bool = False
    merge_mode: MergeMode = MergeMode.concat
    tokens: Tokens = Tokens.char
    embed: int | str | None = None  # None, ONEHOT, or the width of a random Embedding
    head: int | None = None  # classes of a Dense head
    each_step: bool = False  # the head on every step (TimeDistributed), not the last
    context: int = 0  # attention: a context of this width joins each step's embedding
    scope: str = ""  # a prefix of the weight names: `encoder/`, `decoder/`
    loss: bool = False  # a loss after the head: the network as it is trained
    features: bool = False  # the input is a series' windows of numbers (batch, time, features)
    value_head: str | None = None  # a Dense(1) of this activation on the last step (a series)
    value_units: int = 1  # that Dense's outputs: one per horizon and target

    def network(self, vocab_size: int, *, given: bool = False) -> Network:
        """The stages this spec stands for, over a vocabulary of `vocab_size` (with <pad>
        when embedded); `given`: the input is a user's own x_data."""
        return _network(self, vocab_size, given)

    def stages(self, vocab_size: int) -> tuple[Stage, ...]:
        return self.network(vocab_size).stages

    def layers(self, vocab_size: int) -> tuple[Layer, ...]:
        """The recurrent layers in the order they run, each reading the one below."""
        return self.network(vocab_size).layers

    @property
    def recurrent(self) -> Recurrent:
        """The recurrent stack (its sizes do not depend on the vocabulary's)."""
        return self.network(0).recurrent

    @property
    def input_axis(self) -> str:
        """What the first recurrent layer reads: one-hot `vocab` rows or the `embedding`."""
        return self.layers(0)[0].input_name

    @property
    def one_keras_layer(self) -> bool:
        return self.recurrent.one_keras_layer

    def keras_class(self, layer: Layer | None = None) -> str:
        return self.recurrent.keras_class(None if layer is None else (layer,))

    @property
    def state_names(self) -> tuple[str, ...]:
        return self.recurrent.state_names

    @property
    def output_axis(self) -> str:
        return self.recurrent.output_axis


@functools.lru_cache(maxsize=256)
def _network(spec: ProbeSpec, vocab_size: int, given: bool) -> Network:
    stages: list[Stage] = []
    width, axis = vocab_size, "vocab"  # the layers name their first axis as the lecture does
    if spec.features:
        stages.append(Features(vocab_size))
        axis = "features"
    elif spec.embed is None:
        stages.append((GivenInput if given else OneHotInput)(vocab_size))
    else:
        scope = spec.scope or "embedding/"
        embedding: Embedding
        if spec.embed == ONEHOT:
            embedding = OneHotEmbedding(vocab_size, vocab_size, scope)
        else:
            embedding = Embedding(vocab_size, int(spec.embed), scope)
        stages += [TokenIds(vocab_size), embedding]
        width, axis = embedding.width, "embedding"
    if spec.context:
        stages.append(Attention(spec.context))
    layers = []
    width += spec.context
    for number, units in enumerate(spec.hidden, start=1):
        layer = Layer(
            number=number,
            units=units,
            input_width=width,
            input_name=axis,
            cell=spec.cell,
            stacked=len(spec.hidden) > 1,
            bidirectional=spec.bidirectional,
            merge_mode=spec.merge_mode,
            return_sequences=spec.return_sequences if number == len(spec.hidden) else True,
            scope=spec.scope,
        )
        layers.append(layer)
        width = layer.output_width
    recurrent = Recurrent(
        layers=tuple(layers),
        style=spec.style,
        cell=spec.cell,
        bidirectional=spec.bidirectional,
        merge_mode=spec.merge_mode,
        return_sequences=spec.return_sequences,
        return_state=spec.return_state,
    )
    stages.append(recurrent)
    if spec.head is not None:
        kind = StepHead if spec.each_step else Head
        stages.append(kind(units=spec.head, input_width=width, input_axis=recurrent.output_axis))
        if spec.loss:
            stages.append(StepLoss() if spec.each_step else Loss())
    elif spec.value_head is not None:
        stages.append(ValueHead(spec.value_units, width, recurrent.output_axis, spec.value_head))
        if spec.loss:
            stages.append(SquaredLoss())
    return Network(tuple(stages))
