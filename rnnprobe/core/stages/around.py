"""The stages around the recurrent stack: what the model reads (one-hot x_data, a user's
x_data, token ids), the Embedding, the Dense head, and an encoder-decoder's attention."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rnnprobe.core.stages.base import KerasLayer, Stage, Weight


# -- what the model reads -------------------------------------------------------------------
@dataclass(frozen=True)
class OneHotInput(Stage):
    """`x_data` (batch, time, vocab): one one-hot row per character, zero rows as padding."""

    vocab_size: int
    name: ClassVar[str] = "x_data"
    output_axis: ClassVar[str] = "vocab"
    read_as: ClassVar[tuple[str, str]] = ("x_data", "x_t")  # whole, and one step

    @property
    def output_width(self) -> int:
        return self.vocab_size

    def floats(self, rows: int, time: int) -> int:
        return rows * time * self.vocab_size

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        return [], masked


@dataclass(frozen=True)
class GivenInput(OneHotInput):
    """A user's own `x_data` (batch, time, features), as given."""

    output_axis: ClassVar[str] = "input"


@dataclass(frozen=True)
class TokenIds(Stage):
    """Token ids (batch, time) int32 over `<pad>` + the vocabulary, `<pad>` = 0."""

    vocab_size: int  # with <pad> at index 0
    name: ClassVar[str] = "ids"

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        return [], True  # the Embedding makes the mask from the ids


@dataclass(frozen=True)
class Features(GivenInput):
    """A series' windows as x_data (batch, time, features): numbers, one row per time step."""

    output_axis: ClassVar[str] = "features"


# -- Embedding -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Embedding(Stage):
    """`layers.Embedding(V, E, mask_zero=True)`: token ids to vectors, id 0 (`<pad>`) masked."""

    vocab_size: int  # with <pad> at index 0
    width: int
    scope: str = "embedding/"
    name: ClassVar[str] = "embedding"
    keras_class: ClassVar[str] = "Embedding"
    output_axis: ClassVar[str] = "embedding"
    read_as: ClassVar[tuple[str, str]] = ("the embedding", "the embedding")
    trainable: ClassVar[bool] = True
    option: ClassVar[str | None] = "embed"

    @property
    def option_value(self) -> str:
        return str(self.width)

    @property
    def output_width(self) -> int:
        return self.width

    def floats(self, rows: int, time: int) -> int:
        return rows * time * self.width

    def weights(self) -> tuple[Weight, ...]:
        dims = ("vocab", "embedding")
        shape = (self.vocab_size, self.width)
        return (Weight(f"{self.scope}embeddings", shape, dims, self.trainable),)

    @property
    def formula(self) -> str:
        return f"vocab {self.vocab_size} x embedding {self.width}"

    def counts(self) -> tuple[tuple[str, str, int], ...]:
        return ((self.name, self.formula, self.params),)

    def keras_code(self, name: str = "") -> str:
        """The constructor as the lecture writes it."""
        return f"layers.Embedding({self.vocab_size}, {self.width}, mask_zero=True)"

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        shape = (rows, time, self.width)
        return [KerasLayer("embedding", self.keras_class, shape, True, self.params)], True


@dataclass(frozen=True)
class OneHotEmbedding(Embedding):
    """The lecture's one-hot Embedding: the constant identity, not trainable."""

    trainable: ClassVar[bool] = False
    option: ClassVar[str | None] = None  # as wide as the vocabulary

    def keras_code(self, name: str = "") -> str:
        return (
            f"layers.Embedding({self.vocab_size}, {self.width}, "
            f"embeddings_initializer=keras.initializers.Constant(np.eye({self.vocab_size})), "
            "trainable=False, mask_zero=True)"
        )


# -- the head --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Head(Stage):
    """`layers.Dense(N)` on the last real step of the outputs (many-to-one)."""

    units: int
    input_width: int
    input_axis: str  # `hidden` or `2*hidden`
    # The Dense layer's activation in a user's model (`heads.py`): linear gives logits (their
    # softmax is rnnprobe's), softmax or sigmoid give the probabilities themselves.
    activation: str = "linear"
    name: ClassVar[str] = "head"
    keras_class: ClassVar[str] = "Dense"
    option: ClassVar[str | None] = "head"
    each_step: ClassVar[bool] = False

    @property
    def option_value(self) -> str:
        return str(self.units)

    dims: ClassVar[tuple[str, ...]] = ("batch", "class")
    reads: ClassVar[str] = "outputs (the last real step)"

    def keras_code(self) -> str:
        return f"layers.Dense({self.units}{self.activation_code})"

    @property
    def activation_code(self) -> str:
        return "" if self.activation == "linear" else f", activation={self.activation!r}"

    def probabilities_said(self, probabilities: Sequence[float], users: bool) -> str:
        """What a row's probabilities say: the class they pick (for a user's model, who
        took the softmax), or each sigmoid output's yes or no."""
        if self.activation == "sigmoid":
            said = ", ".join(
                f"{k}: {'yes' if p > 0.5 else 'no'}" for k, p in enumerate(probabilities)
            )
            return f"each output's own sigmoid (p > 0.5 says yes): {said}"
        picked = max(range(len(probabilities)), key=lambda k: float(probabilities[k]))
        note = f"class {picked} is the most likely"
        if not users:
            return note
        if self.activation == "softmax":
            return f"{note} (the model's own softmax)"
        return f"{note} (the model outputs logits: their softmax is rnnprobe's)"

    @property
    def probability_rule(self) -> str:
        """How the probabilities come from the logits, in words."""
        return "sigmoid per output" if self.activation == "sigmoid" else "softmax over classes"

    @property
    def probability_word(self) -> str:
        """What turns the logits into probabilities: a sigmoid per output, else a softmax."""
        return "sigmoid" if self.activation == "sigmoid" else "softmax"

    @property
    def shown_class(self) -> str:
        """`Dense(3)`, `TimeDistributed(Dense(3))`."""
        return self.keras_code().replace("layers.", "")

    def weights(self) -> tuple[Weight, ...]:
        return (
            Weight("head/kernel", (self.input_width, self.units), (self.input_axis, "class")),
            Weight("head/bias", (self.units,), ("class",)),
        )

    @property
    def formula(self) -> str:
        return f"({self.input_axis} {self.input_width} + 1) x class {self.units}"

    def counts(self) -> tuple[tuple[str, str, int], ...]:
        return ((self.name, self.formula, self.params),)

    def shape(self, rows: int, time: int) -> tuple[int, ...]:
        return (rows, self.units)

    def floats(self, rows: int, time: int) -> int:
        return 2 * rows * time * self.units  # logits and probabilities

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        row = KerasLayer("head", self.keras_class, self.shape(rows, time), masked, self.params)
        return [row], masked


