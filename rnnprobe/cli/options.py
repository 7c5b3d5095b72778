"""What the commands share: option declarations, their help panels, and the checks and
parsing of options that more than one command has."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import MAX_SEED, SHOWN_WORDS, Cell, MergeMode, Style, Tokens

# How the CLI spells the parameters that core errors name.
CLI_NAMES = {
    "hidden": "--hidden",
    "vocab": "--vocab",
    "merge_mode": "--merge-mode",
    "bidirectional": "--bidirectional",
    "seed": "--seed",
    "style": "--style",
    "cell": "--cell",
    "steps": "--steps",
    "at": "--at",
    "word": "--word",
    "pair": "--pair",
    "tokens": "--tokens",
    "embed": "--embed",
    "head": "--head",
    "each_step": "--each-step",
    "torch": "--torch",
    "diagram": "--diagram",
    "no_return_sequences": "--no-return-sequences",
    "labels": "--labels",
    "tagged": "--tagged",
    "epochs": "--epochs",
    "lr": "--lr",
    "batch_size": "--batch-size",
    "every": "--every",
    "after": "--after",
    "cells": "--cells",
    "clipnorm": "--clipnorm",
    "global_clipnorm": "--global-clipnorm",
    "train": "--train",
    "max_steps": "--max-steps",
    "translate": "--translate",
    "columns": "--columns",
    "target": "--target",
    "window": "--window",
    "stride": "--stride",
    "horizon": "--horizon",
    "split": "--split",
    "scale": "--scale",
    "activation": "--activation",
    "index": "--index",
    "from": "--from",
    "limit": "--limit",
    "validation": "--validation",
    "max_vocab": "--max-vocab",
    "min_count": "--min-count",
    "save": "--save",
    "load": "--load",
    "input": "--input",
    "random": "--random",
    "file": "FILE",
    "initial_state": "--initial-state",
    "chunks": "--chunks",
    "code": "--code",
    "reset_between": "--reset-between",
    "export": "--export",
    "date": "--date",
    "group": "--group",
    "missing": "--missing",
    "show_group": "--show-group",
    "scale_per_group": "--scale-per-group",
}

# The examples of `rnnprobe --help`, and of `rnnprobe run --help`.
EXAMPLES = """Examples: the lecture's three steps, then more
  rnnprobe run hello --hidden 2
  rnnprobe run hello eolll lleel --style cell
  rnnprobe run hello eolll lleel --json | jq '.outputs.shape'
  rnnprobe run hello --cell lstm --steps
  rnnprobe run hello hi --bidirectional --diagram --word 2
  rnnprobe compare hello eolll lleel --cell gru"""

# The panels of the help pages, in the order they are shown.
WORDS, NETWORK, MODEL, TRAINING, SHOW, OUTPUT, SERVER = (
    "Words", "Network", "Model", "Training", "Show", "Output", "Server",
)  # fmt: skip

WordsArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="WORD",
        help="Words to one-hot encode, or - to read them from stdin.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
VocabOpt = Annotated[
    str | None,
    typer.Option(
        "--vocab",
        metavar="CHARS",
        help="The vocabulary in this order, e.g. olhe; with --tokens word, words separated "
        "by commas (default: as first seen).",
        rich_help_panel=WORDS,
    ),
]
TokensOpt = Annotated[
    Tokens,
    typer.Option(
        metavar="TOKENS",
        help="char: each character is a token; word: each argument is a sentence of "
        "whitespace-separated words.",
        rich_help_panel=WORDS,
    ),
]
EmbedOpt = Annotated[
    str | None,
    typer.Option(
        "--embed",
        metavar="onehot|N",
        help="Token ids through layers.Embedding(mask_zero=True), <pad> = 0: onehot (the "
        "constant identity) or N random dimensions.",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
HeadOpt = Annotated[
    str | None,
    typer.Option(
        "--head",
        metavar="N",
        help="A Dense(N) head on the last step (many-to-one): logits and softmax.",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]
EachStepOpt = Annotated[
    bool,
    typer.Option(
        "--each-step",
        help="With --head: TimeDistributed(Dense(N)) on every step (many-to-many).",
        rich_help_panel=MODEL,
    ),
]
JsonOpt = Annotated[
    bool,
    typer.Option("--json", help="Print one JSON object instead of tables.", rich_help_panel=OUTPUT),
]
NoServerOpt = Annotated[
    bool,
    typer.Option(
        "--no-server",
        help="Work in this process even when `rnnprobe serve` is running.",
        rich_help_panel=SERVER,
    ),
]
AllOpt = Annotated[
    bool,
    typer.Option(
        "--all",
        help=f"A table for every word (default: the first {SHOWN_WORDS}).",
        rich_help_panel=SHOW,
    ),
]
HiddenOpt = Annotated[
    str,
    typer.Option(
        "--hidden",
        "-H",
        metavar="N[,N...]",
        help="Units of the layer; 4,2 stacks two layers.",
        rich_help_panel=NETWORK,
    ),
]
CellOpt = Annotated[
    Cell,
    typer.Option(metavar="CELL", help="The cell: simple, lstm or gru.", rich_help_panel=NETWORK),
]
SeedOpt = Annotated[
    str | None,
    typer.Option(
        metavar="N",
        help=f"Seed for the weights, 0 to {MAX_SEED} (default: drawn and reported).",
        show_default=False,
        rich_help_panel=NETWORK,
    ),
]
CodeOpt = Annotated[
    bool,
    typer.Option(
        "--code", help="Print a Python script that rebuilds this probe.", rich_help_panel=SHOW
    ),
]
WordOpt = Annotated[
    str | None,
    typer.Option(
        "--word", metavar="N", help="With --diagram: the word drawn (default: 1).",
        rich_help_panel=SHOW,
    ),
]  # fmt: skip
CheckOpt = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Re-compute with rnnprobe's numpy and compare; exit 1 if they differ.",
        rich_help_panel=SHOW,
    ),
]
InitialStateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--initial-state",
        metavar="STATE",
        help="The state the layers start from: zeros (Keras's default), random (from the "
        "seed), or values per state, one option each (h=0.5,-0.2; c=...; forward_h=...; "
        "2/h=...), the same for every word; a state not given starts at zeros.",
        show_default=False,
        rich_help_panel=NETWORK,
    ),
]
ChunksOpt = Annotated[
    str | None,
    typer.Option(
        "--chunks",
        metavar="K",
        help="Run again in K chunks of the time axis through the layers built stateful=True, "
        "the state carried from chunk to chunk; compared with the whole run.",
        show_default=False,
        rich_help_panel=NETWORK,
    ),
]
ResetBetweenOpt = Annotated[
    bool,
    typer.Option(
        "--reset-between",
        help="With --chunks: reset_states() between the chunks (each starts from zeros): "
        "how far the outputs go off, step by step.",
        rich_help_panel=NETWORK,
    ),
]
ExportOpt = Annotated[
    Path | None,
    typer.Option(
        "--export",
        metavar="FILE",
        help="Also write the tables to FILE: .svg, .html or .txt.",
        rich_help_panel=OUTPUT,
    ),
]
StyleOpt = Annotated[
    Style,
    typer.Option(
        metavar="STYLE",
        help="layer: layers.SimpleRNN (LSTM, GRU); cell: layers.RNN(layers.SimpleRNNCell).",
        rich_help_panel=NETWORK,
    ),
]
BidirectionalOpt = Annotated[
    bool,
    typer.Option(help="Wrap each layer in layers.Bidirectional.", rich_help_panel=NETWORK),
]
MergeModeOpt = Annotated[
    MergeMode | None,
    typer.Option(
        metavar="MODE",
        help="How Bidirectional joins the directions: concat, sum, mul or ave (default concat).",
        show_default=False,
        rich_help_panel=NETWORK,
    ),
]


def whole_numbers(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    """The fields with these options' text parsed as whole numbers (one wording for any
    Typer)."""

    from rnnprobe.core import options

    return {**fields, **{name: options.whole_number(name, fields[name]) for name in names}}


def read_stdin() -> str:
    """All of stdin as text: its bytes read as UTF-8 (a byte-order mark dropped), the same
    whether the command runs here or on a warm server; bytes that are not UTF-8 are one
    line naming where."""
    stream: Any = sys.stdin
    raw: bytes | str = stream.buffer.read() if hasattr(stream, "buffer") else stream.read()
    if isinstance(raw, str):  # a text stream without bytes underneath (a test's StringIO)
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(f"stdin is not UTF-8 text: byte 0x{raw[error.start]:02x} on line "
                         f"{line} (give UTF-8 text)") from None  # fmt: skip


def read_words(words: list[str] | None, tokens: Tokens = Tokens.char) -> list[str]:
    """The words from the command line, or from stdin when the only word is `-`
    (whitespace-separated words; with word tokens, one sentence per line)."""
    if words == ["-"]:
        from rnnprobe.core.inputs.vocab import sentences_from_text, words_from_text

        text = read_stdin()
        return sentences_from_text(text) if tokens is Tokens.word else words_from_text(text)
    return list(words or [])


def read_text(words: list[str] | None) -> list[str]:
    """With --window: one long text, the only word given, or the whole of stdin with `-`."""
    if words == ["-"]:
        return [read_stdin().rstrip("\n")]
    return list(words or [])


def print_result(
    body: Callable[[], dict[str, Any]],
    view: Callable[[], Any],
    *,
    json_: bool,
    export: Path | None,
    kind: str | None,
    stopped: str | None = None,
    passed: bool = True,
) -> None:
    """A result printed: --json's object on stdout, or the view (and the view in
    --export's file either way); why a training stopped, on stderr; exit 1 if it failed."""
    from rnnprobe.show import export as exports
    from rnnprobe.show import jsonout, widgets

    console = widgets.stdout_console()
    shown = None
    if export is not None and kind is not None:  # first: a file that fails leaves stdout clean
        shown = view()
        exports.export(shown, export, kind, console.width)
    if json_:
        jsonout.write(body())
    else:
        widgets.show(console, shown or view())
    if stopped:
        typer.echo(f"rnnprobe: {stopped}", err=True)
    if not passed:
        raise typer.Exit(1)


