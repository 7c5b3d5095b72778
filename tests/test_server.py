"""`rnnprobe serve` and its clients: same bytes, same streams, same exit codes.

Whether a request was served is never inferred from timing: clients of the test server wait
for its greeting as long as needed (conftest sets RNNPROBE_HANDSHAKE_TIMEOUT), and the
server's own count of served requests is read back with `serve --status --json`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from rnnprobe import __version__
from rnnprobe.serve import client
from rnnprobe.serve.server import Server

from .conftest import interruptible

# Runs the real entry point, then records which heavy modules the client imported.
CLIENT = """
import atexit, os, sys
def _report():
    with open(os.environ["MODULES_OUT"], "w") as out:
        out.write(",".join(m for m in ("numpy", "tensorflow") if m in sys.modules))
atexit.register(_report)
sys.argv = ["rnnprobe", *sys.argv[1:]]
from rnnprobe.entry import main
main()
"""


def start_server(directory: Path, idle: float = 300.0) -> tuple[subprocess.Popen, Path]:
    """A real server; returned once its socket exists (clients wait for its greeting)."""
    os.chmod(directory, 0o700)
    path = directory / "rnnprobe.sock"
    child = subprocess.Popen(
        [sys.executable, "-m", "rnnprobe", "serve", "--socket", str(path),
         "--idle-timeout", str(idle)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise RuntimeError(child.stderr.read().decode())
        if path.exists():
            return child, path
        time.sleep(0.05)
    child.kill()
    raise RuntimeError("the server did not start")


def serve_command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnnprobe", "serve", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def status(path: Path) -> dict:
    done = serve_command("--status", "--json", "--socket", str(path))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def idle(path: Path, within: float = 60.0) -> float:
    """Wait until the server runs no request; the seconds it took."""
    start = time.monotonic()
    while status(path)["running"] is not None:
        assert time.monotonic() - start < within, "the server stayed busy"
        time.sleep(0.05)
    return time.monotonic() - start


def running(path: Path, pid: int, within: float = 120.0) -> dict:
    """Wait until the server runs the request of client `pid`; what status says of it."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = status(path)["running"]
        if found is not None and found["client_pid"] == pid:
            return found
        time.sleep(0.05)
    raise AssertionError(f"the server never ran client {pid}'s request")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    child, path = start_server(tmp_path_factory.mktemp("server"))
    yield path
    child.terminate()
    child.wait(timeout=30)


class Client:
    """The real client entry point in a subprocess, pointed at `path`."""

    def __init__(self, path: Path, tmp: Path) -> None:
        self.path, self.tmp = path, tmp

    def env(self, extra: dict | None = None) -> dict:
        env = {**os.environ, "RNNPROBE_SOCKET": str(self.path)}
        for key in ("COLUMNS", "FORCE_COLOR", "NO_COLOR", "RNNPROBE_NO_SERVER"):
            env.pop(key, None)
        env.update(extra or {})
        return env

    def __call__(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict | None = None,
        cwd: Path | None = None,
    ):
        modules = self.tmp / f"modules-{time.monotonic_ns()}-{threading.get_ident()}"
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, *args],
            input=input,
            capture_output=True,
            env={**self.env(env), "MODULES_OUT": str(modules)},
            cwd=cwd,
            timeout=120,
        )
        # A client that ran the command itself ends with os._exit once TensorFlow is loaded
        # (no teardown), so no exit hook reports: it loaded both.
        done.heavy = modules.read_text() if modules.exists() else "numpy,tensorflow"  # type: ignore[attr-defined]
        return done


@pytest.fixture
def client_(server, tmp_path):
    return Client(server, tmp_path)


def in_process(cli, *args: str, input: str | None = None, env: dict | None = None):
    return cli(*args, input=input, env={"COLUMNS": None, "FORCE_COLOR": None, **(env or {})})


