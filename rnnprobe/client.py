"""The entry point, and the client side of `rnnprobe serve`.

`run`, `compare` and `batch` first ask a warm server (one that keeps TensorFlow loaded)
to run the command; only when none answers does rnnprobe import its own machinery. This
module therefore imports nothing but the standard library: a client that is served never
loads numpy or TensorFlow.

Protocol on a Unix stream socket, one request per connection:
  server -> client  one JSON line: {"rnnprobe": VERSION, "pid": PID, "started": EPOCH}
  client -> server  one JSON line: {"op": "run", "argv": [...], "cwd": DIR, "env": {...},
                    "stdout_tty": bool, "stderr_tty": bool, "stdin": N}, then N bytes
                    ({"op": "stop"} asks the server to exit)
  server -> client  one JSON line: {"code": C, "stdout": N, "stderr": M}, then N + M bytes
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import sys
from pathlib import Path
from typing import Any

from rnnprobe import __version__

SERVED_COMMANDS = ("run", "compare", "batch")
# What decides how a command prints (width, colour): the server uses the client's values.
PASSED_ENV = (
    "COLUMNS",
    "LINES",
    "NO_COLOR",
    "FORCE_COLOR",
    "TERM",
    "COLORTERM",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
)
HANDSHAKE_TIMEOUT = 1.0  # seconds for a server to accept and greet, else work in-process


def socket_path(explicit: str | None = None) -> Path:
    """--socket, else $RNNPROBE_SOCKET, else $XDG_RUNTIME_DIR/rnnprobe.sock, else the cache."""
    if explicit:
        return Path(explicit)
    if os.environ.get("RNNPROBE_SOCKET"):
        return Path(os.environ["RNNPROBE_SOCKET"])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "rnnprobe.sock"
    return cache_dir() / "rnnprobe.sock"


def cache_dir() -> Path:
    """The per-user directory for the socket when there is no runtime directory."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "rnnprobe"


def read_line(conn: socket.socket, limit: int = 1 << 20) -> bytes:
    """Bytes up to a newline (without it); b"" when the peer closed first."""
    data = bytearray()
    while not data.endswith(b"\n"):
        chunk = conn.recv(1)
        if not chunk:
            return b""
        data += chunk
        if len(data) > limit:
            raise ConnectionError("header line too long")
    return bytes(data[:-1])


def read_exact(conn: socket.socket, size: int) -> bytes:
    parts, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("connection closed early")
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def send_header(conn: socket.socket, header: dict[str, Any], *bodies: bytes) -> None:
    """One JSON line, then each body as it is (no copy of a large body)."""
    conn.sendall(json.dumps(header).encode() + b"\n")
    for body in bodies:
        conn.sendall(body)


def connect(path: Path) -> tuple[socket.socket, dict[str, Any]] | None:
    """A connection to a server of this version that greeted in time, or None.

    A socket nobody listens on (a killed server) is removed when it is ours.
    """
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(HANDSHAKE_TIMEOUT)
    try:
        conn.connect(str(path))
        hello = json.loads(read_line(conn) or b"null")
    except (ConnectionRefusedError, FileNotFoundError):
        conn.close()
        with contextlib.suppress(OSError):
            path.unlink()  # stale: the server is gone
        return None
    except (OSError, ValueError):
        conn.close()
        return None
    if not isinstance(hello, dict) or hello.get("rnnprobe") != __version__:
        conn.close()
        return None
    conn.settimeout(None)
    return conn, hello


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _client_env() -> dict[str, str]:
    env = {key: os.environ[key] for key in PASSED_ENV if key in os.environ}
    if "COLUMNS" not in env and _isatty(sys.stdout):
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
            env["COLUMNS"], env["LINES"] = str(size.columns), str(size.lines)
        except OSError:
            pass
    return env


def serve_remotely(argv: list[str]) -> tuple[int, bytes, bytes] | None:
    """Run `argv` on a warm server: (exit code, stdout, stderr), or None to work here."""
    wants_stdin = "-" in argv[1:]
    if wants_stdin and _isatty(sys.stdin):
        return None  # words typed at a terminal: read them in-process
    connected = connect(socket_path())
    if connected is None:
        return None
    conn, _ = connected
    with conn:
        stdin = sys.stdin.buffer.read() if wants_stdin else b""
        request = {
            "op": "run",
            "argv": argv,
            "cwd": os.getcwd(),
            "env": _client_env(),
            "stdout_tty": _isatty(sys.stdout),
            "stderr_tty": _isatty(sys.stderr),
            "stdin": len(stdin),
        }
        try:
            send_header(conn, request, stdin)
            reply = json.loads(read_line(conn) or b"null")
            if not isinstance(reply, dict):
                raise ConnectionError("no reply")
            out = read_exact(conn, int(reply["stdout"]))
            err = read_exact(conn, int(reply["stderr"]))
        except (OSError, ValueError, KeyError):
            if wants_stdin:  # stdin is spent: the in-process run would see it empty
                return 1, b"", b"rnnprobe: error: the server went away during the request\n"
            return None
    return int(reply["code"]), out, err


def _wants_server(argv: list[str]) -> bool:
    no_server = os.environ.get("RNNPROBE_NO_SERVER", "").lower() not in ("", "0", "false")
    return bool(argv) and argv[0] in SERVED_COMMANDS and "--no-server" not in argv and not no_server


def main() -> None:
    """`rnnprobe`: ask a warm server for run/compare/batch, else run the CLI here."""
    argv = sys.argv[1:]
    if _wants_server(argv):
        try:
            served = serve_remotely(argv)
        except KeyboardInterrupt:
            sys.exit(130)
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
