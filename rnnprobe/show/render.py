"""Rich views of results. Nothing is computed here: shapes come from each Tensor.

Each `*_view` function returns one renderable (a `Group` of lines and tables); the CLI
prints it with `show`, an export records it, and a notebook displays it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import (
    Console,
    ConsoleOptions,
    Group,
    JustifyMethod,
    RenderableType,
    RenderResult,
)
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from rnnprobe.core.errors import InputError, RnnProbeError
from rnnprobe.core.result import (
    IDENTICAL_WITHIN,
    PAD,
    SHOWN_WORDS,
    TOLERANCE,
    Batch,
    CheckResult,
    CompareResult,
    Layer,
    ProbeResult,
    ProbeSpec,
    StepTrace,
    Tensor,
    Tokens,
)
from rnnprobe.core.vocab import show_char
from rnnprobe.show import explain, keras_code

EXPORT_FORMATS = {".svg": "svg", ".html": "html", ".htm": "html", ".txt": "text"}
BLANK = Text("")
UNLIMITED = 1_000_000  # a width no table reaches: to measure a renderable unwrapped

if TYPE_CHECKING:  # only `--torch` loads it
    from rnnprobe.core.twin import TorchTwin


class OneLine:
    """A line that is never wrapped or cut (code, a verdict): a terminal wraps it if it must."""

    def __init__(self, text: Text) -> None:
        text.no_wrap, text.overflow = True, "ignore"
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.text

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, 1)  # it needs no width: it is never wrapped


@dataclass(frozen=True)
class Column:
    header: str
    justify: JustifyMethod = "left"
    style: str | None = None


class BlockTable:
    """A table whose data columns split into blocks that fit the width: numbers stay whole.

    The key columns (a step, a character, a row label) head every block; a table that
    fits is one block, exactly as a plain table would print.
    """

    def __init__(self, keys: Sequence[Column], data: Sequence[Column]) -> None:
        self.keys, self.data = list(keys), list(data)
        self.rows: list[tuple[list[RenderableType], str | None]] = []

    def add_row(self, cells: Sequence[RenderableType], style: str | None = None) -> None:
        self.rows.append((list(cells), style))
        self.__dict__.pop("_widths", None)  # measured again with this row

    def _chosen(self, columns: range) -> list[int]:
        """The positions in a row of the key columns and of these data columns."""
        return [*range(len(self.keys)), *(len(self.keys) + c for c in columns)]

    def table(self, columns: range) -> Table:
        table = Table(show_edge=False)
        chosen = self._chosen(columns)
        for column in (*self.keys, *(self.data[c] for c in columns)):
            table.add_column(column.header, justify=column.justify, style=column.style)
        for cells, style in self.rows:
            table.add_row(*(cells[i] for i in chosen), style=style)
        return table

    def _width(self, console: Console, options: ConsoleOptions, columns: range) -> int:
        """The width of the table of these data columns, nothing wrapped.

        For cells of plain text that is each column's widest cell, its padding (2) and
        the rules between columns (1): what rich measures, without building the table.
        """
        widths = self._column_widths()
        if widths is None:
            wide = options.update_width(UNLIMITED)
            return Measurement.get(console, wide, self.table(columns)).maximum
        chosen = self._chosen(columns)
        return sum(widths[i] + 2 for i in chosen) + len(chosen) - 1

    def _column_widths(self) -> list[int] | None:
        if not hasattr(self, "_widths"):
            rows = [cells for cells, _ in self.rows]
            texts = [[cell for cell in row if isinstance(cell, Text)] for row in rows]
            if all(len(text) == len(row) for text, row in zip(texts, rows, strict=True)):
                columns = [*self.keys, *self.data]
                self._widths: list[int] | None = [
                    max([len(column.header), *(row[i].cell_len for row in texts)])
                    for i, column in enumerate(columns)
                ]
            else:
                self._widths = None
        return self._widths

    def _greedy(self, console: Console, options: ConsoleOptions, width: int) -> list[range]:
        """Runs of data columns, each as many as fit in `width` (at least one)."""
        total = len(self.data)
        found, start = [], 0
        while start < total:
            low, high = 1, total - start  # the most columns from `start` that still fit
            while low < high:
                middle = (low + high + 1) // 2
                if self._width(console, options, range(start, start + middle)) <= width:
                    low = middle
                else:
                    high = middle - 1
            found.append(range(start, start + low))
            start += low
        return found

    def blocks(self, console: Console, options: ConsoleOptions) -> list[range]:
        """As few blocks as fit in the width, their widths as even as can be."""
        greedy = self._greedy(console, options, options.max_width)
        low, high = 1, options.max_width  # the narrowest limit that needs no more blocks
        while low < high:
            middle = (low + high) // 2
            if len(self._greedy(console, options, middle)) <= len(greedy):
                high = middle
            else:
                low = middle + 1
        return self._greedy(console, options, low) or [range(0)]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        everything = range(len(self.data))
        if self._width(console, options, everything) <= options.max_width:
            yield self.table(everything)
            return
        for number, columns in enumerate(self.blocks(console, options)):
            if number:
                yield BLANK
            yield self.table(columns)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        full = self._width(console, options, range(len(self.data)))
        return Measurement(min(full, options.max_width), full)


def natural_width(console: Console, view: RenderableType) -> int:
    """How wide `view` is when nothing is wrapped or split: what an export is rendered at."""
    return Measurement.get(console, console.options.update_width(UNLIMITED), view).maximum


def _console(**options: Any) -> Console:
    """Text is never read as rich markup or emoji codes: words are shown as typed."""
    return Console(markup=False, emoji=False, **options)


def stdout_console() -> Console:
    """The console results are printed on."""
    return _console()


def unseen_console() -> Console:
    """A console whose output goes nowhere (its width is what a pipe would get)."""
    return _console(file=io.StringIO())


def show(console: Console, view: RenderableType) -> None:
    """Print a view. Not cropped, so that code lines stay whole on a narrow terminal."""
    console.print(view, crop=False)


def export_format(path: Path) -> str:
    """The export format a file name asks for, checked before any work is done.

    A usage error names an unknown extension, or a place the file could not be written.
    """
    shown = str(path)
    found = EXPORT_FORMATS.get(path.suffix.lower())
    if found is None:
        raise InputError(
            f"--export {shown!r}: unknown extension {path.suffix or '(none)'!r}; "
            "use .svg, .html or .txt"
        )
    directory = path.parent
    if not directory.exists():
        raise InputError(f"--export {shown!r}: the directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise InputError(f"--export {shown!r}: {str(directory)!r} is not a directory")
    if path.is_dir():
        raise InputError(f"--export {shown!r} is a directory: give a file name")
    writable = path if path.exists() else directory
    if not os.access(writable, os.W_OK):
        raise InputError(f"--export {shown!r}: {str(writable)!r} is not writable")
    return found


def export(view: RenderableType, path: Path, kind: str, width: int) -> None:
    """Write a view to `path` as SVG, HTML or plain text, wide enough for its widest table.

    At least `width` columns (the terminal's), so that what fits there looks the same.
    """
    console = _console(record=True, file=io.StringIO(), width=width)
    console.width = max(width, natural_width(console, view))
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
    total = len(batch.lengths)
    if all_words or total <= SHOWN_WORDS:
        return range(total)
    return range(SHOWN_WORDS)


def _more_note(batch: Batch, shown: range) -> list[RenderableType]:
    hidden = len(batch.lengths) - len(shown)
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


def _vector(name: str, values: np.ndarray, note: str = "") -> Text:
    line = Text(f"{name} = [", style="bold")
    for i, value in enumerate(values):
        line.append(" " if i else "")
        line.append_text(_number(float(value)))
    line.append("]", style="bold")
    if note:
        line.append(f"   {note}", style="dim")
    return line


def _shapes_table(tensors: Sequence[tuple[Tensor, str]]) -> Table:
    """Each tensor with its shape, its axes and its role (input, outputs, state)."""
    table = Table(show_edge=False)
    table.add_column("tensor")
    table.add_column("shape", justify="right")
    table.add_column("axes")
    table.add_column("role")
    for tensor, role in tensors:
        table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), role)
    return table


def _roles(result: ProbeResult) -> list[tuple[Tensor, str]]:
    """What the model takes and returns, in the order the data flows: the lecture's
    `outputs, states = rnn(x_data)`, with the Embedding before it and the head after it."""
    batch = result.batch
    found: list[tuple[Tensor, str]] = []
    if batch.ids is not None:
        found.append((batch.ids, "input"))
        if result.mask is not None:
            found.append((result.mask, "mask"))
        if result.embedding is not None:
            found.append((result.embedding, "embedded"))
    else:
        assert batch.x_data is not None
        found.append((batch.x_data, "input"))
    found.append((result.outputs, "outputs"))
    found += [(state, "state") for state in result.states]
    if result.logits is not None:
        found.append((result.logits, "head"))
    if result.probabilities is not None:
        found.append((result.probabilities, "softmax"))
    return found


def _whole_model(result: ProbeResult) -> bool:
    """A model around the RNN (Embedding, head, or the user's own): worth a layers table."""
    spec = result.spec
    return result.model_layers is not None or spec.embed is not None or spec.head is not None


def _layers_table(result: ProbeResult) -> Group:
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


def _vocab_line(batch: Batch) -> Text:
    if batch.vocab is None:  # the user's own x_data
        line = Text(f"{batch.input.name}: {len(batch.lengths)} sequences", style="bold")
    else:
        kind = " words" if batch.tokenizer is Tokens.word else ""
        line = Text(f"vocab ({len(batch.vocab)}{kind}): ", style="bold")
        line.append(" ".join(show_char(c) if len(c) == 1 else c for c in batch.vocab))
    line.append(f"    lengths: {list(batch.lengths)}", style="dim")
    return line


def _token_header(batch: Batch) -> str:
    return "word" if batch.tokenizer is Tokens.word else "char"


def _keys(batch: Batch) -> list[Column]:
    """The key columns of a per-step table: the step, and its token (or `pad`)."""
    return [
        Column("t", justify="right", style="dim"),
        Column(_token_header(batch) if batch.words else ""),
    ]


def _step_keys(batch: Batch, index: int, step: int) -> list[RenderableType]:
    """The t and token cells of a row: the token, or `pad` after the word's end."""
    if step >= batch.lengths[index]:
        shown = PAD if batch.ids is not None else "pad"
        return [Text(str(step)), Text(shown, style="dim italic")]
    tokens = batch.tokens
    token = show_char(tokens[index][step]) if tokens is not None else ""
    return [Text(str(step)), Text(token)]


def _label(token: str) -> str:
    return show_char(token) if len(token) == 1 else token


def _word_table(
    result: ProbeResult | None, batch: Batch, index: int, outputs: np.ndarray | None
) -> Group:
    """One word, one row per step: its input (one-hot, or id, mask and embedding), the
    outputs at every step, and the head's logits and probabilities per step."""
    length = batch.lengths[index]
    title = _word_title(batch, index)
    embedding = result.embedding if result is not None else None
    if batch.ids is not None:
        data = [Column("id", justify="right"), Column("mask", justify="center")]
        if embedding is not None:
            data += [Column(f"emb {i}", justify="right") for i in range(embedding.shape[-1])]
    elif batch.vocab is not None:
        data = [Column(_label(token), justify="center") for token in batch.vocab]
    else:
        data = [Column(f"x {i}", justify="right") for i in range(batch.input.shape[2])]
    if outputs is not None:
        data += [Column(f"out {unit}", justify="right") for unit in range(outputs.shape[-1])]
    per_step = result is not None and result.logits is not None and result.logits.array.ndim == 3
    if per_step:
        assert result is not None and result.logits is not None
        classes = range(result.logits.shape[-1])
        data += [Column(f"logit {k}", justify="right") for k in classes]
        data += [Column(f"p {k}", justify="right") for k in classes]
    table = BlockTable(_keys(batch), data)
    for step in range(batch.time):
        cells = _step_keys(batch, index, step)
        if batch.ids is not None:
            real = step < length
            cells.append(Text(str(int(batch.ids.array[index, step]))))
            cells.append(Text("on", style="green") if real else Text("off", style="dim red"))
            if embedding is not None:
                cells.extend(_number(float(v)) for v in embedding.array[index, step])
        elif batch.vocab is not None:
            assert batch.x_data is not None
            cells.extend(_one_hot(v) for v in batch.x_data.array[index, step])
        else:
            cells.extend(_number(float(v)) for v in batch.input.array[index, step])
        if outputs is not None:
            cells.extend(_number(float(v)) for v in outputs[index, step])
        if per_step:
            assert result is not None and result.logits is not None
            assert result.probabilities is not None
            cells.extend(_number(float(v)) for v in result.logits.array[index, step])
            cells.extend(_probability(float(v)) for v in result.probabilities.array[index, step])
        table.add_row(cells, style=None if step < length else "dim")
    parts: list[RenderableType] = [title, table]
    if length < batch.time and result is not None and batch.ids is not None:
        parts.append(_padding_note(result, length, batch.time))
    return Group(*parts)


def _padding_note(result: ProbeResult, length: int, time: int) -> Text:
    """What happens at a word's padded steps, in words."""
    steps = f"t={length}" if time - length == 1 else f"t={length} to {time - 1}"
    said = [f"{steps}: padding"]
    if result.batch.ids is not None:
        said.append(f"{PAD} (id 0), mask off")
        if result.embedding is not None:
            said.append("the embedding is the <pad> row of the table, not zero")
    said.append("the RNN skips these steps and keeps its state")
    if result.logits is not None and result.logits.array.ndim == 3:
        said.append("the head still runs on them (Keras does not mask a Dense)")
    return Text("; ".join(said), style="dim")


def _probability(value: float) -> Text:
    style = "bold" if value >= 0.5 else "dim" if value < 0.1 else ""
    return Text(f"{value:.4f}", style=style)


def vocab_view(batch: Batch, *, all_words: bool = False) -> Group:
    """`vocab`: the vocabulary, the shape of x_data, and a one-hot table per word."""
    parts: list[RenderableType] = [_vocab_line(batch), _shapes_table([(batch.input, "input")])]
    shown = _shown_words(batch, all_words)
    for index in shown:
        parts += [BLANK, _word_table(None, batch, index, None)]
    parts += _more_note(batch, shown)
    return Group(*parts)


def _weight_table(tensor: Tensor, vocab: Sequence[str] | None) -> Group:
    title = Text(f"{tensor.name} {shape_text(tensor.shape)}", style="bold")
    title.append(f" = {' x '.join(tensor.dims)}", style="dim")
    matrix = tensor.array.reshape(-1, tensor.shape[-1])
    data = [Column(str(column), justify="right") for column in range(matrix.shape[1])]
    table = BlockTable([Column("row", style="dim")], data)
    by_token = vocab is not None and tensor.dims[0] == "vocab"
    for row_index, row in enumerate(matrix):
        if tensor.array.ndim == 1:
            label = "-"
        else:
            label = _label(vocab[row_index]) if vocab is not None and by_token else str(row_index)
        table.add_row([Text(label), *(_number(float(v)) for v in row)])
    return Group(title, table)


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


def _layer_code(result: ProbeResult) -> list[RenderableType]:
    lines = result.layer_lines or keras_code.layer_lines(result.spec, result.batch.width)
    return _code(lines)


def _call_code(result: ProbeResult) -> list[RenderableType]:
    lines = result.call_lines or keras_code.call_lines(result.spec, masked=result.batch.padded)
    return _code(lines)


def _header(result: ProbeResult) -> list[RenderableType]:
    parts = _layer_code(result)
    if result.seed is not None:
        parts.append(Text(f"seed {result.seed}", style="dim"))
    return [*parts, _vocab_line(result.batch)]


def shapes_view(result: ProbeResult) -> Group:
    """`run --shapes`: every tensor's shape, axes, parameters and origin; no values."""
    spec = result.spec
    table = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes", "role", "params"):
        table.add_column(heading, justify="right" if heading in ("shape", "params") else "left")
    notes = Table.grid(padding=(0, 2))
    notes.add_column(style="bold")
    notes.add_column()
    for tensor, role in _roles(result):
        table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), role, "")
        notes.add_row(tensor.name, explain.tensor_note(spec, tensor))
    for weight in result.weights:
        size = f"{weight.array.size:,}"
        dims = " x ".join(weight.dims)
        table.add_row(weight.name, shape_text(weight.shape), dims, "weight", size)
        notes.add_row(weight.name, explain.weight_note(spec, weight))
    parts: list[RenderableType] = [*_header(result), table]
    if _whole_model(result):
        parts.append(_layers_table(result))
    parts += [Text("where the numbers come from:", style="dim"), notes]
    # Plain strings: rich highlights their numbers, as it does for printed text.
    for stage in result.stages:
        name = f"layer {stage.number}" if isinstance(stage, Layer) else stage.name
        parts.append(f"{name}: {stage.formula} = {stage.params:,} parameters")
    parts.append(Text(f"total: {result.params:,} parameters", style="bold"))
    parts += _call_code(result)
    if result.steps is not None:
        parts += [Text("steps (rnnprobe's numpy engine):", style="dim"), _steps_shapes(result)]
    if result.check is not None:
        parts.append(_check_line(result.check))
    return Group(*parts)