def assert_same_as_in_process(cli, done, args, input: str | None = None) -> None:
    local = in_process(cli, *args, input=input)
    assert done.returncode == local.exit_code, done.stderr
    assert done.stdout == local.stdout_bytes
    assert done.stderr == local.stderr_bytes
    assert b"Traceback" not in done.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["run", "hello", "eolll", "lleel", "--seed", "3", "--json"],
        ["run", "hello", "hi", "--cell", "lstm", "--seed", "4", "--json", "--weights", "--check"],
        ["compare", "hello", "hi", "--cell", "gru", "--seed", "5", "--json"],
        ["run", "hello", "hi", "--bidirectional", "--seed", "6", "--steps", "--json"],
        [
            "run",
            "good",
            "so good",
            "--embed",
            "onehot",
            "--head",
            "2",
            "--seed",
            "7",
            "--json",
            "--check",
            "--weights",
        ],
        ["train", "hello", "hi", "--seed", "3", "--epochs", "5", "--json"],
        ["grads", "hello", "hi", "--seed", "3", "--cell", "lstm", "--json"],
        [
            "seq2seq",
            "i feel hungry",
            "나는 배가 고프다",
            "--train",
            "5",
            "--seed",
            "3",
            "--attention",
            "--translate",
            "i feel",
            "--json",
            "--check",
        ],
        [
            "run",
            "i feel",
            "you are fine",
            "--tokens",
            "word",
            "--embed",
            "3",
            "--head",
            "4",
            "--each-step",
            "--seed",
            "8",
            "--json",
        ],
        [
            "series",
            *map(str, range(40)),
            "--window",
            "5",
            "--train",
            "2",
            "--seed",
            "9",
            "--json",
        ],
    ],
)
def test_json_is_byte_identical_and_the_client_loads_neither_numpy_nor_tensorflow(
    cli, client_, args
):
    served = client_(*args)
    assert served.returncode == 0, served.stderr
    assert served.heavy == ""  # answered by the server
    assert served.stderr == b""
    assert served.stdout == in_process(cli, *args).stdout_bytes


@pytest.mark.parametrize(
    "env",
    [{}, {"COLUMNS": "120"}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}],
    ids=["piped", "columns", "colour", "no-colour"],
)
def test_tables_are_byte_identical_with_the_clients_width_and_colour(cli, client_, env):
    args = ["run", "hello", "hi", "--seed", "6", "--cell", "lstm"]
    served = client_(*args, env=env)
    assert served.returncode == 0 and served.heavy == ""
    local = in_process(cli, *args, env=env)
    assert served.stdout == local.stdout_bytes
    for extra in (["--steps", "--at", "1"], ["--diagram", "--word", "2"]):
        served_view = client_(*args, *extra, env=env)
        assert served_view.heavy == ""
        assert served_view.stdout == in_process(cli, *args, *extra, env=env).stdout_bytes
    if "FORCE_COLOR" in env and "NO_COLOR" not in env:
        assert b"\x1b[" in served.stdout


def test_usage_errors_pass_through(cli, client_):
    for _ in range(5):  # a fast failure is answered before the client has finished sending
        served = client_("run", "hello", "--hidden", "0")
        assert served.heavy == ""
        assert served.returncode == 2
        assert_same_as_in_process(cli, served, ["run", "hello", "--hidden", "0"])


def test_stdin_passes_through(cli, client_):
    words = "hello eolll\nlleel\n"
    served = client_("run", "-", "--seed", "7", "--json", input=words.encode())
    assert served.returncode == 0 and served.heavy == ""
    assert json.loads(served.stdout)["words"] == ["hello", "eolll", "lleel"]
    assert (
        served.stdout
        == in_process(cli, "run", "-", "--seed", "7", "--json", input=words).stdout_bytes
    )


def test_batch_runs_on_the_server_with_its_exit_code(cli, client_):
    lines = "hi --seed 1\nhi --hidden 0\n"
    served = client_("batch", "-", input=lines.encode())
    local = in_process(cli, "batch", "-", input=lines)
    assert served.returncode == local.exit_code == 1
    assert served.stdout == local.stdout_bytes
    assert served.heavy == ""


