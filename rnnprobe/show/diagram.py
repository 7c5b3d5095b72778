"""`run --diagram`: the network unrolled over the steps of one word, with its real shapes.

A picture of text: one column per step (the first six and the last two of a long word),
x_t entering at the bottom, a row of cells per layer and direction with the states passing
from step to step, the outputs on top. It reads shapes and names from the result and
computes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Group
from rich.text import Text

from rnnprobe.core.result import Layer, ProbeResult
from rnnprobe.core.vocab import show_char

HEAD, TAIL = 6, 2  # the steps shown of a long word: the first six and the last two
GAP = " … "
MERGED = {"concat": "concatenated", "sum": "summed", "mul": "multiplied", "ave": "averaged"}
CELL, PAD, ARROW, OUT, X, STATE = "bold cyan", "dim", "cyan", "green", "yellow", "bold magenta"
HEAD_STYLE = "bold green"


def shown_steps(time: int) -> list[int | None]:
    """The step of each column; None stands for the steps left out of a long word."""
    if time <= HEAD + TAIL:
        return list(range(time))
    return [*range(HEAD), None, *range(time - TAIL, time)]


def _shape(*dims: int) -> str:
    return str(tuple(dims))


@dataclass(frozen=True)
class _Grid:
    """The columns: a left margin, one column per step shown, and what follows them."""

    left: int
    step: int
    box: int
    steps: list[int | None]
    length: int  # the word's real steps; the rest are padding

    def padded(self, step: int) -> bool:
        return step >= self.length

    def line(self, left: Text | str, cells: list[Text], tail: Text | str = "") -> Text:
        """The margin, one piece per column (the gap column gets `…`), then the tail."""
        out = Text()  # the margin's style stays in the margin
        out.append_text(Text(left) if isinstance(left, str) else left)
        out.pad_right(self.left - out.cell_len)
        for step, cell in zip(self.steps, cells, strict=True):
            if step is None:
                out.append(GAP, style="dim")
                continue
            piece = cell.copy()
            piece.pad_right(self.step - piece.cell_len)
            out.append_text(piece)
        out.append_text(Text(tail) if isinstance(tail, str) else tail)
        out.rstrip()
        out.no_wrap, out.overflow = True, "ignore"
        return out

    def centred(self, text: str, style: str = "") -> Text:
        """Text centred over a cell's box."""
        return Text(text.center(self.box).rstrip(), style=style)

    def row(self, make: Callable[[int], Text]) -> list[Text]:
        """One piece per column from `make(step)` (nothing for the gap column)."""
        return [Text("") if step is None else make(step) for step in self.steps]


def _final_names(result: ProbeResult, layer: Layer, direction: str) -> list[str]:
    """The names the tables give this row's final states (or, unreturned, what it carries)."""
    if result.spec.return_state:
        return list(layer.state_names(direction))
    return [", ".join(result.spec.cell.state_names) + " (not returned)"]


def _cells(result: ProbeResult, grid: _Grid, direction: str) -> list[list[Text]]:
    """The four lines of a row of cell boxes, with the arrows that join them."""
    keras = result.spec.cell.keras_cell  # SimpleRNNCell, LSTMCell, GRUCell
    name = (keras[: -len("Cell")], "Cell")
    inner = grid.box - 2
    backward = direction == "backward"
    lines: list[list[Text]] = [[], [], [], []]
    for position, step in enumerate(grid.steps):
        if step is None:
            for line in lines:
                line.append(Text(""))
            continue
        style = PAD if grid.padded(step) else CELL
        words = ("mask", "keep") if grid.padded(step) else name
        lines[0].append(Text("╭" + "─" * inner + "╮", style=style))
        middle = Text("│" + words[0].center(inner) + "│", style=style)
        if position < len(grid.steps) - 1:
            # Forward, the state goes on to the next step; backward, it comes from it.
            following = grid.steps[position + 1]
            later = step + 1 if following is None else following
            arrow_style = PAD if grid.padded(later if backward else step) else ARROW
            middle.append("◀─" if backward else "─▶", style=arrow_style)
        lines[1].append(middle)
        lines[2].append(Text("│" + words[1].center(inner) + "│", style=style))
        lines[3].append(Text("╰" + "─" * inner + "╯", style=style))
    return lines


