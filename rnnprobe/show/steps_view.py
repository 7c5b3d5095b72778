"""`run --steps`: per layer and direction its equations and a table per word, one step worked
out; then the head, per word. Everything shown comes from the result's step traces."""

from __future__ import annotations

from functools import singledispatch

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.result import Batch, ProbeResult, StepTrace
from rnnprobe.core.stages import Head, Stage, StepHead
from rnnprobe.show.cells import (
    keys,
    label,
    more_note,
    probability,
    shape_text,
    shown_words,
    step_keys,
    step_value,
    word_title,
)
from rnnprobe.show.tables import head_lines
from rnnprobe.show.widgets import BLANK, BlockTable, Column, OneLine, Worked, number, vector_text


def _steps_table(trace: StepTrace, batch: Batch, index: int) -> BlockTable:
    """One row per step of one word; a column per quantity and unit."""
    data = [
        Column(f"{tensor.name} {unit}", justify="right")
        for tensor in trace.tensors
        for unit in range(tensor.shape[-1])
    ]
    table = BlockTable(keys(batch), data)
    for step in range(batch.time):
        cells = step_keys(batch, index, step)
        for tensor in trace.tensors:
            cells.extend(step_value(float(v)) for v in tensor.array[index, step])
        table.add_row(cells, style=None if step < batch.lengths[index] else "dim")
    return table


def _trace_title(trace: StepTrace, result: ProbeResult) -> Text:
    network = result.network
    layer = network.layers[trace.layer - 1]
    title = Text(f"layer {trace.layer}", style="bold")
    if trace.direction:
        title.append(f", {trace.direction}", style="bold")
    reads = network.read_as[0] if layer.first else f"the outputs of layer {layer.number - 1}"
    title.append(f": {layer.cell.keras_cell}({layer.units}), reading {reads}", style="dim")
    return title


def _starts(trace: StepTrace, result: ProbeResult) -> list[RenderableType]:
    """`--initial-state`: the state this layer and direction reads at its first step."""
    if result.initial_state is None:
        return []
    layer = result.network.layers[trace.layer - 1]
    given = {t.name: t.array for t in result.initial_state}
    before = "(T)" if trace.direction == "backward" else "_-1"
    lines: list[RenderableType] = []
    names = layer.state_names(trace.direction or "")
    for kind, name in zip(layer.cell.state_names, names, strict=True):
        lines.append(Text.assemble(f"  {kind}{before} = ", vector_text(given[name][0]),
                                   (f"  (--initial-state {name}, every word)", "dim")))  # fmt: skip
    return lines


def steps_parts(result: ProbeResult, all_words: bool) -> list[RenderableType]:
    """Per layer and direction: its equations, then a table per word; word 1's step worked out."""
    assert result.steps is not None
    batch = result.batch
    shown = shown_words(batch, all_words)
    at = result.steps.at
    parts: list[RenderableType] = []
    for trace in result.steps.traces:
        parts += [BLANK, _trace_title(trace, result)]
        parts += [Text(f"  {line}") for line in trace.equations]
        parts += _starts(trace, result)
        for index in shown:
            parts += [BLANK, word_title(batch, index), _steps_table(trace, batch, index)]
            if index == 0:
                char = label(batch.tokens[0][at]) if batch.tokens else "?"
                parts.append(Text(f"word 1 at t={at} ({char}), worked out:", style="dim"))
                parts += [Worked(line) for line in trace.worked]
    for stage in result.network.stages:
        parts += head_steps(stage, result, shown)
    parts += more_note(batch, shown)
    diff = result.steps.max_abs_diff
    verdict = Text("✓ steps", style="bold green")
    verdict.append(
        f": numpy trace vs Keras outputs and states, max |diff| = {diff:.3g} "
        f"(tolerance {TOLERANCE:g})"
    )
    return [*parts, BLANK, OneLine(verdict)]


def _head_title(stage: Head) -> Text:
    title = Text(f"head: {stage.shown_class}", style="bold")
    title.append(
        f", reading {stage.reads}: logits = outputs·K + b, {stage.probability_rule}",
        style="dim",
    )
    return title


@singledispatch
def head_steps(stage: Stage, result: ProbeResult, shown: range) -> list[RenderableType]:
    """What a stage after the recurrent layers shows under `--steps`, per word."""
    return []


@head_steps.register
def _(stage: Head, result: ProbeResult, shown: range) -> list[RenderableType]:
    parts: list[RenderableType] = [BLANK, _head_title(stage)]
    for index in shown:
        parts += [BLANK, word_title(result.batch, index), *head_lines(result, index, stage)]
    return parts


@head_steps.register
def _(stage: StepHead, result: ProbeResult, shown: range) -> list[RenderableType]:
    assert result.logits is not None and result.probabilities is not None
    batch = result.batch
    parts: list[RenderableType] = [BLANK, _head_title(stage)]
    classes = range(result.logits.shape[-1])
    for index in shown:
        data = [Column(f"logit {k}", justify="right") for k in classes]
        data += [Column(f"p {k}", justify="right") for k in classes]
        table = BlockTable(keys(batch), data)
        for step in range(batch.time):
            cells = step_keys(batch, index, step)
            cells.extend(number(float(v)) for v in result.logits.array[index, step])
            cells.extend(probability(float(v)) for v in result.probabilities.array[index, step])
            table.add_row(cells, style=None if step < batch.lengths[index] else "dim")
        parts += [BLANK, word_title(batch, index), table]
    return parts


def steps_shapes(result: ProbeResult) -> Table:
    """The step traces' tensors with their shapes, for `--shapes`."""
    assert result.steps is not None
    table = Table(show_edge=False)
    for heading in ("layer", "direction", "tensors", "shape", "axes"):
        table.add_column(heading, justify="right" if heading == "shape" else "left")
    for trace in result.steps.traces:
        first = trace.tensors[0]
        table.add_row(
            str(trace.layer),
            trace.direction or "-",
            " ".join(t.name for t in trace.tensors),
            shape_text(first.shape),
            " x ".join(first.dims),
        )
    return table
