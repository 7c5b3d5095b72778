"""The few tests that need a real process: entry points, imports, stderr, signals, pipes."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rnnprobe import __version__

ENTRY_POINT = shutil.which("rnnprobe", path=str(Path(sys.executable).parent)) or shutil.which(
    "rnnprobe"
)
REPORT_IMPORTS = """
import sys
sys.argv = ["rnnprobe", *sys.argv[1:]]
from rnnprobe.client import main
try:
    main()
except SystemExit:
    pass
heavy = sorted(m for m in ("tensorflow", "keras") if m in sys.modules)
print("imported:", ",".join(heavy) or "none", file=sys.stderr)
"""


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["-h"],
        ["--version"],
        ["vocab", "hello", "eolll"],
        ["vocab", "hi", "--json"],
        ["run", "hi", "--code"],
    ],
)
def test_help_version_vocab_and_code_never_import_tensorflow(args):
    done = subprocess.run(
        [sys.executable, "-c", REPORT_IMPORTS, *args], capture_output=True, text=True, timeout=60
    )
    assert done.stderr.splitlines()[-1] == "imported: none", done.stderr
    assert done.stdout


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
from rnnprobe import probe
real = probe.load_keras
def paused():
    print("loading", flush=True)
    sys.stdin.read()  # blocks until the test has sent SIGINT
    return real()
probe.load_keras = paused
sys.argv = ["rnnprobe", *sys.argv[1:]]
from rnnprobe.client import main
main()
"""


def test_ctrl_c_exits_130_without_a_traceback():
    child = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTED, "run", "hello", "--no-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout.readline() == b"loading\n"
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=60)
    assert child.returncode == 130, err
    assert b"Traceback" not in err
    assert out == b""
