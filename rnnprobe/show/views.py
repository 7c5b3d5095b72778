"""Rich views of results: `vocab`, `run` and `compare`. Nothing is computed here: shapes come
from each Tensor, and each stage adds its own part (`tables.py`).

Each `*_view` function returns one renderable (a `Group` of lines and tables); the CLI
prints it with `widgets.show`, an export records it, and a notebook displays it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.commands.outputs import where_in_outputs
from rnnprobe.core.kinds import IDENTICAL_WITHIN, TOLERANCE, identifier
from rnnprobe.core.result import CompareResult, ProbeResult
from rnnprobe.show import keras_code
from rnnprobe.show.cells import (
    check_line,
    code,
    more_note,
    shape_text,
    shown_words,
    vocab_line,
    weight_table,
)
from rnnprobe.show.tables import (
    all_roles,
    layers_table,
    shapes_table,
    whole_model,
    word_lines,
    word_table,
)
from rnnprobe.show.widgets import BLANK, vector_text


def layer_code(result: ProbeResult) -> list[RenderableType]:
    return code(result.layer_lines or keras_code.layer_lines(result.spec, result.batch.width))


def call_code(result: ProbeResult) -> list[RenderableType]:
    starts = result.initial_state is not None
    return [
        *initial_lines(result),
        *code(
            result.call_lines
            or keras_code.call_lines(result.spec, masked=result.batch.padded, initial=starts)
        ),
    ]


def initial_lines(result: Any) -> list[RenderableType]:
    """`--initial-state` (a probe's, a gradients pass's): where every word starts (h_-1),
    state by state."""
    if result.initial_state is None:
        return []
    said = "initial_state (h_-1, where every word starts; Keras's default is zeros):"
    if getattr(result, "stateful", False):
        said = ("a stateful layer: this call started from the state it held (word 1's row "
                "below) and left it holding its final states; call again to go on from there, "
                "reset_state() (reset=True) to start from zeros:")  # fmt: skip
    lines: list[RenderableType] = [Text(said, style="bold")]
    for tensor in result.initial_state:
        lines.append(Text.assemble(f"  initial_{identifier(tensor.name)} = ",
                                   vector_text(tensor.array[0])))  # fmt: skip
    return lines


def header(result: ProbeResult, *, whole: bool = False) -> list[RenderableType]:
    parts = layer_code(result)
    if result.seed is not None:
        parts.append(Text(f"seed {result.seed}", style="dim"))
    return [*parts, vocab_line(result.batch, whole=whole)]


def result_check_line(result: ProbeResult) -> RenderableType:
    assert result.check is not None
    return check_line(result.check.ok, result.check.max_abs_diff, TOLERANCE)


def run_view(
    result: ProbeResult,
    *,
    weights: bool = False,
    all_words: bool = False,
    diagram: int | None = None,
) -> Group:
    """`run`: the code, the shapes, and per word its one-hot rows, outputs and states.

    With steps, the per-word tables are those of every layer and direction, step by step;
    with `diagram` (a word's index), the picture of the network unrolled over that word.
    """
    batch = result.batch
    stages = result.network.stages
    parts: list[Any] = [*header(result, whole=all_words), shapes_table(all_roles(result))]
    if whole_model(result):
        parts.append(layers_table(result))
    parts += call_code(result)
    if not result.states:
        parts.append(Text("no states: return_state is off", style="dim"))
    if diagram is not None:
        from rnnprobe.show.diagram import diagram_view

        parts += [BLANK, diagram_view(result, diagram)]
    elif result.steps is not None:
        from rnnprobe.show.steps_view import steps_parts

        parts += steps_parts(result, all_words)
    else:
        shown = shown_words(batch, all_words)
        notes = where_in_outputs(result)
        for index in shown:
            word: list[RenderableType] = [word_table(stages, batch, index, result)]
            word += [line for stage in stages for line in word_lines(stage, result, index, notes)]
            parts += [BLANK, Group(*word)]
        parts += more_note(batch, shown)
    if weights:
        for tensor in result.weights:
            parts += [BLANK, weight_table(tensor, batch.vocab)]
    if result.torch is not None:
        from rnnprobe.show.torch_view import torch_parts

        parts += torch_parts(result, all_words)
    if result.chunks is not None:
        from rnnprobe.show.chunks_view import chunks_parts

        parts += chunks_parts(result)
    if result.check is not None:
        parts += [BLANK, result_check_line(result)]
    return Group(*parts)


def compare_view(result: CompareResult) -> Group:
    """`compare`: the two styles side by side, tensor by tensor."""
    table = Table(show_edge=False)
    table.add_column("tensor")
    table.add_column("cell style", justify="right")
    table.add_column("layer style", justify="right")
    table.add_column("max |cell - layer|", justify="right")
    cell, layer = result.cell, result.layer
    for a, b in zip(cell.returned, layer.returned, strict=True):
        diff = result.max_abs_diff[a.name]
        table.add_row(
            a.name,
            shape_text(a.shape),
            shape_text(b.shape),
            Text(f"{diff:.3g}", style="green" if diff <= IDENTICAL_WITHIN else "bold red"),
        )
    if result.identical:
        verdict = Text(f"✓ identical (within {IDENTICAL_WITHIN:g})", style="bold green")
    else:
        verdict = Text(f"✗ different (beyond {IDENTICAL_WITHIN:g})", style="bold red")
    width = cell.batch.width
    return Group(
        Text("cell style:", style="dim"),
        *code(keras_code.layer_lines(cell.spec, width)),
        Text("layer style (weights copied from the cell style):", style="dim"),
        *code(keras_code.layer_lines(layer.spec, width)),
        Text(f"seed {cell.seed}", style="dim"),
        vocab_line(cell.batch),
        *initial_lines(cell),
        table,
        verdict,
    )
