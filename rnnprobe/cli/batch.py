"""`rnnprobe batch`: one probe per line, each parsed by the real `run` or `seq2seq` command,
and JSON Lines out, each line what that command's --json prints."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from rnnprobe.cli.group import ProbeCommand, error_message
from rnnprobe.cli.options import NoServerOpt, read_stdin
from rnnprobe.cli.run import RunArgs, run_json
from rnnprobe.cli.seq2seq import Seq2SeqArgs, seq2seq_json
from rnnprobe.cli.series import SeriesArgs, series_json
from rnnprobe.cli.train import TrainArgs, train_json
from rnnprobe.core.errors import InputError, RnnProbeError

command = typer.Typer(add_completion=False)  # `batch` alone, as the app loads it


@command.command(cls=ProbeCommand, epilog="Example:\n  rnnprobe batch probes.txt > results.jsonl")
def batch(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="Lines of run arguments; - reads stdin.")
    ],
    no_server: NoServerOpt = False,
) -> None:
    """Run one probe per line and print JSON Lines, each exactly what run --json prints.

    A line holds the arguments of one run (shell quoting, without the word run), or of
    one seq2seq, train or series after that word; blank lines and lines starting with # are
    skipped. A line that fails prints {"line": N, "error": "..."} and the batch goes on;
    the exit status is 1 if any failed.
    """
    from rnnprobe import batchlines
    from rnnprobe.core import progress
    from rnnprobe.show import jsonout

    text = read_stdin() if source == "-" else batchlines.read_file(source)
    assert ctx.parent is not None
    group = ctx.parent.command
    get = group.get_command  # type: ignore[attr-defined]
    commands = {name: get(ctx.parent, name) for name in batchlines.LINE_COMMANDS}
    probes = [
        (number, line)
        for number, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not probes:
        where = "stdin" if source == "-" else repr(source)
        raise InputError(f"{where} holds no probes: give one command's arguments a line")
    parsed = [_batch_line(commands, line) for _, line in probes]
    expected = batchlines.still_to_come([_structure(name, params) for name, params in parsed])
    out = sys.stdout.buffer
    failed = 0
    with progress.spinner(f"Running {len(probes):,} probes…"):
        for (number, _), (name, params), coming in zip(probes, parsed, expected, strict=True):
            progress.check()  # a served batch whose client left stops between lines
            try:
                if isinstance(params, batchlines.LineError):
                    raise params
                if name == "seq2seq":
                    written, ok = seq2seq_json(Seq2SeqArgs.from_params(params))
                elif name == "train":
                    written, ok = train_json(TrainArgs.from_params(params))
                elif name == "series":
                    written, ok = series_json(SeriesArgs.from_params(params))
                else:
                    written, ok = run_json(RunArgs.from_params(params), expected=coming)
            except batchlines.LineError as error:
                written, ok = jsonout.dumps({"line": number, "error": str(error)}), False
            except RnnProbeError as error:
                written, ok = jsonout.dumps({"line": number, "error": error_message(error)}), False
            out.write(written)
            out.flush()
            failed += not ok
    if failed:  # said on stderr too: stdout is the lines' JSON, for a program to read
        typer.echo(f"rnnprobe: {failed} of {len(probes)} line{'s' if len(probes) != 1 else ''} "
                   "failed: see their JSON", err=True)  # fmt: skip
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
    """What a run line's graph depends on (`runner.structure`), or None."""
    if name != "run" or not isinstance(params, dict):
        return None
    from rnnprobe.core.keras import runner

    try:
        return runner.structure(RunArgs.from_params(params).spec())
    except RnnProbeError:
        return None
