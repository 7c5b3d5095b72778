"""Where each tensor's numbers come from, and what each weight holds: one function per stage
kind, in the order of the stage's tensors (`tables.roles`) and of its weights.

Text only, from the description and the shapes the tensors carry: nothing is recomputed.
"""

from __future__ import annotations

from functools import singledispatch

from rnnprobe.core.kinds import Tokens
from rnnprobe.core.result import ProbeResult
from rnnprobe.core.stages import (
    Embedding,
    Head,
    OneHotEmbedding,
    OneHotInput,
    Recurrent,
    Stage,
    StepHead,
    TokenIds,
    Weight,
)


def _tokens(result: ProbeResult) -> str:
    word = result.spec.tokens is Tokens.word
    return "words of each sentence" if word else "characters of each word"


@singledispatch
def tensor_notes(stage: Stage, result: ProbeResult) -> list[str]:
    """Where each of the stage's tensors (as `tables.roles` lists them) comes from."""
    return []


@tensor_notes.register
def _(stage: OneHotInput, result: ProbeResult) -> list[str]:
    return [f"one-hot rows of the {_tokens(result)}; zero rows after its end"]


@tensor_notes.register
def _(stage: TokenIds, result: ProbeResult) -> list[str]:
    return [
        f"the index of each of the {_tokens(result)} in the vocabulary; 0 (<pad>) after its end",
        "ids != 0, from the Embedding (mask_zero=True): False on <pad> steps",
    ]


@tensor_notes.register
def _(stage: Embedding, result: ProbeResult) -> list[str]:
    return ["row ids[b, t] of the embeddings table: <pad> steps get row 0, not zeros"]


def _outputs_note(stage: Recurrent) -> str:
    if stage.bidirectional:
        joined = f"forward and backward h joined by {stage.merge_mode.value}"
        return joined + (" at every step" if stage.return_sequences else " at the last step")
    if stage.return_sequences:
        return "h at every step; a padded step repeats the word's last h"
    return "h at each word's last real step"


def _state_note(state_name: str) -> str:
    name = state_name.rpartition("/")[2]
    kind = "cell state c" if name.endswith("c") else "hidden state h"
    backward = name.startswith("backward")
    where = "after reading the word backwards" if backward else "after the word's last real step"
    return f"{kind} {where}"


@tensor_notes.register
def _(stage: Recurrent, result: ProbeResult) -> list[str]:
    return [_outputs_note(stage), *(_state_note(state.name) for state in result.states)]


_SOFTMAX = "softmax of the logits over the classes: each row sums to 1"


@tensor_notes.register
def _(stage: Head, result: ProbeResult) -> list[str]:
    return ["head: outputs·kernel + bias", _SOFTMAX]


@tensor_notes.register
def _(stage: StepHead, result: ProbeResult) -> list[str]:
    return ["head: every step's outputs·kernel + bias; padded steps too (Dense has no mask)",
            _SOFTMAX]  # fmt: skip


@singledispatch
def weight_notes(stage: Stage) -> list[str]:
    """What each of the stage's weights holds, in the order of `stage.weights()`."""
    return []


@weight_notes.register
def _(stage: Embedding) -> list[str]:
    return ["vocab x embedding: row i is token i's vector (random, trainable); row 0 is <pad>'s"]


@weight_notes.register
def _(stage: OneHotEmbedding) -> list[str]:
    return ["vocab x embedding: the identity, row i is e_i (constant, not trained)"]


def _recurrent_note(stage: Recurrent, weight: Weight) -> str:
    names = stage.cell.gate_names
    gates = f"{len(names)} gates ({', '.join(names)}) x " if names else ""
    short = weight.name.rpartition("/")[2]
    if short == "kernel":
        return f"{weight.dims[0]} x {gates}hidden: input to every gate"
    if short == "recurrent_kernel":
        return f"hidden x {gates}hidden: h(t-1) to every gate"
    if len(weight.shape) == 2:
        return f"input/recurrent rows x {gates}hidden (reset_after=True)"
    return f"{gates}hidden: added to every gate"


@weight_notes.register
def _(stage: Recurrent) -> list[str]:
    return [_recurrent_note(stage, weight) for weight in stage.weights()]


@weight_notes.register
def _(stage: Head) -> list[str]:
    kernel, _ = stage.weights()
    return [
        f"{kernel.dims[0]} x class: outputs to each class's logit",
        "class: added to each logit",
    ]
