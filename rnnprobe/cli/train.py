"""`rnnprobe train`: parse the words, the task and the recipe, train, print a view.

`TrainArgs` is what a training was asked, from a command line or a batch line alike.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rnnprobe.cli.data import (
    ColumnsOpt,
    FromOpt,
    LimitOpt,
    MaxVocabOpt,
    MinCountOpt,
    ShuffleOpt,
    StrideOpt,
    ValidationOpt,
    WindowOpt,
    from_file,
    window_of,
)
from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    SHOW,
    TRAINING,
    AllOpt,
    BatchSizeOpt,
    BidirectionalOpt,
    CellOpt,
    CodeOpt,
    EmbedOpt,
    EveryOpt,
    ExportOpt,
    HiddenOpt,
    JsonOpt,
    LabelsOpt,
    LrOpt,
    MergeModeOpt,
    NoServerOpt,
    SeedOpt,
    StyleOpt,
    TaggedOpt,
    TokensOpt,
    VocabOpt,
    WordOpt,
    WordsArg,
    output_format,
    print_result,
    read_text,
    read_words,
    whole_numbers,
)
from rnnprobe.cli.saving import LoadOpt, SaveOpt, save_finished, stopped_line
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import Cell, MergeMode, Style, Tokens
from rnnprobe.core.options import vocab_limits

if TYPE_CHECKING:
    from rnnprobe.core.commands.trained import TrainResult
    from rnnprobe.core.inputs.tasks import TrainData
    from rnnprobe.core.stages import ProbeSpec

EXAMPLES = """Examples: the chapter's labs, trained on your own words
  rnnprobe train hihello                          # next token: hihell -> ihello
  rnnprobe train good bad worse "so good" --labels 1,0,0,1 --embed onehot --hidden 10 \\
      --epochs 30 --lr 0.01 --batch-size 2
  rnnprobe train "i/pronoun feel/verb hungry/adjective" --tokens word --tagged
  rnnprobe train hihello --json | jq '.history[-1]'"""


@dataclass(frozen=True)
class TrainArgs:
    """What `rnnprobe train` was asked, as parsed (a command line or a batch line)."""

    words: list[str]
    vocab: str | None
    tokens: Tokens
    hidden: str
    style: Style
    cell: Cell
    seed: int | None
    bidirectional: bool
    merge_mode: MergeMode | None
    embed: str | None
    labels: str | None
    tagged: bool
    epochs: str
    lr: str
    batch_size: str | None
    every: str | None
    weights: bool
    check: bool
    shapes: bool
    diagram: bool
    word: int | None
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
    shuffle: bool | None = None
    validation: str | None = None
    max_vocab: str | None = None
    min_count: str | None = None
    save: str | None = None
    load: str | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TrainArgs:
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["source"] = fields.pop("from", None)
        fields["words"] = list(fields["words"] or [])
        return cls(**whole_numbers(fields, "seed", "word"))

    def spec(self) -> ProbeSpec:
        from rnnprobe.core import options

        return options.make_spec(
            hidden=self.hidden,
            merge_mode=self.merge_mode,
            bidirectional=self.bidirectional,
            style=self.style,
            cell=self.cell,
            tokens=self.tokens,
            embed=self.embed,
        )

    def recipe(self) -> dict[str, Any]:
        """Epochs, learning rate, batch size and how often the loss is printed, checked."""

        from rnnprobe.core import options

        return {
            "epochs": options.positive_int("epochs", self.epochs),
            "lr": options.learning_rate(self.lr),
            "batch_size": None
            if self.batch_size is None
            else options.positive_int("batch_size", self.batch_size),
            "every": None if self.every is None else options.positive_int("every", self.every),
            "shuffle": self.shuffle,
        }

    def data(self, spec: ProbeSpec, seed: int, stdin: bool = True, loaded: Any = None
             ) -> TrainData:  # fmt: skip
        """The task's data: the words (or --from's rows), held out and counted as asked;
        with a loaded network, in its vocabulary and classes."""
        return task_data_of(self, spec, seed, stdin=stdin, loaded=loaded)

    def loaded(self) -> Any:
        """The network --load names (None without it), checked against the options; and
        --save's file, checked: both before any work."""
        from rnnprobe.cli import saving

        saving.check_save(self.save, trains=True)
        if self.load is not None and self.code:
            raise InputError("--code prints a training from seeded weights; it does not "
                             "combine with --load")  # fmt: skip
        return saving.load(self.load, ("train",), self)

    def export_format(self) -> str | None:
        if self.word is not None and not self.diagram:
            raise InputError("--word needs --diagram")
        if self.torch:
            from rnnprobe.core.commands import run as commands

            commands.check_torch()
            if self.code:
                raise InputError("--torch trains the twin beside Keras; it does not combine "
                                 "with --code")  # fmt: skip
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


