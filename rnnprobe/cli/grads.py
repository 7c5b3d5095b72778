"""`rnnprobe grads`: parse the words, the task and the network, take one backward pass,
print the gradients through time."""

from __future__ import annotations

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
    WindowOpt,
)
from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    MODEL,
    NETWORK,
    SHOW,
    TRAINING,
    AllOpt,
    BatchSizeOpt,
    BidirectionalOpt,
    CellOpt,
    EmbedOpt,
    ExportOpt,
    HiddenOpt,
    InitialStateOpt,
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
    whole_numbers,
)
from rnnprobe.cli.saving import SaveOpt, save_finished, stopped_line
from rnnprobe.core.errors import InputError
from rnnprobe.core.kinds import Cell, MergeMode, Style, Tokens

if TYPE_CHECKING:
    from rnnprobe.core.commands.grads import GradsResult
    from rnnprobe.core.inputs.tasks import TrainData
    from rnnprobe.core.stages import ProbeSpec

EXAMPLES = """Examples: why a SimpleRNN forgets, measured on your words
  rnnprobe grads hihello
  rnnprobe grads abcdefghijklmnopqrstuvwxyz --cells simple,lstm,gru --at 24
  rnnprobe grads hello hi --cell lstm --check --torch
  rnnprobe grads hihello --after 50 --clipnorm 0.1"""


@dataclass(frozen=True)
class GradsArgs:
    """What `rnnprobe grads` was asked, as parsed."""

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
    after: str | None
    lr: str
    batch_size: str | None
    at: int | None
    cells: str | None
    clipnorm: str | None
    global_clipnorm: str | None
    check: bool
    torch: bool
    diagram: bool
    word: int | None
    all: bool
    export: Path | None
    json: bool
    window: str | None = None
    stride: str | None = None
    source: str | None = None  # --from
    columns: str | None = None
    limit: str | None = None
    shuffle: bool | None = None
    max_vocab: str | None = None
    min_count: str | None = None
    validation: None = None  # grads holds nothing out
    save: str | None = None
    initial_state: list[str] | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> GradsArgs:
        fields = {key.rstrip("_"): value for key, value in params.items()}
        fields.pop("no_server", None)
        fields["source"] = fields.pop("from", None)
        fields["words"] = list(fields["words"] or [])
        return cls(**whole_numbers(fields, "seed", "at", "word"))

    def specs(self) -> list[ProbeSpec]:
        """The network, once per cell asked for (`--cells`), checked."""

        from rnnprobe.core import options

        kinds = [self.cell] if self.cells is None else self._cells()
        return [
            options.make_spec(
                hidden=self.hidden, merge_mode=self.merge_mode, bidirectional=self.bidirectional,
                style=self.style, cell=kind, tokens=self.tokens, embed=self.embed,
            )
            for kind in kinds
        ]  # fmt: skip

    def _cells(self) -> list[Cell]:
        from rnnprobe.core import options

        assert self.cells is not None
        if self.torch:
            raise InputError("--cells compares Keras's cells; it does not combine with --torch")
        names = [n.strip() for n in self.cells.split(",")]
        return [options.choice(Cell, "cells", name) for name in names]

    def recipe(self) -> dict[str, Any]:
        """`--after`, `--lr`, `--batch-size`, the clipping, checked."""
        from rnnprobe.core import options
        from rnnprobe.core.commands import grads as gradients

        found = {
            "after": None if self.after is None else options.positive_int("after", self.after),
            "lr": options.learning_rate(self.lr),
            "batch_size": None
            if self.batch_size is None
            else options.positive_int("batch_size", self.batch_size),
            "shuffle": self.shuffle,
            "clipnorm": gradients.positive_number("clipnorm", self.clipnorm),
            "global_clipnorm": gradients.positive_number("global_clipnorm", self.global_clipnorm),
        }
        gradients.check_clipping(found["clipnorm"], found["global_clipnorm"])
        return found

    def data(self, spec: ProbeSpec, seed: int) -> TrainData:
        from rnnprobe.cli.train import task_data_of
        from rnnprobe.core.commands import grads as gradients

        found = task_data_of(self, spec, seed)
        gradients.check_at(self.at, found)
        return found

    def export_format(self) -> str | None:
        if self.word is not None and not self.diagram:
            raise InputError("--word needs --diagram")
        if self.diagram and self.cells is not None:
            raise InputError("--diagram draws one network; it does not combine with --cells")
        if self.torch:
            from rnnprobe.core.commands import run as commands

            commands.check_torch()
        return output_format(
            self.export, diagram=self.diagram, code=False, flags={"--json": self.json}
        )

    def initial(self, specs: list[ProbeSpec]) -> Any:
        """--initial-state, read and checked against each network's states."""
        from rnnprobe.core.commands import run as commands

        return commands.read_initial(self.initial_state, specs)

    def check_save(self) -> None:
        """--save: the network after --after's epochs, one network (not --cells)."""
        from rnnprobe.cli import saving

        if self.save is not None and self.cells is not None:
            raise InputError("--save writes one network; it does not combine with --cells")
        saving.check_save(self.save, trains=self.after is not None, what="--after N")