def test_parallel_clients_each_get_their_own_seed(cli, client_, server):
    """Served, or run by the client itself while the server was busy with another: the
    same bytes either way, and the server counts both."""
    before = status(server)

    def one(seed: int):
        return seed, client_("run", "hello", "eolll", "--seed", str(seed), "--json")

    with ThreadPoolExecutor(4) as pool:  # more only start more TensorFlows on 2 cores
        results = list(pool.map(one, range(100, 104)))
    for seed, answered in results:
        assert answered.returncode == 0 and answered.stderr == b""
        assert answered.heavy in ("", "numpy,tensorflow")  # served, or run by the client
        local = in_process(cli, "run", "hello", "eolll", "--seed", str(seed), "--json")
        assert answered.stdout == local.stdout_bytes
    after = status(server)
    ran_here = sum(1 for _, answered in results if answered.heavy)
    assert after["local"] - before["local"] == ran_here
    assert after["served"] - before["served"] == 4 - ran_here


def test_no_server_flag_and_environment_work_in_process(client_):
    # --code needs no TensorFlow, so in-process work shows only as numpy being imported
    served = client_("run", "hi", "--code", "--seed", "1")
    assert served.heavy == ""
    flag = client_("run", "hi", "--code", "--seed", "1", "--no-server")
    env = client_("run", "hi", "--code", "--seed", "1", env={"RNNPROBE_NO_SERVER": "1"})
    for local in (flag, env):
        assert local.returncode == 0
        assert "numpy" in local.heavy
        assert local.stdout == served.stdout


# -- a stress test: every request a live server greets is answered by it ------------------

STRESS = [
    (["run", "hello", "--hidden", "0"], None),
    (["run", "hello", "--no-such-flag"], None),
    (["compare", "hi", "--style", "cell"], None),
    (["run", "hello", "eolll", "lleel", "--seed", "1", "--json"], None),
    (["run", "hello", "hi", "--seed", "2", "--cell", "lstm"], None),
    (["run", "-", "--seed", "3", "--json"], "hello eolll\nlleel\n"),
    (["run", "-", "--json"], "  \n"),
    (["batch", "-"], "hi --seed 4\nhi --hidden 0\n"),
]


def _request(path: Path, argv: list[str], stdin: str | None) -> Any:
    """One request through the client's own protocol code (no process start): the answer,
    or `client.Local` when the server was busy with another request."""
    connection = client.connect(str(path))
    assert connection is not None, "the server did not greet"
    try:
        answer = client.request(connection, argv, None if stdin is None else stdin.encode())
    finally:
        connection.close()
    assert answer is not None, f"the server did not answer {argv}"
    return answer


def test_two_hundred_mixed_requests_are_all_answered_or_handed_back(cli, server, monkeypatch):
    """One after another, every request is served; eight at a time, each is served or, when
    another runs, handed back (`busy`) with the stdin it brought, never queued."""
    for key in ("COLUMNS", "LINES", "FORCE_COLOR", "NO_COLOR", "TERM", "COLORTERM"):
        monkeypatch.delenv(key, raising=False)
    expected = {}
    for argv, stdin in STRESS:
        local = in_process(cli, *argv, input=stdin)
        expected[tuple(argv)] = (local.exit_code, local.stdout_bytes, local.stderr_bytes)
    assert {code for code, _, _ in expected.values()} == {0, 1, 2}

    before = status(server)
    plan = [STRESS[n % len(STRESS)] for n in range(200)]
    sequential = [_request(server, argv, stdin) for argv, stdin in plan[:100]]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(lambda item: _request(server, *item), plan[100:]))
    handed_back = 0
    for (argv, stdin), answer in zip(plan, sequential + parallel, strict=True):
        if isinstance(answer, client.Local):
            handed_back += 1
            assert answer.stdin == (None if stdin is None else stdin.encode())
        else:
            assert answer == expected[tuple(argv)], argv
    assert not any(isinstance(answer, client.Local) for answer in sequential)
    after = status(server)
    assert after["served"] == before["served"] + 200 - handed_back
    assert after["local"] == before["local"] + handed_back