def _steps_shapes(result: ProbeResult) -> Table:
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
        *_code(keras_code.layer_lines(cell.spec, width)),
        Text("layer style (weights copied from the cell style):", style="dim"),
        *_code(keras_code.layer_lines(layer.spec, width)),
        Text(f"seed {cell.seed}", style="dim"),
        _vocab_line(cell.batch),
        table,
        verdict,
    )


def _word_title(batch: Batch, index: int) -> Text:
    length = batch.lengths[index]
    if batch.words is None:
        title = Text(f"sequence {index + 1}", style="bold")
    else:
        kind = "sentence" if batch.tokenizer is Tokens.word else "word"
        title = Text(f"{kind} {index + 1}: ", style="bold")
        title.append(batch.words[index])
    title.append(f"  ({length} step{'s' if length != 1 else ''})", style="dim")
    return title


def _value(value: float) -> Text:
    """A step quantity: four decimals, or a dash where a padded step discarded it."""
    return Text("-", style="dim") if np.isnan(value) else _number(value)


def _steps_table(trace: StepTrace, batch: Batch, index: int) -> BlockTable:
    """One row per step of one word; a column per quantity and unit."""
    data = [
        Column(f"{tensor.name} {unit}", justify="right")
        for tensor in trace.tensors
        for unit in range(tensor.shape[-1])
    ]
    table = BlockTable(_keys(batch), data)
    for step in range(batch.time):
        cells = _step_keys(batch, index, step)
        for tensor in trace.tensors:
            cells.extend(_value(float(v)) for v in tensor.array[index, step])
        table.add_row(cells, style=None if step < batch.lengths[index] else "dim")
    return table


