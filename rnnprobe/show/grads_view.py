"""`rnnprobe grads` as rich views: every weight's gradient, and dL/dh_t through time as a
shaded strip per word and a table of norms, per layer and direction; the cells side by
side with `--cells`; the backward arrows with their norms with `--diagram`.

Nothing is computed here but the norms of the result's arrays and their ratios.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.commands.grads import GradsResult
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.stages import Layer
from rnnprobe.show import keras_code
from rnnprobe.show.cells import (
    check_line,
    code,
    gradients_table,
    label,
    shown_words,
    verdict,
    vocab_line,
)
from rnnprobe.show.train_view import task_line
from rnnprobe.show.widgets import BLANK

SHADES = " ·░▒▓█"  # no gradient, then smallest to largest (log scale)
SHOWN_STEPS = (8, 4)  # a long word's norms table: its first and last steps


def strip(norms: np.ndarray, length: int, low: float, high: float) -> Text:
    """One character per step, darker the larger |dL/dh_t| (log scale from `low` to
    `high`); a padded step is blank."""
    line = Text()
    span = np.log(high) - np.log(low) if high > low > 0 else 1.0
    for t, norm in enumerate(norms):
        if t >= length:
            line.append(" ")
            continue
        if not np.isfinite(norm):
            line.append("!", style="bold red")
            continue
        if norm <= 0:
            line.append(SHADES[0])
            continue
        level = (np.log(norm) - np.log(low)) / span if span else 1.0
        shade = SHADES[1 + min(len(SHADES) - 2, int(max(level, 0.0) * (len(SHADES) - 1)))]
        line.append(shade, style="cyan")
    return line


def _range(arrays: Sequence[np.ndarray]) -> tuple[float, float]:
    """The smallest and largest nonzero finite norm: the ends of the strips' scale."""
    values = np.concatenate([a[np.isfinite(a) & (a > 0)].ravel() for a in arrays] or [[]])
    return (float(values.min()), float(values.max())) if values.size else (1.0, 1.0)


def _place(layer: Layer, side: str, several: bool) -> str:
    where = f"layer {layer.number}" if several else "the layer"
    return where + (f", {side} (its gradient flows left to right)" if side == "backward" else
                    f", {side}" if side else "")  # fmt: skip


def _steps(time: int) -> list[int | None]:
    first, last = SHOWN_STEPS
    if time <= first + last:
        return list(range(time))
    return [*range(first), None, *range(time - last, time)]


def norms_table(result: GradsResult, norms: np.ndarray, all_words: bool) -> Table:
    """|dL/dh_t| per step (rows) and word (columns); with `--at`, the ratio to the step
    after it, so a geometric decay reads as a number."""
    batch = result.data.batch
    shown = list(shown_words(batch, all_words))
    table = Table(show_edge=False)
    table.add_column("t", justify="right", style="dim")
    for index in shown:
        table.add_column(f"word {index + 1}", justify="right")
        if result.at is not None:
            table.add_column("ratio", justify="right", style="dim")
    for step in _steps(batch.time):
        if step is None:
            table.add_row("…", *([""] * (len(table.columns) - 1)))
            continue
        cells = [str(step)]
        for index in shown:
            real = step < batch.lengths[index]
            cells.append(f"{norms[index, step]:.3e}" if real else "pad: 0")
            if result.at is not None:
                later = norms[index, step + 1] if step + 1 < batch.time else 0.0
                ratio = norms[index, step] / later if real and later > 0 else None
                cells.append("" if ratio is None or step >= result.at else f"{ratio:.3f}")
        table.add_row(*cells)
    return table


