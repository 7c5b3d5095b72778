"""The client side of `rnnprobe serve`.

The served commands (`served.SERVED_COMMANDS`: run, compare, batch, seq2seq, train, grads,
series) ask a warm server (one that keeps TensorFlow loaded) to run the command (see
`entry.py`);
only when none answers does rnnprobe import its own machinery. This module therefore
imports nothing but the standard library: a client that is served never loads numpy or
TensorFlow.

Protocol on a Unix stream socket, one request per connection:
  server -> client  one JSON line: {"rnnprobe": VERSION, "pid": PID, "started": EPOCH,
                    "served": N, "local": L, "busy": bool[, "running": {...}]}
  client -> server  one JSON line: {"op": "run", "argv": [...], "cwd": DIR, "env": {...},
                    "stdout_tty": bool, "stderr_tty": bool, "stdin": N, "umask": U},
                    then N bytes
                    ({"op": "stop"} asks the server to exit; {"op": "local"} says that
                    the client runs its command itself, the server being busy)
  server -> client  one JSON line: {"code": C, "stdout": N, "stderr": M}, then N + M bytes,
                    or {"busy": true}: another request runs; the client runs it itself

A client never waits behind another request: a server busy at the greeting, or at the
request, leaves the command to the client, which runs it in-process (with the stdin it
read, if any). The client never writes an empty body, and reads the reply even when its
own send failed (a server answers a fast usage error before it has read everything). Once
a server of this version has taken its request, the client waits for the reply as long as
that server process lives; its pid comes from the socket itself (SO_PEERCRED), not from
what the server says. A client that goes away (killed, Ctrl-C) closes the connection: the
server stops that request.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import time

from rnnprobe import __version__
from rnnprobe.serve.served import SERVED_COMMANDS

TYPE_CHECKING = False  # `typing` costs a served client 2 ms; type checkers read this as True
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SERVED_COMMANDS", "Local", "connect", "request", "serve_remotely", "socket_path"]
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
OWN_ENV = "RNNPROBE_"  # every variable of rnnprobe's own, by its prefix
HANDSHAKE_TIMEOUT = 1.0  # seconds for a server to accept and greet, else work in-process
HANDSHAKE_ENV = "RNNPROBE_HANDSHAKE_TIMEOUT"  # a longer wait, for slow machines and tests
ALIVE_CHECK = 0.25  # seconds between checks that a server we wait for still lives


def handshake_timeout() -> float:
    """Seconds to wait for a greeting: $RNNPROBE_HANDSHAKE_TIMEOUT if it is a positive number."""
    try:
        value = float(os.environ.get(HANDSHAKE_ENV) or HANDSHAKE_TIMEOUT)
    except ValueError:
        return HANDSHAKE_TIMEOUT
    return value if value > 0 else HANDSHAKE_TIMEOUT


def socket_path(explicit: str | None = None) -> str:
    """--socket, else $RNNPROBE_SOCKET, else $XDG_RUNTIME_DIR/rnnprobe.sock, else the cache."""
    if explicit:
        return explicit
    if os.environ.get("RNNPROBE_SOCKET"):
        return os.environ["RNNPROBE_SOCKET"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "rnnprobe.sock")
    return os.path.join(cache_dir(), "rnnprobe.sock")


def cache_dir() -> str:
    """The per-user directory for the socket when there is no runtime directory."""
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "rnnprobe")


def world_writable(directory: str) -> bool:
    """True when others may write to `directory` (and so could plant a socket there)."""
    try:
        return bool(os.stat(directory or ".").st_mode & stat.S_IWOTH)
    except OSError:
        return True


def alive(pid: int) -> bool:
    """True while process `pid` runs (a zombie, killed but not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as proc:
            state = proc.read().rpartition(b")")[2].split()[0]
        return state not in (b"Z", b"X")
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc here: ask the kernel whether the pid exists
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def peer(conn: socket.socket) -> tuple[int, int] | None:
    """(pid, uid) of the process at the other end of a Unix socket, where the OS tells."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        raw = conn.getsockopt(socket.SOL_SOCKET, option, 12)
    except OSError:
        return None
    pid = int.from_bytes(raw[0:4], sys.byteorder, signed=True)
    uid = int.from_bytes(raw[4:8], sys.byteorder, signed=True)
    return (pid, uid) if pid > 0 else None


class Channel:
    """Buffered reads and complete writes on a socket, with a rule for when to give up.

    Every blocking call waits at most `patience` seconds at a time; then `keep_waiting()`
    decides whether to wait again (the client: while the server lives) or to give up.
    """

    def __init__(self, conn: socket.socket, patience: float, keep_waiting: Any = None) -> None:
        self.conn = conn
        self.keep_waiting = keep_waiting or (lambda: False)
        self.buffer = bytearray()
        conn.settimeout(patience)

    def _wait(self) -> None:
        if not self.keep_waiting():
            raise TimeoutError("the peer did not answer in time")

    def _fill(self) -> None:
        while True:
            try:
                chunk = self.conn.recv(1 << 16)
            except TimeoutError:
                self._wait()
                continue
            if not chunk:
                raise ConnectionError("the connection closed early")
            self.buffer += chunk
            return

    def read_line(self, limit: int = 1 << 20) -> bytes:
        """Bytes up to a newline (without it); b"" when the peer closed before sending any."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > limit:
                raise ConnectionError("header line too long")
            try:
                self._fill()
            except ConnectionError:
                if self.buffer:
                    raise
                return b""
        line, _, rest = self.buffer.partition(b"\n")
        self.buffer = rest
        return bytes(line)

    def read_exact(self, size: int) -> bytes:
        """Exactly `size` bytes, read straight into one buffer when they are many."""
        if size <= len(self.buffer):
            data = bytes(self.buffer[:size])
            del self.buffer[:size]
            return data
        out = bytearray(size)
        view = memoryview(out)
        have = len(self.buffer)
        view[:have] = self.buffer
        self.buffer = bytearray()
        while have < size:
            try:
                got = self.conn.recv_into(view[have:])
            except TimeoutError:
                self._wait()
                continue
            if not got:
                raise ConnectionError("the connection closed early")
            have += got
        return bytes(out)

    def send(self, header: dict[str, Any], *bodies: bytes) -> None:
        """One JSON line, then each non-empty body as it is (no copy of a large body)."""
        for part in (json.dumps(header).encode() + b"\n", *bodies):
            view, sent = memoryview(part), 0
            while sent < len(view):
                try:
                    sent += self.conn.send(view[sent:])
                except TimeoutError:
                    self._wait()


class Connection:
    """A greeted connection to a live server of this version."""

    def __init__(self, conn: socket.socket, hello: dict[str, Any], pid: int | None) -> None:
        self.conn, self.hello, self.pid = conn, hello, pid
        self.channel = Channel(conn, ALIVE_CHECK, self.server_alive)

    def server_alive(self) -> bool:
        return self.pid is None or alive(self.pid)

    def close(self) -> None:
        self.conn.close()


def connect(path: str) -> Connection | None:
    """A connection to a server of this version that greeted in time, or None.

    Only a socket of this user in a directory others cannot write to is tried; a socket
    nobody listens on (a killed server) is removed.
    """
    try:
        info = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
        return None
    if world_writable(os.path.dirname(path)):
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    timeout = handshake_timeout()
    conn.settimeout(timeout)
    try:
        conn.connect(path)
    except (ConnectionRefusedError, FileNotFoundError):
        conn.close()
        try:
            os.unlink(path)  # stale: the server is gone
        except OSError:
            pass
        return None
    except OSError:
        conn.close()
        return None
    found = peer(conn)
    if found is not None and found[1] != os.getuid():
        conn.close()
        return None
    deadline = time.monotonic() + timeout
    greeting = Channel(conn, min(timeout, ALIVE_CHECK), lambda: time.monotonic() < deadline)
    try:
        hello = json.loads(greeting.read_line(limit=4096) or b"null")
    except (OSError, ValueError):
        conn.close()
        return None
    if not isinstance(hello, dict) or hello.get("rnnprobe") != __version__:
        conn.close()
        return None
    connection = Connection(conn, hello, found[0] if found else None)
    connection.channel.buffer = greeting.buffer
    return connection


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def passed(key: str) -> bool:
    """A variable the server takes from the client: how output looks, and rnnprobe's own
    (`RNNPROBE_MEMORY_LIMIT`, ...), so that a served command sees what a direct one would."""
    return key in PASSED_ENV or key.startswith(OWN_ENV)


def _client_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if passed(key)}
    if "COLUMNS" not in env and _isatty(sys.stdout):
        try:
            size = os.get_terminal_size(sys.stdout.fileno())
            env["COLUMNS"], env["LINES"] = str(size.columns), str(size.lines)
        except OSError:
            pass
    return env