def test_a_client_that_leaves_before_its_reply_harms_no_one(cli, server):
    before = status(server)["served"]
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(server))
        channel = client.Channel(conn, 60.0)
        assert json.loads(channel.read_line())["rnnprobe"] == __version__
        argv = ["run", *(["hello"] * 2000), "--seed", "1", "--json"]
        channel.send({"op": "run", "argv": argv, "cwd": os.getcwd(), "env": {}, "stdin": 0})
    # gone without reading: the server drops that reply and goes on
    idle(server)
    answer = _request(server, ["run", "hi", "--seed", "1", "--json"], None)
    assert answer == (0, in_process(cli, "run", "hi", "--seed", "1", "--json").stdout_bytes, b"")
    deadline = time.monotonic() + 60
    while status(server)["served"] < before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert status(server)["served"] == before + 2


# -- status, stop, and the socket's place -----------------------------------------------


def test_status_answers_with_pid_socket_uptime_and_the_count(server):
    done = serve_command("--status", "--socket", str(server))
    assert done.returncode == 0
    assert done.stdout.startswith("rnnprobe server pid ")
    assert f" on {server}, up " in done.stdout
    assert " served, " in done.stdout and " while it was busy; idle\n" in done.stdout
    assert done.stdout.count("\n") == 1


def test_status_json_names_the_server_process_and_stop_ends_it(tmp_path):
    child, path = start_server(tmp_path)
    try:
        found = status(path)
        assert list(found) == ["rnnprobe", "pid", "socket", "uptime_s", "served", "local",
                               "running"]  # fmt: skip
        assert found["local"] == 0 and found["running"] is None
        assert found["rnnprobe"] == __version__
        assert found["pid"] == child.pid  # from the socket's peer credentials
        assert found["socket"] == str(path)
        assert isinstance(found["uptime_s"], float) and found["uptime_s"] >= 0
        assert found["served"] == 0
        assert _request(path, ["run", "hi", "--hidden", "0"], None)[0] == 2
        assert status(path)["served"] == 1
        assert serve_command("--stop", "--socket", str(path)).returncode == 0
        assert child.wait(timeout=30) == 0
        assert not path.exists()
    finally:
        if child.poll() is None:
            child.terminate()
            child.wait(timeout=30)

    second, path = start_server(tmp_path)  # the stopped server's place is free again
    second.send_signal(signal.SIGKILL)
    second.wait(timeout=30)
    assert path.exists()  # a killed server leaves its socket behind
    done = Client(path, tmp_path)("run", "hi", "--code", "--seed", "2")
    assert done.returncode == 0
    assert b"keras.utils.set_random_seed(2)" in done.stdout
    assert not path.exists()  # the client removed the stale socket it owns


LONG = ["train", "hihello", "--epochs", "99999999999999999999", "--seed", "1"]


def test_a_busy_server_leaves_commands_to_their_clients_and_stops_abandoned_ones(cli, tmp_path):
    """Real processes: a long served training; meanwhile another command, run by its own
    client (the server is busy), gives the bytes of an unserved run; the training's client
    interrupted (Ctrl-C: exit 130, one line) or killed, the server stops the training and
    is free, and serves the next command warm."""
    child, path = start_server(tmp_path)
    clients = Client(path, tmp_path)
    try:
        for stop in (signal.SIGINT, signal.SIGKILL):
            long = subprocess.Popen(
                [sys.executable, "-m", "rnnprobe", *LONG], env=clients.env(),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=interruptible,
            )  # fmt: skip
            found = running(path, long.pid)
            assert found["command"] == "rnnprobe " + " ".join(LONG)
            line = serve_command("--status", "--socket", str(path)).stdout
            assert f"rnnprobe {' '.join(LONG)} (client pid {long.pid})" in line
            if stop == signal.SIGINT:
                before = status(path)["local"]
                args = ["run", "hello", "eolll", "--seed", "3", "--json"]
                meanwhile = clients(*args)
                assert meanwhile.heavy == "numpy,tensorflow"  # run by the client itself
                assert_same_as_in_process(cli, meanwhile, args)
                assert status(path)["local"] == before + 1
            long.send_signal(stop)
            out, err = long.communicate(timeout=60)
            if stop == signal.SIGINT:
                assert (long.returncode, out, err) == (130, b"", b"\n")  # as a local Ctrl-C
            idle(path, within=15)  # the training stopped at its next batch
            served = clients("run", "hi", "--seed", "4", "--json")
            assert served.heavy == "" and served.returncode == 0
    finally:
        child.terminate()
        child.wait(timeout=30)
    assert child.returncode == 0


