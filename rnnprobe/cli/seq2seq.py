"""`rnnprobe seq2seq`: parse the pairs and the options, call the core, print a view."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    MODEL,
    NETWORK,
    SHOW,
    WORDS,
    CheckOpt,
    CodeOpt,
    ExportOpt,
    JsonOpt,
    NoServerOpt,
    SeedOpt,
    output_format,
    whole_numbers,
)
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import Cell, Tokens

if TYPE_CHECKING:
    from rnnprobe.core.encdec import Seq2SeqResult, Seq2SeqSpec

EXAMPLES = """Examples: pairs of sentences, a source then its target
  rnnprobe seq2seq "i feel hungry" "나는 배가 고프다" "you are" "너는"
  rnnprobe seq2seq "i feel hungry" "나는 배가 고프다" --attention --diagram
  printf 'i feel hungry\\t나는 배가 고프다\\n' | rnnprobe seq2seq - --json"""


@dataclass(frozen=True)
class Seq2SeqArgs:
    """What `rnnprobe seq2seq` was asked, as parsed (a command line or a batch line)."""

    sentences: list[str]
    tokens: Tokens
    cell: Cell
    hidden: str
    embed: str
    attention: bool
    seed: int | None
    weights: bool
    check: bool
    shapes: bool
    diagram: bool
    pair: int | None
    code: bool
    all: bool
    export: Path | None
    json: bool

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Seq2SeqArgs:
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["sentences"] = list(fields["sentences"] or [])
        return cls(**whole_numbers(fields, "seed", "pair"))

    def spec(self) -> Seq2SeqSpec:
        from rnnprobe.core import commands

        return commands.make_seq2seq_spec(
            cell=self.cell,
            hidden=self.hidden,
            embed=self.embed,
            attention=self.attention,
            tokens=self.tokens,
        )

    def pairs(self, stdin: Any = None) -> list[tuple[str, str]]:
        from rnnprobe.core import commands

        if self.sentences == ["-"]:
            if stdin is None:
                raise InputError("a batch line cannot read pairs from stdin")
            return commands.pairs_from_text(stdin.read())
        return commands.pairs_from_sentences(self.sentences)

    def export_format(self) -> str | None:
        if self.pair is not None and not self.diagram:
            raise InputError("--pair needs --diagram")
        return output_format(
            self.export,
            diagram=self.diagram,
            code=self.code,
            flags={
                "--json": self.json,
                "--check": self.check,
                "--shapes": self.shapes,
                "--weights": self.weights,
            },
        )


def view(args: Seq2SeqArgs, result: Seq2SeqResult) -> Any:
    from rnnprobe.show import seq2seq_view

    if args.shapes:
        return seq2seq_view.seq2seq_shapes_view(result)
    drawn = (args.pair or 1) - 1 if args.diagram else None
    return seq2seq_view.seq2seq_view(
        result, weights=args.weights, all_pairs=args.all, diagram=drawn
    )


def seq2seq_json(args: Seq2SeqArgs) -> tuple[bytes, bool]:
    """A batch line: what `seq2seq ... --json` prints for these arguments, and whether it
    passed its check."""
    from rnnprobe.core import commands
    from rnnprobe.show import export, jsonout, widgets

    spec = args.spec()
    kind = args.export_format()
    result = commands.seq2seq(args.pairs(), spec, seed=args.seed, check=args.check)
    if args.export is not None and kind is not None:
        export.export(view(args, result), args.export, kind, widgets.unseen_console().width)
    body = jsonout.seq2seq_object(result, weights=args.weights, values=not args.shapes)
    return jsonout.dumps(body), result.check is None or result.check.ok


command = typer.Typer(add_completion=False)  # `seq2seq` alone, as the app loads it


@command.command(cls=ProbeCommand, epilog=EXAMPLES)
def seq2seq(
    sentences: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SOURCE TARGET",
            help="Pairs of sentences, a source then its target; - reads source<TAB>target "
            "lines from stdin.",
            show_default=False,
            rich_help_panel=WORDS,
        ),
    ] = None,
    tokens: Annotated[
        Tokens,
        typer.Option(
            metavar="TOKENS",
            help="word: whitespace-separated words (default); char: characters.",
            rich_help_panel=WORDS,
        ),
    ] = Tokens.word,
    cell: Annotated[
        Cell,
        typer.Option(
            metavar="CELL", help="The cell: gru (default), lstm or simple.", rich_help_panel=NETWORK
        ),
    ] = Cell.gru,
    hidden: Annotated[
        str,
        typer.Option(
            "--hidden",
            "-H",
            metavar="U",
            help="Units of the encoder and the decoder.",
            rich_help_panel=NETWORK,
        ),
    ] = "4",
    embed: Annotated[
        str,
        typer.Option(
            "--embed", metavar="E", help="Dimensions of both Embeddings.", rich_help_panel=MODEL
        ),
    ] = "4",
    attention: Annotated[
        bool,
        typer.Option(
            "--attention",
            help="Additive attention over the encoder's outputs.",
            rich_help_panel=MODEL,
        ),
    ] = False,
    seed: SeedOpt = None,
    weights: Annotated[
        bool,
        typer.Option("--weights", help="Also show every weight.", rich_help_panel=SHOW),
    ] = False,
    check_: CheckOpt = False,
    shapes: Annotated[
        bool,
        typer.Option(
            "--shapes", help="Only shapes and parameter counts; no values.", rich_help_panel=SHOW
        ),
    ] = False,
    diagram: Annotated[
        bool,
        typer.Option(
            "--diagram",
            help="Draw the encoder and the decoder unrolled over a pair.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    pair: Annotated[
        str | None,
        typer.Option(
            "--pair",
            metavar="N",
            help="With --diagram: the pair drawn (default: 1).",
            rich_help_panel=SHOW,
        ),
    ] = None,
    code: CodeOpt = False,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Tables for every pair (default: the first 8).", rich_help_panel=SHOW
        ),
    ] = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """An encoder and a decoder: the state handed over, teacher forcing, and attention."""
    args = Seq2SeqArgs.from_params(dict(locals()))
    from rnnprobe.core import commands, progress
    from rnnprobe.core import seq2seq as encoder_decoder
    from rnnprobe.show import export as exports
    from rnnprobe.show import jsonout, seq2seq_code, widgets

    spec = args.spec()
    kind = args.export_format()
    pairs = args.pairs(sys.stdin)
    batches = encoder_decoder.make_batches(pairs, spec)
    if args.diagram and not 1 <= (args.pair or 1) <= len(pairs):
        raise InputError(f"--pair {args.pair}: give a pair from 1 to {len(pairs)}")
    with progress.spinner(f"Running the encoder and the decoder on {len(pairs):,} pairs…"):
        result = commands.seq2seq(pairs, spec, seed=args.seed, check=args.check, batches=batches)
    if args.code:
        sys.stdout.write(seq2seq_code.seq2seq_script(result))
        return
    console = widgets.stdout_console()
    shown = None
    if args.json:
        jsonout.write(jsonout.seq2seq_object(result, weights=args.weights, values=not args.shapes))
    else:
        shown = view(args, result)
        widgets.show(console, shown)
    if args.export is not None and kind is not None:
        exports.export(shown or view(args, result), args.export, kind, console.width)
    if result.check is not None and not result.check.ok:
        raise typer.Exit(1)
