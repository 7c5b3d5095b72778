"""`run --diagram`: the network unrolled over the steps of one word, with its real shapes.

A picture of text on the shared grid (`grid.py`): one column per step (the first six and
the last two of a long word), the outputs and the head on top, a row of cells per layer and
direction with the states passing from step to step, x_t (or the ids and the embedding) at
the bottom. Each stage kind draws its own rows and says its own notes; it reads shapes and
names from the result and computes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import singledispatch

from rich.console import Group
from rich.text import Text

from rnnprobe.core.inputs.vocab import show_char
from rnnprobe.core.kinds import Tokens
from rnnprobe.core.result import ProbeResult
from rnnprobe.core.stages import (
    Embedding,
    Features,
    GivenInput,
    Head,
    Layer,
    OneHotEmbedding,
    OneHotInput,
    Recurrent,
    Stage,
    StepHead,
    TokenIds,
    ValueHead,
)
from rnnprobe.show.grid import Grid

HEAD, TAIL = 6, 2  # the steps shown of a long word: the first six and the last two
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
class Picture:
    """What every stage's rows are drawn with: the result, the word, its shapes, the grid."""

    result: ProbeResult
    word: int
    grid: Grid

    @property
    def length(self) -> int:
        return self.result.batch.lengths[self.word]

    @property
    def rows(self) -> int:
        return self.result.batch.rows

    def padded(self, step: int) -> bool:
        return step >= self.length

    def at_output(self, step: int) -> bool:
        return self.result.spec.return_sequences or step == self.length - 1

    def up(self, step: int) -> Text:
        return self.grid.centred("▲", PAD if self.padded(step) else ARROW)

    def up_to_outputs(self, step: int) -> Text:
        return self.up(step) if self.at_output(step) else Text("")

    def last_step(self) -> str:
        unit = self.result.batch.unit
        if unit is not None:
            return f"the {unit}'s last step, t={self.length - 1}"
        return f"the word's last real step, t={self.length - 1}"


def x_shape(result: ProbeResult) -> str:
    return _shape(result.batch.rows, result.network.layers[0].input_width)


# -- the texts a stage puts in its columns and in the margin (they set the widths) ----------
@singledispatch
def widest(stage: Stage, result: ProbeResult) -> list[str]:
    return []


@widest.register
def _(stage: OneHotInput, result: ProbeResult) -> list[str]:
    return [x_shape(result)]


@widest.register
def _(stage: Embedding, result: ProbeResult) -> list[str]:
    return [x_shape(result)]


@widest.register
def _(stage: Recurrent, result: ProbeResult) -> list[str]:
    return [_shape(result.batch.rows, result.outputs.shape[-1])]


@widest.register
def _(stage: Head, result: ProbeResult) -> list[str]:
    return [_shape(result.batch.rows, stage.units)]


@widest.register
def _(stage: ValueHead, result: ProbeResult) -> list[str]:
    return [_shape(result.batch.rows, stage.units)]


@singledispatch
def margins(stage: Stage, result: ProbeResult) -> list[str]:
    return []


@margins.register
def _(stage: OneHotInput, result: ProbeResult) -> list[str]:
    return ["x_data"]


@margins.register
def _(stage: Embedding, result: ProbeResult) -> list[str]:
    return ["embedding"]


@margins.register
def _(stage: Recurrent, result: ProbeResult) -> list[str]:
    backward = [
        f"{name} ◀" for layer in stage.layers if layer.bidirectional
        for name in _final_names(result, layer, "backward")
    ]  # fmt: skip
    return ["outputs", *backward]


# -- rows, from the top down -----------------------------------------------------------------
@singledispatch
def rows(stage: Stage, pic: Picture) -> list[Text]:
    return []


@rows.register
def _(stage: OneHotInput, pic: Picture) -> list[Text]:
    grid, shape = pic.grid, x_shape(pic.result)
    return [
        grid.line(Text("x_data", style="bold"), grid.row(
            lambda s: grid.centred(f"x_{s}", PAD if pic.padded(s) else X))),
        grid.line("", grid.row(lambda s: grid.centred(shape, PAD if pic.padded(s) else X))),
    ]  # fmt: skip


@rows.register
def _(stage: TokenIds, pic: Picture) -> list[Text]:
    grid = pic.grid
    batch = pic.result.batch
    assert batch.ids is not None
    ids = batch.ids.array[pic.word]
    return [
        grid.line(Text("ids", style="bold"), grid.row(
            lambda s: grid.centred(f"id {int(ids[s])}", PAD if pic.padded(s) else X))),
        grid.line("", grid.row(
            lambda s: grid.centred(_shape(pic.rows), PAD if pic.padded(s) else X))),
    ]  # fmt: skip


@rows.register
def _(stage: Embedding, pic: Picture) -> list[Text]:
    grid, shape = pic.grid, x_shape(pic.result)
    return [
        grid.line(Text("embedding", style="bold"), grid.row(
            lambda s: grid.centred(shape, PAD if pic.padded(s) else X))),
        grid.line("", grid.row(pic.up)),
    ]  # fmt: skip


