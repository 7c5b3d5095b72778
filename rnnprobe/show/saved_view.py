"""Saved networks as views: where `--save` wrote one and how to open it in Keras, and which
file `--load` started from."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text

from rnnprobe.show.cells import code
from rnnprobe.show.widgets import BLANK


def saved_lines(path: str | None, reads: str = "token strings") -> list[RenderableType]:
    """After a training with --save: the file, what its model reads, two lines of Keras."""
    if path is None:
        return []
    return [
        BLANK,
        Text(
            f"saved the trained network to {path} (its model reads {reads}; rnnprobe's "
            "description inside):",
            style="bold",
        ),
        *code(["import keras", f"model = keras.models.load_model({path!r})"]),
    ]


def loaded_lines(path: str | None) -> list[RenderableType]:
    """Before a view of a loaded network: the file it came from."""
    if path is None:
        return []
    return [Text(f"loaded from {path}", style="bold"), BLANK]
