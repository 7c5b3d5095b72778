"""`rnnprobe serve`: keep TensorFlow loaded and run commands for clients on a Unix socket.

Each connection gets a thread that greets at once; the commands themselves run one at a
time (they switch the process-wide stdin, stdout, stderr, working directory and
environment to the client's, and seed Keras per request), exactly as the command line
would run them.

A client never waits behind another's request: the greeting says whether one runs, and a
request that finds one running is answered `busy`; either way the client runs the command
itself (the server counts these). While a request runs, a watcher sees its client's end of
the socket close (killed, Ctrl-C) and marks the request abandoned: the command stops at its
next batch or step (`progress.check`) and the server is free again.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import select
import signal
import socket
import stat
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from typing import Any

from rnnprobe import __version__
from rnnprobe.core import progress
from rnnprobe.core.errors import InputError, RnnProbeError
from rnnprobe.core.keras import env
from rnnprobe.serve import client
from rnnprobe.serve.served import SERVED_COMMANDS

# What the server answers a command it does not run: "... run, compare, ... and train".
REFUSED = (
    "rnnprobe: error: the server runs only "
    f"{', '.join(SERVED_COMMANDS[:-1])} and {SERVED_COMMANDS[-1]}\n"
).encode()


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
def _client_environment(env: dict[str, str], cwd: str, mask: Any = None) -> Iterator[None]:
    """The client's working directory (for relative paths), umask (for the files a command
    writes), output variables and rnnprobe's own variables; Python's warnings shown once
    per request, as a new process shows them."""
    import warnings

    saved_cwd = os.getcwd()
    os.chdir(cwd)
    keys = {key for key in (*os.environ, *env) if client.passed(key)}
    saved = {key: os.environ.get(key) for key in keys}
    for key in keys:
        if key in env:
            os.environ[key] = str(env[key])
        else:
            os.environ.pop(key, None)
    saved_mask = os.umask(mask) if isinstance(mask, int) and 0 <= mask <= 0o777 else None
    try:
        # Entering resets the registries of warnings already shown: each shows once for
        # this request, as in a new process, not once per server lifetime.
        with warnings.catch_warnings():
            yield
    finally:
        os.chdir(saved_cwd)
        if saved_mask is not None:
            os.umask(saved_mask)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Server:
    """A listening socket, the command runner, and the idle and signal bookkeeping."""

    def __init__(self, path: str, idle_timeout: float) -> None:
        self.path = path
        self.idle_timeout = idle_timeout
        self.started = time.time()
        self.last_active = time.monotonic()
        self.active = 0
        self.served = 0
        self.local = 0  # requests their clients ran themselves: the server was busy
        self.running: dict[str, Any] | None = None  # the request running now
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
        """Refuse a world-writable directory, a file in the way, or a socket in use."""
        directory = os.path.dirname(self.path) or "."
        if not os.path.exists(directory):
            os.makedirs(directory, mode=0o700)
        if os.path.abspath(directory) == os.path.abspath(client.cache_dir()):
            os.chmod(directory, 0o700)  # rnnprobe's own directory: private to its user
        if client.world_writable(directory):
            raise InputError(
                f"the socket's directory {directory!r} is world-writable: choose another --socket"
            )
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISSOCK(os.lstat(self.path).st_mode):
                raise InputError(
                    f"--socket {self.path!r} exists and is not a socket: choose another --socket"
                )
        connection = client.connect(self.path)
        if connection is not None:
            connection.close()
            raise RnnProbeError(f"a server already answers on {self.path}")

    def bind(self) -> None:
        """Create the socket, mode 0600, replacing a stale one."""
        with contextlib.suppress(FileNotFoundError):
            if stat.S_ISSOCK(os.lstat(self.path).st_mode):
                os.unlink(self.path)  # stale, from a server that was killed
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            listener.bind(self.path)
        finally:
            os.umask(old_umask)
        os.chmod(self.path, 0o600)
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener

    # -- main loop ------------------------------------------------------------------------
    def serve_forever(self) -> None:
        """Accept until stopped or idle; idle time counts from the moment this starts."""
        assert self._listener is not None
        self.mark_ready(time.monotonic())
        try:
            while not self.stopping.is_set():
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    if self.idle(time.monotonic()):
                        break
                    continue
                with self._count:
                    self.active += 1
                    hello = {
                        "rnnprobe": __version__,
                        "pid": os.getpid(),
                        "started": self.started,
                        "served": self.served,
                        "local": self.local,
                        "busy": self.running is not None,
                    }
                    if self.running is not None:
                        hello["running"] = {
                            **self.running,
                            "elapsed_s": round(time.time() - self.running["since"], 3),
                        }
                threading.Thread(target=self._handle, args=(conn, hello), daemon=True).start()
        finally:
            self.close()

    def mark_ready(self, now: float) -> None:
        """Start the idle clock (and the uptime) now, not when the server object was made."""
        with self._count:
            self.started = time.time()
            self.last_active = now

    def idle(self, now: float) -> bool:
        """True when no request runs and none has for longer than the idle timeout."""
        with self._count:
            return self.active == 0 and now - self.last_active > self.idle_timeout

    def close(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)

    # -- one connection -------------------------------------------------------------------
    def _handle(self, conn: socket.socket, hello: dict[str, Any]) -> None:
        try:
            with conn:
                # 30 s for each part of the request to arrive; a client that sends nothing
                # after the greeting (a status probe) simply closes.
                channel = client.Channel(conn, 30.0)
                channel.send(hello)
                header = channel.read_line()
                if not header:
                    return
                request = json.loads(header)
                if request.get("op") == "stop":
                    channel.send({"code": 0, "stdout": 0, "stderr": 0})
                    self.stopping.set()
                    return
                if request.get("op") == "local":  # busy at the greeting: the client runs it
                    with self._count:
                        self.local += 1
                    return
                stdin = channel.read_exact(int(request.get("stdin", 0)))
                if not self._work.acquire(blocking=False):  # another request came first
                    with self._count:
                        self.local += 1
                    channel.send({"busy": True})
                    return
                try:
                    code, out, err = self.execute(request, stdin, conn)
                finally:
                    self._work.release()
                with self._count:
                    self.served += 1
                conn.settimeout(None)  # a large reply goes out as fast as the client reads
                channel.send({"code": code, "stdout": len(out), "stderr": len(err)}, out, err)
        except (OSError, ValueError, KeyError, TypeError):
            pass  # the client went away (Ctrl-C) or spoke nonsense: drop this reply only
        finally:
            with self._count:
                self.active -= 1
                self.last_active = time.monotonic()

    def execute(self, request: dict[str, Any], stdin: bytes,
                conn: socket.socket | None = None) -> tuple[int, bytes, bytes]:  # fmt: skip
        """Run one command line as the client would have run it: (code, stdout, stderr).
        The caller holds the work lock; `conn` is watched for the client going away."""
        argv = [str(a) for a in request["argv"]]
        if not argv or argv[0] not in SERVED_COMMANDS:
            return 2, b"", REFUSED
        out = _Capture(bool(request.get("stdout_tty")))
        err = _Capture(bool(request.get("stderr_tty")))
        cwd = str(request.get("cwd") or os.getcwd())
        if not os.path.isdir(cwd):
            return 1, b"", f"rnnprobe: error: the server cannot enter {cwd!r}\n".encode()
        found = client.peer(conn) if conn is not None else None
        with self._count:
            self.running = {"argv": argv, "client_pid": found[0] if found else None,
                            "since": time.time()}  # fmt: skip
        watcher = _Watcher(conn) if conn is not None else None
        progress.ABANDONED = watcher.abandoned if watcher is not None else None
        try:
            with _client_environment(request.get("env") or {}, cwd, request.get("umask")):
                saved = sys.stdin, sys.stdout, sys.stderr
                sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
                sys.stdout, sys.stderr = out, err
                try:
                    code = self.command.main(args=argv, prog_name="rnnprobe",
                                             standalone_mode=False)  # fmt: skip
                except SystemExit as done:
                    code = done.code
                except Exception:
                    traceback.print_exc()  # into the client's stderr, as an in-process crash
                    code = 1
                finally:
                    sys.stdin, sys.stdout, sys.stderr = saved
        finally:
            if watcher is not None:
                watcher.stop()
            progress.ABANDONED = None
            with self._count:
                self.running = None
        return (code if isinstance(code, int) else 0), out.value(), err.value()


class _Watcher:
    """A thread that, while a request runs, marks it `abandoned` as soon as its client's
    end of the connection closes (the client sends nothing after its request)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.abandoned = threading.Event()
        self._wake_read, self._wake_write = os.pipe()  # `stop` wakes the poll at once
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        poller = select.poll()
        poller.register(self.conn.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        poller.register(self._wake_read, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_read in ready:
                return
            try:
                gone = self.conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                continue
            except OSError:
                gone = True
            if gone:
                self.abandoned.set()
                return
            # A client that wrote more than its request: wait for the end (or its end).
            poller.unregister(self.conn.fileno())
            poller.register(self.conn.fileno(), select.POLLHUP | select.POLLERR)

    def stop(self) -> None:
        """The request is done: end the thread before the connection is used again."""
        os.write(self._wake_write, b"x")
        self._thread.join()
        os.close(self._wake_read)
        os.close(self._wake_write)


def serve(path: str, idle_timeout: float) -> None:
    """Load TensorFlow, listen on `path` until idle, SIGTERM/SIGINT or `--stop`."""
    server = Server(path, idle_timeout)
    server.check_place()  # before the seconds TensorFlow takes to load
    env.load_keras()
    progress.ENABLED = False  # a spinner here would draw on the server's terminal
    server.bind()

    def on_signal(signum: int, frame: Any) -> None:
        server.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"rnnprobe server {__version__} (pid {os.getpid()}) on {path}", file=sys.stderr)
    server.serve_forever()


def status(path: str) -> dict[str, Any] | None:
    """What the server on `path` says of itself, or None when none answers."""
    connection = client.connect(path)
    if connection is None:
        return None
    connection.close()
    hello = connection.hello
    started = float(hello.get("started", time.time()))
    running = hello.get("running")
    return {
        "rnnprobe": hello["rnnprobe"],
        "pid": connection.pid if connection.pid is not None else hello.get("pid"),
        "socket": path,
        "uptime_s": round(max(0.0, time.time() - started), 3),
        "served": int(hello.get("served", 0)),
        "local": int(hello.get("local", 0)),
        "running": None if not isinstance(running, dict) else {
            "command": " ".join(["rnnprobe", *map(str, running.get("argv", []))]),
            "client_pid": running.get("client_pid"),
            "elapsed_s": running.get("elapsed_s"),
        },
    }  # fmt: skip


def status_line(found: dict[str, Any]) -> str:
    """One line, then the request running now (if any) on a second."""
    served, local = found["served"], found["local"]
    line = (
        f"rnnprobe server pid {found['pid']} on {found['socket']}, up "
        f"{_duration(found['uptime_s'])}, {served:,} request{'s' if served != 1 else ''} "
        f"served, {local:,} run by {'their clients' if local != 1 else 'its client'} while it "
        "was busy"
    )
    running = found["running"]
    if running is None:
        return line + "; idle"
    command = running["command"]
    shown = command if len(command) <= 100 else command[:99] + "…"
    return (f"{line}\nrunning for {_duration(float(running['elapsed_s'] or 0))}: {shown} "
            f"(client pid {running['client_pid']})")  # fmt: skip


def stop(path: str, wait: float = 30.0) -> bool:
    """Ask the server on `path` to exit; True once it has."""
    connection = client.connect(path)
    if connection is None:
        return False
    with contextlib.suppress(OSError):
        connection.channel.send({"op": "stop"})
        connection.channel.read_line()
    connection.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        gone = not client.alive(connection.pid) if connection.pid else True
        if gone and not os.path.exists(path):
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
