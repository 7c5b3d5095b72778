"""The tables of a probe, each stage adding its part: the tensors with their shapes and roles,
the Keras layers, and per word a row per step (its input, embedding, outputs and logits),
with the lines that follow it (states, a many-to-one head's logits).

One function per stage kind for each part; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import singledispatch

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.kinds import PAD
from rnnprobe.core.result import Batch, ProbeResult, Tensor
from rnnprobe.core.stages import (
    Embedding,
    GivenInput,
    Head,
    OneHotEmbedding,
    OneHotInput,
    Recurrent,
    Stage,
    StepHead,
    TokenIds,
    ValueHead,
)
from rnnprobe.show.cells import keys as key_columns
from rnnprobe.show.cells import (
    one_hot,
    one_hot_cells,
    one_hot_columns,
    probability,
    shape_text,
    step_keys,
    vector,
    word_title,
)
from rnnprobe.show.widgets import BlockTable, Column, number

Cells = list[RenderableType]


# -- the tensors, with their roles -----------------------------------------------------------
@singledispatch
def roles(stage: Stage, result: ProbeResult) -> list[tuple[Tensor, str]]:
    """What a stage takes or makes, with its role in the lecture's `outputs, states =
    rnn(x_data)`, in the order the data flows."""
    return []


@roles.register
def _(stage: OneHotInput, result: ProbeResult) -> list[tuple[Tensor, str]]:
    assert result.batch.x_data is not None
    return [(result.batch.x_data, "input")]


@roles.register
def _(stage: TokenIds, result: ProbeResult) -> list[tuple[Tensor, str]]:
    assert result.batch.ids is not None and result.mask is not None
    return [(result.batch.ids, "input"), (result.mask, "mask")]


@roles.register
def _(stage: Embedding, result: ProbeResult) -> list[tuple[Tensor, str]]:
    assert result.embedding is not None
    return [(result.embedding, "embedded")]


@roles.register
def _(stage: Recurrent, result: ProbeResult) -> list[tuple[Tensor, str]]:
    return [(result.outputs, "outputs"), *((state, "state") for state in result.states)]


@roles.register
def _(stage: Head, result: ProbeResult) -> list[tuple[Tensor, str]]:
    assert result.logits is not None and result.probabilities is not None
    return [(result.logits, "head"), (result.probabilities, stage.probability_word)]


@roles.register
def _(stage: ValueHead, result: ProbeResult) -> list[tuple[Tensor, str]]:
    assert result.predictions is not None
    return [(result.predictions, "prediction")]


def all_roles(result: ProbeResult) -> list[tuple[Tensor, str]]:
    return [found for stage in result.network.stages for found in roles(stage, result)]


def shapes_table(tensors: Sequence[tuple[Tensor, str]]) -> Table:
    """Each tensor with its shape, its axes and its role (input, outputs, state)."""
    table = Table(show_edge=False)
    table.add_column("tensor")
    table.add_column("shape", justify="right")
    table.add_column("axes")
    table.add_column("role")
    for tensor, role in tensors:
        table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), role)
    return table


def whole_model(result: ProbeResult) -> bool:
    """A model around the RNN (Embedding, head, or the user's own): worth a layers table."""
    return result.model_layers is not None or len(result.network.stages) > 2


def layers_table(result: ProbeResult) -> Group:
    """The Keras layers in the order the data flows, as `model.summary()` lists them, with
    the real batch size in every shape; the total is what `count_params()` gives."""
    table = Table(show_edge=False)
    for heading in ("layer", "class", "output shape", "mask out", "params"):
        table.add_column(
            heading, justify="right" if heading in ("output shape", "params") else "left"
        )
    for layer in result.keras_layers:
        table.add_row(
            layer.name,
            layer.keras_class,
            shape_text(layer.shape),
            "yes" if layer.mask else "no",
            f"{layer.params:,}",
        )
    total = Text(f"total: {result.params:,} parameters", style="dim")
    return Group(table, total)


# -- a word, one row per step ----------------------------------------------------------------
@singledispatch
def columns(stage: Stage, batch: Batch, result: ProbeResult | None) -> list[Column]:
    """The stage's columns in a word's table."""
    return []


@singledispatch
def cells(stage: Stage, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    """The stage's cells in the row of word `index` at `step`."""
    return []


@columns.register
def _(stage: OneHotInput, batch: Batch, result: ProbeResult | None) -> list[Column]:
    return one_hot_columns(batch)


@cells.register
def _(stage: OneHotInput, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    return one_hot_cells(batch, index, step)


@columns.register
def _(stage: GivenInput, batch: Batch, result: ProbeResult | None) -> list[Column]:
    return [Column(f"x {i}", justify="right") for i in range(batch.input.shape[2])]


@cells.register
def _(stage: GivenInput, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    return [number(float(v)) for v in batch.input.array[index, step]]


@columns.register
def _(stage: TokenIds, batch: Batch, result: ProbeResult | None) -> list[Column]:
    return [Column("id", justify="right"), Column("mask", justify="center")]


@cells.register
def _(stage: TokenIds, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    assert batch.ids is not None
    real = step < batch.lengths[index]
    mask = Text("on", style="green") if real else Text("off", style="dim red")
    return [Text(str(int(batch.ids.array[index, step]))), mask]


@columns.register
def _(stage: OneHotEmbedding, batch: Batch, result: ProbeResult | None) -> list[Column]:
    """A one-hot embedding's columns are the vocabulary: named by its tokens, as x_data's."""
    return one_hot_columns(batch)


@cells.register
def _(
    stage: OneHotEmbedding, batch: Batch, result: ProbeResult | None, index: int, step: int
) -> Cells:
    assert result is not None and result.embedding is not None
    return [one_hot(v) for v in result.embedding.array[index, step]]


@columns.register
def _(stage: Embedding, batch: Batch, result: ProbeResult | None) -> list[Column]:
    if result is None or result.embedding is None:
        return []
    return [Column(f"emb {i}", justify="right") for i in range(result.embedding.shape[-1])]


@cells.register
def _(stage: Embedding, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    if result is None or result.embedding is None:
        return []
    return [number(float(v)) for v in result.embedding.array[index, step]]


def _per_step(result: ProbeResult | None) -> np.ndarray | None:
    """The outputs, when they hold every step (return_sequences)."""
    if result is None or result.outputs.array.ndim != 3:
        return None
    return result.outputs.array


@columns.register
def _(stage: Recurrent, batch: Batch, result: ProbeResult | None) -> list[Column]:
    outputs = _per_step(result)
    width = 0 if outputs is None else outputs.shape[-1]
    return [Column(f"out {unit}", justify="right") for unit in range(width)]


@cells.register
def _(stage: Recurrent, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    outputs = _per_step(result)
    return [] if outputs is None else [number(float(v)) for v in outputs[index, step]]


@columns.register
def _(stage: StepHead, batch: Batch, result: ProbeResult | None) -> list[Column]:
    assert result is not None and result.logits is not None
    classes = range(result.logits.shape[-1])
    return [*(Column(f"logit {k}", justify="right") for k in classes),
            *(Column(f"p {k}", justify="right") for k in classes)]  # fmt: skip


@cells.register
def _(stage: StepHead, batch: Batch, result: ProbeResult | None, index: int, step: int) -> Cells:
    assert result is not None and result.logits is not None
    assert result.probabilities is not None
    return [*(number(float(v)) for v in result.logits.array[index, step]),
            *(probability(float(v)) for v in result.probabilities.array[index, step])]  # fmt: skip


# -- what a padded step means, said under a word with padding --------------------------------
@singledispatch
def padding_said(stage: Stage) -> list[str] | None:
    """What the stage does at a padded step, in words (None: an input that says nothing)."""
    return []


@padding_said.register
def _(stage: OneHotInput) -> list[str] | None:
    return None  # the table's dim `pad` rows say it


@padding_said.register
def _(stage: TokenIds) -> list[str] | None:
    return [f"{PAD} (id 0), mask off"]


@padding_said.register
def _(stage: Embedding) -> list[str] | None:
    return ["the embedding is the <pad> row of the table, not zero"]


@padding_said.register
def _(stage: Recurrent) -> list[str] | None:
    return ["the RNN skips these steps and keeps its state"]


@padding_said.register
def _(stage: StepHead) -> list[str] | None:
    return ["the head still runs on them (Keras does not mask a Dense)"]


def _padding_note(stages: Sequence[Stage], length: int, time: int) -> Text | None:
    said = [padding_said(stage) for stage in stages]
    if said[0] is None:
        return None
    steps = f"t={length}" if time - length == 1 else f"t={length} to {time - 1}"
    return Text("; ".join([f"{steps}: padding", *(s for part in said for s in part or ())]),
                style="dim")  # fmt: skip


def word_table(
    stages: Sequence[Stage], batch: Batch, index: int, result: ProbeResult | None = None
) -> Group:
    """One word, one row per step, each stage adding its columns."""
    length = batch.lengths[index]
    data = [column for stage in stages for column in columns(stage, batch, result)]
    table = BlockTable(key_columns(batch), data)
    for step in range(batch.time):
        row = step_keys(batch, index, step)
        row += [cell for stage in stages for cell in cells(stage, batch, result, index, step)]
        table.add_row(row, style=None if step < length else "dim")
    parts: list[RenderableType] = [word_title(batch, index), table]
    note = _padding_note(stages, length, batch.time) if result is not None else None
    if length < batch.time and note is not None:
        parts.append(note)
    return Group(*parts)


# -- after a word's table --------------------------------------------------------------------
@singledispatch
def word_lines(
    stage: Stage, result: ProbeResult, index: int, notes: dict[str, tuple[str, ...]]
) -> list[RenderableType]:
    """The lines a stage adds under a word's table."""
    return []


@word_lines.register
def _(
    stage: Recurrent, result: ProbeResult, index: int, notes: dict[str, tuple[str, ...]]
) -> list[RenderableType]:
    found: list[RenderableType] = []
    if result.outputs.array.ndim == 2:
        found.append(vector("outputs", result.outputs.array[index]))
    found += [vector(s.name, s.array[index], notes.get(s.name, ("",) * (index + 1))[index])
              for s in result.states]  # fmt: skip
    return found


@word_lines.register
def _(
    stage: Head, result: ProbeResult, index: int, notes: dict[str, tuple[str, ...]]
) -> list[RenderableType]:
    return head_lines(result, index, stage)


@word_lines.register
def _(
    stage: StepHead, result: ProbeResult, index: int, notes: dict[str, tuple[str, ...]]
) -> list[RenderableType]:
    return []  # in the table, a column per class


def head_lines(result: ProbeResult, index: int, stage: Head) -> list[RenderableType]:
    """Many-to-one: a word's logits and probabilities, and what they say (`stage` reads
    them by its activation; for a user's model it also says who took the softmax)."""
    assert result.logits is not None and result.probabilities is not None
    probabilities = result.probabilities.array[index]
    note = stage.probabilities_said(probabilities, result.model_network is not None)
    return [
        vector("logits", result.logits.array[index]),
        vector("probabilities", probabilities, note),
    ]


@word_lines.register
def _(
    stage: ValueHead, result: ProbeResult, index: int, notes: dict[str, tuple[str, ...]]
) -> list[RenderableType]:
    assert result.predictions is not None
    return [vector("prediction", result.predictions.array[index],
                   f"a regression ({stage.shown_class}): the model's output as it is")]  # fmt: skip
