"""`rnnprobe series`: parse the data, the windows and the network, run (and train), print a
view. `SeriesArgs` is what a series was asked, from a command line or a batch line alike."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    NETWORK,
    SHOW,
    TRAINING,
    BidirectionalOpt,
    CellOpt,
    CheckOpt,
    CodeOpt,
    EveryOpt,
    ExportOpt,
    HiddenOpt,
    JsonOpt,
    MergeModeOpt,
    NoServerOpt,
    SeedOpt,
    StyleOpt,
    output_format,
    print_result,
    read_stdin,
    whole_numbers,
)
from rnnprobe.cli.saving import SaveOpt, blocked, save_finished, stopped_line
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import Cell, MergeMode, Style

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import Recipe, SeriesPlan, SeriesResult
    from rnnprobe.core.inputs.table import Table

DATA, WINDOWS = "Data", "Windows"

EXAMPLES = """Examples: numbers in, windows, a prediction
  rnnprobe series 1 2 3 4 5 6 7 8 9 10 --window 3
  rnnprobe series data-02-stock_daily.csv --reverse --cell lstm --hidden 10 --train 100
  rnnprobe series prices.csv --columns Open,Close --target Close --window 20 --json
  seq 1 500 | rnnprobe series - --window 10 --split 0.8 --train 20 --lr 0.01"""


@dataclass(frozen=True)
class SeriesArgs:
    """What `rnnprobe series` was asked, as parsed."""

    data: list[str]
    columns: str | None
    target: str | None
    reverse: bool
    window: str
    stride: str
    horizon: str
    split: str
    scale: str
    hidden: str
    style: Style
    cell: Cell
    seed: int | None
    bidirectional: bool
    merge_mode: MergeMode | None
    activation: str
    index: int | None
    train: str | None
    lr: str | None
    batch_size: str | None
    shuffle: bool
    every: str | None
    weights: bool
    check: bool
    diagram: bool
    code: bool
    all: bool
    export: Path | None
    json: bool
    save: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> SeriesArgs:
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["data"] = list(fields["data"] or [])
        return cls(**whole_numbers(fields, "seed", "index"))

    def table(self, stdin: bool = True) -> Table:
        from rnnprobe.core.inputs.table import read_series_data

        for item in self.data:
            if item.startswith("--"):
                raise InputError(f"no such option: {item}")
        if not stdin and self.data == ["-"]:
            raise InputError("a batch line cannot read data from stdin")
        return read_series_data(self.data, read_stdin)

    def recipe(self) -> Recipe | None:
        from rnnprobe.core import options
        from rnnprobe.core.commands import series
        from rnnprobe.core.commands.series import Recipe

        if self.train is None:
            given = {
                "--lr": self.lr is not None,
                "--batch-size": self.batch_size is not None,
                "--every": self.every is not None,
                "--no-shuffle": not self.shuffle,
            }
            for flag in (flag for flag, on in given.items() if on):
                raise InputError(f"{flag} needs --train")
            return None
        epochs = options.positive_int("train", self.train)
        return Recipe(
            epochs=epochs,
            lr=series.DEFAULT_LR if self.lr is None else options.learning_rate(self.lr),
            batch_size=series.DEFAULT_BATCH_SIZE
            if self.batch_size is None
            else options.positive_int("batch_size", self.batch_size),
            shuffle=self.shuffle,
            every=options.default_every(epochs)
            if self.every is None
            else options.positive_int("every", self.every),
        )

    def plan(self, table: Table) -> SeriesPlan:
        from rnnprobe.cli import saving
        from rnnprobe.core import options
        from rnnprobe.core.commands import series
        from rnnprobe.core.inputs import windows
        from rnnprobe.core.inputs.table import select_columns

        spec = options.make_spec(
            hidden=self.hidden,
            style=self.style,
            cell=self.cell,
            bidirectional=self.bidirectional,
            merge_mode=self.merge_mode,
        )
        recipe = self.recipe()
        saving.check_save(self.save, trains=recipe is not None)
        features, target = select_columns(table, self.columns, self.target)
        cut = windows.cut(
            table.names, table.values, features=features, target=target,
            window=options.positive_int("window", self.window),
            stride=options.positive_int("stride", self.stride),
            horizon=options.positive_int("horizon", self.horizon),
            split=windows.check_split(self.split), scale=windows.check_scale(self.scale),
            reverse=self.reverse,
        )  # fmt: skip
        return series.plan(cut, spec, activation=self.activation, seed=self.seed,
                           index=self.index, recipe=recipe)  # fmt: skip

    def export_format(self) -> str | None:
        return output_format(self.export, diagram=self.diagram, code=self.code,
                             flags={"--json": self.json, "--check": self.check,
                                    "--weights": self.weights})  # fmt: skip


def view(args: SeriesArgs, result: SeriesResult, source: str, saved: str | None = None) -> Any:
    from rich.console import Group

    from rnnprobe.show.saved_view import saved_lines
    from rnnprobe.show.series_view import series_view

    shown = series_view(result, source=source, weights=args.weights, all_windows=args.all,
                        diagram=args.diagram)  # fmt: skip
    reads = "raw values (windows, window, features) and predicts in the scaled units"
    return Group(shown, *saved_lines(saved, reads))


def _save(args: SeriesArgs, result: SeriesResult) -> str | None:
    from rnnprobe.core.commands import saved

    return save_finished(args.save, blocked(result.stopped, _passed(result)),
                         lambda: saved.save_series(result, str(args.save)))  # fmt: skip


def _object(result: SeriesResult, saved: str | None) -> dict[str, Any]:
    from rnnprobe.show import jsonseries

    return {**jsonseries.series_object(result), **({"saved": saved} if saved else {})}


def _series(args: SeriesArgs, planned: SeriesPlan, *, shown: bool) -> SeriesResult:
    from rnnprobe.core import progress
    from rnnprobe.core.commands import series

    if planned.recipe is None or not shown:
        with progress.spinner(f"Running the RNN on {planned.windows.count:,} windows…"):
            return series.series(planned, check=args.check)
    learn = int(planned.windows.train.sum())
    batches = -(-learn // min(planned.recipe.batch_size, learn))
    with progress.training(planned.recipe.epochs, batches) as (epoch, batch):
        return series.series(planned, check=args.check, on_epoch=epoch, on_batch=batch)


def _passed(result: SeriesResult) -> bool:
    return (result.check is None or result.check.ok) and result.stopped is None


def series_json(args: SeriesArgs) -> tuple[bytes, bool]:
    """A batch line: what `series ... --json` prints for these arguments, and whether it
    passed."""
    from rnnprobe.show import export, jsonout, widgets

    kind = args.export_format()
    table = args.table(stdin=False)
    result = _series(args, args.plan(table), shown=False)
    saved = _save(args, result)
    if args.export is not None and kind is not None:
        export.export(view(args, result, table.source, saved), args.export, kind,
                      widgets.unseen_console().width)  # fmt: skip
    return jsonout.dumps(_object(result, saved)), _passed(result)


command = typer.Typer(add_completion=False)  # `series` alone, as the app loads it


@command.command(
    cls=ProbeCommand, epilog=EXAMPLES,
    context_settings={"ignore_unknown_options": True},  # negative numbers are data
)  # fmt: skip
def series(
    data: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="DATA",
            help="Numbers (one column), one CSV/TSV file, or - to read the same from stdin.",
            show_default=False,
            rich_help_panel=DATA,
        ),
    ] = None,
    columns: Annotated[
        str | None,
        typer.Option(
            "--columns",
            metavar="NAME,...",
            show_default=False,
            help="The features, by header name or number from 1 (default: all).",
            rich_help_panel=DATA,
        ),
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target",
            metavar="NAME",
            show_default=False,
            help="The column predicted (default: the last feature).",
            rich_help_panel=DATA,
        ),
    ] = None,
    reverse: Annotated[
        bool,
        typer.Option(
            "--reverse",
            help="Reverse the rows (a file newest first, as the lab's).",
            rich_help_panel=DATA,
        ),
    ] = False,
    window: Annotated[
        str,
        typer.Option("--window", metavar="T", help="Rows per window.", rich_help_panel=WINDOWS),
    ] = "7",
    stride: Annotated[
        str,
        typer.Option(
            "--stride",
            metavar="S",
            help="Rows from one window to the next.",
            rich_help_panel=WINDOWS,
        ),
    ] = "1",
    horizon: Annotated[
        str,
        typer.Option(
            "--horizon",
            metavar="H",
            help="The target is the row H after the window's last row.",
            rich_help_panel=WINDOWS,
        ),
    ] = "1",
    split: Annotated[
        str,
        typer.Option(
            "--split",
            metavar="F",
            help="The first F of the rows train (1: no test).",
            rich_help_panel=WINDOWS,
        ),
    ] = "0.7",
    scale: Annotated[
        str,
        typer.Option(
            "--scale",
            metavar="minmax|standard|none",
            help="Scaling fitted on the training rows, applied to all.",
            rich_help_panel=WINDOWS,
        ),
    ] = "minmax",
    hidden: HiddenOpt = "2",
    style: StyleOpt = Style.layer,
    cell: CellOpt = Cell.simple,
    seed: SeedOpt = None,
    bidirectional: BidirectionalOpt = False,
    merge_mode: MergeModeOpt = None,
    activation: Annotated[
        str,
        typer.Option(
            "--activation",
            metavar="linear|tanh|sigmoid",
            help="Of the Dense(1) on the last step.",
            rich_help_panel=NETWORK,
        ),
    ] = "linear",
    index: Annotated[
        str | None,
        typer.Option(
            "--index",
            metavar="N",
            show_default=False,
            help="The window shown step by step (default: 1).",
            rich_help_panel=SHOW,
        ),
    ] = None,
    train: Annotated[
        str | None,
        typer.Option(
            "--train",
            metavar="N",
            show_default=False,
            help="Train N epochs (mean squared error, Adam).",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr",
            metavar="X",
            show_default=False,
            help="Adam's learning rate (default 0.01, the lab's).",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    batch_size: Annotated[
        str | None,
        typer.Option(
            "--batch-size",
            metavar="N",
            show_default=False,
            help="Training windows per batch (default 32, as Keras fit).",
            rich_help_panel=TRAINING,
        ),
    ] = None,
    shuffle: Annotated[
        bool,
        typer.Option(
            help="A new order of the training windows every epoch (from --seed).",
            rich_help_panel=TRAINING,
        ),
    ] = True,
    every: EveryOpt = None,
    weights: Annotated[
        bool,
        typer.Option("--weights", help="Also show the weights.", rich_help_panel=SHOW),
    ] = False,
    check_: CheckOpt = False,
    diagram: Annotated[
        bool,
        typer.Option(
            "--diagram",
            help="Draw the network unrolled over the window shown.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    code: CodeOpt = False,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Every window in the tables (default: a few).", rich_help_panel=SHOW
        ),
    ] = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    save: SaveOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """Cut one long series of numbers into windows and predict the next value."""
    args = SeriesArgs.from_params(dict(locals()))  # every parameter above, by name

    kind = args.export_format()
    table = args.table()
    planned = args.plan(table)
    if args.code:
        from rnnprobe.show.series_code import script

        sys.stdout.write(script(planned, table.source))
        return
    result = _series(args, planned, shown=not args.json)
    saved = _save(args, result)
    print_result(
        lambda: _object(result, saved),
        lambda: view(args, result, table.source, saved),
        json_=args.json, export=args.export, kind=kind,
        stopped=stopped_line(result.stopped, args.save, blocked(result.stopped, _passed(result))),
        passed=_passed(result),
    )  # fmt: skip
