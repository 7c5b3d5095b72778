"""`rnnprobe serve` and its clients: same bytes, same streams, same exit codes."""

from __future__ import annotations

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

import pytest

from rnnprobe import __version__

# Runs the real entry point, then records which heavy modules the client imported.
CLIENT = """
import atexit, os, sys
def _report():
    with open(os.environ["MODULES_OUT"], "w") as out:
        out.write(",".join(m for m in ("numpy", "tensorflow") if m in sys.modules))
atexit.register(_report)
sys.argv = ["rnnprobe", *sys.argv[1:]]
from rnnprobe.client import main
main()
"""


def start_server(directory: Path, idle: float = 300.0) -> tuple[subprocess.Popen, Path]:
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
        time.sleep(0.1)
    child.kill()
    raise RuntimeError("the server did not start")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    child, path = start_server(tmp_path_factory.mktemp("server"))
    yield path
    child.terminate()
    child.wait(timeout=30)


class Client:
    def __init__(self, path: Path, tmp: Path) -> None:
        self.path, self.tmp = path, tmp

    def __call__(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict | None = None,
        cwd: Path | None = None,
    ):
        modules = self.tmp / f"modules-{time.monotonic_ns()}-{threading.get_ident()}"
        full_env = {**os.environ, "RNNPROBE_SOCKET": str(self.path), "MODULES_OUT": str(modules)}
        for key in ("COLUMNS", "FORCE_COLOR", "NO_COLOR", "RNNPROBE_NO_SERVER"):
            full_env.pop(key, None)
        full_env.update(env or {})
        done = subprocess.run(
            [sys.executable, "-c", CLIENT, *args],
            input=input,
            capture_output=True,
            env=full_env,
            cwd=cwd,
            timeout=120,
        )
        done.heavy = modules.read_text()  # type: ignore[attr-defined]
        return done


@pytest.fixture
def client(server, tmp_path):
    return Client(server, tmp_path)


def in_process(cli, *args: str, input: str | None = None, env: dict | None = None):
    return cli(*args, input=input, env={"COLUMNS": None, "FORCE_COLOR": None, **(env or {})})


@pytest.mark.parametrize(
    "args",
    [
        ["run", "hello", "eolll", "lleel", "--seed", "3", "--json"],
        ["run", "hello", "hi", "--cell", "lstm", "--seed", "4", "--json", "--weights", "--check"],
        ["compare", "hello", "hi", "--cell", "gru", "--seed", "5", "--json"],
    ],
)
def test_json_is_byte_identical_and_the_client_loads_neither_numpy_nor_tensorflow(
    cli, client, args
):
    served = client(*args)
    assert served.returncode == 0, served.stderr
    assert served.heavy == ""  # answered by the server
    assert served.stderr == b""
    assert served.stdout == in_process(cli, *args).stdout_bytes


@pytest.mark.parametrize(
    "env",
    [{}, {"COLUMNS": "120"}, {"FORCE_COLOR": "1"}, {"FORCE_COLOR": "1", "NO_COLOR": "1"}],
    ids=["piped", "columns", "colour", "no-colour"],
)
def test_tables_are_byte_identical_with_the_clients_width_and_colour(cli, client, env):
    args = ["run", "hello", "hi", "--seed", "6", "--cell", "lstm"]
    served = client(*args, env=env)
    assert served.returncode == 0 and served.heavy == ""
    local = in_process(cli, *args, env=env)
    assert served.stdout == local.stdout_bytes
    if "FORCE_COLOR" in env and "NO_COLOR" not in env:
        assert b"\x1b[" in served.stdout


def test_usage_errors_pass_through(cli, client):
    served = client("run", "hello", "--hidden", "0")
    local = in_process(cli, "run", "hello", "--hidden", "0")
    assert served.returncode == local.exit_code == 2
    assert served.stdout == b""
    assert served.stderr == local.stderr_bytes
    assert served.heavy == ""


def test_stdin_passes_through(cli, client):
    words = "hello eolll\nlleel\n"
    served = client("run", "-", "--seed", "7", "--json", input=words.encode())
    assert served.returncode == 0 and served.heavy == ""
    assert json.loads(served.stdout)["words"] == ["hello", "eolll", "lleel"]
    assert (
        served.stdout
        == in_process(cli, "run", "-", "--seed", "7", "--json", input=words).stdout_bytes
    )


def test_batch_runs_on_the_server_with_its_exit_code(cli, client):
    lines = "hi --seed 1\nhi --hidden 0\n"
    served = client("batch", "-", input=lines.encode())
    local = in_process(cli, "batch", "-", input=lines)
    assert served.returncode == local.exit_code == 1
    assert served.stdout == local.stdout_bytes
    assert served.heavy == ""


def test_eight_parallel_clients_each_get_their_own_seed(cli, client):
    def one(seed: int):
        return seed, client("run", "hello", "eolll", "--seed", str(seed), "--json")

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(100, 108)))
    for seed, served in results:
        assert served.returncode == 0 and served.heavy == ""
        local = in_process(cli, "run", "hello", "eolll", "--seed", str(seed), "--json")
        assert served.stdout == local.stdout_bytes


def test_no_server_flag_and_environment_work_in_process(client):
    # --code needs no TensorFlow, so in-process work shows only as numpy being imported
    served = client("run", "hi", "--code", "--seed", "1")
    assert served.heavy == ""
    flag = client("run", "hi", "--code", "--seed", "1", "--no-server")
    env = client("run", "hi", "--code", "--seed", "1", env={"RNNPROBE_NO_SERVER": "1"})
    for local in (flag, env):
        assert local.returncode == 0
        assert "numpy" in local.heavy
        assert local.stdout == served.stdout


