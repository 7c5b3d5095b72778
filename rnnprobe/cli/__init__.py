"""Command-line interface: parse options, call the core, print a view, map errors.

The app is assembled here from an explicit list of commands, one module each, that its
group imports only when that command is asked for: `rnnprobe vocab` imports no other
command's module, `--help` imports them all. Each command imports what it needs when it
runs (numpy, rich's tables, the core): `--help`, `--version` and a TAB completion import
none of it, and `vocab` never imports TensorFlow, which `probe.run_probe` loads only when a
model is built.
"""

from __future__ import annotations

from typing import Annotated

import typer

from rnnprobe import __version__
from rnnprobe.cli.group import ProbeApp, ProbeGroup
from rnnprobe.cli.options import CLI_NAMES, EXAMPLES

__all__ = ["CLI_NAMES", "COMMANDS", "app"]

# rnnprobe's commands, in the order its help lists them: each name and the module holding
# it (as `command`, a Typer with that one command).
COMMANDS = {
    "vocab": "rnnprobe.cli.vocab",
    "run": "rnnprobe.cli.run",
    "compare": "rnnprobe.cli.compare",
    "batch": "rnnprobe.cli.batch",
    "serve": "rnnprobe.cli.serve",
    "seq2seq": "rnnprobe.cli.seq2seq",
    "train": "rnnprobe.cli.train",
    "grads": "rnnprobe.cli.grads",
    "series": "rnnprobe.cli.series",
    "inspect": "rnnprobe.cli.inspect",
}


class RnnProbeGroup(ProbeGroup):
    """The `rnnprobe` group: the commands above."""

    command_modules = COMMANDS


app = ProbeApp(
    cls=RnnProbeGroup,
    epilog=EXAMPLES,
    name="rnnprobe",
    help="Show what a Keras RNN does with your words: x_data, outputs and states, shaped.",
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


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
