"""What flows from vocab -> probe -> render/json: the network's description and the results.

`ProbeSpec.layers()` is the one description of the recurrent layers as they are built:
the builder, the weight names, the numpy check, the shown code, the parameter counts and
the memory estimate all read it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where arrays are made: `--help` needs none
    import numpy as np

    from rnnprobe.core.twin import TorchTwin

MAX_SEED = 2**32 - 1  # seeds are what numpy's generator takes: 0 to 2**32 - 1
SHOWN_WORDS = 8  # per-word tables a view shows before it summarises the rest


class Style(str, Enum):
    """How the Keras RNN is written: a cell inside `layers.RNN`, or the fused layer."""

    layer = "layer"
    cell = "cell"


class Cell(str, Enum):
    """The recurrent cell, with what Keras calls it and how its weights are laid out."""

    simple = "simple"
    lstm = "lstm"
    gru = "gru"

    @property
    def keras_layer(self) -> str:
        """The fused layer's class in `keras.layers`."""
        return {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}[self.value]

    @property
    def keras_cell(self) -> str:
        """The cell's class in `keras.layers`."""
        return f"{self.keras_layer}Cell"

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The gate blocks side by side in the kernels, in Keras's order and naming."""
        return {"simple": (), "lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}[self.value]

    @property
    def gates(self) -> int:
        """How many blocks of `hidden` columns the kernels have: 1, LSTM 4, GRU 3."""
        return max(1, len(self.gate_names))

    @property
    def bias_rows(self) -> int:
        """Rows of the bias: GRU's default reset_after=True keeps input and recurrent rows."""
        return 2 if self is Cell.gru else 1

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states the cell carries from step to step, in Keras's order."""
        return ("h", "c") if self is Cell.lstm else ("h",)


class MergeMode(str, Enum):
    """How `layers.Bidirectional` joins the forward and backward outputs."""

    concat = "concat"
    sum = "sum"
    mul = "mul"
    ave = "ave"


WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")
PAD = "<pad>"  # token id 0 when the words go through an Embedding, as the lecture writes it
ONEHOT = "onehot"  # `--embed onehot`: the lecture's constant identity Embedding


def identifier(state_name: str) -> str:
    """A state's name as a Python variable: `h` -> `h`, `1/forward_c` -> `forward_c_1`."""
    layer, _, name = state_name.rpartition("/")
    return f"{name}_{layer}" if layer else name


class Tokens(str, Enum):
    """What a token is: a character of a word, or a whitespace-separated word of a sentence."""

    char = "char"
    word = "word"


@dataclass(frozen=True)
class Layer:
    """One recurrent layer of a probe as Keras builds it (one or two directions)."""

    number: int
    units: int
    input_width: int
    cell: Cell
    stacked: bool
    bidirectional: bool
    merge_mode: MergeMode
    return_sequences: bool
    input_name: str = "vocab"  # what the first layer reads: `vocab` (one-hot) or `embedding`

    @property
    def first(self) -> bool:
        return self.number == 1

    @property
    def input_axis(self) -> str:
        """What the kernel's rows stand for: the vocabulary (or embedding), or the layer below."""
        return self.input_name if self.first else "input"

    @property
    def directions(self) -> tuple[str, ...]:
        return ("forward", "backward") if self.bidirectional else ("",)

    @property
    def output_width(self) -> int:
        """Width of what the layer passes up (and returns as outputs)."""
        concat = self.bidirectional and self.merge_mode is MergeMode.concat
        return self.units * (2 if concat else 1)

    def prefix(self, direction: str) -> str:
        """The weight-name prefix: "", "forward/", "1/", "1/backward/"."""
        return "".join(f"{p}/" for p in (str(self.number) if self.stacked else "", direction) if p)

    def state_names(self, direction: str) -> tuple[str, ...]:
        """e.g. ("h", "c"), ("forward_h",), ("2/backward_h", "2/backward_c")."""
        layer = f"{self.number}/" if self.stacked else ""
        side = f"{direction}_" if direction else ""
        return tuple(f"{layer}{side}{name}" for name in self.cell.state_names)

    @property
    def all_state_names(self) -> tuple[str, ...]:
        return tuple(name for d in self.directions for name in self.state_names(d))

    def weight_shape(self, name: str) -> tuple[int, ...]:
        columns = self.cell.gates * self.units
        if name == "kernel":
            return (self.input_width, columns)
        if name == "recurrent_kernel":
            return (self.units, columns)
        return (self.cell.bias_rows, columns) if self.cell.bias_rows > 1 else (columns,)

    def weight_dims(self, name: str) -> tuple[str, ...]:
        gates = self.cell.gates
        columns = "hidden" if gates == 1 else f"{gates}*hidden"
        if name == "kernel":
            return (self.input_axis, columns)
        if name == "recurrent_kernel":
            return ("hidden", columns)
        return ("input/recurrent", columns) if self.cell.bias_rows > 1 else (columns,)

    @property
    def params(self) -> int:
        per_direction = self.cell.gates * (self.input_width + self.units + self.cell.bias_rows)
        return len(self.directions) * per_direction * self.units

    @property
    def formula(self) -> str:
        """e.g. `2 directions x 4 x (vocab 4 + hidden 2 + 1) x hidden 2`."""
        gates = self.cell.gates
        body = (
            f"({self.input_axis} {self.input_width} + hidden {self.units} + "
            f"{self.cell.bias_rows}) x hidden {self.units}"
        )
        formula = (f"{gates} x " if gates > 1 else "") + body
        return f"2 directions x {formula}" if self.bidirectional else formula


@dataclass(frozen=True)
class EmbeddingStage:
    """`layers.Embedding(V, E, mask_zero=True)`: token ids to vectors, id 0 (`<pad>`) masked."""

    vocab_size: int  # with <pad> at index 0
    width: int
    onehot: bool  # the constant identity (the lecture's one-hot), not trainable

    name = "embedding"
    keras_class = "Embedding"
    weight_names = ("embeddings",)

    @property
    def params(self) -> int:
        return self.vocab_size * self.width

    def weight_shape(self, name: str) -> tuple[int, ...]:
        return (self.vocab_size, self.width)

    def weight_dims(self, name: str) -> tuple[str, ...]:
        return ("vocab", "embedding")

    @property
    def formula(self) -> str:
        return f"vocab {self.vocab_size} x embedding {self.width}"


@dataclass(frozen=True)
class HeadStage:
    """`layers.Dense(N)` on the last step (many-to-one) or `TimeDistributed` on every step."""

    units: int
    input_width: int
    input_axis: str  # `hidden` or `2*hidden`
    each_step: bool

    name = "head"
    weight_names = ("kernel", "bias")

    @property
    def keras_class(self) -> str:
        return "TimeDistributed(Dense)" if self.each_step else "Dense"

    @property
    def params(self) -> int:
        return (self.input_width + 1) * self.units

    def weight_shape(self, name: str) -> tuple[int, ...]:
        return (self.input_width, self.units) if name == "kernel" else (self.units,)

    def weight_dims(self, name: str) -> tuple[str, ...]:
        return (self.input_axis, "class") if name == "kernel" else ("class",)

    @property
    def formula(self) -> str:
        return f"({self.input_axis} {self.input_width} + 1) x class {self.units}"


@dataclass(frozen=True)
class ProbeSpec:
    """Everything that decides which Keras RNN is built."""

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
    context: int = 0  # an attention context concatenated to each step's embedding

    def embedding(self, vocab_size: int) -> EmbeddingStage | None:
        """The Embedding the ids go through first, or None for one-hot x_data."""
        if self.embed is None:
            return None
        onehot = self.embed == ONEHOT
        width = vocab_size if onehot else int(self.embed)
        return EmbeddingStage(vocab_size=vocab_size, width=width, onehot=onehot)

    def head_stage(self, vocab_size: int) -> HeadStage | None:
        """The Dense head on the last recurrent layer, or None."""
        if self.head is None:
            return None
        top = self.layers(vocab_size)[-1]
        return HeadStage(
            units=self.head,
            input_width=top.output_width,
            input_axis=self.output_axis,
            each_step=self.each_step,
        )

    def stages(self, vocab_size: int) -> tuple[EmbeddingStage | Layer | HeadStage, ...]:
        """The whole model in the order the data flows: Embedding, recurrent layers, head."""
        embedding, head = self.embedding(vocab_size), self.head_stage(vocab_size)
        return (
            *((embedding,) if embedding else ()),
            *self.layers(vocab_size),
            *((head,) if head else ()),
        )

    @property
    def input_axis(self) -> str:
        """What the first recurrent layer reads: one-hot `vocab` rows or the `embedding`."""
        return "vocab" if self.embed is None else "embedding"

    def layers(self, vocab_size: int) -> tuple[Layer, ...]:
        """The recurrent layers in the order they run, each reading the one below."""
        found = []
        embedding = self.embedding(vocab_size)
        width = (vocab_size if embedding is None else embedding.width) + self.context
        for number, units in enumerate(self.hidden, start=1):
            layer = Layer(
                number=number,
                units=units,
                input_width=width,
                input_name=self.input_axis,
                cell=self.cell,
                stacked=len(self.hidden) > 1,
                bidirectional=self.bidirectional,
                merge_mode=self.merge_mode,
                return_sequences=self.return_sequences if number == len(self.hidden) else True,
            )
            found.append(layer)
            width = layer.output_width
        return tuple(found)

    @property
    def one_keras_layer(self) -> bool:
        """True when the recurrent part is one Keras layer (cell style, or a single layer)."""
        return len(self.hidden) == 1 or (self.style is Style.cell and not self.bidirectional)

    def keras_class(self, layer: Layer | None = None) -> str:
        """`SimpleRNN`, `Bidirectional(LSTM)`, `RNN(GRUCell)`, `RNN([GRUCell, GRUCell])`."""
        if self.style is Style.cell:
            count = len(self.hidden) if layer is None and self.one_keras_layer else 1
            cells = ", ".join([self.cell.keras_cell] * count)
            inner = f"RNN([{cells}])" if count > 1 else f"RNN({cells})"
        else:
            inner = self.cell.keras_layer
        return f"Bidirectional({inner})" if self.bidirectional else inner

    @property
    def state_names(self) -> tuple[str, ...]:
        """The states Keras returns after `outputs`, in its order, with their names."""
        if not self.return_state:
            return ()
        return tuple(name for layer in self.layers(0) for name in layer.all_state_names)

    @property
    def output_axis(self) -> str:
        """The last axis of `outputs`: `2*hidden` when the directions are concatenated."""
        return (
            "2*hidden" if self.bidirectional and self.merge_mode is MergeMode.concat else "hidden"
        )


@dataclass(frozen=True)
class Tensor:
    """A named array together with the name of each of its axes."""

    name: str
    dims: tuple[str, ...]
    array: np.ndarray = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.dims) != self.array.ndim:
            raise ValueError(f"{self.name}: {len(self.dims)} axis names for {self.array.ndim} axes")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.array.shape)


