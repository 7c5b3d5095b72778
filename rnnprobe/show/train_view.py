"""`rnnprobe train` as rich views: the recipe, one word's loss laid out, the first gradients,
the loss every few epochs and its curve, and the predictions before and after.

Nothing is computed here: every number comes from the result.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.commands.trained import Trained, TrainResult
from rnnprobe.core.inputs.tasks import TrainData
from rnnprobe.core.kinds import SHOWN_WORDS, TOLERANCE, Task
from rnnprobe.core.stages import Objective, StepLoss
from rnnprobe.show import keras_code
from rnnprobe.show.cells import (
    check_line,
    code,
    gradients_table,
    label,
    names_line,
    probability,
    shape_text,
    shown_words,
    vocab_line,
    weight_table,
)
from rnnprobe.show.chart import line_chart
from rnnprobe.show.curve import curve
from rnnprobe.show.widgets import BLANK, BlockTable, Column, OneLine, number

TASKS = {
    Task.next: "next token (reads all but the last token, predicts all but the first)",
    Task.labels: "labels (one class per {unit}, from its last real step: many-to-one)",
    Task.tags: "tags (one tag per word of each sentence: many-to-many)",
    Task.seq2seq: "seq2seq (the decoder reads <bos> + the target, predicts the target + "
    "<eos>: teacher forcing)",
}


def recipe(result: TrainResult, *, whole: bool = False) -> list[Any]:
    """The model, the loss and the optimizer as the lecture writes them, and the plan."""
    network = result.network
    batch = result.data.batch
    model = keras_code.layer_lines(result.spec, batch.width)
    loss = keras_code.loss_lines(network.loss)
    return [
        Text(f"task: {task_line(result.data)}", style="bold"),
        *code([*model, *loss, optimizer_line(result)]),
        plan(result),
        Text(f"seed {result.seed}", style="dim"),
        vocab_line(batch, whole=whole, counts=result.data.counts),
        names_line("classes", result.data.classes, whole=whole),
    ]


def optimizer_line(result: Trained) -> str:
    return f"optimizer = keras.optimizers.Adam(learning_rate={result.lr:g})  # epsilon 1e-07"


def plan(result: Trained) -> Text:
    """Epochs, batches (in order or shuffled), the rows held out, and what is trained."""
    data, size = result.data, result.batch_size
    rows, unit = len(data.trained_rows), data.unit
    groups = -(-rows // size)
    order = ("shuffled every epoch, the order drawn from the seed" if result.shuffle
             else f"in the {unit}s' order")  # fmt: skip
    batches = (
        (f"(the one {unit})" if rows == 1 else f"(all {rows} {unit}s in one batch)")
        if groups == 1
        else f"({groups} batches an epoch, {order})"
    )
    held = ""
    if data.held_out is not None:
        held = (f", {len(data.held_out):,} of the {data.batch.rows:,} {unit}s held out "
                f"(--validation {data.validation:g}), measured after every epoch")  # fmt: skip
    frozen = f" of {result.params:,} ({', '.join(result.frozen)} frozen)" if result.frozen else ""
    return Text(
        f"epochs {result.epochs}, batch size {size} {batches}{held}, "
        f"{result.trainable:,} trainable parameters{frozen}",
        style="dim",
    )


def _is_held(data: TrainData, index: int) -> bool:
    return data.held_out is not None and bool(np.isin(index, data.held_out))


def _held(data: TrainData, index: int) -> Text:
    """A row's name, marked when it is held out of training."""
    found = Text(data.word(index))
    if _is_held(data, index):
        found.append(" (held out)", style="dim italic")
    return found


def task_line(data: TrainData) -> str:
    """What the task is, its rows named by what they are."""
    return TASKS[data.task].format(unit=data.unit)


def _words_table(result: TrainResult, all_words: bool) -> Table:
    """What each word reads and what it is taught."""
    data = result.data
    table = Table(show_edge=False)
    for heading in (data.unit, "reads", "target"):
        table.add_column(heading)
    for index in shown_words(data.batch, all_words):
        reads = (data.batch.words or ())[index]
        table.add_row(data.words[index], reads, data.shown(data.names(data.targets.array, index)))
    return table