def through_time(result: GradsResult, *, all_words: bool = False) -> list[RenderableType]:
    """Per layer and direction: a strip per word and the table of norms."""
    batch = result.data.batch
    network = result.network
    several = len(network.layers) > 1
    norms = {s.name: np.linalg.norm(s.array, axis=-1) for s in result.state_gradients}
    low, high = _range(list(norms.values()))
    at = "" if result.at is None else f" of the loss at step {result.at} alone"
    parts: list[RenderableType] = [
        Text(
            f"dL/dh_t{at}: the total derivative through the recurrence, at every real step",
            style="bold",
        ),
        Text(
            f"strips: darker = larger, on a log scale from {low:.1e} (·) to {high:.1e} (█); "
            "a padded step is blank (its dL/dh_t is 0: it keeps the state)",
            style="dim",
        ),
    ]
    tokens = batch.tokens or ()
    for layer, side in network.recurrent.places:
        name = layer.state_names(side)[0]
        parts += [BLANK, Text(f"{_place(layer, side, several)} ({name}):", style="bold")]
        for index in shown_words(batch, all_words):
            line = Text(f"word {index + 1} ", style="dim")
            line.append_text(strip(norms[name][index], batch.lengths[index], low, high))
            parts.append(line)
            if index == 0 and tokens and batch.time <= 80:
                shown = "".join(label(t)[:1] for t in tokens[0])
                parts.append(Text(" " * len(f"word {index + 1} ") + shown, style="dim"))
        parts.append(norms_table(result, norms[name], all_words))
    return parts


def header(result: GradsResult, *, whole: bool = False) -> list[RenderableType]:
    batch = result.data.batch
    network = result.network
    model = keras_code.layer_lines(result.spec, batch.width)
    loss = keras_code.loss_lines(network.loss)
    when = (f"after {result.after} epochs of training" if result.after
            else "at the seeded weights (where train starts)")  # fmt: skip
    return [
        Text(f"task: {task_line(result.data)}", style="bold"),
        *code([*model, *loss]),
        Text(f"seed {result.seed}", style="dim"),
        vocab_line(batch, whole=whole, counts=result.data.counts),
        Text(
            f"loss {result.loss:.4f} {when}: one forward and backward pass, no update", style="bold"
        ),
    ]


def clipping_lines(result: GradsResult) -> list[RenderableType]:
    if result.clipped is None:
        return []
    if result.clipnorm is not None:
        how = f"clipnorm={result.clipnorm:g}: each gradient to a norm of at most it"
    else:
        how = f"global_clipnorm={result.global_clipnorm:g}: all together, to a global norm of it"
    said = f"clipped as Keras's optimizers clip ({how}); global norm {result.global_norm:.4g}"
    return [Text(f"{said} -> {result.clipped_norm:.4g}", style="bold")]


def grads_view(result: GradsResult, *, all_words: bool = False,
               diagram: int | None = None) -> Group:  # fmt: skip
    """`grads`: the network, every weight's gradient, dL/dh_t through time."""
    with np.errstate(all="ignore"):  # a NaN or infinite gradient is flagged, not warned of
        return _grads_view(result, all_words=all_words, diagram=diagram)


def _grads_view(result: GradsResult, *, all_words: bool, diagram: int | None) -> Group:
    from rnnprobe.show.views import initial_lines

    parts: list[RenderableType] = [*header(result, whole=all_words), *initial_lines(result)]
    parts += [BLANK, Text("every weight's gradient:", style="bold")]
    parts.append(gradients_table(result.weights, result.gradients, clipped=result.clipped,
                                 digits=".4g"))  # fmt: skip
    parts.append(Text(f"global norm {result.global_norm:.4g}", style="dim"))
    parts += clipping_lines(result)
    flagged = result.nonfinite
    if flagged["weights"] or flagged["steps"]:
        steps = ", ".join(f"{n} word {b + 1} t={t}" for n, b, t in flagged["steps"][:8])
        parts.append(Text(f"NaN or infinite gradients: {', '.join(flagged['weights']) or '-'}"
                          f"; dL/dh_t at {steps or '-'}", style="bold red"))  # fmt: skip
    parts += [BLANK, *through_time(result, all_words=all_words)]
    if diagram is not None:
        parts += [BLANK, backward_diagram(result, diagram)]
    if result.check is not None:
        found = result.check
        line = check_line(found.ok, found.max_abs_diff, TOLERANCE)
        line.text.append(f"; dL/dh_t {found.state_diff:.3g}, gradients "
                         f"{found.gradient_diff:.3g}, loss {found.loss_diff:.3g}, by "
                         "backpropagation through time in numpy")  # fmt: skip
        parts += [BLANK, line]
    if result.torch is not None:
        parts += [BLANK, *torch_lines(result)]
    return Group(*parts)


