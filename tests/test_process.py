"""The few tests that need a real process: entry points, imports, stderr, signals, pipes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rnnprobe import __version__

from .conftest import interruptible

ENTRY_POINT = shutil.which("rnnprobe", path=str(Path(sys.executable).parent)) or shutil.which(
    "rnnprobe"
)
REPORT_IMPORTS = """
import sys
sys.argv = ["rnnprobe", *sys.argv[1:]]
from rnnprobe.entry import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in ("tensorflow", "keras", "numpy", "pydantic", "torch") if m in sys.modules)
print("imported:", ",".join(heavy) or "none", file=sys.stderr)
"""


def imported(*args: str, env: dict[str, str] | None = None) -> tuple[str, str]:
    """What one run of the entry point printed on stdout, and the heavy modules it imported."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORTS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return done.stdout, done.stderr.splitlines()[-1].removeprefix("imported: ")


@pytest.mark.parametrize(
    ("args", "heavy"),
    [
        (["--help"], "none"),
        (["-h"], "none"),
        (["--version"], "none"),
        (["run", "--help"], "none"),
        (["vocab", "hello", "eolll"], "numpy"),
        (["vocab", "hi", "--json"], "numpy"),
        (["run", "hi", "--code"], "numpy"),
    ],
)
def test_help_version_vocab_and_code_import_only_what_they_need(args, heavy):
    out, found = imported(*args)
    assert found == heavy
    assert out


COMPLETIONS = [
    ({"_RNNPROBE_COMPLETE": "complete_bash", "COMP_WORDS": "rnnprobe run hi --cell ",
      "COMP_CWORD": "4"}, ["simple", "lstm", "gru"]),
    ({"_RNNPROBE_COMPLETE": "complete_bash", "COMP_WORDS": "rnnprobe run hi --merge-mode ",
      "COMP_CWORD": "4"}, ["concat", "sum", "mul", "ave"]),
    ({"_RNNPROBE_COMPLETE": "complete_zsh",
      "_TYPER_COMPLETE_ARGS": "rnnprobe run hi --style "}, ['"layer"', '"cell"']),
    ({"_RNNPROBE_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
      "_TYPER_COMPLETE_ARGS": "rnnprobe compare hi --cell "}, ["simple", "lstm", "gru"]),
    ({"_RNNPROBE_COMPLETE": "complete_bash", "COMP_WORDS": "rnnprobe run hi --st",
      "COMP_CWORD": "3"}, ["--style", "--steps"]),
    ({"_RNNPROBE_COMPLETE": "complete_bash", "COMP_WORDS": "rnnprobe co",
      "COMP_CWORD": "1"}, ["compare"]),
]  # fmt: skip


@pytest.mark.parametrize(("env", "wanted"), COMPLETIONS, ids=lambda v: str(v)[:40])
def test_tab_completes_commands_options_and_their_values_without_heavy_imports(env, wanted):
    out, found = imported(env=env)
    for value in wanted:
        assert value in out
    assert found == "none"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_the_completion_script_for_each_shell(shell):
    # Typer detects the user's shell; its test switch lets the shell be named instead.
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "rnnprobe", "--show-completion", shell],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "_RNNPROBE_COMPLETE" in done.stdout
    assert f"complete_{shell}" in done.stdout


def test_the_version_has_one_source():
    from importlib.metadata import version

    assert version("rnnprobe") == __version__


def test_python_dash_m_prints_the_version():
    done = subprocess.run(
        [sys.executable, "-m", "rnnprobe", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout == f"rnnprobe {__version__}\n"


@pytest.mark.skipif(ENTRY_POINT is None, reason="the rnnprobe entry point is not installed")
def test_installed_entry_point_runs_quietly():
    done = subprocess.run(
        [ENTRY_POINT, "run", "hello", "eolll", "lleel", "--json", "--seed", "1"],
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0
    assert done.stderr == b""  # not one line of TensorFlow's start-up logging
    assert json.loads(done.stdout)["outputs"]["shape"] == [3, 5, 2]


@pytest.mark.parametrize("fmt", [["--json"], []])
def test_a_pipe_closed_early_ends_quietly(fmt):
    child = subprocess.Popen(
        [sys.executable, "-m", "rnnprobe", "vocab", "-", *fmt],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    child.stdout.close()  # the reader goes away before anything is written
    _, err = child.communicate(b"hello eolll lleel " * 200, timeout=60)
    assert err == b""
    assert child.returncode == 1  # the write hit the closed pipe and was silenced


# The real entry point, with a pause at the moment TensorFlow would start to load: the
# test interrupts the process exactly there, whatever the speed of the machine.
INTERRUPTED = """
import sys
from rnnprobe.core.keras import env
real = env.load_keras
def paused():
    print("loading", flush=True)
    sys.stdin.read()  # blocks until the test has sent SIGINT
    return real()
env.load_keras = paused
sys.argv = ["rnnprobe", *sys.argv[1:]]
from rnnprobe.entry import main
main()
"""


def test_ctrl_c_exits_130_without_a_traceback():
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, "run", "hello", "--no-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=interruptible,
    )
    assert child.stdout.readline() == b"loading\n"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert b"Traceback" not in err
    assert out == b""


def test_ctrl_c_before_the_save_keeps_the_old_file_and_says_so(tmp_path):
    target = tmp_path / "kept.keras"
    target.write_bytes(b"a network saved before")
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, "train", "hello", "--no-server", "--save",
         str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=interruptible,
    )  # fmt: skip
    assert child.stdout.readline() == b"loading\n"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert out == b""
    assert err.decode().endswith(f"rnnprobe: interrupted: --save wrote nothing ('{target}' is "
                                 "left as it was)\n")  # fmt: skip
    assert target.read_bytes() == b"a network saved before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.keras"]