@dataclass(frozen=True)
class Batch:
    """Words turned into the model's input: one-hot `x_data` (batch, time, vocab) float32,
    or, for a model that starts with an Embedding, token `ids` (batch, time) int32.

    Exactly one of `x_data` and `ids` is set. A batch the user brought (`rnnprobe.probe`)
    has no words and no vocabulary: its input is as given, and `lengths` come from its mask.
    """

    words: tuple[str, ...] | None
    vocab: tuple[str, ...] | None
    lengths: tuple[int, ...]
    x_data: Tensor | None
    ids: Tensor | None = None
    tokenizer: Tokens = Tokens.char

    @property
    def input(self) -> Tensor:
        """What the model is called on: `ids` or `x_data`."""
        found = self.ids if self.ids is not None else self.x_data
        assert found is not None
        return found

    @property
    def rows(self) -> int:
        return len(self.lengths)

    @property
    def time(self) -> int:
        return self.input.shape[1]

    @property
    def width(self) -> int:
        """The vocabulary's size (with `<pad>` when embedded), or the features given."""
        if self.vocab is not None:
            return len(self.vocab)
        return self.input.shape[2] if self.input.array.ndim == 3 else 0

    @functools.cached_property
    def tokens(self) -> tuple[tuple[str, ...], ...] | None:
        """Each word's tokens: its characters, or its whitespace-separated words."""
        if self.words is None:
            return None
        if self.tokenizer is Tokens.word:
            return tuple(tuple(word.split()) for word in self.words)
        return tuple(tuple(word) for word in self.words)

    @property
    def padded(self) -> bool:
        """True when some word is shorter than the batch's time axis."""
        return min(self.lengths) < self.time

    @property
    def mask(self) -> np.ndarray:
        """(batch, time) booleans: True on a word's real steps, False on padding."""
        import numpy as np

        steps = np.arange(self.time)
        return steps[None, :] < np.asarray(self.lengths)[:, None]