def torch_lines(result: GradsResult) -> list[RenderableType]:
    twin = result.torch
    names = ", ".join(g.name for g in twin.gradients)
    return [
        Text(
            "the same loss in PyTorch (loss.backward(), each h_t kept with retain_grad()):",
            style="bold",
        ),
        Text(f"gradients of {names}, mapped back through the conversion rules", style="dim"),
        verdict(
            twin.ok,
            "torch vs keras",
            "torch vs keras",
            f": max |diff| = {twin.max_abs_diff:.3g} over the loss, every gradient and "
            f"every dL/dh_t (tolerance {TOLERANCE:g})",
        ),
    ]


def backward_diagram(result: GradsResult, word: int) -> Group:
    """The word's steps with the backward arrows between them, |dL/dh_t| on each."""
    batch = result.data.batch
    network = result.network
    length = batch.lengths[word]
    tokens = (batch.tokens or ())[word] if batch.tokens else ()
    steps = [s for s in _steps(length) if s is None or s < length]
    width = 11
    title = Text(f"word {word + 1}: {(batch.words or ())[word]}", style="bold")
    title.append("  the gradient flowing back through time, |dL/dh_t| on each step",
                 style="dim")  # fmt: skip
    top = Text(" " * 16)
    for step in steps:
        shown = "…" if step is None else f"t={step} {label(tokens[step])[:4] if tokens else ''}"
        top.append(shown.center(width + 3))
    lines: list[RenderableType] = [title, top]
    for layer, side in network.recurrent.places:
        name = layer.state_names(side)[0]
        norms = np.linalg.norm(next(s.array for s in result.state_gradients if s.name == name),
                               axis=-1)[word]  # fmt: skip
        line = Text(name.ljust(15)[:15] + " ", style="bold magenta")
        arrow = " ─▶" if side == "backward" else " ◀─"
        for position, step in enumerate(steps):
            value = "…" if step is None else f"{norms[step]:.2e}"
            line.append(value.center(width), style="cyan" if step is not None else "dim")
            if position < len(steps) - 1:
                line.append(arrow, style="dim")
        line.append(" ◀─ loss" if side != "backward" else "", style="dim")
        line.no_wrap, line.overflow = True, "ignore"
        lines.append(line)
    return Group(*lines)


def cells_view(results: Sequence[GradsResult], *, all_words: bool = False) -> Group:
    """`grads --cells`: the same words and seed in each cell, the strips one under another."""
    first = results[0]
    batch = first.data.batch
    norms = {r.spec.cell.value: r.norms for r in results}
    low, high = _range(list(norms.values()))
    at = "" if first.at is None else f" of the loss at step {first.at} alone"
    parts: list[RenderableType] = [
        Text(f"task: {task_line(first.data)}", style="bold"),
        Text(f"seed {first.seed}", style="dim"),
        vocab_line(batch),
        Text(
            f"|dL/dh_t|{at} in the last layer (forward), per cell: darker = larger, on a log "
            f"scale from {low:.1e} (·) to {high:.1e} (█)",
            style="bold",
        ),
    ]
    for index in shown_words(batch, all_words):
        length = batch.lengths[index]
        parts += [BLANK, Text(f"word {index + 1} ({length} steps)", style="dim")]
        for result in results:
            cell = result.spec.cell
            found = norms[cell.value][index]
            line = Text(f"{cell.keras_layer:<10}", style="bold")
            line.append_text(strip(found, length, low, high))
            line.no_wrap, line.overflow = False, "fold"
            parts.append(line)
    summary = Table(show_edge=False)
    for heading in ("cell", "loss", "|dL/dh_0|", "|dL/dh_last|", "first / last"):
        summary.add_column(heading, justify="left" if heading == "cell" else "right")
    for result in results:
        found = norms[result.spec.cell.value][0]
        last = found[batch.lengths[0] - 1 if first.at is None else first.at]
        ratio = found[0] / last if last > 0 else float("nan")
        summary.add_row(result.spec.cell.keras_layer, f"{result.loss:.4f}", f"{found[0]:.3e}",
                        f"{last:.3e}", f"{ratio:.3g}")  # fmt: skip
    parts += [BLANK, Text("word 1, how much of the last step's gradient reaches the first:",
                          style="bold"), summary]  # fmt: skip
    for result in results:
        if result.check is not None:
            found_check = result.check
            said = check_line(found_check.ok, found_check.max_abs_diff, TOLERANCE)
            said.text.append(f" ({result.spec.cell.keras_layer})")
            parts.append(said)
    return Group(*parts)
