"""`rnnprobe run`: parse the words and the options, call the core, print a view.

`RunArgs` is what a run was asked, from a command line or a batch line alike.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rnnprobe.cli.data import (
    ColumnsOpt,
    FromOpt,
    LimitOpt,
    StrideOpt,
    WindowOpt,
    from_file,
    window_of,
)
from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    EXAMPLES,
    MODEL,
    NETWORK,
    SHOW,
    AllOpt,
    BidirectionalOpt,
    CellOpt,
    CheckOpt,
    ChunksOpt,
    CodeOpt,
    EachStepOpt,
    EmbedOpt,
    ExportOpt,
    HeadOpt,
    HiddenOpt,
    InitialStateOpt,
    JsonOpt,
    MergeModeOpt,
    NoServerOpt,
    ResetBetweenOpt,
    SeedOpt,
    StyleOpt,
    TokensOpt,
    VocabOpt,
    WordOpt,
    WordsArg,
    output_format,
    read_text,
    read_words,
    whole_numbers,
)
from rnnprobe.cli.saving import RunLoadOpt
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import Cell, MergeMode, Style, Tokens

if TYPE_CHECKING:
    from rnnprobe.core.result import ProbeResult
    from rnnprobe.core.stages import ProbeSpec


@dataclass(frozen=True)
class RunArgs:
    """What `rnnprobe run` was asked, as parsed: the same for a command line and a batch line."""

    words: list[str]
    vocab: str | None
    tokens: Tokens
    hidden: str
    style: Style
    cell: Cell
    seed: int | None
    return_sequences: bool
    return_state: bool
    bidirectional: bool
    merge_mode: MergeMode | None
    embed: str | None
    head: str | None
    each_step: bool
    weights: bool
    check: bool
    steps: bool
    at: int | None
    diagram: bool
    word: int | None
    shapes: bool
    code: bool
    all: bool
    export: Path | None
    json: bool
    torch: bool
    window: str | None = None
    stride: str | None = None
    source: str | None = None  # --from
    columns: str | None = None
    limit: str | None = None
    load: str | None = None
    initial_state: list[str] | None = None
    chunks: str | None = None
    reset_between: bool = False

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RunArgs:
        """From the `run` command's parameters (`vocab_`, `json_`, ... without underscores);
        whole numbers, read as text, are parsed here."""
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["source"] = fields.pop("from", None)
        fields["words"] = list(fields["words"] or [])
        return cls(**whole_numbers(fields, "seed", "at", "word"))

    def given(self, *, stdin: bool = True) -> list[str]:
        """The words: as given (or from stdin), or one text cut into windows (--window)."""
        window, stride = window_of(self.window, self.stride)
        found = from_file(self.source, self.columns, self.limit, self.words, default=1,
                          allowed=(1,), stdin=stdin)  # fmt: skip
        if found is not None:
            words = list(found[0])
            if window is None:
                return words
            from rnnprobe.core.inputs.tasks import one_text
            from rnnprobe.core.inputs.text_windows import text_windows

            return text_windows(one_text(words), window, stride, self.tokens, predict=False)
        if window is None:
            return read_words(self.words, self.tokens) if stdin else self.words
        from rnnprobe.core.inputs.tasks import one_text
        from rnnprobe.core.inputs.text_windows import text_windows

        text = one_text(read_text(self.words) if stdin else self.words)
        return text_windows(text, window, stride, self.tokens, predict=False)

    def chunked(self, spec: ProbeSpec) -> int | None:
        """--chunks and --reset-between, checked before any work (the word length later)."""
        from rnnprobe.core import options
        from rnnprobe.core.commands import chunks

        count = None if self.chunks is None else options.positive_int("chunks", self.chunks)
        chunks.check_request(count, self.reset_between, spec, steps=self.steps,
                             diagram=self.diagram, torch=self.torch, code=self.code)  # fmt: skip
        return count

    def initial(self, spec: ProbeSpec) -> Any:
        """--initial-state, read and checked against the network's states (None without)."""
        from rnnprobe.core.commands import run as commands

        return commands.read_initial(self.initial_state, [spec])

    def loaded(self) -> tuple[ProbeSpec, Any]:
        """The network: the options', or --load's (checked against the options given)."""
        if self.load is None:
            return self.spec(), None
        from dataclasses import replace

        from rnnprobe.cli import saving

        if self.code or self.vocab is not None:
            raise InputError("--load brings its weights and vocabulary: it does not combine "
                             "with --code or --vocab")  # fmt: skip
        defaults = {**saving.NETWORK_DEFAULTS, "head": None, "each_step": False}
        loaded = saving.load(self.load, ("train",), self, defaults)
        return replace(loaded.spec, loss=False, return_state=self.return_state), loaded

    def batch(self, given: list[str], spec: ProbeSpec, loaded: Any) -> Any:
        from rnnprobe.core.commands import run as commands

        if loaded is None:
            return commands.make_batch(given, self.vocab, spec)
        return commands.loaded_batch(given, loaded, spec)

    @property
    def word_drawn(self) -> int:
        """The word --diagram draws, counted from 1."""
        return 1 if self.word is None else self.word

    def spec(self) -> ProbeSpec:
        from rnnprobe.core import options

        return options.make_spec(
            hidden=self.hidden,
            merge_mode=self.merge_mode,
            bidirectional=self.bidirectional,
            style=self.style,
            cell=self.cell,
            return_sequences=self.return_sequences,
            return_state=self.return_state,
            tokens=self.tokens,
            embed=self.embed,
            head=self.head,
            each_step=self.each_step,
        )

    def export_format(self) -> str | None:
        """Checked before any work: the export format, or None without --export."""
        if self.word is not None and not self.diagram:
            raise InputError("--word needs --diagram")
        if self.torch:
            from rnnprobe.core.commands import run as commands

            commands.check_torch(steps=self.steps, diagram=self.diagram)
        return output_format(
            self.export,
            diagram=self.diagram,
            code=self.code,
            flags={
                "--json": self.json,
                "--check": self.check,
                "--steps": self.steps,
                "--shapes": self.shapes,
                "--weights": self.weights,
            },
        )