class Worked:
    """A line of worked arithmetic that wraps between words and whole vectors only.

    Continuation lines are indented, so that each line of arithmetic stands out.
    """

    INDENT = 4

    def __init__(self, pieces: Sequence[str | np.ndarray]) -> None:
        self.tokens: list[Text] = []
        for piece in pieces:
            if isinstance(piece, str):
                self.tokens += [Text(word) for word in re.findall(r"\S+\s*|\s+", piece)]
            else:
                vector = Text("[")
                for i, value in enumerate(piece):
                    vector.append(" " if i else "")
                    vector.append_text(_number(float(value)))
                vector.append("]")
                self.tokens.append(vector)

    def lines(self, width: int) -> list[Text]:
        lines = [Text()]
        for token in self.tokens:
            line = lines[-1]
            if line.cell_len and line.cell_len + len(token.plain.rstrip()) > width:
                line.rstrip()
                lines.append(Text(" " * self.INDENT))
                line = lines[-1]
            line.append_text(token)
        lines[-1].rstrip()
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in self.lines(options.max_width):
            line.no_wrap, line.overflow = True, "ignore"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        return Measurement(1, sum(token.cell_len for token in self.tokens))


def _trace_title(trace: StepTrace, spec: ProbeSpec) -> Text:
    layer = spec.layers(0)[trace.layer - 1]
    title = Text(f"layer {trace.layer}", style="bold")
    if trace.direction:
        title.append(f", {trace.direction}", style="bold")
    first = "the embedding" if spec.embed is not None else "x_data"
    reads = first if layer.first else f"the outputs of layer {layer.number - 1}"
    title.append(f": {spec.cell.keras_cell}({layer.units}), reading {reads}", style="dim")
    return title