def output_format(
    export: Path | None, *, diagram: bool, code: bool, flags: dict[str, bool]
) -> str | None:
    """The ways of showing a result that do not combine, refused before any work is done;
    then the export format (None without --export)."""
    if diagram:
        for flag in ("--json", "--shapes", "--steps"):
            if flags.get(flag):
                raise InputError(f"--diagram draws a picture; it does not combine with {flag}")
    if code:
        clash = [flag for flag, on in {**flags, "--diagram": diagram}.items() if on]
        if clash or export:
            other = clash[0] if clash else "--export"
            raise InputError(f"--code prints a script; it does not combine with {other}")
    if export is None:
        return None
    from rnnprobe.show import export as exports

    return exports.export_format(export)


# Shared by train and grads.
LabelsOpt = Annotated[
    str | None,
    typer.Option(
        "--labels",
        metavar="L,L,...",
        help="One label per word (any strings): many-to-one, Dense(classes) on the last "
        "step. Without labels or --tagged: predict each next token.",
        show_default=False,
        rich_help_panel=WORDS,
    ),
]
TaggedOpt = Annotated[
    bool,
    typer.Option(
        "--tagged",
        help="With --tokens word: each token is word/TAG; a tag per word (many-to-many).",
        rich_help_panel=WORDS,
    ),
]
LrOpt = Annotated[
    str,
    typer.Option("--lr", metavar="X", help="Adam's learning rate.", rich_help_panel=TRAINING),
]
BatchSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--batch-size",
        metavar="N",
        help="Words per batch, in their order (default: all in one batch).",
        show_default=False,
        rich_help_panel=TRAINING,
    ),
]
EveryOpt = Annotated[
    str | None,
    typer.Option(
        "--every",
        metavar="N",
        help="Print the loss every N epochs (default: about ten lines).",
        show_default=False,
        rich_help_panel=TRAINING,
    ),
]