@rows.register
def _(stage: Recurrent, pic: Picture) -> list[Text]:
    grid = pic.grid
    out_shape = _shape(pic.rows, pic.result.outputs.shape[-1])

    def output(step: int) -> Text:
        if pic.at_output(step):
            return grid.centred(out_shape, PAD if pic.padded(step) else OUT)
        return grid.centred("·", PAD)

    lines = [
        grid.line(Text("outputs", style="bold"), grid.row(output)),
        grid.line("", grid.row(pic.up_to_outputs)),
    ]
    for layer in reversed(stage.layers):
        for direction in reversed(layer.directions):
            lines += _block(pic, layer, direction)
        lines.append(grid.line("", grid.row(pic.up)))
    return lines


@rows.register
def _(stage: Head, pic: Picture) -> list[Text]:
    grid = pic.grid
    shape = _shape(pic.rows, stage.units)

    def logits(step: int) -> Text:
        if pic.at_output(step):
            return grid.centred(shape, HEAD_STYLE)
        return grid.centred("·", PAD)

    return [
        grid.line(Text("logits", style="bold"), grid.row(logits)),
        grid.line("", grid.row(pic.up_to_outputs)),
    ]


@rows.register
def _(stage: ValueHead, pic: Picture) -> list[Text]:
    grid = pic.grid
    shape = _shape(pic.rows, stage.units)

    def predictions(step: int) -> Text:
        return grid.centred(shape, HEAD_STYLE) if pic.at_output(step) else grid.centred("·", PAD)

    return [
        grid.line(Text("predictions", style="bold"), grid.row(predictions)),
        grid.line("", grid.row(pic.up_to_outputs)),
    ]


def _final_names(result: ProbeResult, layer: Layer, direction: str) -> list[str]:
    """The names the tables give this row's final states (or, unreturned, what it carries)."""
    if result.spec.return_state:
        return list(layer.state_names(direction))
    return [", ".join(layer.cell.state_names) + " (not returned)"]


def _starts(result: ProbeResult, layer: Layer, direction: str, word: int) -> str:
    """`--initial-state`: what this row reads before its first step (h_-1), else nothing."""
    if result.initial_state is None:
        return ""
    given = {t.name: t.array for t in result.initial_state}
    names = layer.state_names(direction)
    before = "(T)" if direction == "backward" else "_-1"
    shown = ", ".join(
        f"{kind}{before} = [" + " ".join(f"{v:.4f}" for v in given[name][word]) + "]"
        for kind, name in zip(layer.cell.state_names, names, strict=True)
    )
    return f"; starts from {shown} (--initial-state)"


def _block(pic: Picture, layer: Layer, direction: str) -> list[Text]:
    """A title line, then the row of one layer (and direction) with its final states."""
    grid, result = pic.grid, pic.result
    backward = direction == "backward"
    source = result.network.read_as[1] if layer.first else f"layer {layer.number - 1}'s outputs"
    carried = ", ".join(layer.cell.state_names)
    title = Text(f"layer {layer.number}" + (f", {direction}" if direction else ""), style="bold")
    title.append(
        f": {layer.cell.keras_cell}({layer.units}) reads {source} "
        f"{_shape(pic.rows, layer.input_width)}, carries {carried} {_shape(pic.rows, layer.units)}"
        + (" right to left" if backward else ""),
        style="dim",
    )
    title.append(_starts(result, layer, direction, pic.word), style="dim")
    keras = layer.cell.keras_cell  # SimpleRNNCell, LSTMCell, GRUCell
    name = (keras[: -len("Cell")], "Cell")
    steps = grid.steps

    def arrow(position: int) -> tuple[str, str] | None:
        if position == len(steps) - 1:
            return None
        # Forward, the state goes on to the next step; backward, it comes from it.
        step, following = steps[position], steps[position + 1]
        assert step is not None
        later = step + 1 if following is None else following
        style = PAD if pic.padded(later if backward else step) else ARROW
        return ("◀─" if backward else "─▶", style)

    top, middle, lower, bottom = grid.boxes(
        lambda s: ("mask", "keep") if pic.padded(s) else name,
        lambda s: PAD if pic.padded(s) else CELL,
        arrow,
    )
    names = _final_names(result, layer, direction)
    if backward:  # the state a backward direction ends with leaves at the first step
        lefts = [Text(f"{name} ◀", style=STATE) for name in names] + [Text("")]
        return [title, grid.line("", top), grid.line(lefts[0], middle),
                grid.line(lefts[1], lower), grid.line("", bottom)]  # fmt: skip
    tails = [Text(" ─▶ ", style=ARROW).append(names[0], style=STATE)]
    tails += [Text("    ").append(name, style=STATE) for name in names[1:]] + [Text("")]
    return [title, grid.line("", top), grid.line("", middle, tails[0]),
            grid.line("", lower, tails[1]), grid.line("", bottom)]  # fmt: skip


# -- notes, from the top down ----------------------------------------------------------------
@singledispatch
def notes(stage: Stage, pic: Picture) -> list[str]:
    return []