SERVER_WENT_AWAY = b"rnnprobe: error: the server went away during the request\n"


class Local:
    """The answer "run it yourself": the server is busy with another request. `stdin`
    holds what the client already read of its stdin (None: nothing read)."""

    def __init__(self, stdin: bytes | None) -> None:
        self.stdin = stdin


def request(
    connection: Connection, argv: list[str], stdin: bytes | None
) -> tuple[int, bytes, bytes] | Local | None:
    """Send one command to a greeted server and read its answer: (code, stdout, stderr).

    `Local` when the server is busy with another request; None when the server went away
    before answering and the command can still run here; when it took stdin with it, the
    answer is the one-line error instead.
    """
    header = {
        "op": "run",
        "argv": argv,
        "cwd": os.getcwd(),
        "env": _client_env(),
        "stdout_tty": _isatty(sys.stdout),
        "stderr_tty": _isatty(sys.stderr),
        "stdin": len(stdin or b""),
        "umask": umask(),
    }
    channel = connection.channel
    # A failed send is not the end: the server may have answered already (a usage error
    # needs nothing more than the header) and closed; its reply is still there to read.
    try:
        channel.send(header, stdin or b"")
    except OSError:
        pass

    try:
        reply = json.loads(channel.read_line() or b"null")
        if not isinstance(reply, dict):
            raise ConnectionError("no reply")
        if reply.get("busy"):
            return Local(stdin)
        out = channel.read_exact(int(reply["stdout"]))
        err = channel.read_exact(int(reply["stderr"]))
        return int(reply["code"]), out, err
    except (OSError, ValueError, KeyError, TypeError):
        if stdin is not None:  # stdin is spent: the in-process run would see it empty
            return 1, b"", SERVER_WENT_AWAY
        return None


def umask() -> int | None:
    """This process's umask, which a file the server writes for it gets (None: unknown)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def reads_stdin(argv: list[str]) -> bool:
    """Whether a command line reads stdin: a `-` argument (words, data, `--from -`,
    `--input -`) or an option given as `--from=-`."""
    return any(arg == "-" or (arg.startswith("--") and arg.endswith("=-")) for arg in argv[1:])


def serve_remotely(argv: list[str]) -> tuple[int, bytes, bytes] | Local | None:
    """Run `argv` on a warm server: (exit code, stdout, stderr); or None (no server) or
    `Local` (a busy one) to work here."""
    wants_stdin = reads_stdin(argv)
    if wants_stdin and _isatty(sys.stdin):
        return None  # words typed at a terminal: read them in-process
    connection = connect(socket_path())
    if connection is None:
        return None
    try:
        if connection.hello.get("busy"):  # say so (the server counts it), then work here
            try:
                connection.channel.send({"op": "local"})
            except OSError:
                pass
            return Local(None)
        stdin = sys.stdin.buffer.read() if wants_stdin else None
        return request(connection, argv, stdin)
    finally:
        connection.close()
