"""`rnnprobe series`: parse the data, the windows and the network, run (and train), print a
view. `SeriesArgs` is what a series was asked, from a command line or a batch line alike."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
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
from rnnprobe.cli.saving import SaveOpt, save_finished, stopped_line
from rnnprobe.cli.series_options import (
    ActivationOpt,
    ColumnsOpt,
    DataArg,
    DateOpt,
    DifferenceOpt,
    GroupOpt,
    HorizonOpt,
    IndexOpt,
    MissingOpt,
    ReverseOpt,
    ScaleOpt,
    ScalePerGroupOpt,
    SeriesAllOpt,
    SeriesBatchSizeOpt,
    SeriesDiagramOpt,
    SeriesLrOpt,
    SeriesShuffleOpt,
    ShowGroupOpt,
    SplitOpt,
    StrideOpt,
    TargetOpt,
    TrainOpt,
    WeightsOpt,
    WindowOpt,
)
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import Cell, MergeMode, Style

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import Recipe, SeriesPlan, SeriesResult
    from rnnprobe.core.inputs.table import Table

EXAMPLES = """Examples: numbers in, windows, a prediction
  rnnprobe series 1 2 3 4 5 6 7 8 9 10 --window 3
  rnnprobe series data-02-stock_daily.csv --reverse --cell lstm --hidden 10 --train 100
  rnnprobe series prices.csv --columns Open,Close --target Close --window 20 --json
  rnnprobe series co2_weekly.csv --missing interpolate --horizon 1,2,4 --difference --train 200
  rnnprobe series grunfeld.csv --group firm --target invest --window 5 --train 200
  seq 1 500 | rnnprobe series - --window 10 --split 0.8 --train 20 --lr 0.01 --difference"""


@dataclass(frozen=True)
class SeriesArgs:
    """What `rnnprobe series` was asked, as parsed."""

    data: list[str]
    columns: str | None
    target: str | None
    date: str | None
    group: str | None
    missing: str
    reverse: bool
    window: str
    stride: str
    horizon: str
    split: str
    scale: str
    scale_per_group: bool
    difference: bool
    hidden: str
    style: Style
    cell: Cell
    seed: int | None
    bidirectional: bool
    merge_mode: MergeMode | None
    activation: str
    index: int | None
    show_group: str | None
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
        from rnnprobe.core.inputs.selection import select

        spec = options.make_spec(
            hidden=self.hidden,
            style=self.style,
            cell=self.cell,
            bidirectional=self.bidirectional,
            merge_mode=self.merge_mode,
        )
        recipe = self.recipe()
        saving.check_save(self.save, trains=recipe is not None)
        series.check_grouping(self.group, self.scale_per_group, self.show_group)
        selected = select(table, columns=self.columns, target=self.target, date=self.date,
                          group=self.group, missing=self.missing, reverse=self.reverse)  # fmt: skip
        cut = windows.cut(
            selected, window=options.positive_int("window", self.window),
            stride=options.positive_int("stride", self.stride),
            horizons=windows.parse_horizons(self.horizon),
            split=windows.check_split(self.split), scale=windows.check_scale(self.scale),
            per_group=self.scale_per_group, difference=self.difference,
        )  # fmt: skip
        return series.plan(cut, spec, activation=self.activation, seed=self.seed,
                           index=self.index, recipe=recipe, show_group=self.show_group)  # fmt: skip

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

    return save_finished(args.save, result.stopped, _passed(result),
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
    data: DataArg = None,
    columns: ColumnsOpt = None,
    target: TargetOpt = None,
    date: DateOpt = None,
    group: GroupOpt = None,
    missing: MissingOpt = "error",
    reverse: ReverseOpt = False,
    window: WindowOpt = "7",
    stride: StrideOpt = "1",
    horizon: HorizonOpt = "1",
    split: SplitOpt = "0.7",
    scale: ScaleOpt = "minmax",
    scale_per_group: ScalePerGroupOpt = False,
    difference: DifferenceOpt = False,
    hidden: HiddenOpt = "2",
    style: StyleOpt = Style.layer,
    cell: CellOpt = Cell.simple,
    seed: SeedOpt = None,
    bidirectional: BidirectionalOpt = False,
    merge_mode: MergeModeOpt = None,
    activation: ActivationOpt = "linear",
    index: IndexOpt = None,
    show_group: ShowGroupOpt = None,
    train: TrainOpt = None,
    lr: SeriesLrOpt = None,
    batch_size: SeriesBatchSizeOpt = None,
    shuffle: SeriesShuffleOpt = True,
    every: EveryOpt = None,
    weights: WeightsOpt = False,
    check_: CheckOpt = False,
    diagram: SeriesDiagramOpt = False,
    code: CodeOpt = False,
    all_: SeriesAllOpt = False,
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
    passed = _passed(result)
    saved = _save(args, result)
    print_result(
        lambda: _object(result, saved),
        lambda: view(args, result, table.source, saved),
        json_=args.json, export=args.export, kind=kind,
        stopped=stopped_line(result.stopped, args.save, passed),
        passed=passed,
    )  # fmt: skip