@dataclass(frozen=True)
class StepHead(Head):
    """`layers.TimeDistributed(layers.Dense(N))` on every step (many-to-many)."""

    keras_class: ClassVar[str] = "TimeDistributed(Dense)"
    each_step: ClassVar[bool] = True
    fixed_time: ClassVar[bool] = True  # TimeDistributed needs to know the time
    dims: ClassVar[tuple[str, ...]] = ("batch", "time", "class")
    reads: ClassVar[str] = "every step of outputs"

    def keras_code(self) -> str:
        return f"layers.TimeDistributed(layers.Dense({self.units}{self.activation_code}))"

    def shape(self, rows: int, time: int) -> tuple[int, ...]:
        return (rows, time, self.units)


ACTIVATIONS = ("linear", "tanh", "sigmoid")  # a value head's, as Keras names them


@dataclass(frozen=True)
class ValueHead(Stage):
    """`layers.Dense(1, activation=...)` on the last step: one number predicted per window
    (a regression), linear or squashed by tanh or sigmoid."""

    units: int
    input_width: int
    input_axis: str  # `hidden` or `2*hidden`
    activation: str = "linear"
    name: ClassVar[str] = "head"
    keras_class: ClassVar[str] = "Dense"
    dims: ClassVar[tuple[str, ...]] = ("batch", "target")
    reads: ClassVar[str] = "outputs (the last step)"

    def keras_code(self) -> str:
        given = "" if self.activation == "linear" else f", activation={self.activation!r}"
        return f"layers.Dense({self.units}{given})"

    @property
    def shown_class(self) -> str:
        return self.keras_code().replace("layers.", "")

    def weights(self) -> tuple[Weight, ...]:
        return (
            Weight("head/kernel", (self.input_width, self.units), (self.input_axis, "target")),
            Weight("head/bias", (self.units,), ("target",)),
        )

    @property
    def formula(self) -> str:
        return f"({self.input_axis} {self.input_width} + 1) x target {self.units}"

    def counts(self) -> tuple[tuple[str, str, int], ...]:
        return ((self.name, self.formula, self.params),)

    def shape(self, rows: int, time: int) -> tuple[int, ...]:
        return (rows, self.units)

    def floats(self, rows: int, time: int) -> int:
        return rows * self.units

    def keras_rows(self, rows: int, time: int, masked: bool) -> tuple[list[KerasLayer], bool]:
        row = KerasLayer("head", self.keras_class, self.shape(rows, time), False, self.params)
        return [row], False


# -- attention (an encoder-decoder's decoder) ------------------------------------------------
@dataclass(frozen=True)
class Attention(Stage):
    """Additive attention over the encoder's outputs, read at every decoder step:
    score = V·tanh(W1·enc_outputs + W2·h_(t-1)); the context joins the step's embedding."""

    units: int  # of W1 and W2, and the width of the context (the encoder's hidden size)
    name: ClassVar[str] = "attention"
    built_last: ClassVar[bool] = True  # the lab constructs W1, W2 and V after the rest
    layer_names: ClassVar[tuple[str, ...]] = ("W1", "W2", "V")

    def dense_units(self, layer: str) -> int:
        return 1 if layer == "V" else self.units

    def weights(self) -> tuple[Weight, ...]:
        found = []
        for layer in self.layer_names:
            units = self.dense_units(layer)
            found += [
                Weight(f"attention/{layer}/kernel", (self.units, units), ("hidden", "units")),
                Weight(f"attention/{layer}/bias", (units,), ("units",)),
            ]
        return tuple(found)

    def keras_code(self) -> str:
        return (
            f"W1, W2, V = layers.Dense({self.units}), layers.Dense({self.units}), "
            "layers.Dense(1)  # additive attention"
        )
