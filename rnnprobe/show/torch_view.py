"""`run --torch`: the PyTorch twin, its converted state_dict, what it returns, the check."""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.result import ProbeResult, TorchTwin
from rnnprobe.show.cells import code, keys, shape_text, shown_words, step_keys, verdict, word_title
from rnnprobe.show.widgets import BLANK, BlockTable, Column, OneLine, number


def _torch_verdict(twin: TorchTwin) -> OneLine:
    return verdict(
        twin.ok, "torch vs keras", "torch vs keras",
        f": max |diff| = {twin.max_abs_diff:.3g} over {', '.join(twin.compared)} "
        f"(tolerance {TOLERANCE:g})",
    )  # fmt: skip


def torch_parts(result: ProbeResult, all_words: bool = False) -> list[RenderableType]:
    """`--torch`: the PyTorch twin, its converted state_dict, what it returns, the check."""
    twin = result.torch
    assert twin is not None
    batch = result.batch
    parts: list[RenderableType] = [BLANK, Text("the same network in PyTorch:", style="bold")]
    parts += code(twin.modules)
    table = Table(show_edge=False)
    for heading in ("state_dict", "shape"):
        table.add_column(heading, justify="right" if heading == "shape" else "left")
    for tensor in twin.state_dict:
        table.add_row(tensor.name, shape_text(tensor.shape))
    parts += [table, Text("converted from the Keras weights:", style="dim")]
    parts += [Text(f"  {rule}", style="dim") for rule in twin.rules]
    returned = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes"):
        returned.add_column(heading, justify="right" if heading == "shape" else "left")
    rows = [twin.output, *twin.h_n, *twin.c_n, *((twin.logits,) if twin.logits else ())]
    for tensor in rows:
        returned.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims))
    rows_, time, width = twin.output.shape
    parts += [
        returned,
        Text(
            f"output as run, batch first; PyTorch's default layout (batch_first=False) is "
            f"(time, batch, ...) = {shape_text((time, rows_, width))}",
            style="dim",
        ),
    ]
    parts += code(twin.calls)
    parts += [Text(f"{line}", style="bold magenta") for line in twin.slices]
    if batch.padded and result.spec.return_sequences:
        parts.append(
            Text(
                "padded steps: PyTorch has no mask; pad_packed_sequence gives zeros there, "
                "where Keras repeats the last real step (or gives zeros inside Bidirectional); "
                "the real steps and the final states agree",
                style="dim",
            )
        )
        for index in shown_words(batch, all_words):
            if batch.lengths[index] == batch.time:
                continue
            parts += [word_title(batch, index), _torch_table(result, index)]
    parts.append(_torch_verdict(twin))
    return parts


def _torch_table(result: ProbeResult, index: int) -> BlockTable:
    """A padded word: Keras's outputs and PyTorch's side by side, step by step."""
    twin = result.torch
    assert twin is not None
    batch = result.batch
    width = result.outputs.shape[-1]
    data = [Column(f"keras {u}", justify="right") for u in range(width)]
    data += [Column(f"torch {u}", justify="right") for u in range(width)]
    table = BlockTable(keys(batch), data)
    for step in range(batch.time):
        cells = step_keys(batch, index, step)
        cells += [number(float(v)) for v in result.outputs.array[index, step]]
        cells += [number(float(v)) for v in twin.output.array[index, step]]
        table.add_row(cells, style=None if step < batch.lengths[index] else "dim")
    return table