# -- one word's loss, laid out ---------------------------------------------------------------
@singledispatch
def loss_layout(stage: Objective, result: Trained) -> list[RenderableType]:
    """Many-to-one: each word's class, the probability given to it, -log p, their mean."""
    data, initial = result.data, result.initial
    table = Table(show_edge=False)
    for heading in (data.unit, "target", "p(target)", "-log p"):
        table.add_column(heading, justify="right" if heading.startswith(("p(", "-log")) else "left")
    targets = data.targets.array
    for index in shown_words(data.batch, False):
        p = float(initial.target_probabilities.array[index])
        table.add_row(_held(data, index), data.classes[targets[index]], probability(p),
                      number(float(initial.step_losses.array[index])))  # fmt: skip
    rows = data.trained_rows
    total = float(initial.step_losses.array[rows].sum())
    trained = "" if data.held_out is None else "training "
    return [
        Text(f"the loss before training, {data.unit} by {data.unit}:", style="bold"),
        table,
        Text(
            f"loss = mean of -log p over the {len(rows):,} {trained}{data.unit}s = {total:.4f} / "
            f"{len(rows):,} = {initial.loss:.4f}",
            style="bold",
        ),
    ]


@loss_layout.register
def _(stage: StepLoss, result: Trained) -> list[RenderableType]:
    """Word 1 step by step (input, target, p(target), -log p, mask), then the loss."""
    data, initial = result.data, result.initial
    batch, unit = data.batch, data.unit
    tokens = data.read(0)
    table = BlockTable(
        [Column("t", justify="right", style="dim"), Column("input")],
        [Column("target"), Column("p(target)", justify="right"),
         Column("-log p", justify="right"), Column("mask", justify="center")],
    )  # fmt: skip
    targets = data.targets.array
    for step in range(batch.time):
        real = step < batch.lengths[0]
        p = float(initial.target_probabilities.array[0, step])
        table.add_row(
            [
                Text(str(step)),
                Text(label(tokens[step]) if real else "pad", style="" if real else "dim italic"),
                Text(data.classes[targets[0, step]] if real else "-"),
                probability(p) if real else Text("-", style="dim"),
                number(float(initial.step_losses.array[0, step])) if real else Text("0", "dim"),
                Text("1", style="green") if real else Text("0", style="dim red"),
            ],
            style=None if real else "dim",
        )
    rows = data.trained_rows
    mask = batch.mask[rows]
    total, count = float(initial.step_losses.array[rows].sum()), int(mask.sum())
    word = float(initial.step_losses.array[0].sum())
    cells = mask.size
    every = f"every {unit}" if data.held_out is None else f"every training {unit}"
    lines: list[RenderableType] = [
        Text(f"the loss before training, {unit} 1 step by step:", style="bold"),
        table,
        Text(
            f"{unit} 1: -log p adds up to {word:.4f} over its {batch.lengths[0]} real steps"
            + (" (held out: not in the loss trained)" if _is_held(data, 0) else ""),
            style="dim",
        ),
        Text(
            f"loss = Σ(-log p · mask) / Σ mask over {every} = {total:.4f} / {count:,} = "
            f"{initial.loss:.4f}",
            style="bold",
        ),
        Text("masked: padded steps add nothing to the sum and do not count", style="dim"),
    ]
    if batch.padded:
        means = Table(show_edge=False)
        means.add_column("the mean over")
        means.add_column("loss", justify="right")
        means.add_row(f"the {count:,} real steps (masked: the loss trained)", f"{initial.loss:.4f}")
        means.add_row(f"all {cells} steps, padding counted (target 0)", f"{initial.plain_loss:.4f}")
        lecture = " (the lecture's)" if unit == "word" else ""
        means.add_row(f"each {unit}'s real steps, then the {unit}s{lecture}",
                      f"{initial.sentence_loss:.4f}")  # fmt: skip
        lines.append(means)
    else:
        lines.append(Text("no padding here: the plain mean and the lecture's per-sentence "
                          "mean are the same", style="dim"))  # fmt: skip
    return lines


def first_gradients(result: Trained) -> Group:
    """Every weight's gradient at the first step: its shape (the weight's) and its norm."""
    table = gradients_table(result.initial.weights, result.gradients)
    data = result.data
    first = "the first step's" if result.batch_size >= data.batch.rows else f"all {data.unit}s"
    title = Text(f"gradients of the loss at the initial weights ({first}):", style="bold")
    return Group(title, table)


