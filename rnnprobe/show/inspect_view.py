"""`rnnprobe inspect`: a saved model's layers as a table (as `model.summary()` lists them,
with masks, trainable and non-trainable parameters and the recurrent layers' settings), and
its JSON; with an input, the forward pass as `run` shows it."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe import __version__
from rnnprobe.show.widgets import BLANK

KINDS = {"strings": "token strings", "ids": "token ids", "values": "numbers"}


def shape_text(shape: tuple[int | None, ...]) -> str:
    """A shape as Keras's summary writes it: `(None, 10, 12)`."""
    inner = ", ".join(str(n) for n in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def output_text(shapes: tuple[tuple[int | None, ...], ...]) -> str:
    if not shapes:  # a layer never called: Keras knows no output
        return "?"
    if len(shapes) == 1:
        return shape_text(shapes[0])
    return "[" + ", ".join(shape_text(s) for s in shapes) + "]"


def _setting(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def _params(row: Any) -> str:
    """A layer's parameters as Keras's summary counts them, and how many are frozen."""
    if not row.non_trainable:
        return f"{row.params:,}"
    if not row.trainable:
        return f"{row.params:,} frozen"
    return f"{row.params:,} ({row.non_trainable:,} frozen)"


def layers_table(found: Any) -> Table:
    """One row per layer, as `model.summary()` lists them (`params` is its `Param #`)."""
    table = Table(show_edge=False)
    table.add_column("layer", no_wrap=True)
    table.add_column("class", overflow="fold")
    table.add_column("output shape", no_wrap=True)
    table.add_column("mask")
    table.add_column("params", justify="right", no_wrap=True)
    for row in found.rows:
        table.add_row(row.name, row.keras_class, output_text(row.output_shape),
                      "yes" if row.mask else "", _params(row))  # fmt: skip
    return table


def settings_lines(found: Any) -> list[RenderableType]:
    lines: list[RenderableType] = []
    for row in found.rows:
        if row.settings:
            shown = ", ".join(f"{key}={_setting(value)}" for key, value in row.settings)
            lines.append(Text.assemble((row.name, "bold"), f": {shown}"))
    return lines


TASKS = {"next": "the next token", "labels": "labels", "tags": "tags"}


def description_lines(path: str, description: dict[str, Any] | None) -> list[RenderableType]:
    """What rnnprobe's description in the file says, and the commands that read it."""
    if description is None:
        return []
    kind = description.get("kind")
    if kind == "train":
        task = TASKS.get(str(description.get("task")), description.get("task"))
        said = f"a network trained for {task} ({len(description.get('vocab') or [])} tokens)"
        commands = [f"rnnprobe run --load {path} WORDS", f"rnnprobe train --load {path} WORDS"]
    elif kind == "seq2seq":
        said = "an encoder-decoder trained on pairs"
        commands = [f"rnnprobe seq2seq --load {path} --translate SENTENCE"]
    else:
        said = f"a {kind} network trained on windows of {description.get('window')} rows"
        commands = [f"rnnprobe inspect {path} --input VALUES.csv"]
    said += f", {description.get('epochs')} epochs, seed {description.get('seed')}"
    return [
        BLANK,
        Text(f"saved by rnnprobe {description.get('rnnprobe')}: {said}", style="bold"),
        *(Text(command, style="dim") for command in commands),
    ]


def inspect_view(found: Any, *, all_rows: bool = False) -> Group:
    """The file, its inputs, the layers table, the settings; then the forward pass."""
    model = found.layers
    inputs = ", ".join(f"{i.name} {shape_text(i.shape)} {i.dtype}" for i in model.inputs)
    parts: list[RenderableType] = [
        Text.assemble(
            ("model ", "bold"),
            (repr(model.name), "bold"),
            f" ({model.keras_class}) from {found.path}, {found.format} format",
        ),
        Text(f"input: {inputs or 'not recorded (the model was saved before it was called)'}"),
        BLANK,
        layers_table(model),
        Text(
            f"params: {model.trainable + model.non_trainable:,} (trainable {model.trainable:,}"
            f", non-trainable {model.non_trainable:,})"
        ),
    ]
    settings = settings_lines(model)
    if settings:
        parts += [BLANK, *settings]
    if model.unsupported:
        names = ", ".join(f"{name} ({cls})" for name, cls in model.unsupported)
        said = f"rnnprobe cannot run {names}: the table is Keras's; --input needs layers it names"
        parts += [BLANK, Text(said, style="yellow")]
    parts += description_lines(found.path, found.description)
    if found.damaged:
        parts += [BLANK, Text(f"set aside: {found.damaged}; the model is shown as plain Keras "
                              "reads it", style="yellow")]  # fmt: skip
    if found.probe is not None:
        from rnnprobe.show.views import run_view

        kind = found.kind
        read = KINDS.get(kind.kind, kind.kind) if kind is not None else "the input"
        parts += [
            BLANK,
            Text(
                f"forward pass: {len(found.given)} rows of {read}, as rnnprobe.probe(model, x) "
                "shows it (after the model's preprocessing)",
                style="bold",
            ),
            BLANK,
            run_view(found.probe, all_words=all_rows),
        ]
    return Group(*parts)


def inspect_object(found: Any) -> dict[str, Any]:
    """`inspect --json` without an input: the file and its layers."""
    model = found.layers
    return {
        "rnnprobe": __version__,
        "file": found.path,
        "format": found.format,
        "model": model.name,
        "class": model.keras_class,
        "inputs": [
            {"name": i.name, "shape": list(i.shape), "dtype": i.dtype} for i in model.inputs
        ],
        "layers": [
            {
                "name": row.name,
                "class": row.keras_class,
                "output_shape": [list(s) for s in row.output_shape],
                "mask": row.mask,
                "trainable_params": row.trainable,
                "non_trainable_params": row.non_trainable,
                "settings": dict(row.settings),
            }
            for row in model.rows
        ],
        "params": model.trainable + model.non_trainable,
        "trainable_params": model.trainable,
        "non_trainable_params": model.non_trainable,
        "unsupported": [{"name": name, "class": cls} for name, cls in model.unsupported],
        "description": found.description,
        "description_damaged": found.damaged,
    }