def _steps_parts(result: ProbeResult, all_words: bool) -> list[RenderableType]:
    """Per layer and direction: its equations, then a table per word; word 1's step worked out."""
    assert result.steps is not None
    batch = result.batch
    shown = _shown_words(batch, all_words)
    at = result.steps.at
    parts: list[RenderableType] = []
    for trace in result.steps.traces:
        parts += [BLANK, _trace_title(trace, result.spec)]
        parts += [Text(f"  {line}") for line in trace.equations]
        for index in shown:
            parts += [BLANK, _word_title(batch, index), _steps_table(trace, batch, index)]
            if index == 0:
                char = _label(batch.tokens[0][at]) if batch.tokens else "?"
                parts.append(Text(f"word 1 at t={at} ({char}), worked out:", style="dim"))
                parts += [Worked(line) for line in trace.worked]
    if result.logits is not None:
        parts += _head_steps(result, shown)
    parts += _more_note(batch, shown)
    diff = result.steps.max_abs_diff
    verdict = Text("✓ steps", style="bold green")
    verdict.append(
        f": numpy trace vs Keras outputs and states, max |diff| = {diff:.3g} "
        f"(tolerance {TOLERANCE:g})"
    )
    return [*parts, BLANK, OneLine(verdict)]


def _head_title(result: ProbeResult) -> Text:
    head = result.spec.head_stage(result.batch.width)
    if head is None:  # the user's own model: its last layer
        shown = result.keras_layers[-1].keras_class
    else:
        dense = f"Dense({head.units})"
        shown = f"TimeDistributed({dense})" if head.each_step else dense
    title = Text(f"head: {shown}", style="bold")
    where = "every step of outputs" if result.spec.each_step else "outputs (the last real step)"
    title.append(f", reading {where}: logits = outputs·K + b, softmax over classes", style="dim")
    return title


