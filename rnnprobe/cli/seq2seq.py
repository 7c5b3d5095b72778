"""`rnnprobe seq2seq`: parse the pairs and the options, call the core, print a view."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rnnprobe.cli import translate as loaded_pairs
from rnnprobe.cli.data import (
    ColumnsOpt,
    FromOpt,
    LimitOpt,
    MaxVocabOpt,
    MinCountOpt,
    ShuffleOpt,
    from_file,
)
from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    MODEL,
    NETWORK,
    SHOW,
    TRAINING,
    WORDS,
    CheckOpt,
    CodeOpt,
    EveryOpt,
    ExportOpt,
    JsonOpt,
    NoServerOpt,
    SeedOpt,
    output_format,
    read_stdin,
    whole_numbers,
)
from rnnprobe.cli.saving import LoadOpt, SaveOpt, check_save
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import SHOWN_WORDS, Cell, Tokens
from rnnprobe.core.options import vocab_limits

if TYPE_CHECKING:
    from rnnprobe.core.commands.seq2seq import Seq2SeqResult
    from rnnprobe.core.commands.seq2seq_train import PairsTraining, Plan
    from rnnprobe.core.stages.encdec import Seq2SeqSpec

EXAMPLES = """Examples: pairs of sentences, a source then its target
  rnnprobe seq2seq "i feel hungry" "나는 배가 고프다" "you are" "너는"
  rnnprobe seq2seq "i feel hungry" "나는 배가 고프다" --attention --diagram
  printf 'i feel hungry\\t나는 배가 고프다\\n' | rnnprobe seq2seq - --json
  rnnprobe seq2seq "i feel hungry" "나는 배가 고프다" "you are hungry" "너는 배가 고프다" \\
      --train 60 --lr 0.01 -H 16 --embed 16 --attention --translate "you feel hungry\""""


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
    train: str | None = None
    lr: str | None = None
    batch_size: str | None = None
    every: str | None = None
    max_steps: str | None = None
    translate: list[str] | None = None
    source: str | None = None  # --from
    columns: str | None = None
    limit: str | None = None
    shuffle: bool | None = None
    max_vocab: str | None = None
    min_count: str | None = None
    save: str | None = None
    load: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Seq2SeqArgs:
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["source"] = fields.pop("from", None)
        fields["sentences"] = list(fields["sentences"] or [])
        fields["translate"] = list(fields.get("translate") or []) or None
        return cls(**whole_numbers(fields, "seed", "pair"))

    def training(self) -> dict[str, Any] | None:
        """`--train` and the options that go with it, checked; None without `--train`."""
        from rnnprobe.core import options
        from rnnprobe.core.commands.seq2seq_train import DEFAULT_LR

        if self.train is None:
            given = {"--lr": self.lr, "--batch-size": self.batch_size, "--every": self.every,
                     "--max-steps": self.max_steps, "--translate": self.translate,
                     "--shuffle": self.shuffle}  # fmt: skip
            for flag, value in given.items():
                if value is not None:
                    raise InputError(f"{flag} needs --train N: it is about training")
            return None
        found = {
            "epochs": options.positive_int("train", self.train),
            "lr": DEFAULT_LR if self.lr is None else options.learning_rate(self.lr),
            "batch_size": None
            if self.batch_size is None
            else options.positive_int("batch_size", self.batch_size),
            "every": None if self.every is None else options.positive_int("every", self.every),
            "max_steps": None
            if self.max_steps is None
            else options.positive_int("max_steps", self.max_steps),
            "translate": list(self.translate or ()),
            "shuffle": self.shuffle,
            "shown": None if self.all else SHOWN_WORDS,
            **vocab_limits(self.max_vocab, self.min_count),
        }
        return found

    def spec(self) -> Seq2SeqSpec:
        from rnnprobe.core import options

        return options.make_seq2seq_spec(
            cell=self.cell,
            hidden=self.hidden,
            embed=self.embed,
            attention=self.attention,
            tokens=self.tokens,
        )

    def pairs(self, stdin: Any = None) -> list[tuple[str, str]]:
        from rnnprobe.core.inputs import pairs as pair_inputs

        found = from_file(self.source, self.columns, self.limit, self.sentences, default=2,
                          allowed=(2,), stdin=stdin is not None)  # fmt: skip
        if found is not None:
            return list(zip(found[0], found[1], strict=True))
        if self.sentences == ["-"]:
            if stdin is None:
                raise InputError("a batch line cannot read pairs from stdin")
            return pair_inputs.pairs_from_text(stdin())
        return pair_inputs.pairs_from_sentences(self.sentences)

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


def view(args: Seq2SeqArgs, result: Seq2SeqResult | PairsTraining) -> Any:
    from rnnprobe.core.commands.seq2seq_train import PairsTraining
    from rnnprobe.show import pairs_view, seq2seq_view

    drawn = (args.pair or 1) - 1 if args.diagram else None
    if isinstance(result, PairsTraining):
        if args.shapes:
            return pairs_view.pairs_shapes_view(result)
        return pairs_view.pairs_view(result, weights=args.weights, all_pairs=args.all,
                                     diagram=drawn)  # fmt: skip
    if args.shapes:
        return seq2seq_view.seq2seq_shapes_view(result)
    return seq2seq_view.seq2seq_view(
        result, weights=args.weights, all_pairs=args.all, diagram=drawn
    )


def json_body(args: Seq2SeqArgs, result: Seq2SeqResult | PairsTraining) -> dict[str, Any]:
    from rnnprobe.core.commands.seq2seq_train import PairsTraining
    from rnnprobe.show import jsonout, jsontrain

    if isinstance(result, PairsTraining):
        return jsontrain.pairs_object(result, weights=args.weights, values=not args.shapes)
    return jsonout.seq2seq_object(result, weights=args.weights, values=not args.shapes)