def test_status_without_a_server_exits_1_with_nothing_on_stdout(tmp_path):
    for extra in ([], ["--json"]):
        done = serve_command("--status", *extra, "--socket", str(tmp_path / "s"))
        assert done.returncode == 1
        assert done.stdout == ""
        assert "no rnnprobe server" in done.stderr


def test_json_without_status_is_a_usage_error(cli):
    assert "--json needs --status" in cli.usage_error("serve", "--json")


def test_the_socket_is_private(server):
    assert stat.S_IMODE(os.stat(server).st_mode) == 0o600
    assert not os.stat(server.parent).st_mode & stat.S_IWOTH


def test_a_world_writable_directory_is_refused(tmp_path):
    os.chmod(tmp_path, 0o777)
    done = serve_command("--socket", str(tmp_path / "s.sock"), timeout=120)
    assert done.returncode == 2
    assert "world-writable" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_file_in_the_sockets_place_is_refused_and_left_alone(tmp_path):
    os.chmod(tmp_path, 0o700)
    target = tmp_path / "s.sock"
    target.write_text("not a socket\n", encoding="utf-8")
    done = serve_command("--socket", str(target), timeout=120)
    assert done.returncode == 2
    assert "exists and is not a socket" in done.stderr
    assert done.stderr.count("\n") == 1
    assert target.read_text(encoding="utf-8") == "not a socket\n"


