"""Rich views of results. Nothing is computed here: shapes come from each Tensor.

Each `*_view` function returns one renderable (a `Group` of lines and tables); the CLI
prints it with `show`, an export records it, and a notebook displays it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from rnnprobe import explain, keras_code
from rnnprobe.check import TOLERANCE
from rnnprobe.errors import InputError, RnnProbeError
from rnnprobe.result import IDENTICAL_WITHIN, Batch, CheckResult, CompareResult, ProbeResult, Tensor
from rnnprobe.vocab import show_char

SHOWN_WORDS = 8  # per-word tables shown before the rest is summarised (--all shows all)
EXPORT_FORMATS = {".svg": "svg", ".html": "html", ".htm": "html", ".txt": "text"}
BLANK = Text("")


class OneLine:
    """A line that is never wrapped or cut (code, a verdict): a terminal wraps it if it must."""

    def __init__(self, text: Text) -> None:
        text.no_wrap, text.overflow = True, "ignore"
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, 1)  # it needs no width: it is never wrapped


def show(console: Console, view: RenderableType) -> None:
    """Print a view. Not cropped, so that code lines stay whole on a narrow terminal."""
    console.print(view, crop=False)


def export_format(path: Path) -> str:
    """The export format a file name asks for, or a usage error naming the choices."""
    found = EXPORT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"--export {str(path)!r}: unknown extension {path.suffix or '(none)'!r}; "
            "use .svg, .html or .txt"
        )
    return found


def export(view: RenderableType, path: Path, kind: str, width: int) -> None:
    """Write a view to `path` as SVG, HTML or plain text, rendered `width` columns wide."""
    console = Console(record=True, file=io.StringIO(), width=width)
    show(console, view)
    try:
        if kind == "svg":
            console.save_svg(str(path), title="rnnprobe")
        elif kind == "html":
            console.save_html(str(path))
        else:
            console.save_text(str(path))
    except OSError as error:
        raise RnnProbeError(f"cannot write --export file {str(path)!r}: {error.strerror}") from None


def _shown_words(batch: Batch, all_words: bool) -> range:
    """The words that get a table: the first few, or all of them with --all."""
    total = len(batch.words)
    if all_words or total <= SHOWN_WORDS:
        return range(total)
    return range(SHOWN_WORDS)


def _more_note(batch: Batch, shown: range) -> list[RenderableType]:
    hidden = len(batch.words) - len(shown)
    if not hidden:
        return []
    note = Text(
        f"... {hidden:,} more word{'s' if hidden != 1 else ''} "
        "(use --all to show every word, or --json)",
        style="dim",
    )
    return [BLANK, note]


def shape_text(shape: Sequence[int]) -> str:
    """A shape as Python prints a tuple: `(3, 5, 4)`, `(2,)`."""
    return str(tuple(shape))


def _number(value: float) -> Text:
    """Four decimals, coloured by sign, bold when large, dim when small."""
    style = "green" if value > 0 else "red" if value < 0 else "dim"
    if abs(value) >= 0.5:
        style = f"bold {style}"
    elif abs(value) < 0.1:
        style = f"dim {style}"
    return Text(f"{value:.4f}", style=style)


def _one_hot(value: float) -> Text:
    return Text("1", style="bold cyan") if value else Text("0", style="dim")


def _vector(name: str, values: np.ndarray) -> Text:
    line = Text(f"{name} = [", style="bold")
    for i, value in enumerate(values):
        line.append(" " if i else "")
        line.append_text(_number(float(value)))
    line.append("]", style="bold")
    return line


def _shapes_table(tensors: Sequence[Tensor]) -> Table:
    table = Table(show_edge=False)
    table.add_column("tensor")
    table.add_column("shape", justify="right")
    table.add_column("axes")
    for tensor in tensors:
        table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims))
    return table


def _vocab_line(batch: Batch) -> Text:
    line = Text(f"vocab ({len(batch.vocab)}): ", style="bold")
    line.append(" ".join(show_char(c) for c in batch.vocab))
    line.append(f"    lengths: {list(batch.lengths)}", style="dim")
    return line


def _titled(title: Text, table: Table) -> Group:
    """A title line above a table: a table title would wrap to the table's width."""
    return Group(title, table)


def _word_table(batch: Batch, index: int, outputs: np.ndarray | None) -> Group:
    word, length = batch.words[index], batch.lengths[index]
    title = Text(f"word {index + 1}: ", style="bold")
    title.append(word)
    title.append(f"  ({length} step{'s' if length != 1 else ''})", style="dim")
    table = Table(show_edge=False)
    table.add_column("t", justify="right", style="dim")
    table.add_column("char")
    for char in batch.vocab:
        table.add_column(show_char(char), justify="center")
    if outputs is not None:
        for unit in range(outputs.shape[-1]):
            table.add_column(f"out {unit}", justify="right")
    x_rows = batch.x_data.array[index]
    for step, x_row in enumerate(x_rows):
        real = step < length
        label = Text(show_char(word[step])) if real else Text("pad", style="dim italic")
        cells: list[Text] = [Text(str(step)), label, *(_one_hot(v) for v in x_row)]
        if outputs is not None:
            cells.extend(_number(float(v)) for v in outputs[index, step])
        table.add_row(*cells, style=None if real else "dim")
    return _titled(title, table)


