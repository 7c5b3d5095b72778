"""`rnnprobe vocab`: the vocabulary and the one-hot x_data, without a model."""

from __future__ import annotations

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.cli.options import AllOpt, JsonOpt, TokensOpt, VocabOpt, WordsArg, read_words
from rnnprobe.core.kinds import Tokens

command = typer.Typer(add_completion=False)  # `vocab` alone, as the app loads it


@command.command(
    cls=ProbeCommand, epilog="Example:\n  rnnprobe vocab hello eolll lleel --vocab olhe"
)
def vocab(
    words: WordsArg = None,
    vocab_: VocabOpt = None,
    tokens: TokensOpt = Tokens.char,
    all_: AllOpt = False,
    json_: JsonOpt = False,
) -> None:
    """Show the vocabulary and the one-hot x_data, without running a model."""
    from rnnprobe.core.commands import run as commands

    batch = commands.vocab(read_words(words, tokens), vocab_, tokens)
    if json_:
        from rnnprobe.show import jsonout

        jsonout.write(jsonout.vocab_object(batch))
    else:
        from rnnprobe.show import vocab_view, widgets

        widgets.show(widgets.stdout_console(), vocab_view.vocab_view(batch, all_words=all_))