def _head_lines(result: ProbeResult, index: int) -> list[RenderableType]:
    """Many-to-one: a word's logits and probabilities, and the class they pick."""
    assert result.logits is not None and result.probabilities is not None
    probabilities = result.probabilities.array[index]
    picked = int(np.argmax(probabilities))
    return [
        _vector("logits", result.logits.array[index]),
        _vector("probabilities", probabilities, f"class {picked} is the most likely"),
    ]


def _head_steps(result: ProbeResult, shown: range) -> list[RenderableType]:
    """`--steps`: the head after the recurrent layers, per word."""
    assert result.logits is not None and result.probabilities is not None
    batch = result.batch
    parts: list[RenderableType] = [BLANK, _head_title(result)]
    for index in shown:
        parts += [BLANK, _word_title(batch, index)]
        if result.logits.array.ndim == 2:
            parts += _head_lines(result, index)
            continue
        classes = range(result.logits.shape[-1])
        data = [Column(f"logit {k}", justify="right") for k in classes]
        data += [Column(f"p {k}", justify="right") for k in classes]
        table = BlockTable(_keys(batch), data)
        for step in range(batch.time):
            cells = _step_keys(batch, index, step)
            cells.extend(_number(float(v)) for v in result.logits.array[index, step])
            cells.extend(_probability(float(v)) for v in result.probabilities.array[index, step])
            table.add_row(cells, style=None if step < batch.lengths[index] else "dim")
        parts.append(table)
    return parts


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
    parts: list[Any] = [*_header(result), _shapes_table(_roles(result))]
    if _whole_model(result):
        parts.append(_layers_table(result))
    parts += _call_code(result)
    if not result.states:
        parts.append(Text("no states: return_state is off", style="dim"))
    if diagram is not None:
        from rnnprobe.show.diagram import diagram_view

        parts += [BLANK, diagram_view(result, diagram)]
    elif result.steps is not None:
        parts += _steps_parts(result, all_words)
    else:
        sequences = result.outputs.array.ndim == 3
        shown = _shown_words(batch, all_words)
        for index in shown:
            word: list[RenderableType] = [
                _word_table(result, batch, index, result.outputs.array if sequences else None)
            ]
            if not sequences:
                word.append(_vector("outputs", result.outputs.array[index]))
            notes = result.in_outputs
            word.extend(
                _vector(s.name, s.array[index], notes[s.name][index]) for s in result.states
            )
            if result.logits is not None and result.logits.array.ndim == 2:
                word += _head_lines(result, index)
            parts += [BLANK, Group(*word)]
        parts += _more_note(batch, shown)
    if weights:
        for tensor in result.weights:
            parts += [BLANK, _weight_table(tensor, batch.vocab)]
    if result.torch is not None:
        parts += torch_parts(result, all_words)
    if result.check is not None:
        parts += [BLANK, _check_line(result.check)]
    return Group(*parts)


