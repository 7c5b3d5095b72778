"""Shared fixtures: an in-process CLI runner (TensorFlow loads once per test run)."""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from rnnprobe.cli import app
from rnnprobe.core.engine import recompute
from rnnprobe.core.kinds import Cell, MergeMode, Style
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


def pytest_configure(config: pytest.Config) -> None:
    """Subprocesses must not find a `rnnprobe serve` that happens to run on this machine.

    A client of a test's own server waits for its greeting as long as a loaded machine
    may need: whether a request is served must not depend on how busy the machine is.
    """
    import tempfile

    os.environ["RNNPROBE_SOCKET"] = os.path.join(tempfile.mkdtemp(), "no-server.sock")
    os.environ["RNNPROBE_HANDSHAKE_TIMEOUT"] = "120"


def run_scripts(scripts: list[tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """Run printed scripts in one fresh interpreter; what each printed of its variables.

    Each script becomes a function of its own (its imports and names stay apart) that ends
    by printing the named variables as JSON: one process pays the imports for all.
    """
    import subprocess
    import sys

    program = []
    for number, (script, names) in enumerate(scripts):
        fields = ", ".join(f"{n!r}: np.asarray({n}).tolist()" for n in names)
        body = script + f"\nimport json as _j\nprint('RNNPROBE-JSON', _j.dumps({{{fields}}}))\n"
        program.append(f"def case_{number}():\n" + "".join(f"    {line}\n" for line in
                       body.splitlines()))  # fmt: skip
    program += [f"case_{n}()" for n in range(len(scripts))]
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(program)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = [json.loads(part.splitlines()[0]) for part in done.stdout.split("RNNPROBE-JSON ")[1:]]
    assert len(found) == len(scripts)
    return found