def _block(result: ProbeResult, grid: _Grid, layer: Layer, direction: str) -> list[Text]:
    """A title line, then the row of one layer (and direction) with its final states."""
    rows = result.batch.rows
    backward = direction == "backward"
    first = "x_t" if result.spec.embed is None else "the embedding"
    source = first if layer.first else f"layer {layer.number - 1}'s outputs"
    carried = ", ".join(result.spec.cell.state_names)
    title = Text(f"layer {layer.number}" + (f", {direction}" if direction else ""), style="bold")
    title.append(
        f": {result.spec.cell.keras_cell}({layer.units}) reads {source} "
        f"{_shape(rows, layer.input_width)}, carries {carried} {_shape(rows, layer.units)}"
        + (" right to left" if backward else ""),
        style="dim",
    )
    top, middle, lower, bottom = _cells(result, grid, direction)
    names = _final_names(result, layer, direction)
    if backward:  # the state a backward direction ends with leaves at the first step
        lefts = [Text(f"{name} ◀", style=STATE) for name in names] + [Text("")]
        return [
            title,
            grid.line("", top),
            grid.line(lefts[0], middle),
            grid.line(lefts[1], lower),
            grid.line("", bottom),
        ]
    tails = [Text(" ─▶ ", style=ARROW).append(names[0], style=STATE)]
    tails += [Text("    ").append(name, style=STATE) for name in names[1:]] + [Text("")]
    return [
        title,
        grid.line("", top),
        grid.line("", middle, tails[0]),
        grid.line("", lower, tails[1]),
        grid.line("", bottom),
    ]