def view(args: GradsArgs, results: list[GradsResult], saved: str | None = None) -> Any:
    from rich.console import Group

    from rnnprobe.show import grads_view, saved_view

    if args.cells is not None:
        return grads_view.cells_view(results, all_words=args.all)
    drawn = (args.word or 1) - 1 if args.diagram else None
    shown = grads_view.grads_view(results[0], all_words=args.all, diagram=drawn)
    return Group(shown, *saved_view.saved_lines(saved))


def _passed(results: list[GradsResult]) -> bool:
    checked = all(r.check is None or r.check.ok for r in results)
    stopped = any(r.stopped for r in results)
    return checked and not stopped and all(r.torch is None or r.torch.ok for r in results)


command = typer.Typer(add_completion=False)  # `grads` alone, as the app loads it


@command.command(cls=ProbeCommand, epilog=EXAMPLES)
def grads(
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
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            metavar="N",
            help="Train N epochs first (with --lr and --batch-size), then take the gradients.",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    lr: LrOpt = "0.1",
    batch_size: BatchSizeOpt = None,
    shuffle: ShuffleOpt = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            metavar="T",
            help="The loss at step T alone (next token and tags): how much it depends on "
            "each earlier state.",
            show_default=False,
            rich_help_panel=SHOW,
        ),
    ] = None,
    cells: Annotated[
        str | None,
        typer.Option(
            "--cells",
            metavar="CELL,CELL,...",
            help="The same words and seed in each of these cells, the strips one under another.",
            show_default=False,
            rich_help_panel=NETWORK,
        ),
    ] = None,
    clipnorm: Annotated[
        str | None,
        typer.Option(
            "--clipnorm",
            metavar="X",
            help="Clip each gradient to norm X, as Keras's optimizers do: norms before and after.",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    global_clipnorm: Annotated[
        str | None,
        typer.Option(
            "--global-clipnorm",
            metavar="X",
            help="Clip all gradients together to global norm X, as Keras's optimizers do.",
            show_default=False,
            rich_help_panel=TRAINING,
        ),
    ] = None,
    check_: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Re-compute dL/dh_t and every gradient in numpy; exit 1 if they differ.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    torch: Annotated[
        bool,
        typer.Option(
            "--torch",
            help="The same loss in PyTorch (retain_grad on each h_t); exit 1 if it differs.",
            rich_help_panel=MODEL,
        ),
    ] = False,
    diagram: Annotated[
        bool,
        typer.Option(
            "--diagram",
            help="Draw the backward arrows of a word with their norms.",
            rich_help_panel=SHOW,
        ),
    ] = False,
    word: WordOpt = None,
    all_: AllOpt = False,
    json_: JsonOpt = False,
    export: ExportOpt = None,
    save: SaveOpt = None,
    initial_state: InitialStateOpt = None,
    no_server: NoServerOpt = False,
) -> None:
    """The gradient flowing back through time: every weight's, and dL/dh_t at each step."""
    args = GradsArgs.from_params(dict(locals()))  # every parameter above, by name
    from rnnprobe.core import options, progress
    from rnnprobe.core.commands import grads as gradients
    from rnnprobe.show import jsontrain

    specs = args.specs()
    kind = args.export_format()
    recipe = args.recipe()
    args.check_save()
    initial = args.initial(specs)
    drawn = options.resolve_seed(args.seed)  # one seed for every cell of --cells
    data = args.data(specs[0], drawn)
    if args.diagram:
        options.check_drawn("word", args.word, data.batch.rows)
    results = []
    with progress.spinner("Taking the gradients…"):
        for spec in specs:
            results.append(gradients.grads(
                data.words, spec, seed=drawn, at=args.at, check=args.check,
                torch=args.torch, data=data, initial=initial, **recipe,
            ))  # fmt: skip
    from rnnprobe.core.commands import saved as saving

    passed = _passed(results)
    saved = save_finished(args.save, results[0].stopped, passed,
                          lambda: saving.save_grads(results[0], str(args.save)))  # fmt: skip
    print_result(
        lambda: jsontrain.cells_object(results) if args.cells is not None
        else {**jsontrain.grads_object(results[0]), **({"saved": saved} if saved else {})},
        lambda: view(args, results, saved),
        json_=args.json, export=args.export, kind=kind, passed=passed,
        stopped=stopped_line(results[0].stopped, args.save, passed),
    )  # fmt: skip