def test_the_default_socket_is_private_and_an_idle_server_exits(tmp_path):
    """No --socket, no RNNPROBE_SOCKET, no XDG_RUNTIME_DIR: a 0700 directory in the cache."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for key in ("RNNPROBE_SOCKET", "XDG_RUNTIME_DIR"):
        env.pop(key, None)
    path = tmp_path / "cache" / "rnnprobe" / "rnnprobe.sock"
    child = subprocess.Popen(
        [sys.executable, "-m", "rnnprobe", "serve", "--idle-timeout", "1"],
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not path.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert path.exists(), child.stderr.read().decode() if child.poll() is not None else ""
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert child.wait(timeout=60) == 0  # idle for 1 s
    assert not path.exists()


def test_idle_time_counts_from_the_moment_the_server_is_ready(tmp_path):
    server = Server(str(tmp_path / "s.sock"), idle_timeout=3.0)
    server.mark_ready(now=1000.0)  # loading TensorFlow took long after the server was made
    assert not server.idle(now=1002.9)
    assert server.idle(now=1003.1)
    server.active = 1  # a request in progress is never idle
    assert not server.idle(now=2000.0)


def test_the_server_handshake_names_this_version(server):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(server))
        hello = json.loads(conn.makefile("rb").readline())
    assert hello["rnnprobe"] == __version__


def test_relative_paths_are_the_clients(cli, client_, tmp_path, monkeypatch):
    (tmp_path / "probes.txt").write_text("hi --seed 1\n", encoding="utf-8")
    (tmp_path / "words.csv").write_text("w,l\nhi,a\nyo there,b\nhey,a\n", encoding="utf-8")
    corpus = ["train", "--from", "words.csv", "--columns", "w,l", "--batch-size", "2",
              "--validation", "0.3", "--epochs", "2", "--seed", "1", "--json"]  # fmt: skip
    for args in (["batch", "probes.txt"], ["run", "hi", "--seed", "1", "--export", "out.txt"],
                 corpus):  # fmt: skip
        done = client_(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.heavy == ""  # served
    assert "outputs, h = rnn(x_data)" in (tmp_path / "out.txt").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert done.stdout == in_process(cli, *corpus).stdout_bytes
    piped = ["run", "--from", "-", "--columns", "w", "--seed", "2", "--json"]
    text = (tmp_path / "words.csv").read_text(encoding="utf-8")
    served = client_(*piped, input=text.encode())
    assert served.heavy == "" and served.stdout == in_process(cli, *piped, input=text).stdout_bytes


def test_a_second_server_on_the_same_socket_is_refused(server):
    done = serve_command("--socket", str(server))
    assert done.returncode == 1
    assert f"a server already answers on {server}" in done.stderr
    assert "Traceback" not in done.stderr


def test_socket_path_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNPROBE_SOCKET", str(tmp_path / "env.sock"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert client.socket_path(str(tmp_path / "flag.sock")) == str(tmp_path / "flag.sock")
    assert client.socket_path() == str(tmp_path / "env.sock")
    monkeypatch.delenv("RNNPROBE_SOCKET")
    assert client.socket_path() == str(tmp_path / "rnnprobe.sock")
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert client.socket_path() == str(tmp_path / "cache" / "rnnprobe" / "rnnprobe.sock")


# -- fault injection: fake servers written here, each its own process ---------------------

FAKE = r"""
import json, os, socket, sys, time
mode, path, version = sys.argv[1], sys.argv[2], sys.argv[3]
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(path)
listener.listen(8)
print("listening", flush=True)
hello = json.dumps({"rnnprobe": version, "pid": 1, "started": 0, "served": 0}).encode() + b"\n"
while True:
    conn, _ = listener.accept()
    if mode == "garbage":
        conn.sendall(b"\x00\xffthis is not a greeting\n")
    elif mode == "other-version":
        conn.sendall(hello.replace(version.encode(), b"0.0.0-other"))
    elif mode == "silent":
        pass
    elif mode == "greet-close":
        conn.sendall(hello)
        conn.close()
        continue
    elif mode == "answer":  # a wrong answer, to show that a client never took it
        conn.sendall(hello)
        conn.recv(65536)
        conn.sendall(json.dumps({"code": 0, "stdout": 5, "stderr": 0}).encode() + b"\nFAKE\n")
    elif mode in ("hang", "hang-forked"):
        conn.sendall(hello)
        data = b""
        while b"\n" not in data:
            data += conn.recv(65536)
        child = os.fork() if mode == "hang-forked" else -1
        if child == 0:
            time.sleep(3600)  # the child holds the connection open: no end of file
        print("request", child, flush=True)
    time.sleep(3600)
