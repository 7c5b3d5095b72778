"""`rnnprobe inspect FILE`: any saved Keras model, layer by layer; with --input or --random,
one forward pass through it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    OUTPUT,
    SHOW,
    ExportOpt,
    JsonOpt,
    NoServerOpt,
    output_format,
    print_result,
    read_stdin,
)
from rnnprobe.core.errors import InputError

EXAMPLES = """Examples:
  rnnprobe inspect lab.keras
  rnnprobe inspect lab.keras --input "3 1 4" --input "2 7"
  rnnprobe inspect trained.keras --input hello --json
  rnnprobe inspect series.keras --input windows.csv
  rnnprobe inspect old.h5 --random 2"""

command = typer.Typer(add_completion=False)  # `inspect` alone, as the app loads it


@command.command(cls=ProbeCommand, epilog=EXAMPLES)
def inspect(
    file: Annotated[
        str | None,
        typer.Argument(
            metavar="FILE",
            help="A saved Keras model: .keras (model.save), or a legacy .h5.",
            show_default=False,
        ),
    ] = None,
    input_: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            metavar="X",
            help="One row of input: token strings (if the model starts with a StringLookup "
            'or TextVectorization), token ids ("3 1 4"); repeat for more rows. Or one '
            ".npy file (the whole batch), a CSV file or - of numbers.",
            show_default=False,
            rich_help_panel=SHOW,
        ),
    ] = None,
    random: Annotated[
        str | None,
        typer.Option(
            "--random",
            metavar="N",
            help="N random rows of the model's input shape (from --seed).",
            show_default=False,
            rich_help_panel=SHOW,
        ),
    ] = None,
    seed: Annotated[
        str | None,
        typer.Option(
            metavar="N",
            help="The seed of --random (default 0).",
            show_default=False,
            rich_help_panel=SHOW,
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option("--all", help="A table for every row of the input.", rich_help_panel=OUTPUT),
    ] = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """Show any saved Keras model layer by layer, and what it does with an input."""
    from rnnprobe.core import options, progress
    from rnnprobe.core.commands import inspect as inspecting
    from rnnprobe.show import inspect_view, jsonout

    if file is None:
        raise InputError("no file given: give a saved Keras model (.keras, or a legacy .h5)")
    kind = output_format(export, diagram=False, code=False, flags={"--json": json_})
    rows = None if random is None else options.positive_int("random", random)
    drawn = options.check_seed(options.whole_number("seed", seed)) or 0
    if input_ == ["-"] and sys.stdin.isatty():
        raise InputError("--input - reads numbers from stdin: pipe them in")
    with progress.spinner(f"Loading {file}…"):
        found = inspecting.inspect(file, input_, rows, drawn, read_stdin)

    def body() -> dict[str, object]:
        if found.probe is not None:  # the document rnnprobe.probe(model, x).to_dict() gives
            return jsonout.run_object(found.probe, weights=False)
        return inspect_view.inspect_object(found)

    print_result(body, lambda: inspect_view.inspect_view(found, all_rows=all_), json_=json_,
                 export=export, kind=kind)  # fmt: skip