def diagram_view(result: ProbeResult, word: int = 0) -> Group:
    """The unrolled picture of the network on word `word` (0-based) of the batch."""
    batch, spec = result.batch, result.spec
    rows, time = batch.rows, batch.time
    width = result.recurrent_input.shape[-1]
    length = batch.lengths[word]
    keras = spec.cell.keras_cell
    box = max(len(keras) - len("Cell"), len("mask")) + 2
    out_shape = _shape(rows, result.outputs.shape[-1])
    x_shape = _shape(rows, width)
    logits_shape = _shape(rows, spec.head) if spec.head is not None else ""
    step_width = max(
        box + 2, len(out_shape) + 1, len(x_shape) + 1, len(logits_shape) + 1,
        len(f"t={time - 1}") + 1,
    )  # fmt: skip
    backward_names = [
        f"{name} ◀"
        for layer in result.layers
        for name in (_final_names(result, layer, "backward") if spec.bidirectional else [])
    ]
    margins = ["outputs", "x_data", *backward_names]
    margins += ["embedding"] if spec.embed is not None else []
    left = max(len(m) for m in margins) + 1
    grid = _Grid(left=left, step=step_width, box=box, steps=shown_steps(time), length=length)
    tokens = batch.tokens

    def char(step: int) -> Text:
        if grid.padded(step):
            return grid.centred("<pad>" if batch.ids is not None else "pad", PAD)
        token = tokens[word][step] if tokens else ""
        shown = show_char(token) if len(token) == 1 else token[: step_width - 1]
        return grid.centred(shown, "bold")

    def at_output(step: int) -> bool:
        return spec.return_sequences or step == length - 1

    def output(step: int) -> Text:
        if at_output(step):
            return grid.centred(out_shape, PAD if grid.padded(step) else OUT)
        return grid.centred("·", PAD)

    def up(step: int) -> Text:
        return grid.centred("▲", PAD if grid.padded(step) else ARROW)

    def up_to_outputs(step: int) -> Text:
        return up(step) if at_output(step) else Text("")

    def logits(step: int) -> Text:
        if at_output(step):
            return grid.centred(logits_shape, HEAD_STYLE)
        return grid.centred("·", PAD)

    lines = [
        grid.line(
            "", grid.row(lambda s: grid.centred(f"t={s}", PAD if grid.padded(s) else "bold"))
        ),
        grid.line("", grid.row(char)),
    ]
    if spec.head is not None:
        lines += [
            grid.line(Text("logits", style="bold"), grid.row(logits)),
            grid.line("", grid.row(up_to_outputs)),
        ]
    lines += [
        grid.line(Text("outputs", style="bold"), grid.row(output)),
        grid.line("", grid.row(up_to_outputs)),
    ]
    for layer in reversed(result.layers):
        for direction in reversed(layer.directions):
            lines += _block(result, grid, layer, direction)
        lines.append(grid.line("", grid.row(up)))
    if batch.ids is not None:
        ids = batch.ids.array[word]
        lines.append(grid.line(Text("embedding", style="bold"), grid.row(
            lambda s: grid.centred(x_shape, PAD if grid.padded(s) else X)
        )))  # fmt: skip
        lines.append(grid.line("", grid.row(up)))
        lines.append(grid.line(Text("ids", style="bold"), grid.row(
            lambda s: grid.centred(f"id {int(ids[s])}", PAD if grid.padded(s) else X)
        )))  # fmt: skip
        lines.append(grid.line("", grid.row(
            lambda s: grid.centred(_shape(rows), PAD if grid.padded(s) else X)
        )))  # fmt: skip
    else:
        lines.append(grid.line(Text("x_data", style="bold"), grid.row(
            lambda s: grid.centred(f"x_{s}", PAD if grid.padded(s) else X)
        )))  # fmt: skip
        lines.append(grid.line("", grid.row(
            lambda s: grid.centred(x_shape, PAD if grid.padded(s) else X)
        )))  # fmt: skip
    notes = []
    if spec.head is not None:
        where = "every step" if spec.each_step else f"the word's last real step, t={length - 1}"
        head_class = (
            f"TimeDistributed(Dense({spec.head}))" if spec.each_step else f"Dense({spec.head})"
        )
        notes.append(
            f"logits {logits_shape} at {where}: {head_class} on outputs, "
            "then softmax over the classes"
            + ("; it runs on padded steps too" if spec.each_step and length < time else "")
        )
    notes.append(
        f"outputs {out_shape} at "
        + ("every step" if spec.return_sequences else f"the word's last real step, t={length - 1}")
        + (f"; the two directions {MERGED[spec.merge_mode.value]}" if spec.bidirectional else "")
    )
    if batch.ids is not None:
        stage = spec.embedding(batch.width)
        assert stage is not None
        kind = "one-hot rows (the identity)" if stage.onehot else "random rows"
        notes.append(
            f"embedding {x_shape}: row ids[:, t] of the {stage.vocab_size} x {stage.width} "
            f"table, {kind}; ids {_shape(rows)} per step, <pad> = 0"
        )
    else:
        notes.append(
            f"x_t {x_shape}: step t of every word in the batch, "
            + ("one-hot over the vocabulary" if batch.vocab else "as given")
        )
    if length < time:
        mask = "masked (mask from the Embedding)" if batch.ids is not None else "masked"
        steps = f"t={length}" if length == time - 1 else f"t={length} to {time - 1}"
        notes.append(f"{steps}: padding, {mask}; each keeps the state it gets")
    if time > HEAD + TAIL:
        notes.append(f"…: steps {HEAD} to {time - TAIL - 1} left out")
    kind = "sentence" if batch.tokenizer.value == "word" else "word"
    title = Text(f"{kind} {word + 1}: ", style="bold")
    title.append(batch.words[word] if batch.words else f"sequence {word + 1}")
    title.append(f"  ({length} step{'s' if length != 1 else ''}), unrolled", style="dim")
    return Group(title, *lines, *(Text(note, style="dim") for note in notes))