"""


class FakeServer:
    def __init__(self, directory: Path, mode: str, dir_mode: int = 0o700) -> None:
        os.chmod(directory, dir_mode)
        self.path = directory / "fake.sock"
        self.process = subprocess.Popen(
            [sys.executable, "-c", FAKE, mode, str(self.path), __version__],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline() == "listening\n"

        self.child = -1

    def wait_for_request(self) -> None:
        word, child = self.process.stdout.readline().split()
        assert word == "request"
        self.child = int(child)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=30)

    def close(self) -> None:
        self.kill()
        if self.child > 0:  # a forked child of the fake still holds the connection
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.child, signal.SIGKILL)


@pytest.fixture
def fake(tmp_path):
    made: list[FakeServer] = []

    def start(mode: str, dir_mode: int = 0o700) -> FakeServer:
        made.append(FakeServer(tmp_path, mode, dir_mode))
        return made[-1]

    yield start
    for one in made:
        one.close()


CODE = ["run", "hi", "--code", "--seed", "1"]
BAD = ["run", "hi", "--hidden", "0"]


@pytest.mark.parametrize("args", [CODE, BAD], ids=["code", "usage-error"])
@pytest.mark.parametrize("mode", ["garbage", "other-version", "greet-close", "silent"])
def test_a_broken_server_gets_the_in_process_answer(cli, fake, tmp_path, mode, args):
    server = fake(mode)
    env = {"RNNPROBE_HANDSHAKE_TIMEOUT": "0.5"} if mode == "silent" else {}
    done = Client(server.path, tmp_path)(*args, env=env)
    assert_same_as_in_process(cli, done, args)  # the fake could not have printed this


@pytest.mark.parametrize("mode", ["hang", "hang-forked"])
def test_a_server_killed_mid_request_gets_the_in_process_answer(cli, fake, tmp_path, mode):
    server = fake(mode)
    client_process = subprocess.Popen(
        [sys.executable, "-m", "rnnprobe", *CODE],
        env=Client(server.path, tmp_path).env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=interruptible,
    )
    server.wait_for_request()
    server.kill()  # with hang-forked, its child keeps the connection open: only the pid tells
    out, err = client_process.communicate(timeout=60)
    local = in_process(cli, *CODE)
    assert (client_process.returncode, out, err) == (0, local.stdout_bytes, b"")


def test_a_server_killed_after_taking_stdin_gives_one_line(fake, tmp_path):
    server = fake("hang")
    words = tmp_path / "words.txt"
    words.write_bytes(b"hello eolll\n")
    with words.open("rb") as stdin:
        client_process = subprocess.Popen(
            [sys.executable, "-m", "rnnprobe", "run", "-", "--json"],
            env=Client(server.path, tmp_path).env(),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    server.wait_for_request()
    server.kill()
    out, err = client_process.communicate(timeout=60)
    assert client_process.returncode == 1
    assert out == b""
    assert err == b"rnnprobe: error: the server went away during the request\n"


def test_ctrl_c_while_waiting_for_the_server_exits_130(fake, tmp_path):
    server = fake("hang")
    client_process = subprocess.Popen(
        [sys.executable, "-m", "rnnprobe", *CODE],
        env=Client(server.path, tmp_path).env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=interruptible,
    )
    server.wait_for_request()  # the client has sent its request and waits for the reply
    client_process.send_signal(signal.SIGINT)
    out, err = client_process.communicate(timeout=60)
    assert client_process.returncode == 130
    assert out == b"" and b"Traceback" not in err


def test_a_regular_file_at_the_socket_path_is_passed_over_and_left_alone(cli, tmp_path):
    os.chmod(tmp_path, 0o700)
    target = tmp_path / "rnnprobe.sock"
    target.write_bytes(b"keep me\n")
    done = Client(target, tmp_path)(*CODE)
    assert_same_as_in_process(cli, done, CODE)
    assert target.read_bytes() == b"keep me\n"


def test_a_socket_in_a_world_writable_directory_is_ignored(cli, fake, tmp_path):
    server = fake("answer", dir_mode=0o777)
    done = Client(server.path, tmp_path)(*CODE)
    assert b"FAKE" not in done.stdout
    assert_same_as_in_process(cli, done, CODE)


def test_the_fake_answer_would_have_been_taken_from_a_private_directory(fake, tmp_path):
    """The control for the test above: the same fake in a 0700 directory is believed."""
    server = fake("answer")
    done = Client(server.path, tmp_path)(*CODE)
    assert done.stdout == b"FAKE\n"


def test_the_greeting_wait_can_be_made_longer(monkeypatch):
    monkeypatch.setenv("RNNPROBE_HANDSHAKE_TIMEOUT", "7.5")
    assert client.handshake_timeout() == 7.5
    for value in ("", "soon", "0", "-3"):
        monkeypatch.setenv("RNNPROBE_HANDSHAKE_TIMEOUT", value)
        assert client.handshake_timeout() == client.HANDSHAKE_TIMEOUT == 1.0


def test_saved_networks_through_the_server(cli, client_, tmp_path):
    """--save writes where the client stands, --load and inspect read it: as in process."""
    path = str(tmp_path / "served.keras")
    args = ["train", "hello", "hi", "--seed", "3", "--epochs", "2", "--save", path, "--json"]
    served = client_(*args)
    assert served.returncode == 0 and served.heavy == "", served.stderr
    assert served.stdout == in_process(cli, *args).stdout_bytes
    for asked in (["inspect", path, "--input", "hello", "--json"], ["inspect", path],
                  ["run", "--load", path, "hex", "--json"]):  # fmt: skip
        done = client_(*asked)
        assert done.heavy == ""
        assert_same_as_in_process(cli, done, asked)
