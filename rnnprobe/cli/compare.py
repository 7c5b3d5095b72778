"""`rnnprobe compare`: the cell style and the layer style with the same weights, compared."""

from __future__ import annotations

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import (
    BidirectionalOpt,
    CellOpt,
    EachStepOpt,
    EmbedOpt,
    HeadOpt,
    HiddenOpt,
    InitialStateOpt,
    JsonOpt,
    MergeModeOpt,
    NoServerOpt,
    SeedOpt,
    TokensOpt,
    VocabOpt,
    WordsArg,
    read_words,
)
from rnnprobe.core.kinds import Cell, Tokens

command = typer.Typer(add_completion=False)  # `compare` alone, as the app loads it


@command.command(
    cls=ProbeCommand, epilog="Example:\n  rnnprobe compare hello eolll lleel --cell lstm"
)
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
    initial_state: InitialStateOpt = None,
    json_: JsonOpt = False,
    no_server: NoServerOpt = False,
) -> None:
    """Run the cell style and the layer style with the same weights and compare them.

    Exit 0 when every returned tensor is identical within 1e-6, 1 when not.
    """
    from rnnprobe.core import options
    from rnnprobe.core.commands import run as commands
    from rnnprobe.show import jsonout, views, widgets

    spec = options.make_spec(
        hidden=hidden,
        merge_mode=merge_mode,
        bidirectional=bidirectional,
        cell=cell,
        tokens=tokens,
        embed=embed,
        head=head,
        each_step=each_step,
    )
    initial = commands.read_initial(initial_state, [spec])
    number = options.whole_number("seed", seed)
    result = commands.compare(read_words(words, spec.tokens), spec, vocab=vocab_, seed=number,
                              initial=initial)  # fmt: skip
    if json_:
        jsonout.write(jsonout.compare_object(result))
    else:
        widgets.show(widgets.stdout_console(), views.compare_view(result))
    if not result.identical:
        raise typer.Exit(1)