def planned(args: Seq2SeqArgs, pairs: list[tuple[str, str]], spec: Seq2SeqSpec,
            batches: Any) -> Plan | None:  # fmt: skip
    """With `--train`: the training, checked (before TensorFlow loads); else None."""
    from rnnprobe.core.commands import seq2seq_train as pairs_training

    recipe = args.training()
    if recipe is None:
        return None
    return pairs_training.plan(pairs, spec, seed=args.seed, batches=batches, **recipe)


def produce(args: Seq2SeqArgs, pairs: list[tuple[str, str]], spec: Seq2SeqSpec, batches: Any,
            plan: Plan | None, *, shown: bool) -> Seq2SeqResult | PairsTraining:  # fmt: skip
    """The untrained probe, or the training (with a progress bar on a terminal)."""
    import contextlib

    from rnnprobe.core import progress
    from rnnprobe.core.commands import run as commands
    from rnnprobe.core.commands import seq2seq_train as pairs_training

    if plan is None:
        message = f"Running the encoder and the decoder on {len(pairs):,} pairs…"
        with progress.spinner(message) if shown else contextlib.nullcontext():
            return commands.seq2seq(pairs, spec, seed=args.seed, check=args.check,
                                    batches=batches)  # fmt: skip
    batches_per_epoch = -(-len(pairs) // plan.batch_size)
    with progress.training(plan.epochs, batches_per_epoch, shown=shown) as (epoch, batch):
        return pairs_training.train_pairs(plan, check=args.check, on_epoch=epoch,
                                          on_batch=batch)  # fmt: skip


def _passed(result: Seq2SeqResult | PairsTraining) -> bool:
    """False when --check found Keras's numbers off, or the training stopped (exit 1)."""
    return (result.check is None or result.check.ok) and not getattr(result, "stopped", None)


def seq2seq_json(args: Seq2SeqArgs) -> tuple[bytes, bool]:
    """A batch line: what `seq2seq ... --json` prints for these arguments, and whether it
    passed its check."""
    from rnnprobe.core.inputs import pairs as pair_inputs
    from rnnprobe.show import export, jsonout, widgets

    if args.load is not None:
        from rnnprobe.show import jsontrain

        return jsonout.dumps(jsontrain.translations_object(loaded_pairs.translated(args))), True
    spec = args.spec()
    kind = args.export_format()
    pairs = args.pairs()
    batches = pair_inputs.make_batches(pairs, spec, **vocab_limits(args.max_vocab, args.min_count))
    result = produce(args, pairs, spec, batches, planned(args, pairs, spec, batches),
                     shown=False)  # fmt: skip
    if args.export is not None and kind is not None:
        export.export(view(args, result), args.export, kind, widgets.unseen_console().width)
    return jsonout.dumps(json_body(args, result)), _passed(result)


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
    from_: FromOpt = None,
    columns: ColumnsOpt = None,
    limit: LimitOpt = None,
    max_vocab: MaxVocabOpt = None,
    min_count: MinCountOpt = None,
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
    train: Annotated[
        str | None,
        typer.Option(
            "--train",
            metavar="N",
            help="Train N epochs (teacher forcing, the masked loss, Adam), then decode every "
            "source greedily.",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    lr: Annotated[
        str | None,
        typer.Option(
            "--lr",
            metavar="X",
            help="Adam's learning rate (default: 0.001, Keras's, as the labs run it).",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    batch_size: Annotated[
        str | None,
        typer.Option(
            "--batch-size",
            metavar="N",
            help="Pairs per batch (default: all in one batch).",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    shuffle: ShuffleOpt = None,
    every: EveryOpt = None,
    max_steps: Annotated[
        str | None,
        typer.Option(
            "--max-steps",
            metavar="N",
            help="The greedy loop stops after N tokens without <eos> (default: the longest "
            "target + 1).",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    translate: Annotated[
        list[str] | None,
        typer.Option(
            "--translate",
            metavar="SOURCE",
            help="Decode this new source with the trained model (repeatable).",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="Tables for every pair (default: the first 8).", rich_help_panel=SHOW
        ),
    ] = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    save: SaveOpt = None,
    load: LoadOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """An encoder and a decoder: the state handed over, teacher forcing, and attention;
    with --train, trained, then decoded greedily."""
    args = Seq2SeqArgs.from_params(dict(locals()))
    if args.load is not None:
        return loaded_pairs.translate(args)
    check_save(args.save, trains=args.train is not None)
    from rnnprobe.core import options
    from rnnprobe.core.commands import seq2seq as encoder_decoder
    from rnnprobe.core.inputs import pairs as pair_inputs
    from rnnprobe.show import pairs_code, seq2seq_code

    spec = args.spec()
    kind = args.export_format()
    pairs = args.pairs(read_stdin)
    batches = pair_inputs.make_batches(pairs, spec, **vocab_limits(args.max_vocab, args.min_count))
    if args.diagram:
        options.check_drawn("pair", args.pair, len(pairs))
    plan = planned(args, pairs, spec, batches)
    if args.code and plan is not None:
        sys.stdout.write(pairs_code.script(plan))
        return
    result = produce(args, pairs, spec, batches, plan, shown=True)
    if args.code and isinstance(result, encoder_decoder.Seq2SeqResult):
        sys.stdout.write(seq2seq_code.seq2seq_script(result))
        return
    loaded_pairs.show(args, result, kind, lambda: view(args, result),
                      lambda: json_body(args, result), passed=_passed(result))  # fmt: skip