def _view(args: RunArgs, result: ProbeResult) -> Any:
    from rich.console import Group

    from rnnprobe.show import saved_view, views

    if args.shapes:
        from rnnprobe.show.shapes_view import shapes_view

        shown = shapes_view(result)
    else:
        word = args.word_drawn - 1 if args.diagram else None
        shown = views.run_view(result, weights=args.weights, all_words=args.all, diagram=word)
    return Group(*saved_view.loaded_lines(args.load), shown)


def _export(
    args: RunArgs, result: ProbeResult, kind: str | None, width: int, view: Any = None
) -> None:
    """Write the tables to --export's file (`view`, when they were made for stdout)."""
    if args.export is not None and kind is not None:
        from rnnprobe.show import export

        export.export(view or _view(args, result), args.export, kind, width)


def run_json(args: RunArgs, expected: int = 1) -> tuple[bytes, bool]:
    """A batch line: what `run ... --json` prints for these arguments, and whether it passed.

    `expected`: how many lines of the batch, this one included, run the same structure."""
    from rnnprobe.core.commands import run as commands
    from rnnprobe.show import jsonout, widgets

    kind = args.export_format()
    spec, loaded = args.loaded()
    initial = args.initial(spec)
    count = args.chunked(spec)
    given = args.given(stdin=False)
    result = commands.run(
        given,
        spec,
        initial=initial,
        chunks=count,
        reset_between=args.reset_between,
        check=args.check,
        steps=args.steps,
        at=args.at,
        torch=args.torch,
        expected=expected,
        batch=args.batch(given, spec, loaded),
        seed=args.seed if loaded is None else loaded.meta["seed"],
        weights=None if loaded is None else loaded.weights,
    )
    _export(args, result, kind, widgets.unseen_console().width)
    return jsonout.dumps(_body(args, result)), _passed(result)


def _body(args: RunArgs, result: ProbeResult) -> dict[str, Any]:
    """`run --json`'s object; with --load, the file it came from (`loaded`)."""
    from rnnprobe.show import jsonout

    body = jsonout.run_object(result, weights=args.weights, values=not args.shapes)
    return body if args.load is None else {**body, "loaded": args.load}


def _passed(result: ProbeResult) -> bool:
    """False when --check or --torch found Keras's numbers off, or chunks that carry their
    state gave other outputs than the whole run (exit 1)."""
    checked = result.check is None or result.check.ok
    found = result.chunks
    chunked = found is None or ((found.same or found.reset) and (found.check is None
                                                                 or found.check.ok))  # fmt: skip
    return checked and chunked and (result.torch is None or result.torch.ok)