@notes.register
def _(stage: Head, pic: Picture) -> list[str]:
    return [f"logits {_shape(pic.rows, stage.units)} at {pic.last_step()}: {stage.shown_class} "
            "on outputs, then softmax over the classes"]  # fmt: skip


@notes.register
def _(stage: ValueHead, pic: Picture) -> list[str]:
    squash = "" if stage.activation == "linear" else f", squashed by {stage.activation}"
    return [f"predictions {_shape(pic.rows, stage.units)} at {pic.last_step()}: "
            f"{stage.shown_class} on outputs{squash}"]  # fmt: skip


@notes.register
def _(stage: StepHead, pic: Picture) -> list[str]:
    padded = pic.length < pic.result.batch.time
    return [f"logits {_shape(pic.rows, stage.units)} at every step: {stage.shown_class} "
            "on outputs, then softmax over the classes"
            + ("; it runs on padded steps too" if padded else "")]  # fmt: skip


@notes.register
def _(stage: Recurrent, pic: Picture) -> list[str]:
    out_shape = _shape(pic.rows, pic.result.outputs.shape[-1])
    where = "every step" if stage.return_sequences else pic.last_step()
    joined = f"; the two directions {stage.merge_mode.participle}" if stage.bidirectional else ""
    return [f"outputs {out_shape} at {where}{joined}"]


@notes.register
def _(stage: Embedding, pic: Picture) -> list[str]:
    kind = "random rows"
    return [_embedding_note(stage, pic, kind)]


@notes.register
def _(stage: OneHotEmbedding, pic: Picture) -> list[str]:
    return [_embedding_note(stage, pic, "one-hot rows (the identity)")]


def _embedding_note(stage: Embedding, pic: Picture, kind: str) -> str:
    return (
        f"embedding {x_shape(pic.result)}: row ids[:, t] of the {stage.vocab_size} x "
        f"{stage.width} table, {kind}; ids {_shape(pic.rows)} per step, <pad> = 0"
    )


@notes.register
def _(stage: OneHotInput, pic: Picture) -> list[str]:
    return [f"x_t {x_shape(pic.result)}: step t of every word in the batch, "
            "one-hot over the vocabulary"]  # fmt: skip


@notes.register
def _(stage: GivenInput, pic: Picture) -> list[str]:
    return [f"x_t {x_shape(pic.result)}: step t of every word in the batch, as given"]


@notes.register
def _(stage: Features, pic: Picture) -> list[str]:
    return [f"x_t {x_shape(pic.result)}: row t of every window, its features scaled"]


@singledispatch
def masked_by(stage: Stage) -> str:
    """How an input's padded steps are masked, in words."""
    return "masked"


@masked_by.register
def _(stage: TokenIds) -> str:
    return "masked (mask from the Embedding)"


def diagram_view(result: ProbeResult, word: int = 0) -> Group:
    """The unrolled picture of the network on word `word` (0-based) of the batch."""
    batch = result.batch
    stages = result.network.stages
    time = batch.time
    length = batch.lengths[word]
    keras = result.network.recurrent.cell.keras_cell
    box = max(len(keras) - len("Cell"), len("mask")) + 2
    texts = [text for stage in stages for text in widest(stage, result)]
    step_width = max(box + 2, *(len(t) + 1 for t in texts), len(f"t={time - 1}") + 1)
    left = max(len(m) for stage in stages for m in margins(stage, result)) + 1
    grid = Grid(left=left, step=step_width, box=box, steps=shown_steps(time))
    pic = Picture(result, word, grid)
    tokens = batch.tokens

    def char(step: int) -> Text:
        if pic.padded(step):
            return grid.centred("<pad>" if batch.ids is not None else "pad", PAD)
        token = tokens[word][step] if tokens else ""
        shown = show_char(token) if len(token) == 1 else token[: step_width - 1]
        return grid.centred(shown, "bold")

    lines = [
        grid.line("", grid.row(
            lambda s: grid.centred(f"t={s}", PAD if pic.padded(s) else "bold"))),
        grid.line("", grid.row(char)),
    ]  # fmt: skip
    said: list[str] = []
    for stage in reversed(stages):
        lines += rows(stage, pic)
        said += notes(stage, pic)
    if length < time:
        steps = f"t={length}" if length == time - 1 else f"t={length} to {time - 1}"
        said.append(f"{steps}: padding, {masked_by(stages[0])}; each keeps the state it gets")
    if time > HEAD + TAIL:
        said.append(f"…: steps {HEAD} to {time - TAIL - 1} left out")
    kind = "sentence" if batch.tokenizer is Tokens.word else "word"
    title = Text(f"{batch.unit or kind} {word + 1}: ", style="bold")
    if batch.words:
        title.append(batch.words[word])
    else:
        title.append(f"x_data[{word}]" if batch.unit else f"sequence {word + 1}")
    title.append(f"  ({length} step{'s' if length != 1 else ''}), unrolled", style="dim")
    return Group(title, *lines, *(Text(n, style="dim") for n in said))
