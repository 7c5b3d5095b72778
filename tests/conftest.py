"""Shared fixtures: an in-process CLI runner (TensorFlow loads once per test run)."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnprobe.cli import app
from rnnprobe.core.kinds import Cell, MergeMode, Style
from rnnprobe.core.numpy.engine import recompute
from rnnprobe.core.stages import ProbeSpec

LECTURE_WORDS = ["hello", "eolll", "lleel"]
# The keys of `run --json` before the network around the RNN was added, in their order.
RUN_KEYS_BASE = [
    "rnnprobe", "words", "lengths", "vocab", "style", "cell", "hidden", "seed", "bidirectional",
    "merge_mode", "return_sequences", "return_state", "params", "x_data", "outputs", "states",
]  # fmt: skip


class Cli:
    """Invoke rnnprobe in this process and check the stream discipline of each call."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        return self.runner.invoke(app, list(args), input=input, env=env, catch_exceptions=False)

    def ok(self, *args: str, input: str | None = None, env: dict[str, str] | None = None):
        result = self(*args, input=input, env=env)
        assert result.exit_code == 0, result.stderr
        assert result.stderr == ""
        return result

    def json(self, *args: str, input: str | None = None) -> dict[str, Any]:
        return json.loads(self.ok(*args, "--json", input=input).stdout)

    def usage_error(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> str:
        """Exit 2, nothing on stdout, one line on stderr, no traceback: that line."""
        result = self(*args, input=input, env=env)
        assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, result.stderr
        return lines[0]


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()


def recompute_json(obj: dict[str, Any]) -> dict[str, np.ndarray]:
    """rnnprobe's numpy equations, fed only what `run --json --weights` reported.

    With an Embedding, the recurrent layers read the reported `embedding`.
    """
    hidden = obj["hidden"] if isinstance(obj["hidden"], list) else [obj["hidden"]]
    spec = ProbeSpec(
        style=Style(obj["style"]),
        cell=Cell(obj["cell"]),
        hidden=tuple(hidden),
        return_sequences=obj["return_sequences"],
        return_state=obj["return_state"],
        bidirectional=obj["bidirectional"],
        merge_mode=MergeMode(obj["merge_mode"] or "concat"),
    )
    weights = {w["name"]: np.asarray(w["values"]) for w in obj["weights"]}
    x = obj["x_data"] if obj.get("x_data") is not None else obj["embedding"]
    return recompute(spec, np.asarray(x["values"]), np.asarray(obj["lengths"]), weights)


def assert_matches_numpy(obj: dict[str, Any]) -> None:
    """The reported outputs and every reported state equal the numpy re-computation."""
    expected = recompute_json(obj)
    np.testing.assert_allclose(obj["outputs"]["values"], expected["outputs"], atol=1e-5)
    assert [s["name"] for s in obj["states"]] == [k for k in expected if k != "outputs"]
    for state in obj["states"]:
        np.testing.assert_allclose(state["values"], expected[state["name"]], atol=1e-5)


def interruptible() -> None:
    """`preexec_fn` of a child a test interrupts with SIGINT, as Ctrl-C does: SIGINT back
    to its default, so that Python raises KeyboardInterrupt in the child even when this
    test run was started with SIGINT ignored (a background job of a shell without job
    control, which every child would inherit)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


JOBS_ENV = "RNNPROBE_TEST_JOBS"  # the folder of a run's background jobs, for every worker


def pytest_configure(config: pytest.Config) -> None:
    """Subprocesses must not find a `rnnprobe serve` that happens to run on this machine.

    A client of a test's own server waits for its greeting as long as a loaded machine
    may need: whether a request is served must not depend on how busy the machine is.
    The run's first process (pytest-xdist's controller, or the only one) makes the folder
    its background jobs write to; its workers inherit it.
    """
    import tempfile

    os.environ["RNNPROBE_SOCKET"] = os.path.join(tempfile.mkdtemp(), "no-server.sock")
    os.environ["RNNPROBE_HANDSHAKE_TIMEOUT"] = "120"
    if JOBS_ENV not in os.environ:
        os.environ[JOBS_ENV] = tempfile.mkdtemp(prefix="rnnprobe-test-jobs-")
        config.stash[_JOBS_OWNED] = os.environ[JOBS_ENV]


_JOBS_OWNED = pytest.StashKey[str]()


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    owned = config.stash.get(_JOBS_OWNED, None)
    if owned is not None:
        shutil.rmtree(owned, ignore_errors=True)
        os.environ.pop(JOBS_ENV, None)


class _Background:
    """Jobs that need no test's state (the linters, the notebook's kernel): each starts when
    the session has collected a test that reads it, and runs beside the tests (two cores);
    the test waits for it to end, however long that takes, and reads what it printed.

    A job writes its output and, once it has ended, its exit code to files in the run's
    folder, so that any worker of a pytest-xdist run reads it: the first worker to claim a
    job (an exclusive file) starts it, the others only read.
    """

    def __init__(self) -> None:
        self.jobs: dict[str, Any] = {}  # the jobs this process started: (process, waiter)

    @staticmethod
    def _path(name: str, suffix: str) -> Any:
        from pathlib import Path

        return Path(os.environ[JOBS_ENV]) / f"{name.replace(' ', '-')}.{suffix}"

    def start(self, name: str, argv: list[str], cwd: str) -> None:
        import subprocess
        import threading

        try:
            os.close(os.open(self._path(name, "claim"), os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return  # another worker (or this one) runs it
        with self._path(name, "out").open("wb") as out, self._path(name, "err").open("wb") as err:
            process = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=err,
                                       start_new_session=True)  # fmt: skip

        def wait() -> None:
            code = process.wait()
            done = self._path(name, "code.part")
            done.write_text(str(code), encoding="ascii")
            done.rename(self._path(name, "code"))  # whole, or not there

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        self.jobs[name] = (process, waiter)

    def result(self, name: str) -> Any:
        import subprocess
        import time

        code, deadline = self._path(name, "code"), time.monotonic() + 600
        while not code.exists():
            assert time.monotonic() < deadline, f"the background job {name!r} did not end"
            time.sleep(0.05)
        read = {part: self._path(name, part).read_text(encoding="utf-8", errors="replace")
                for part in ("out", "err")}  # fmt: skip
        return subprocess.CompletedProcess(name, int(code.read_text()), read["out"], read["err"])

    def stop(self) -> None:
        """Kill the jobs this process started and no test has read yet; in a worker of a
        pytest-xdist run, another worker may still read them: they may first end."""
        import signal

        shared = "PYTEST_XDIST_WORKER" in os.environ
        for process, waiter in self.jobs.values():
            if shared:
                waiter.join(timeout=600)
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)  # with the kernel it started
            waiter.join(timeout=60)
        self.jobs.clear()


_BACKGROUND = _Background()


def pytest_collection_finish(session: pytest.Session) -> None:
    """A test module's `BACKGROUND` jobs ({name: argv}, run in the repository) start as soon
    as one of its tests is selected; so does the script interpreter, if a test needs it
    (in a pytest-xdist worker, when its first script comes: a worker may have none)."""
    modules = {item.module for item in session.items if isinstance(item, pytest.Function)}
    for module in modules:
        for name, argv in getattr(module, "BACKGROUND", {}).items():
            _BACKGROUND.start(name, argv, str(session.config.rootpath))
    needs_scripts = any(getattr(m, f.__name__, None) is f for m in modules for f in SCRIPT_RUNNERS)
    if needs_scripts and "PYTEST_XDIST_WORKER" not in os.environ:
        _WORKER.submit("import tensorflow")  # the script interpreter loads it while tests run


@pytest.fixture(scope="session")
def background() -> Any:
    """What a background job printed and how it ended (a CompletedProcess), once it has."""
    return _BACKGROUND.result


def pytest_sessionfinish(session: pytest.Session) -> None:
    _BACKGROUND.stop()  # a job whose test was not reached ends with the session


# A printed script runs in a Python of its own, not in the test's (where rnnprobe and its
# state are loaded): one worker interpreter for the whole session, which pays the TensorFlow
# import once and runs each script, as `python script.py` would, in a namespace of its own.
WORKER = """
import contextlib, io, json, sys, traceback
for line in sys.stdin:
    out = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(json.loads(line), "<printed script>", "exec"), {"__name__": "__main__"})
    except BaseException:
        error = traceback.format_exc()
    sys.__stdout__.write(json.dumps({"stdout": out.getvalue(), "error": error}) + "\\n")
    sys.__stdout__.flush()