def test_status_answers_with_pid_socket_and_uptime(server):
    done = subprocess.run(
        [sys.executable, "-m", "rnnprobe", "serve", "--status", "--socket", str(server)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0
    assert done.stdout.startswith("rnnprobe server pid ")
    assert f" on {server}, up " in done.stdout
    assert done.stdout.count("\n") == 1


def test_the_socket_is_private(server):
    assert stat.S_IMODE(os.stat(server).st_mode) == 0o600
    assert not os.stat(server.parent).st_mode & stat.S_IWOTH


def test_status_without_a_server_exits_1(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "rnnprobe", "serve", "--status", "--socket", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1
    assert "no rnnprobe server" in done.stderr


def test_a_world_writable_directory_is_refused(tmp_path):
    os.chmod(tmp_path, 0o777)
    done = subprocess.run(
        [sys.executable, "-m", "rnnprobe", "serve", "--socket", str(tmp_path / "s.sock")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "world-writable" in done.stderr
    assert "Traceback" not in done.stderr


def _fake_server(path: Path, greeting: bytes | None) -> socket.socket:
    """A listener that greets with `greeting` (None: never answers)."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(8)

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            if greeting is not None:
                conn.sendall(greeting)
            time.sleep(5)
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return listener


@pytest.mark.parametrize(
    "greeting",
    [json.dumps({"rnnprobe": "0.0.0-other", "pid": 1, "started": 0}).encode() + b"\n", None],
    ids=["other-version", "silent"],
)
def test_other_versions_and_silent_servers_are_passed_over(tmp_path, greeting):
    os.chmod(tmp_path, 0o700)
    path = tmp_path / "fake.sock"
    listener = _fake_server(path, greeting)
    try:
        started = time.monotonic()
        done = Client(path, tmp_path)("run", "hi", "--code", "--seed", "1")
        assert time.monotonic() - started < 30
    finally:
        listener.close()
    assert done.returncode == 0
    assert "numpy" in done.heavy  # worked in-process
    assert b"keras.utils.set_random_seed(1)" in done.stdout


def test_stop_and_a_killed_servers_socket(tmp_path):
    (tmp_path / "one").mkdir()
    first, path = start_server(tmp_path / "one")
    assert (
        subprocess.run(
            [sys.executable, "-m", "rnnprobe", "serve", "--stop", "--socket", str(path)],
            capture_output=True,
            timeout=60,
        ).returncode
        == 0
    )
    assert first.wait(timeout=30) == 0
    assert not path.exists()

    second, path = start_server(tmp_path / "one")
    second.send_signal(signal.SIGKILL)
    second.wait(timeout=30)
    assert path.exists()  # a killed server leaves its socket behind
    done = Client(path, tmp_path)("run", "hi", "--code", "--seed", "2")
    assert done.returncode == 0
    assert b"keras.utils.set_random_seed(2)" in done.stdout
    assert not path.exists()  # the client removed the stale socket it owns


def test_the_default_socket_is_private_and_an_idle_server_exits(tmp_path):
    """No --socket, no RNNPROBE_SOCKET, no XDG_RUNTIME_DIR: a 0700 directory in the cache."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    for key in ("RNNPROBE_SOCKET", "XDG_RUNTIME_DIR"):
        env.pop(key, None)
    path = tmp_path / "cache" / "rnnprobe" / "rnnprobe.sock"
    child = subprocess.Popen(
        [sys.executable, "-m", "rnnprobe", "serve", "--idle-timeout", "3"],
        env=env,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 120
    while not path.exists() and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    assert path.exists(), child.stderr.read().decode() if child.poll() is not None else ""
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert child.wait(timeout=60) == 0  # idle for 3 s
    assert not path.exists()


def test_the_server_handshake_names_this_version(server):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(server))
        hello = json.loads(conn.makefile("rb").readline())
    assert hello["rnnprobe"] == __version__


def test_relative_paths_are_the_clients(client, tmp_path):
    (tmp_path / "probes.txt").write_text("hi --seed 1\n", encoding="utf-8")
    for args in (["batch", "probes.txt"], ["run", "hi", "--seed", "1", "--export", "out.txt"]):
        done = client(*args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert done.heavy == ""  # served
    assert "outputs, h = rnn(x_data)" in (tmp_path / "out.txt").read_text(encoding="utf-8")


def test_a_second_server_on_the_same_socket_is_refused(server):
    done = subprocess.run(
        [sys.executable, "-m", "rnnprobe", "serve", "--socket", str(server)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"a server already answers on {server}" in done.stderr
    assert "Traceback" not in done.stderr


def test_socket_path_precedence(monkeypatch, tmp_path):
    from rnnprobe.client import socket_path

    monkeypatch.setenv("RNNPROBE_SOCKET", str(tmp_path / "env.sock"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert socket_path(str(tmp_path / "flag.sock")) == tmp_path / "flag.sock"
    assert socket_path() == tmp_path / "env.sock"
    monkeypatch.delenv("RNNPROBE_SOCKET")
    assert socket_path() == tmp_path / "rnnprobe.sock"
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    assert socket_path() == tmp_path / "cache" / "rnnprobe" / "rnnprobe.sock"
