"""Command-line interface: parse options, call the core, print a view, map errors.

Each command imports what it needs when it runs (numpy, rich's tables, the core): `--help`,
`--version` and a TAB completion import none of it, and `vocab` never imports TensorFlow,
which `probe.run_probe` loads only when a model is built.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from rnnprobe import __version__
from rnnprobe.core.errors import InputError, RnnProbeError, click_message
from rnnprobe.core.result import MAX_SEED, SHOWN_WORDS, Cell, MergeMode, Style, Tokens

if TYPE_CHECKING:
    from rnnprobe.core.result import ProbeResult, ProbeSpec

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
}


def error_message(error: RnnProbeError) -> str:
    """A core error in the CLI's words: parameters spelled as options."""
    return error.message(CLI_NAMES) if isinstance(error, InputError) else str(error)


class _AsParsed:
    """Typer's coercion of a text or flag parameter, without pydantic: the value as parsed.

    A hook into Typer's private `_runtime_param` and `type_descriptor`, written for Typer
    0.29 (kept here, in this one place): Typer 0.29 coerces parameters through pydantic
    TypeAdapters, and importing pydantic takes longer than all the rest of `rnnprobe
    vocab`, `--help` or a TAB completion. Words, --vocab, --hidden, --seed, socket paths
    and flags are what Click read already. A Typer without the hook (0.15 to 0.2x) uses
    its own coercion, with the same results: tests/test_typer_hook.py runs both ways.
    """

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        return list(value) if many else value


class _WhenGiven(_AsParsed):
    """Typer's own coercion (choices, numbers, paths), built only for a value given.

    Defaults are written in their type already (`Style.layer`, `900.0`).
    """

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None or value is param.default:
            return super().coerce(value, param, ctx)
        param._runtime_param = None
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


def _as_parsed(params: list[Any]) -> list[Any]:
    """Give each parameter the coercion above (where Typer has the hook for it)."""
    for param in params:
        described = getattr(param, "type_descriptor", None)
        if described is None or getattr(param, "_runtime_param", False) is not None:
            continue  # another Typer, or already set
        text = described.annotation in (str, list[str], bool)
        param._runtime_param = _AsParsed() if text else _WhenGiven()
    return params


class ProbeCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return _as_parsed(super().get_params(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from rnnprobe.show import helptext

        helptext.show_help(self, ctx)


class ProbeGroup(TyperGroup):
    """Every failure ends as one line on stderr and an exit code, never a traceback."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _as_parsed(super().get_params(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from rnnprobe.show import helptext

        helptext.show_help(self, ctx)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # a bare `rnnprobe`: its help, exit 2
            self.format_help(ctx, None)
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except RnnProbeError as error:
            code = _fail(f"rnnprobe: error: {error_message(error)}", error.exit_code)
        except BrokenPipeError:
            code = _quiet_broken_pipe()
        except typer.Abort:  # end of input while prompting
            code = 130
        except Exception as error:
            code = _click_failure(error)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _click_failure(error: Exception) -> int:
    """Map a Click usage error (Typer may vendor its own Click) to a message and a code."""
    message = click_message(error)
    if message is None:
        raise error
    ctx = getattr(error, "ctx", None)
    path = ctx.command_path if ctx is not None else "rnnprobe"
    return _fail(f"{path}: error: {message}", error.exit_code)  # type: ignore[attr-defined]


def _fail(message: str, code: int) -> int:
    """One line on stderr: the message with any line breaks folded."""
    typer.echo(" ".join(message.split()), err=True)
    return code


def _quiet_broken_pipe() -> int:
    """The reader went away: say nothing, and keep Python from complaining at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass
    return 1


class ProbeApp(typer.Typer):
    """The entry point. Once TensorFlow is loaded, skip the interpreter's slow teardown."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as done:
            if "tensorflow" not in sys.modules:
                raise
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BrokenPipeError:
                pass
            # Unloading TensorFlow's modules costs about half a second and changes nothing:
            # the output is written and flushed, so the process can end here.
            os._exit(code)


EXAMPLES = """Examples: the lecture's three steps, then more
  rnnprobe run hello --hidden 2
  rnnprobe run hello eolll lleel --style cell
  rnnprobe run hello eolll lleel --json | jq '.outputs.shape'
  rnnprobe run hello --cell lstm --steps
  rnnprobe run hello hi --bidirectional --diagram --word 2
  rnnprobe compare hello eolll lleel --cell gru"""

app = ProbeApp(
    cls=ProbeGroup,
    epilog=EXAMPLES,
    name="rnnprobe",
    help="Show what a Keras RNN does with your words: x_data, outputs and states, shaped.",
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def whole_numbers(fields: dict[str, Any], *names: str) -> dict[str, Any]:
    """The fields with these options' text parsed as whole numbers (one wording for any
    Typer)."""
    from rnnprobe.core import commands

    return {**fields, **{name: commands.whole_number(name, fields[name]) for name in names}}


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"rnnprobe {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Show what a Keras RNN does with your words: x_data, outputs and states, shaped."""


def _words(words: list[str] | None, tokens: Tokens = Tokens.char) -> list[str]:
    """The words from the command line, or from stdin when the only word is `-`
    (whitespace-separated words; with word tokens, one sentence per line)."""
    if words == ["-"]:
        from rnnprobe.core.vocab import sentences_from_text, words_from_text

        text = sys.stdin.read()
        return sentences_from_text(text) if tokens is Tokens.word else words_from_text(text)
    return list(words or [])


def _spec(
    hidden: str, merge_mode: MergeMode | None, *, bidirectional: bool, **rest: Any
) -> ProbeSpec:
    from rnnprobe.core import commands

    return commands.make_spec(
        hidden=hidden,
        merge_mode=merge_mode,
        bidirectional=bidirectional,
        **rest,
    )


# The panels of the help pages, in the order they are shown.
WORDS, NETWORK, MODEL, SHOW, OUTPUT, SERVER = (
    "Words", "Network", "Model", "Show", "Output", "Server",
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
CheckOpt = Annotated[
    bool,
    typer.Option(
        "--check",
        help="Re-compute with rnnprobe's numpy and compare; exit 1 if they differ.",
        rich_help_panel=SHOW,
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


@app.command(cls=ProbeCommand, epilog="Example:\n  rnnprobe vocab hello eolll lleel --vocab olhe")
def vocab(
    words: WordsArg = None,
    vocab_: VocabOpt = None,
    tokens: TokensOpt = Tokens.char,
    all_: AllOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Show the vocabulary and the one-hot x_data, without running a model."""
    from rnnprobe.core import commands

    batch = commands.vocab(_words(words, tokens), vocab_, tokens)
    if json_:
        from rnnprobe.show import jsonout

        jsonout.write(jsonout.vocab_object(batch))
    else:
        from rnnprobe.show import render

        render.show(render.stdout_console(), render.vocab_view(batch, all_words=all_))


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

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> RunArgs:
        """From the `run` command's parameters (`vocab_`, `json_`, ... without underscores);
        whole numbers, read as text, are parsed here."""
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["words"] = list(fields["words"] or [])
        return cls(**whole_numbers(fields, "seed", "at", "word"))

    @property
    def word_drawn(self) -> int:
        """The word --diagram draws, counted from 1."""
        return 1 if self.word is None else self.word

    def spec(self) -> ProbeSpec:
        return _spec(
            self.hidden,
            self.merge_mode,
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
            from rnnprobe.core import commands

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
    from rnnprobe.show import render

    return render.export_format(export)


def _view(args: RunArgs, result: ProbeResult) -> Any:
    from rnnprobe.show import render

    if args.shapes:
        return render.shapes_view(result)
    word = args.word_drawn - 1 if args.diagram else None
    return render.run_view(result, weights=args.weights, all_words=args.all, diagram=word)


def _export(
    args: RunArgs, result: ProbeResult, kind: str | None, width: int, view: Any = None
) -> None:
    """Write the tables to --export's file (`view`, when they were made for stdout)."""
    if args.export is not None and kind is not None:
        from rnnprobe.show import render

        render.export(view or _view(args, result), args.export, kind, width)


def run_json(args: RunArgs, expected: int = 1) -> tuple[bytes, bool]:
    """A batch line: what `run ... --json` prints for these arguments, and whether it passed.

    `expected`: how many lines of the batch, this one included, run the same structure."""
    from rnnprobe.core import commands
    from rnnprobe.show import jsonout, render

    spec = args.spec()
    kind = args.export_format()
    result = commands.run(
        args.words,
        spec,
        vocab=args.vocab,
        seed=args.seed,
        check=args.check,
        steps=args.steps,
        at=args.at,
        torch=args.torch,
        expected=expected,
    )
    _export(args, result, kind, render.unseen_console().width)
    body = jsonout.run_object(result, weights=args.weights, values=not args.shapes)
    return jsonout.dumps(body), _passed(result)


def _passed(result: ProbeResult) -> bool:
    """False when --check or --torch found Keras's numbers off (exit 1)."""
    checked = result.check is None or result.check.ok
    return checked and (result.torch is None or result.torch.ok)


@app.command(cls=ProbeCommand, epilog=EXAMPLES)
def run(
    words: WordsArg = None,
    vocab_: VocabOpt = None,
    tokens: TokensOpt = Tokens.char,
    hidden: HiddenOpt = "2",
    style: Annotated[
        Style,
        typer.Option(
            metavar="STYLE",
            help="layer: layers.SimpleRNN (LSTM, GRU); cell: layers.RNN(layers.SimpleRNNCell).",
            rich_help_panel=NETWORK,
        ),
    ] = Style.layer,
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
    word: Annotated[
        str | None,
        typer.Option(
            "--word",
            metavar="N",
            help="With --diagram: the word drawn (default: 1).",
            rich_help_panel=SHOW,
        ),
    ] = None,
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
    no_server: NoServerOpt = False,
) -> None:
    """Run a Keras RNN on one-hot words and show x_data, outputs and states."""
    args = RunArgs.from_params(dict(locals()))  # every parameter above, by name
    from rnnprobe.core import commands, progress
    from rnnprobe.show import jsonout, keras_code, render

    spec = args.spec()
    kind = args.export_format()
    given = _words(args.words, args.tokens)
    batch = commands.make_batch(given, args.vocab, spec)
    if args.diagram and not 1 <= args.word_drawn <= len(given):
        raise InputError(f"--word {args.word}: give a word from 1 to {len(given)}")
    if args.code and not args.torch:
        sys.stdout.write(keras_code.script(batch, spec, commands.resolve_seed(args.seed)))
        return
    with progress.spinner(f"Running the RNN on {len(given):,} words…"):
        result = commands.run(
            given,
            spec,
            seed=args.seed,
            check=args.check,
            steps=args.steps,
            at=args.at,
            batch=batch,
            torch=args.torch,
        )
    if args.code:  # with --torch: a PyTorch script with the converted weights
        sys.stdout.write(keras_code.torch_script(result))
        return
    console = render.stdout_console()
    view = None
    if args.json:
        jsonout.write(jsonout.run_object(result, weights=args.weights, values=not args.shapes))
    else:
        view = _view(args, result)
        render.show(console, view)
    _export(args, result, kind, console.width, view)
    if not _passed(result):
        raise typer.Exit(1)


@app.command(cls=ProbeCommand, epilog="Example:\n  rnnprobe compare hello eolll lleel --cell lstm")
def compare(
    words: WordsArg = None,
    vocab_: VocabOpt = None,
    tokens: TokensOpt = Tokens.char,
    hidden: HiddenOpt = "2",
    cell: CellOpt = Cell.simple,
    seed: SeedOpt = None,
    bidirectional: BidirectionalOpt = False,
    merge_mode: MergeModeOpt = None,
    embed: EmbedOpt = None,
    head: HeadOpt = None,
    each_step: EachStepOpt = False,
    json_: JsonOpt = False,
    no_server: NoServerOpt = False,
) -> None:
    """Run the cell style and the layer style with the same weights and compare them.

    Exit 0 when every returned tensor is identical within 1e-6, 1 when not.
    """
    from rnnprobe.core import commands
    from rnnprobe.show import jsonout, render

    spec = _spec(
        hidden,
        merge_mode,
        bidirectional=bidirectional,
        cell=cell,
        tokens=tokens,
        embed=embed,
        head=head,
        each_step=each_step,
    )
    number = commands.whole_number("seed", seed)
    result = commands.compare(_words(words, spec.tokens), spec, vocab=vocab_, seed=number)
    if json_:
        jsonout.write(jsonout.compare_object(result))
    else:
        render.show(render.stdout_console(), render.compare_view(result))
    if not result.identical:
        raise typer.Exit(1)


@app.command(cls=ProbeCommand, epilog="Example:\n  rnnprobe batch probes.txt > results.jsonl")
def batch(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="Lines of run arguments; - reads stdin.")
    ],
    no_server: NoServerOpt = False,
) -> None:
    """Run one probe per line and print JSON Lines, each exactly what run --json prints.

    A line holds the arguments of one run (shell quoting, without the word run), or of
    one seq2seq after the word seq2seq; blank lines and lines starting with # are
    skipped. A line that fails prints {"line": N, "error": "..."} and the batch goes on;
    the exit status is 1 if any failed.
    """
    from rnnprobe import batchlines
    from rnnprobe.core import progress
    from rnnprobe.show import jsonout

    text = sys.stdin.read() if source == "-" else batchlines.read_file(source)
    assert ctx.parent is not None
    group = ctx.parent.command
    get = group.get_command  # type: ignore[attr-defined]
    commands = {name: get(ctx.parent, name) for name in ("run", "seq2seq")}
    probes = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    parsed = [_batch_line(commands, line) for _, line in probes]
    expected = batchlines.still_to_come([_structure(name, params) for name, params in parsed])
    out = sys.stdout.buffer
    failed = False
    with progress.spinner(f"Running {len(probes):,} probes…"):
        for (number, _), (name, params), coming in zip(probes, parsed, expected, strict=True):
            try:
                if isinstance(params, batchlines.LineError):
                    raise params
                if name == "seq2seq":
                    from rnnprobe.cli.seq2seq import Seq2SeqArgs, seq2seq_json

                    written, ok = seq2seq_json(Seq2SeqArgs.from_params(params))
                else:
                    written, ok = run_json(RunArgs.from_params(params), expected=coming)
            except batchlines.LineError as error:
                written, ok = jsonout.dumps({"line": number, "error": str(error)}), False
            except RnnProbeError as error:
                written, ok = jsonout.dumps({"line": number, "error": error_message(error)}), False
            out.write(written)
            out.flush()
            failed = failed or not ok
    if failed:
        raise typer.Exit(1)


def _batch_line(commands: dict[str, Any], line: str) -> tuple[str, Any]:
    """A batch line's command and its parameters, or the LineError it gives."""
    from rnnprobe import batchlines

    try:
        name, _ = batchlines.split_line(line)
        return name, batchlines.parse_line(commands[name], line)
    except batchlines.LineError as error:
        return "run", error


def _structure(name: str, params: Any) -> Any:
    """What a run line's graph depends on (`probe.structure`), or None."""
    if name != "run" or not isinstance(params, dict):
        return None
    from rnnprobe.core import probe

    try:
        return probe.structure(RunArgs.from_params(params).spec())
    except RnnProbeError:
        return None


@app.command(
    cls=ProbeCommand,
    epilog="Example:\n  rnnprobe serve &\n  rnnprobe run hello eolll lleel   # answered warm",
)
def serve(
    socket_: Annotated[
        str | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            help="Socket path (default: $RNNPROBE_SOCKET, $XDG_RUNTIME_DIR/rnnprobe.sock, "
            "or the user's cache).",
            show_default=False,
        ),
    ] = None,
    idle_timeout: Annotated[
        float, typer.Option(min=0.1, metavar="SECONDS", help="Exit after this long unused.")
    ] = 900.0,
    status: Annotated[
        bool, typer.Option("--status", help="Say whether a server answers; exit 1 if none.")
    ] = False,
    stop: Annotated[bool, typer.Option("--stop", help="Ask the server to exit.")] = False,
    json_: Annotated[
        bool, typer.Option("--json", help="With --status: one JSON object instead of a line.")
    ] = False,
) -> None:
    """Keep TensorFlow loaded and answer run, compare, batch and seq2seq at once.

    Runs in the foreground until idle for --idle-timeout, or SIGTERM/SIGINT, or --stop.
    """
    from rnnprobe.serve import client, server
    from rnnprobe.show import jsonout

    path = client.socket_path(socket_)
    if status and stop:
        raise InputError("--status and --stop do not combine")
    if json_ and not status:
        raise InputError("--json needs --status")
    if status:
        found = server.status(path)
        if found is None:
            typer.echo(f"no rnnprobe server answers on {path}", err=True)
            raise typer.Exit(1)
        if json_:
            jsonout.write(found)
        else:
            typer.echo(server.status_line(found))
    elif stop:
        if not server.stop(path):
            typer.echo(f"no rnnprobe server stopped on {path}", err=True)
            raise typer.Exit(1)
        typer.echo(f"stopped the rnnprobe server on {path}")
    else:
        server.serve(path, idle_timeout)


# Commands with a module of their own register themselves on `app` when imported.
from rnnprobe.cli import seq2seq as _seq2seq  # noqa: E402, F401