def _torch_verdict(twin: TorchTwin) -> OneLine:
    verdict = Text("✓ torch vs keras" if twin.ok else "✗ torch vs keras", style="bold")
    verdict.stylize("green" if twin.ok else "red")
    verdict.append(
        f": max |diff| = {twin.max_abs_diff:.3g} over {', '.join(twin.compared)} "
        f"(tolerance {TOLERANCE:g})"
    )
    return OneLine(verdict)


def torch_parts(result: ProbeResult, all_words: bool = False) -> list[RenderableType]:
    """`--torch`: the PyTorch twin, its converted state_dict, what it returns, the check."""
    twin = result.torch
    assert twin is not None
    batch = result.batch
    parts: list[RenderableType] = [BLANK, Text("the same network in PyTorch:", style="bold")]
    parts += _code(twin.modules)
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
    parts += _code(twin.calls)
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
        for index in _shown_words(batch, all_words):
            if batch.lengths[index] == batch.time:
                continue
            parts += [_word_title(batch, index), _torch_table(result, index)]
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
    table = BlockTable(_keys(batch), data)
    for step in range(batch.time):
        cells = _step_keys(batch, index, step)
        cells += [_number(float(v)) for v in result.outputs.array[index, step]]
        cells += [_number(float(v)) for v in twin.output.array[index, step]]
        table.add_row(cells, style=None if step < batch.lengths[index] else "dim")
    return table