def task_data_of(args: Any, spec: ProbeSpec, seed: int, *, stdin: bool = True,
                 loaded: Any = None) -> TrainData:  # fmt: skip
    """`train`'s and `grads`'s data: the words given (or --from's text and label columns),
    cut into windows, held out (--validation, from the seed) and counted as asked."""
    from rnnprobe.core.inputs import split
    from rnnprobe.core.inputs import tasks as training

    window, stride = window_of(args.window, args.stride)
    read: Callable[[list[str] | None], list[str]] = read_text
    if not window:
        read = functools.partial(read_words, tokens=args.tokens)
    given = read(args.words) if stdin and args.source is None else args.words
    if not stdin and given == ["-"]:
        raise InputError("a batch line cannot read words from stdin")
    labels = training.parse_labels(args.labels)
    found = from_file(args.source, args.columns, args.limit, given, default=1, allowed=(1, 2),
                      stdin=stdin)  # fmt: skip
    if found is not None:
        given = list(found[0])
        if len(found) == 2:
            if labels is not None:
                raise InputError("--labels gives the labels: --columns names only the text")
            labels = list(found[1])
    if loaded is not None:
        task = training.task_of(labels, args.tagged, spec.tokens)
        if task is not loaded.task:
            named = {"next": "the next token", "labels": "labels (--labels)",
                     "tags": "tags (--tagged)"}  # fmt: skip
            raise InputError(f"--load holds a network trained for {named[loaded.task.value]}, "
                             f"not {named[task.value]}: give it that task")  # fmt: skip
        if args.vocab is not None or args.max_vocab is not None or args.min_count is not None:
            raise InputError("--load brings its vocabulary: leave out --vocab, --max-vocab and "
                             "--min-count")  # fmt: skip
    return training.task_data(
        given,
        kind=spec.tokens,
        embedded=spec.embed is not None,
        labels=labels,
        tagged=args.tagged,
        vocab=args.vocab,
        window=window,
        stride=stride,
        validation=split.check_validation(args.validation),
        seed=seed,
        saved=None if loaded is None else (loaded.vocab, loaded.classes),
        **vocab_limits(args.max_vocab, args.min_count),
    )


def view(args: TrainArgs, result: TrainResult, saved: str | None = None) -> Any:
    from rich.console import Group

    from rnnprobe.show import saved_view, train_view

    if args.shapes:
        shown = train_view.train_shapes_view(result)
    else:
        drawn = (args.word or 1) - 1 if args.diagram else None
        shown = train_view.train_view(result, weights=args.weights, all_words=args.all,
                                      diagram=drawn)  # fmt: skip
    return Group(*saved_view.loaded_lines(args.load), shown, *saved_view.saved_lines(saved))