"""


class _Worker:
    """The script interpreter: scripts go in in turn; their answers come back in turn, each
    kept until its test reads it. While a script runs there, the test goes on (two cores)."""

    def __init__(self) -> None:
        self.process: Any = None
        self.sent = self.read = 0
        self.answers: dict[int, dict[str, Any]] = {}

    def submit(self, script: str) -> int:
        import subprocess
        import sys

        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, "-c", WORKER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True,  # stderr: TensorFlow's C++ logs
            )  # fmt: skip
            self.sent = self.read = 0
            self.answers.clear()
        self.process.stdin.write(json.dumps(script) + "\n")
        self.process.stdin.flush()
        self.sent += 1
        return self.sent - 1

    def answer(self, number: int) -> dict[str, Any]:
        while self.read <= number:
            line = self.process.stdout.readline()
            assert line, "the script interpreter ended"
            self.answers[self.read] = json.loads(line)
            self.read += 1
        return self.answers.pop(number)

    def stop(self) -> None:
        if self.process is not None:
            self.process.stdin.close()
            self.process.wait(timeout=120)


_WORKER = _Worker()


def start_script(script: str) -> Any:
    """Send a printed script to the session's script interpreter; call what this returns
    for what it printed (a script that raises fails the test with its traceback)."""
    number = _WORKER.submit(script)

    def printed() -> str:
        answer = _WORKER.answer(number)
        assert answer["error"] is None, answer["error"][-2000:]
        return str(answer["stdout"])

    return printed


def run_script(script: str) -> str:
    """What a printed script prints, run in the session's script interpreter."""
    return str(start_script(script)())


@pytest.fixture(scope="session", autouse=True)
def _stop_the_script_worker() -> Any:
    yield
    _WORKER.stop()


def run_scripts(scripts: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """Run printed scripts; what each printed of its variables (as JSON, at its end)."""
    pending = []
    for script, names in scripts:
        fields = ", ".join(f"{n!r}: np.asarray({n}).tolist()" for n in names)
        body = script + f"\nimport json as _j\nprint('RNNPROBE-JSON', _j.dumps({{{fields}}}))\n"
        pending.append(start_script(body))
    return [json.loads(printed().split("RNNPROBE-JSON ")[1].splitlines()[0]) for printed in pending]


SCRIPT_RUNNERS = (start_script, run_script, run_scripts)