@dataclass(frozen=True)
class CheckResult:
    """`run --check`: the largest difference between Keras and rnnprobe's numpy."""

    max_abs_diff: float
    ok: bool


# A line of worked arithmetic: text, and the vectors it shows, in reading order.
Worked = tuple["str | np.ndarray", ...]


@dataclass(frozen=True)
class StepTrace:
    """One recurrent layer and direction, step by step, from rnnprobe's numpy engine.

    Each tensor is (batch, time, hidden) in word order (index t is character t, also for a
    backward direction); h and c are the state after step t, every other quantity is NaN
    at a padded step, which discards it.
    """

    layer: int
    direction: str | None
    equations: tuple[str, ...]
    tensors: tuple[Tensor, ...]
    worked: tuple[Worked, ...]  # word 1 at step `Steps.at`, written out with its numbers


@dataclass(frozen=True)
class Steps:
    """`run --steps`: every layer and direction, in Keras order, checked against Keras."""

    at: int
    traces: tuple[StepTrace, ...]
    max_abs_diff: float


@dataclass(frozen=True)
class KerasLayer:
    """One row of the layers table: a Keras layer as `model.summary()` lists it, with the
    real batch size in its output shape, and whether it passes a mask on."""

    name: str
    keras_class: str
    shape: tuple[int, ...]
    mask: bool
    params: int