command = typer.Typer(add_completion=False)  # `run` alone, as the app loads it


@command.command(cls=ProbeCommand, epilog=EXAMPLES)
def run(
    words: WordsArg = None,
    vocab_: VocabOpt = None,
    tokens: TokensOpt = Tokens.char,
    window: WindowOpt = None,
    stride: StrideOpt = None,
    from_: FromOpt = None,
    columns: ColumnsOpt = None,
    limit: LimitOpt = None,
    hidden: HiddenOpt = "2",
    style: StyleOpt = Style.layer,
    cell: CellOpt = Cell.simple,
    seed: SeedOpt = None,
    return_sequences: Annotated[
        bool,
        typer.Option(
            help="Outputs at every step, or only at each word's last real one.",
            rich_help_panel=NETWORK,
        ),
    ] = True,
    return_state: Annotated[
        bool, typer.Option(help="Return the final states.", rich_help_panel=NETWORK)
    ] = True,
    bidirectional: BidirectionalOpt = False,
    merge_mode: MergeModeOpt = None,
    embed: EmbedOpt = None,
    head: HeadOpt = None,
    each_step: EachStepOpt = False,
    weights: Annotated[
        bool,
        typer.Option(
            "--weights", help="Also show kernel, recurrent_kernel and bias.", rich_help_panel=SHOW
        ),
    ] = False,
    check_: CheckOpt = False,
    shapes: Annotated[
        bool,
        typer.Option(
            "--shapes",
            help="Only shapes, axes and parameter counts; no values.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    steps: Annotated[
        bool,
        typer.Option(
            "--steps",
            help="Every step of every layer: gates, states, and one step worked out.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="T",
            help="With --steps: the step of word 1 worked out (default: its last).",
            rich_help_panel=SHOW,
        ),
    ] = None,
    diagram: Annotated[
        bool,
        typer.Option(
            "--diagram",
            help="Draw the network unrolled over a word, with its shapes.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    word: WordOpt = None,
    code: CodeOpt = False,
    all_: AllOpt = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    torch: Annotated[
        bool,
        typer.Option(
            "--torch",
            help="The same network in PyTorch, numbers compared; with --code, its script.",
            rich_help_panel=MODEL,
        ),
    ] = False,
    load: RunLoadOpt = None,
    initial_state: InitialStateOpt = None,
    chunks: ChunksOpt = None,
    reset_between: ResetBetweenOpt = False,
    no_server: NoServerOpt = False,
) -> None:
    """Run a Keras RNN on one-hot words and show x_data, outputs and states."""
    args = RunArgs.from_params(dict(locals()))  # every parameter above, by name
    from rnnprobe.core import options, progress
    from rnnprobe.core.commands import run as commands
    from rnnprobe.show import jsonout, keras_code, widgets

    kind = args.export_format()
    spec, loaded = args.loaded()
    initial = args.initial(spec)
    count = args.chunked(spec)
    given = args.given()
    batch = args.batch(given, spec, loaded)
    if args.diagram:
        options.check_drawn("word", args.word, len(given))
    if args.code and not args.torch:
        drawn = options.resolve_seed(args.seed)
        starts = commands.initial_states(initial, spec, batch.rows, drawn)
        sys.stdout.write(keras_code.script(batch, spec, drawn, initial=starts))
        return
    with progress.spinner(f"Running the RNN on {len(given):,} words…"):
        result = commands.run(
            given,
            spec,
            seed=args.seed if loaded is None else loaded.meta["seed"],
            check=args.check,
            steps=args.steps,
            at=args.at,
            batch=batch,
            torch=args.torch,
            weights=None if loaded is None else loaded.weights,
            initial=initial,
            chunks=count,
            reset_between=args.reset_between,
        )
    if args.code:  # with --torch: a PyTorch script with the converted weights
        from rnnprobe.show.torch_code import torch_script

        sys.stdout.write(torch_script(result))
        return
    console = widgets.stdout_console()
    view = None
    if args.json:
        jsonout.write(_body(args, result))
    else:
        view = _view(args, result)
        widgets.show(console, view)
    _export(args, result, kind, console.width, view)
    if not _passed(result):
        raise typer.Exit(1)