def history_lines(result: Trained) -> list[RenderableType]:
    """The loss and accuracy every few epochs, and the curve."""
    from rnnprobe.core.options import shown_epochs

    if not result.history:
        return [Text("no epoch finished", style="dim")]
    shown = set(shown_epochs(len(result.history), result.every))
    first = result.history[0].epoch  # after `--load`, the epochs go on from the file's
    width = len(str(first - 1 + result.epochs))
    lines: list[RenderableType] = [
        Text(
            f"epoch {e.epoch:>{width}}  loss {e.loss:.4f}  "
            f"accuracy {e.accuracy:.2f}"
            + ("" if e.val_loss is None else
               f"  val_loss {e.val_loss:.4f}  val_accuracy {e.val_accuracy or 0.0:.2f}")
        )
        for e in result.history
        if e.epoch - first + 1 in shown
    ]  # fmt: skip
    if result.history[0].val_loss is None:
        return [*lines, BLANK, curve([e.loss for e in result.history], first=first)]
    return [
        *lines,
        Text("loss: the training batches' mean, each before its update; val_loss: the "
             "held-out rows after the epoch's updates", style="dim"),
        BLANK,
        Text("loss per epoch:", style="bold"),
        line_chart(
            [("loss", [e.loss for e in result.history], "•", "cyan"),
             ("val_loss", [float(e.val_loss or 0.0) for e in result.history], "+", "yellow")],
            first=f"epoch {first}", last=f"epoch {result.history[-1].epoch}",
        ),
    ]  # fmt: skip


def torch_training(result: TrainResult) -> list[RenderableType]:
    """`--torch`: the twin's curve beside Keras's, the difference per epoch, the weights."""
    from rnnprobe.core.options import shown_epochs

    twin = result.torch
    diffs = result.torch_diffs
    table = Table(show_edge=False)
    for heading in ("epoch", "keras", "pytorch", "|diff|"):
        table.add_column(heading, justify="right")
    shown = set(shown_epochs(len(result.history), result.every))
    for entry, loss, diff in zip(result.history, twin.history, diffs, strict=True):
        if entry.epoch - result.history[0].epoch + 1 in shown:
            table.add_row(str(entry.epoch), f"{entry.loss:.6f}", f"{loss:.6f}", f"{diff:.2e}")
    curves = Table.grid(padding=(0, 4))
    curves.add_row(curve([e.loss for e in result.history], label="keras: loss"),
                   curve(list(twin.history), label="pytorch: loss"))  # fmt: skip
    return [
        Text(
            "the same training in PyTorch: the twin, torch.optim.Adam, the same batches",
            style="bold",
        ),
        Text(
            "epsilon 1e-07 as Keras's (PyTorch's default is 1e-08), put where PyTorch adds "
            "it (after the bias correction); a single-bias cell's bias_hh stays 0",
            style="dim",
        ),
        table,
        curves,
        Text(
            f"largest |keras - pytorch| over the epochs {max(diffs, default=0.0):.2e}; the "
            f"final weights, converted back: {result.torch_weight_diff:.2e}",
            style="bold",
        ),
    ]


