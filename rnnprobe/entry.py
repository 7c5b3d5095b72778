"""The `rnnprobe` command: a served client for the commands a warm server runs, else the CLI.

Only `os`, `sys` and the list of served commands are imported before the decision:
`rnnprobe --help` and `vocab` go straight to the CLI, and a served command imports only the
standard library's sockets.
"""

from __future__ import annotations

import os
import sys

from rnnprobe.serve.served import SERVED_COMMANDS


def wants_server(argv: list[str]) -> bool:
    """A command a server runs, not asked to work in-process."""
    no_server = os.environ.get("RNNPROBE_NO_SERVER", "").lower() not in ("", "0", "false")
    return bool(argv) and argv[0] in SERVED_COMMANDS and "--no-server" not in argv and not no_server


def main() -> None:
    """`rnnprobe`: ask a warm server for a served command, else run the CLI here."""
    argv = sys.argv[1:]
    if wants_server(argv):
        from rnnprobe.serve import client

        try:
            served = client.serve_remotely(argv)
        except KeyboardInterrupt:  # the server sees the connection close and stops the work
            sys.stderr.write("\n")  # as Click says a local Ctrl-C
            sys.exit(130)
        if isinstance(served, client.Local):  # the server is busy: work here, at cold speed
            if served.stdin is not None:  # what the client read of stdin, read again here
                import io

                sys.stdin = io.TextIOWrapper(io.BytesIO(served.stdin), encoding="utf-8")
            served = None
        if served is not None:
            code, out, err = served
            try:
                sys.stdout.buffer.write(out)
                sys.stdout.flush()
            except BrokenPipeError:
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                code = 1
            sys.stderr.buffer.write(err)
            sys.stderr.flush()
            sys.exit(code)
    from rnnprobe.cli import app

    app(prog_name="rnnprobe")