@dataclass(frozen=True)
class ProbeResult:
    """What one probe produced: the batch, the model's description and its tensors."""

    batch: Batch
    spec: ProbeSpec
    seed: int | None  # None for a layer the user built (its weights are its own)
    outputs: Tensor
    states: tuple[Tensor, ...]
    weights: tuple[Tensor, ...]
    check: CheckResult | None = None
    steps: Steps | None = None
    # The code shown for a layer the user built, instead of the code of the spec.
    layer_lines: tuple[str, ...] | None = None
    call_lines: tuple[str, ...] | None = None
    embedding: Tensor | None = None  # the Embedding's output (batch, time, embedding)
    logits: Tensor | None = None  # the head's output (batch, class) or (batch, time, class)
    probabilities: Tensor | None = None  # softmax of the logits over the classes
    # The layers of a model the user built, instead of those of the spec.
    model_layers: tuple[KerasLayer, ...] | None = None
    torch: TorchTwin | None = None  # `--torch`: the same network in PyTorch (core/twin.py)

    @property
    def params(self) -> int:
        """Every number in every weight: what Keras's `count_params()` counts."""
        return sum(int(w.array.size) for w in self.weights)

    @property
    def layers(self) -> tuple[Layer, ...]:
        return self.spec.layers(self.batch.width)

    @property
    def returned(self) -> tuple[Tensor, ...]:
        """The tensors the recurrent layer returns, then the head's: what `compare` pairs."""
        extra = (t for t in (self.logits, self.probabilities) if t is not None)
        return (self.outputs, *self.states, *extra)

    @property
    def stages(self) -> tuple[EmbeddingStage | Layer | HeadStage, ...]:
        return self.spec.stages(self.batch.width)

    @property
    def mask(self) -> Tensor | None:
        """(batch, time) booleans, when an Embedding makes the mask (id 0 is padding)."""
        if self.batch.ids is None:
            return None
        return Tensor("mask", ("batch", "time"), self.batch.mask)

    @property
    def recurrent_input(self) -> Tensor:
        """What the first recurrent layer reads: the Embedding's output, or x_data."""
        if self.embedding is not None:
            return self.embedding
        assert self.batch.x_data is not None
        return self.batch.x_data

    @functools.cached_property
    def keras_layers(self) -> tuple[KerasLayer, ...]:
        """The Keras layers in the order the data flows, as `model.summary()` lists them."""
        if self.model_layers is not None:
            return self.model_layers
        spec, rows, time = self.spec, self.batch.rows, self.batch.time
        found = []
        shape: tuple[int, ...]
        masked = self.batch.padded if spec.embed is None else True
        embedding = spec.embedding(self.batch.width)
        if embedding is not None:
            shape = (rows, time, embedding.width)
            found.append(KerasLayer("embedding", "Embedding", shape, True, embedding.params))
        planned = self.layers
        groups = [planned] if spec.one_keras_layer else [(layer,) for layer in planned]
        for number, group in enumerate(groups, start=1):
            top = group[-1]
            width = top.output_width
            shape = (rows, time, width) if top.return_sequences else (rows, width)
            masked = masked and top.return_sequences
            name = "rnn" if len(groups) == 1 else f"rnn_{number}"
            keras_class = spec.keras_class(None if len(groups) == 1 else top)
            found.append(KerasLayer(name, keras_class, shape, masked, sum(g.params for g in group)))
        head = spec.head_stage(self.batch.width)
        if head is not None:
            shape = (rows, time, head.units) if head.each_step else (rows, head.units)
            found.append(KerasLayer("head", head.keras_class, shape, masked, head.params))
        return tuple(found)

    @functools.cached_property
    def in_outputs(self) -> dict[str, tuple[str, ...]]:
        """Per state, per word: the slice of outputs it equals, or why it is in none.

        Found by comparing the arrays when first asked for: the tables ask, JSON does not.
        """
        from rnnprobe.core.outputs import where_in_outputs

        return where_in_outputs(self)


BOS, EOS = "<bos>", "<eos>"  # a decoder's first input and its last target, as the lecture


IDENTICAL_WITHIN = 1e-6  # `compare`: the two styles agree
TOLERANCE = 1e-5  # `--check` and `--steps`: rnnprobe's numpy agrees with Keras


@dataclass(frozen=True)
class CompareResult:
    """`rnnprobe compare`: the two styles run with the same weights."""

    cell: ProbeResult
    layer: ProbeResult
    max_abs_diff: dict[str, float]

    @property
    def identical(self) -> bool:
        return all(diff <= IDENTICAL_WITHIN for diff in self.max_abs_diff.values())
