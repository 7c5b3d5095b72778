"""The choices a network is made of, and what each one knows about itself.

Cheap to import (`vocab` and `--help` read it): enums and constants, no numpy.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

MAX_SEED = 2**32 - 1  # seeds are what numpy's generator takes: 0 to 2**32 - 1
SHOWN_WORDS = 8  # per-word tables a view shows before it summarises the rest
WEIGHT_NAMES = ("kernel", "recurrent_kernel", "bias")  # of every recurrent cell, in Keras
PAD = "<pad>"  # token id 0 when the words go through an Embedding, as the lecture writes it
ONEHOT = "onehot"  # `--embed onehot`: the lecture's constant identity Embedding
BOS, EOS = "<bos>", "<eos>"  # a decoder's first input and its last target, as the lecture
UNK = "<unk>"  # every token outside a vocabulary that has it (held out, rare, unseen)
IDENTICAL_WITHIN = 1e-6  # `compare`: the two styles agree
TOLERANCE = 1e-5  # `--check` and `--steps`: rnnprobe's numpy agrees with Keras


class Style(str, Enum):
    """How the Keras RNN is written: a cell inside `layers.RNN`, or the fused layer."""

    layer = "layer"
    cell = "cell"


class Cell(str, Enum):
    """The recurrent cell, with what Keras and PyTorch call it and how its weights are laid
    out: the one place that knows the gate order and the state names."""

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
    def torch_class(self) -> str:
        """The module's class in `torch.nn`."""
        return {"simple": "RNN", "lstm": "LSTM", "gru": "GRU"}[self.value]

    @property
    def gate_names(self) -> tuple[str, ...]:
        """The gate blocks side by side in the kernels, in Keras's order and naming."""
        return {"simple": (), "lstm": ("i", "f", "c", "o"), "gru": ("z", "r", "h")}[self.value]

    @property
    def torch_gate_order(self) -> tuple[int, ...]:
        """Keras's gate blocks in PyTorch's order: GRU z, r, h -> r, z, n; LSTM's match."""
        return (1, 0, 2) if self is Cell.gru else tuple(range(self.gates))

    @property
    def torch_gate_rule(self) -> str | None:
        """The gate order in words, as the conversion rules say it."""
        return {
            "simple": None,
            "lstm": "LSTM gate blocks kept: Keras i, f, c, o = PyTorch i, f, g, o",
            "gru": "GRU gate blocks reordered: Keras z, r, h -> PyTorch r, z, n",
        }[self.value]

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
    """How `layers.Bidirectional` joins the forward and backward outputs: the one place that
    knows each mode's arithmetic, its code and its name."""

    concat = "concat"
    sum = "sum"
    mul = "mul"
    ave = "ave"

    def merge(self, forward: Any, backward: Any, concatenate: Callable[[Any, Any], Any]) -> Any:
        """The two directions joined (numpy arrays or torch tensors alike)."""
        if self is MergeMode.concat:
            return concatenate(forward, backward)
        if self is MergeMode.sum:
            return forward + backward
        if self is MergeMode.mul:
            return forward * backward
        return (forward + backward) / 2

    def split_gradient(self, d: Any, forward: Any, backward: Any) -> tuple[Any, Any]:
        """The gradient of the joined output, back to each direction's (numpy)."""
        if self is MergeMode.concat:
            units = forward.shape[-1]
            return d[..., :units], d[..., units:]
        if self is MergeMode.sum:
            return d, d
        if self is MergeMode.mul:
            return d * backward, d * forward
        return d / 2, d / 2

    def torch_code(self, forward: str, backward: str) -> str:
        """The merge as PyTorch code on two expressions."""
        return {
            "concat": f"torch.cat([{forward}, {backward}], dim=-1)",
            "sum": f"{forward} + {backward}",
            "mul": f"{forward} * {backward}",
            "ave": f"({forward} + {backward}) / 2",
        }[self.value]

    @property
    def keras_argument(self) -> str:
        """`, merge_mode='sum'` for `layers.Bidirectional(...)`; nothing for the default."""
        return "" if self is MergeMode.concat else f", merge_mode={self.value!r}"

    @property
    def participle(self) -> str:
        """`concatenated`, `summed`, `multiplied`, `averaged`."""
        return {"concat": "concatenated", "sum": "summed", "mul": "multiplied",
                "ave": "averaged"}[self.value]  # fmt: skip

    @property
    def widens(self) -> bool:
        """Whether the joined width is both directions' (concat) rather than one's."""
        return self is MergeMode.concat


class Task(str, Enum):
    """What `train` teaches: the next token, a label per word, or a tag per token; and what
    `seq2seq --train` teaches: each pair's target, one token per decoder step."""

    next = "next"
    labels = "labels"
    tags = "tags"
    seq2seq = "seq2seq"


class Tokens(str, Enum):
    """What a token is: a character of a word, or a whitespace-separated word of a sentence."""

    char = "char"
    word = "word"


def identifier(state_name: str) -> str:
    """A state's name as a Python variable: `h` -> `h`, `1/forward_c` -> `forward_c_1`."""
    layer, _, name = state_name.rpartition("/")
    return f"{name}_{layer}" if layer else name
