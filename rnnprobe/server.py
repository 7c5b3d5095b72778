"""`rnnprobe serve`: keep TensorFlow loaded and run commands for clients on a Unix socket.

Each connection gets a thread that greets at once; the commands themselves run one at a
time (they switch the process-wide stdin, stdout, stderr, working directory and
environment to the client's, and seed Keras per request), exactly as the command line
would run them.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import signal
import socket
import stat
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rnnprobe import __version__, client, probe, progress
from rnnprobe.errors import InputError, RnnProbeError


class _Capture(io.TextIOWrapper):
    """A text stream over bytes that reports the client's terminal status."""

    def __init__(self, tty: bool) -> None:
        super().__init__(io.BytesIO(), encoding="utf-8", write_through=True)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty

    def value(self) -> bytes:
        self.flush()
        return self.buffer.getvalue()  # type: ignore[attr-defined]


@contextlib.contextmanager
def _client_environment(env: dict[str, str], cwd: str) -> Iterator[None]:
    """The client's working directory (for relative paths) and output variables."""
    saved_cwd = os.getcwd()
    os.chdir(cwd)
    saved = {key: os.environ.get(key) for key in client.PASSED_ENV}
    for key in client.PASSED_ENV:
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)
    try:
        yield
    finally:
        os.chdir(saved_cwd)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Server:
    """A listening socket, the command runner, and the idle and signal bookkeeping."""

    def __init__(self, path: Path, idle_timeout: float) -> None:
        self.path = path
        self.idle_timeout = idle_timeout
        self.started = time.time()
        self.last_active = time.monotonic()
        self.active = 0
        self.stopping = threading.Event()
        self._work = threading.Lock()
        self._count = threading.Lock()
        self._listener: socket.socket | None = None

    @functools.cached_property
    def command(self) -> Any:
        """The Click command of the CLI, built once (building it takes about 13 ms)."""
        from typer.main import get_command

        from rnnprobe.cli import app

        return get_command(app)

    # -- set-up -------------------------------------------------------------------------
    def check_place(self) -> None:
        """Refuse a world-writable directory or a socket another server answers on."""
        directory = self.path.parent
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True)
        if directory == client.cache_dir():
            os.chmod(directory, 0o700)  # rnnprobe's own directory: private to its user
        if os.stat(directory).st_mode & stat.S_IWOTH:
            raise InputError(
                f"the socket's directory {str(directory)!r} is world-writable: "
                "choose another --socket"
            )
        if client.connect(self.path) is not None:
            raise RnnProbeError(f"a server already answers on {self.path}")

    def bind(self) -> None:
        """Create the socket, mode 0600, replacing a stale one."""
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                self.path.unlink()  # stale, from a server that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener

    # -- main loop ------------------------------------------------------------------------
    def serve_forever(self) -> None:
        assert self._listener is not None
        try:
            while not self.stopping.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    with self._count:
                        idle = self.active == 0 and (
                            time.monotonic() - self.last_active > self.idle_timeout
                        )
                    if idle:
                        break
                    continue
                with self._count:
                    self.active += 1
                threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        finally:
            self.close()

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    # -- one connection -------------------------------------------------------------------
    def _handle(self, conn: socket.socket) -> None:
        try:
            with conn:
                hello = {"rnnprobe": __version__, "pid": os.getpid(), "started": self.started}
                client.send_header(conn, hello)
                conn.settimeout(30.0)  # for the request itself to arrive
                header = client.read_line(conn)
                if not header:
                    return  # a status probe: the greeting was all it wanted
                request = json.loads(header)
                if request.get("op") == "stop":
                    client.send_header(conn, {"code": 0, "stdout": 0, "stderr": 0})
                    self.stopping.set()
                    return
                stdin = client.read_exact(conn, int(request.get("stdin", 0)))
                code, out, err = self.execute(request, stdin)
                conn.settimeout(None)
                client.send_header(
                    conn, {"code": code, "stdout": len(out), "stderr": len(err)}, out, err
                )
        except (OSError, ValueError, KeyError):
            pass  # the client went away or spoke nonsense; it falls back on its own
        finally:
            with self._count:
                self.active -= 1
                self.last_active = time.monotonic()

    def execute(self, request: dict[str, Any], stdin: bytes) -> tuple[int, bytes, bytes]:
        """Run one command line as the client would have run it: (code, stdout, stderr)."""
        argv = [str(a) for a in request["argv"]]
        if not argv or argv[0] not in client.SERVED_COMMANDS:
            return 2, b"", b"rnnprobe: error: the server runs only run, compare and batch\n"
        out = _Capture(bool(request.get("stdout_tty")))
        err = _Capture(bool(request.get("stderr_tty")))
        cwd = str(request.get("cwd") or os.getcwd())
        if not os.path.isdir(cwd):
            return 1, b"", f"rnnprobe: error: the server cannot enter {cwd!r}\n".encode()
        with self._work, _client_environment(request.get("env") or {}, cwd):
            saved = sys.stdin, sys.stdout, sys.stderr
            sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
            sys.stdout, sys.stderr = out, err
            try:
                code = self.command.main(args=argv, prog_name="rnnprobe", standalone_mode=False)
            except SystemExit as done:
                code = done.code
            except Exception:
                traceback.print_exc()  # into the client's stderr, as an in-process crash
                code = 1
            finally:
                sys.stdin, sys.stdout, sys.stderr = saved
        return (code if isinstance(code, int) else 0), out.value(), err.value()


def serve(path: Path, idle_timeout: float) -> None:
    """Load TensorFlow, listen on `path` until idle, SIGTERM/SIGINT or `--stop`."""
    server = Server(path, idle_timeout)
    server.check_place()  # before the seconds TensorFlow takes to load
    probe.load_keras()
    progress.ENABLED = False  # a spinner here would draw on the server's terminal
    server.bind()

    def on_signal(signum: int, frame: Any) -> None:
        server.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"rnnprobe server {__version__} (pid {os.getpid()}) on {path}", file=sys.stderr)
    server.serve_forever()


def status(path: Path) -> str | None:
    """One line about the server on `path`, or None when none answers."""
    connected = client.connect(path)
    if connected is None:
        return None
    conn, hello = connected
    conn.close()
    uptime = time.time() - float(hello.get("started", time.time()))
    return f"rnnprobe server pid {hello.get('pid')} on {path}, up {_duration(uptime)}"


def stop(path: Path, wait: float = 30.0) -> bool:
    """Ask the server on `path` to exit; True once it has."""
    connected = client.connect(path)
    if connected is None:
        return False
    conn, _ = connected
    with conn:
        client.send_header(conn, {"op": "stop"})
        client.read_line(conn)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if not path.exists():
            return True
        time.sleep(0.05)
    return False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    return f"{minutes}m {secs}s" if minutes else f"{secs}s"