def vocab_view(batch: Batch, *, all_words: bool = False) -> Group:
    """`vocab`: the vocabulary, the shape of x_data, and a one-hot table per word."""
    parts: list[RenderableType] = [_vocab_line(batch), _shapes_table([batch.x_data])]
    shown = _shown_words(batch, all_words)
    for index in shown:
        parts += [BLANK, _word_table(batch, index, None)]
    parts += _more_note(batch, shown)
    return Group(*parts)


def _weight_table(tensor: Tensor, vocab: Sequence[str]) -> Group:
    title = Text(f"{tensor.name} {shape_text(tensor.shape)}", style="bold")
    title.append(f" = {' x '.join(tensor.dims)}", style="dim")
    table = Table(show_edge=False)
    matrix = tensor.array.reshape(-1, tensor.shape[-1])
    table.add_column("row", style="dim")
    for column in range(matrix.shape[1]):
        table.add_column(str(column), justify="right")
    by_char = tensor.dims[0] == "vocab"
    for row_index, row in enumerate(matrix):
        if tensor.array.ndim == 1:
            label = "-"
        else:
            label = show_char(vocab[row_index]) if by_char else str(row_index)
        table.add_row(label, *(_number(float(v)) for v in row))
    return _titled(title, table)


def _code(lines: Sequence[str]) -> list[RenderableType]:
    return [OneLine(Text(line, style="bold")) for line in lines]


def _check_line(check: CheckResult) -> OneLine:
    verdict = Text("✓ check ok" if check.ok else "✗ check FAILED", style="bold")
    verdict.stylize("green" if check.ok else "red")
    verdict.append(
        f": numpy re-computation vs Keras, max |diff| = {check.max_abs_diff:.3g} "
        f"(tolerance {TOLERANCE:g})"
    )
    return OneLine(verdict)


def _header(result: ProbeResult) -> list[RenderableType]:
    return [
        *_code(keras_code.layer_lines(result.spec)),
        Text(f"seed {result.seed}", style="dim"),
        _vocab_line(result.batch),
    ]


def shapes_view(result: ProbeResult) -> Group:
    """`run --shapes`: every tensor's shape, axes, parameters and origin; no values."""
    spec, batch = result.spec, result.batch
    table = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes", "params"):
        table.add_column(heading, justify="right" if heading in ("shape", "params") else "left")
    notes = Table.grid(padding=(0, 2))
    notes.add_column(style="bold")
    notes.add_column()
    for tensor in (batch.x_data, result.outputs, *result.states):
        table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), "")
        notes.add_row(tensor.name, explain.tensor_note(spec, tensor))
    for weight in result.weights:
        size = f"{weight.array.size:,}"
        table.add_row(weight.name, shape_text(weight.shape), " x ".join(weight.dims), size)
        notes.add_row(weight.name, explain.weight_note(spec, weight))
    parts: list[RenderableType] = [
        *_header(result),
        table,
        Text("where the numbers come from:", style="dim"),
        notes,
    ]
    # Plain strings: rich highlights their numbers, as it does for printed text.
    parts += [
        f"layer {layer.number}: {layer.formula} = {layer.params:,} parameters"
        for layer in result.layers
    ]
    parts.append(Text(f"total: {result.params:,} parameters", style="bold"))
    parts += _code(keras_code.call_lines(spec, masked=batch.padded))
    if result.check is not None:
        parts.append(_check_line(result.check))
    return Group(*parts)


def compare_view(result: CompareResult) -> Group:
    """`compare`: the two styles side by side, tensor by tensor."""
    table = Table(show_edge=False)
    table.add_column("tensor")
    table.add_column("cell style", justify="right")
    table.add_column("layer style", justify="right")
    table.add_column("max |cell - layer|", justify="right")
    cell, layer = result.cell, result.layer
    for a, b in zip((cell.outputs, *cell.states), (layer.outputs, *layer.states), strict=True):
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
    return Group(
        Text("cell style:", style="dim"),
        *_code(keras_code.layer_lines(cell.spec)),
        Text("layer style (weights copied from the cell style):", style="dim"),
        *_code(keras_code.layer_lines(layer.spec)),
        Text(f"seed {cell.seed}", style="dim"),
        _vocab_line(cell.batch),
        table,
        verdict,
    )


def run_view(result: ProbeResult, *, weights: bool = False, all_words: bool = False) -> Group:
    """`run`: the code, the shapes, and per word its one-hot rows, outputs and states."""
    spec, batch = result.spec, result.batch
    parts: list[Any] = [
        *_header(result),
        _shapes_table([batch.x_data, result.outputs, *result.states]),
        *_code(keras_code.call_lines(spec, masked=batch.padded)),
    ]
    if not result.states:
        parts.append(Text("no states: return_state is off", style="dim"))
    sequences = result.outputs.array.ndim == 3
    shown = _shown_words(batch, all_words)
    for index in shown:
        word: list[RenderableType] = [
            _word_table(batch, index, result.outputs.array if sequences else None)
        ]
        if not sequences:
            word.append(_vector("outputs", result.outputs.array[index]))
        word.extend(_vector(s.name, s.array[index]) for s in result.states)
        parts += [BLANK, Group(*word)]
    parts += _more_note(batch, shown)
    if weights:
        for tensor in result.weights:
            parts += [BLANK, _weight_table(tensor, batch.vocab)]
    if result.check is not None:
        parts += [BLANK, _check_line(result.check)]
    return Group(*parts)