def predicted_rows(data: TrainData, all_words: bool) -> list[int]:
    """The rows "before and after" shows: the first few, or with rows held out the first
    few training rows and the first few held-out ones, in the file's order."""
    every = list(shown_words(data.batch, all_words))
    if data.held_out is None or all_words or len(every) == data.batch.rows:
        return every
    half = max(1, SHOWN_WORDS // 2)
    held = data.held_out[:half].tolist()
    return sorted([*data.trained_rows[: SHOWN_WORDS - len(held)].tolist(), *held])


def predictions_table(result: Trained, all_words: bool) -> Table:
    data = result.data
    table = Table(show_edge=False)
    for heading in ("source" if data.unit == "pair" else data.unit, "target", "before", "after"):
        table.add_column(heading)
    for index in predicted_rows(data, all_words):
        target = data.shown(data.names(data.targets.array, index))
        after = data.shown(data.names(result.final.predicted, index))
        table.add_row(
            _held(data, index),
            target,
            data.shown(data.names(result.initial.predicted, index)),
            Text(after, style="bold green" if after == target else "bold"),
        )
    return table


def train_view(result: TrainResult, *, weights: bool = False, all_words: bool = False,
               diagram: int | None = None) -> Group:  # fmt: skip
    """`train`: the recipe, the loss laid out, the gradients, the history, the results."""
    parts: list[RenderableType] = [*recipe(result, whole=all_words), BLANK,
                                   _words_table(result, all_words)]  # fmt: skip
    parts += [BLANK, *loss_layout(result.network.loss, result)]
    parts += [BLANK, first_gradients(result), BLANK, *history_lines(result)]
    if result.torch is not None:
        parts += [BLANK, *torch_training(result)]
    if result.stopped:
        parts += [BLANK, Text(result.stopped, style="bold red")]
    parts += [BLANK, Text("predictions before and after training:", style="bold")]
    parts.append(predictions_table(result, all_words))
    initial, final = result.initial, result.final
    parts.append(Text(f"accuracy {initial.accuracy:.2f} -> {final.accuracy:.2f}, loss "
                      f"{initial.loss:.4f} -> {final.loss:.4f}", style="bold"))  # fmt: skip
    held = result.data.held_out
    if final.val_loss is not None and held is not None:
        before, after = initial.val_accuracy or 0.0, final.val_accuracy or 0.0
        parts.append(Text(
            f"held out ({len(held):,} {result.data.unit}s, never trained on): accuracy "
            f"{before:.2f} -> {after:.2f}, loss {initial.val_loss or 0.0:.4f} -> "
            f"{final.val_loss:.4f}", style="bold"))  # fmt: skip
    if result.rebuilt is not None:
        parts += [BLANK, *rebuilt_lines(result, whole=all_words)]
    if diagram is not None and result.probe is not None:
        from rnnprobe.show.diagram import diagram_view

        parts += [BLANK, Text("the trained network:", style="bold"),
                  diagram_view(result.probe, diagram)]  # fmt: skip
    if weights:
        for tensor in final.weights:
            parts += [BLANK, weight_table(tensor, result.data.batch.vocab)]
    if result.check is not None:
        parts += [BLANK, train_check_line(result)]
    return Group(*parts)


SHOWN_TEXT = 640  # characters of a rebuilt text the view shows (about 8 lines), else --all


def rebuilt_lines(result: TrainResult, whole: bool = False) -> list[RenderableType]:
    """Windows of one text: the text rebuilt from the predictions, as the lab prints it:
    its beginning (the whole with `whole`; the JSON holds it all)."""
    data = result.data
    assert result.rebuilt is not None and result.rebuilt_accuracy is not None
    found = data.shown(result.rebuilt)
    cut = "" if whole or len(found) <= SHOWN_TEXT else found[SHOWN_TEXT:]
    lines: list[RenderableType] = [
        Text(f"the text rebuilt from the predictions (window 1's, then the last "
             f"{data.stride} of each next window), from its second token on:", style="bold"),
        OneLine(Text(found[: len(found) - len(cut)])),
    ]  # fmt: skip
    if cut:
        lines.append(Text(f"... {len(cut):,} more characters (--all shows the whole text, "
                          "--json holds it)", style="dim"))  # fmt: skip
    lines.append(Text(f"{result.rebuilt_accuracy:.0%} of its {len(result.rebuilt):,} tokens are "
                      "the text's own", style="bold"))  # fmt: skip
    return lines


def train_check_line(result: TrainResult) -> RenderableType:
    found = result.check
    assert found is not None
    line = check_line(found.ok, found.max_abs_diff, TOLERANCE)
    line.text.append(
        f"; the initial loss and every first gradient, by backpropagation in numpy "
        f"(loss {found.loss_diff:.3g}, gradients {found.gradient_diff:.3g})"
    )
    return line


def train_shapes_view(result: TrainResult) -> Group:
    """`train --shapes`: the recipe, the data's and every weight's shape; no values."""
    data = result.data
    table = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes", "role"):
        table.add_column(heading, justify="right" if heading == "shape" else "left")
    found = [
        (data.batch.input, "input"),
        (result.mask, "mask"),
        (data.targets, "targets"),
        (result.probabilities, "softmax"),
        (result.initial.step_losses, "-log p"),
    ]
    found += [(w, "weight") for w in result.initial.weights]
    found += [(g, "gradient") for g in result.gradients]
    for tensor, role in found:  # fmt: skip
        table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), role)
    parts: list[RenderableType] = [*recipe(result), table]
    if result.check is not None:
        parts.append(train_check_line(result))
    return Group(*parts)
