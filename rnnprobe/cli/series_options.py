"""`rnnprobe series`'s own options: the data, how it is cut into windows, and how it is
trained (the options every command shares are in `options.py`)."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnprobe.cli.options import NETWORK, SHOW, TRAINING

DATA, WINDOWS = "Data", "Windows"

DataArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="DATA",
        help="Numbers (one column), one CSV/TSV file, or - to read the same from stdin.",
        show_default=False,
        rich_help_panel=DATA,
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="NAME,...",
        show_default=False,
        help="The features, by header name or number from 1 (default: every column of "
        "numbers but the date and the group).",
        rich_help_panel=DATA,
    ),
]
TargetOpt = Annotated[
    str | None,
    typer.Option(
        "--target",
        metavar="NAME[,NAME...]",
        show_default=False,
        help="The columns predicted (default: the last feature).",
        rich_help_panel=DATA,
    ),
]
DateOpt = Annotated[
    str | None,
    typer.Option(
        "--date",
        metavar="NAME",
        show_default=False,
        help="The column of dates that labels the rows (default: the first column of ISO "
        "dates or times, YYYY-MM, or years named like a date).",
        rich_help_panel=DATA,
    ),
]
GroupOpt = Annotated[
    str | None,
    typer.Option(
        "--group",
        metavar="NAME",
        show_default=False,
        help="One series per value of this column (a long table: a symbol and five stocks); "
        "no window crosses two.",
        rich_help_panel=DATA,
    ),
]
MissingOpt = Annotated[
    str,
    typer.Option(
        "--missing",
        metavar="error|drop|ffill|interpolate",
        help="A missing cell (blank, NA, nan) in a column read: refuse it, drop its row (no "
        "window spans it), fill it with the value before, or interpolate.",
        rich_help_panel=DATA,
    ),
]
ReverseOpt = Annotated[
    bool,
    typer.Option(
        "--reverse",
        help="Reverse the rows (a file newest first, as the lab's).",
        rich_help_panel=DATA,
    ),
]
WindowOpt = Annotated[
    str,
    typer.Option("--window", metavar="T", help="Rows per window.", rich_help_panel=WINDOWS),
]
StrideOpt = Annotated[
    str,
    typer.Option(
        "--stride", metavar="S", help="Rows from one window to the next.", rich_help_panel=WINDOWS
    ),
]
HorizonOpt = Annotated[
    str,
    typer.Option(
        "--horizon",
        metavar="H[,H...]|A-B",
        help="The rows predicted, counted from the window's last row: 1, several (1,2,3) or "
        "a range (1-7); one output each, per target.",
        rich_help_panel=WINDOWS,
    ),
]
SplitOpt = Annotated[
    str,
    typer.Option(
        "--split",
        metavar="F",
        help="The first F of the rows (of each group) train (1: no test).",
        rich_help_panel=WINDOWS,
    ),
]
ScaleOpt = Annotated[
    str,
    typer.Option(
        "--scale",
        metavar="minmax|standard|none",
        help="Scaling fitted on the training rows, applied to all.",
        rich_help_panel=WINDOWS,
    ),
]
ScalePerGroupOpt = Annotated[
    bool,
    typer.Option(
        "--scale-per-group",
        help="With --group: fit the scaling on each group's training rows (default: one "
        "scaling fitted on every group's).",
        rich_help_panel=WINDOWS,
    ),
]
DifferenceOpt = Annotated[
    bool,
    typer.Option(
        "--difference",
        help="Predict each target's change from the window's last row, then add it back "
        "(for a series that leaves the training range).",
        rich_help_panel=WINDOWS,
    ),
]
ActivationOpt = Annotated[
    str,
    typer.Option(
        "--activation",
        metavar="linear|tanh|sigmoid",
        help="Of the Dense on the last step.",
        rich_help_panel=NETWORK,
    ),
]
IndexOpt = Annotated[
    str | None,
    typer.Option(
        "--index",
        metavar="N",
        show_default=False,
        help="The window shown step by step (default: 1).",
        rich_help_panel=SHOW,
    ),
]
ShowGroupOpt = Annotated[
    str | None,
    typer.Option(
        "--show-group",
        metavar="VALUE",
        show_default=False,
        help="With --group: the group the chart draws (default: the first).",
        rich_help_panel=SHOW,
    ),
]
TrainOpt = Annotated[
    str | None,
    typer.Option(
        "--train",
        metavar="N",
        show_default=False,
        help="Train N epochs (mean squared error, Adam).",
        rich_help_panel=TRAINING,
    ),
]
SeriesLrOpt = Annotated[
    str | None,
    typer.Option(
        "--lr",
        metavar="X",
        show_default=False,
        help="Adam's learning rate (default 0.01, the lab's).",
        rich_help_panel=TRAINING,
    ),
]
SeriesBatchSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--batch-size",
        metavar="N",
        show_default=False,
        help="Training windows per batch (default 32, as Keras fit).",
        rich_help_panel=TRAINING,
    ),
]
SeriesShuffleOpt = Annotated[
    bool,
    typer.Option(
        help="A new order of the training windows every epoch (from --seed).",
        rich_help_panel=TRAINING,
    ),
]
WeightsOpt = Annotated[
    bool, typer.Option("--weights", help="Also show the weights.", rich_help_panel=SHOW)
]
SeriesDiagramOpt = Annotated[
    bool,
    typer.Option(
        "--diagram", help="Draw the network unrolled over the window shown.", rich_help_panel=SHOW
    ),
]
SeriesAllOpt = Annotated[
    bool,
    typer.Option(
        "--all", help="Every window in the tables (default: a few).", rich_help_panel=SHOW
    ),
]