def _train(args: TrainArgs, data: TrainData, spec: ProbeSpec, seed: int, *,
           shown: bool, loaded: Any = None) -> TrainResult:  # fmt: skip
    from rnnprobe.core import progress
    from rnnprobe.core.commands import train as trainer

    recipe = args.recipe()
    rows = len(data.trained_rows)
    size = rows if recipe["batch_size"] is None else min(recipe["batch_size"], rows)
    with progress.training(recipe["epochs"], -(-rows // size), shown=shown) as (epoch, batch):
        return trainer.train(
            data.words, spec, seed=seed, check=args.check, probe=args.diagram, data=data,
            on_epoch=epoch, on_batch=batch, torch=args.torch, start=loaded, **recipe,
        )  # fmt: skip


TorchTrainOpt = Annotated[
    bool,
    typer.Option(
        "--torch",
        help="Train the same network in PyTorch too (torch.optim.Adam): the curves side by side.",
        rich_help_panel=TRAINING,
    ),
]


def _passed(result: TrainResult) -> bool:
    """False when --check found Keras's numbers off, or the loss became NaN (exit 1)."""
    return (result.check is None or result.check.ok) and result.stopped is None


def train_json(args: TrainArgs) -> tuple[bytes, bool]:
    """A batch line: what `train ... --json` prints for these arguments, and whether it
    passed."""
    from rnnprobe.core import options
    from rnnprobe.show import export, jsonout, jsontrain, widgets

    kind = args.export_format()
    loaded = args.loaded()
    spec = args.spec() if loaded is None else loaded.spec
    args.recipe()
    seed = options.resolve_seed(args.seed)
    data = args.data(spec, seed, stdin=False, loaded=loaded)
    result = _train(args, data, spec, seed, shown=False, loaded=loaded)
    saved = _save(args, result, loaded)
    if args.export is not None and kind is not None:
        export.export(view(args, result, saved), args.export, kind,
                      widgets.unseen_console().width)  # fmt: skip
    body = jsontrain.train_object(result, values=not args.shapes)
    return jsonout.dumps({**body, **_files(args, saved)}), _passed(result)


def _save(args: TrainArgs, result: TrainResult, loaded: Any) -> str | None:
    """--save: the trained network written (its history after the loaded one's), when the
    training finished."""
    from rnnprobe.core.commands import saved

    def write() -> str:
        assert args.save is not None
        if loaded is None:
            return saved.save_training(result, args.save)
        return saved.save_training(result, args.save, before=loaded.history,
                                   before_epochs=loaded.epochs)  # fmt: skip

    return save_finished(args.save, result.stopped, _passed(result), write)


def _files(args: TrainArgs, saved: str | None) -> dict[str, Any]:
    """The JSON keys of --load's and --save's files."""
    found: dict[str, Any] = {}
    if args.load is not None:
        found["loaded"] = args.load
    if saved is not None:
        found["saved"] = saved
    return found


command = typer.Typer(add_completion=False)  # `train` alone, as the app loads it


@command.command(cls=ProbeCommand, epilog=EXAMPLES)
def train(
    words: WordsArg = None,
    vocab_: VocabOpt = None,
    tokens: TokensOpt = Tokens.char,
    window: WindowOpt = None,
    stride: StrideOpt = None,
    from_: FromOpt = None,
    columns: ColumnsOpt = None,
    limit: LimitOpt = None,
    max_vocab: MaxVocabOpt = None,
    min_count: MinCountOpt = None,
    hidden: HiddenOpt = "2",
    style: StyleOpt = Style.layer,
    cell: CellOpt = Cell.simple,
    seed: SeedOpt = None,
    bidirectional: BidirectionalOpt = False,
    merge_mode: MergeModeOpt = None,
    embed: EmbedOpt = None,
    labels: LabelsOpt = None,
    tagged: TaggedOpt = False,
    epochs: Annotated[
        str,
        typer.Option("--epochs", metavar="N", help="Epochs to train.", rich_help_panel=TRAINING),
    ] = "50",
    lr: LrOpt = "0.1",
    batch_size: BatchSizeOpt = None,
    every: EveryOpt = None,
    shuffle: ShuffleOpt = None,
    validation: ValidationOpt = None,
    weights: Annotated[
        bool,
        typer.Option("--weights", help="Also show the trained weights.", rich_help_panel=SHOW),
    ] = False,
    check_: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Re-compute the initial loss and gradients in numpy; exit 1 if they differ.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    shapes: Annotated[
        bool,
        typer.Option("--shapes", help="Only shapes; no values.", rich_help_panel=SHOW),
    ] = False,
    diagram: Annotated[
        bool,
        typer.Option(
            "--diagram", help="Draw the trained network unrolled over a word.", rich_help_panel=SHOW
        ),
    ] = False,
    word: WordOpt = None,
    code: CodeOpt = False,
    all_: AllOpt = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    torch: TorchTrainOpt = False,
    save: SaveOpt = None,
    load: LoadOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """Train the RNN on your words with Adam: the loss, the gradients, before and after."""
    args = TrainArgs.from_params(dict(locals()))  # every parameter above, by name
    from rnnprobe.core import options
    from rnnprobe.show import jsontrain

    kind = args.export_format()
    loaded = args.loaded()
    spec = args.spec() if loaded is None else loaded.spec
    recipe = args.recipe()
    drawn = options.resolve_seed(args.seed)
    data = args.data(spec, drawn, loaded=loaded)
    if args.diagram:
        options.check_drawn("word", args.word, data.batch.rows)
    if args.code:
        from rnnprobe.show import train_code

        sys.stdout.write(train_code.script(data, spec, drawn, **recipe))
        return
    result = _train(args, data, spec, drawn, shown=not args.json, loaded=loaded)
    passed = _passed(result)
    saved = _save(args, result, loaded)
    print_result(
        lambda: {**jsontrain.train_object(result, values=not args.shapes), **_files(args, saved)},
        lambda: view(args, result, saved),
        json_=args.json, export=args.export, kind=kind,
        stopped=stopped_line(result.stopped, args.save, passed),
        passed=passed,
    )  # fmt: skip
