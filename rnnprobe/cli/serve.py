"""`rnnprobe serve`: start a warm server, or ask after one (--status) or stop it (--stop)."""

from __future__ import annotations

from typing import Annotated

import typer

from rnnprobe.cli.group import ProbeCommand
from rnnprobe.core.errors import InputError

command = typer.Typer(add_completion=False)  # `serve` alone, as the app loads it


@command.command(
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
    """Keep TensorFlow loaded and answer run, compare, batch, seq2seq, train and grads at once.

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
