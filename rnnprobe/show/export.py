"""`--export FILE`: a view written as SVG, HTML or plain text, checked before any work."""

from __future__ import annotations

import io
import os
from pathlib import Path

from rich.console import RenderableType

from rnnprobe.core.errors import InputError, RnnProbeError
from rnnprobe.show.widgets import console_for, natural_width, show

EXPORT_FORMATS = {".svg": "svg", ".html": "html", ".htm": "html", ".txt": "text"}


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
    console = console_for(record=True, file=io.StringIO(), width=width)
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
