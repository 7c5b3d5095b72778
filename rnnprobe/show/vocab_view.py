"""`rnnprobe vocab`: the vocabulary, the shape of x_data, and a one-hot table per word.

Apart from the model's views: `vocab` runs no model, and loads only what this needs.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table

from rnnprobe.core.batch import Batch
from rnnprobe.show.cells import (
    keys,
    more_note,
    one_hot_cells,
    one_hot_columns,
    shape_text,
    shown_words,
    step_keys,
    vocab_line,
    word_title,
)
from rnnprobe.show.widgets import BLANK, BlockTable


def input_table(batch: Batch) -> Table:
    """x_data with its shape and axes, as the model views list their tensors."""
    table = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes", "role"):
        table.add_column(heading, justify="right" if heading == "shape" else "left")
    tensor = batch.input
    table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), "input")
    return table


def one_hot_table(batch: Batch, index: int) -> Group:
    """One word, one row per step, its one-hot row."""
    table = BlockTable(keys(batch), one_hot_columns(batch))
    for step in range(batch.time):
        row = [*step_keys(batch, index, step), *one_hot_cells(batch, index, step)]
        table.add_row(row, style=None if step < batch.lengths[index] else "dim")
    return Group(word_title(batch, index), table)


def vocab_view(batch: Batch, *, all_words: bool = False) -> Group:
    """`vocab`: the vocabulary, the shape of x_data, and a one-hot table per word."""
    parts: list[RenderableType] = [vocab_line(batch), input_table(batch)]
    shown = shown_words(batch, all_words)
    for index in shown:
        parts += [BLANK, one_hot_table(batch, index)]
    parts += more_note(batch, shown)
    return Group(*parts)
