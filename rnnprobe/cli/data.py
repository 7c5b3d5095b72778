"""Where the words come from and how a training takes them: one long text cut into windows,
a file with columns, the vocabulary's limits, shuffling and held-out rows."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnprobe.cli.options import TRAINING, WORDS, read_stdin
from rnnprobe.core.errors import InputError

# Shared by run, train and grads: one long text cut into windows.
WindowOpt = Annotated[
    str | None,
    typer.Option(
        "--window",
        metavar="T",
        help="Cut one long text (one argument, or - for stdin) into windows of T tokens, "
        "each with the token after it: the windows are the batch.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
StrideOpt = Annotated[
    str | None,
    typer.Option(
        "--stride",
        metavar="S",
        help="With --window: tokens from one window to the next (default 1).",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]


def window_of(window: str | None, stride: str | None) -> tuple[int | None, int]:
    """--window and --stride, checked: a stride needs a window."""
    from rnnprobe.core import options

    if window is None:
        if stride is not None:
            raise InputError("--stride needs --window")
        return None, 1
    step = 1 if stride is None else options.positive_int("stride", stride)
    return options.positive_int("window", window), step


# Shared by run, train, grads and seq2seq: the words (or pairs) read from a file.
FromOpt = Annotated[
    str | None,
    typer.Option(
        "--from",
        metavar="FILE",
        help="Read the words from FILE: CSV or TSV with a header row, or one item a line "
        "(- for stdin).",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
ColumnsOpt = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="NAME,...",
        help="With --from: the columns used, by header name or number from 1.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
LimitOpt = Annotated[
    str | None,
    typer.Option(
        "--limit",
        metavar="N",
        help="With --from: the first N rows only.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
MaxVocabOpt = Annotated[
    str | None,
    typer.Option(
        "--max-vocab",
        metavar="N",
        help="Keep the N most frequent tokens; the others read as <unk>.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
MinCountOpt = Annotated[
    str | None,
    typer.Option(
        "--min-count",
        metavar="K",
        help="Keep the tokens seen at least K times; the others read as <unk>.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
ShuffleOpt = Annotated[
    bool | None,
    typer.Option(
        "--shuffle/--no-shuffle",
        help="A new order of the training rows every epoch, drawn from --seed (default: "
        "whenever there is more than one batch).",
        show_default=False,
        rich_help_panel=TRAINING,
    ),
]
ValidationOpt = Annotated[
    str | None,
    typer.Option(
        "--validation",
        metavar="F",
        help="Hold this fraction of the rows out of training (drawn from --seed); measure "
        "them every epoch.",
        show_default=False,
        rich_help_panel=TRAINING,
    ),
]


def from_file(
    source: str | None,
    columns: str | None,
    limit: str | None,
    words: list[str],
    *,
    default: int,
    allowed: tuple[int, ...],
    stdin: bool = True,
) -> tuple[tuple[str, ...], ...] | None:
    """--from: the columns read (each a value per row), or None without --from."""
    from rnnprobe.core import options

    if source is None:
        for flag, given in (("--columns", columns), ("--limit", limit)):
            if given is not None:
                raise InputError(f"{flag} needs --from")
        return None
    if words:
        raise InputError("--from reads the words from a file: give no words on the command line")
    if not stdin and source == "-":
        raise InputError("a batch line cannot read words from stdin")
    from rnnprobe.core.inputs.corpus import read_corpus

    rows = None if limit is None else options.positive_int("limit", limit)
    corpus = read_corpus(source, read_stdin, columns=columns, default=default,
                         allowed=allowed, limit=rows)  # fmt: skip
    return corpus.columns
