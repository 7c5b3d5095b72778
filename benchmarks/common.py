"""Shared timing helpers: commands run alternately, each against a floor in the same run."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

FLOOR = [sys.executable, "-c", "import tensorflow; from tensorflow.keras import layers"]


def rnnprobe_command() -> list[str]:
    """The installed entry point next to this Python, else `python -m rnnprobe`."""
    found = shutil.which("rnnprobe", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "rnnprobe"]


def bench_env() -> dict[str, str]:
    """The environment of every timed run: in-process work, and bytecode caches kept.

    PYTHONDONTWRITEBYTECODE would make every run compile rnnprobe's sources again, which
    an installed rnnprobe never does; the warm-up round writes the caches.
    """
    env = {**os.environ, "RNNPROBE_NO_SERVER": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(command: Sequence[str], stdin: bytes | None = None) -> float:
    """Wall-clock seconds of one run; stdout is drained and dropped, stderr must be quiet."""
    env = bench_env()
    start = time.perf_counter()
    done = subprocess.run(command, input=stdin, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:4]} failed: {done.stderr.decode(errors='replace')[-500:]}")
    return elapsed


def alternate(
    floor: Sequence[str],
    measured: Sequence[str],
    rounds: int,
    stdin: bytes | None = None,
    floor_stdin: bytes | None = None,
) -> tuple[list[float], list[float]]:
    """Run floor and measured in turns (one warm-up round first), returning both timings."""
    timed(floor, floor_stdin)
    timed(measured, stdin)
    floors, times = [], []
    for _ in range(rounds):
        floors.append(timed(floor, floor_stdin))
        times.append(timed(measured, stdin))
    return floors, times


def report(
    name: str,
    floors: list[float],
    times: list[float],
    goal: float,
    labels: tuple[str, str] = ("floor", "run"),
) -> float:
    ratios = [t / f for f, t in zip(floors, times, strict=True)]
    ratio = statistics.median(ratios)
    print(
        f"{name}: median {labels[0]} {statistics.median(floors):.3f} s, "
        f"median {labels[1]} {statistics.median(times):.3f} s, "
        f"median ratio {ratio:.3f} (goal <= {goal}) over {len(ratios)} rounds"
    )
    return ratio


def peak_rss(command: Sequence[str], stdin: bytes = b"") -> tuple[int, int]:
    """(peak resident set size in bytes, stdout bytes) of one run of `command`."""
    import tempfile

    with tempfile.TemporaryFile() as source:
        source.write(stdin)
        source.seek(0)
        child = subprocess.Popen(
            command,
            stdin=source,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=bench_env(),
        )
        assert child.stdout is not None
        size = len(child.stdout.read())
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0  # reaped here, by wait4
    return usage.ru_maxrss * 1024, size


def warm_against_cold(args: Sequence[str], rounds: int, name: str, goal: float) -> float:
    """The command `rnnprobe ARGS` answered by a warm server against the same run cold
    (`--no-server`), in turns, after one warm-up request."""
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        socket_path = Path(directory) / "rnnprobe.sock"
        env = {**bench_env(), "RNNPROBE_SOCKET": str(socket_path)}
        env.pop("RNNPROBE_NO_SERVER", None)
        server = subprocess.Popen(
            [*rnnprobe_command(), "serve", "--idle-timeout", "600"], env=env,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            while not socket_path.exists():
                if server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            warm = [*rnnprobe_command(), *args]
            cold = [*warm, "--no-server"]

            def one(command: list[str]) -> float:
                start = time.perf_counter()
                done = subprocess.run(command, capture_output=True, env=env, check=False)
                if done.returncode != 0:
                    raise SystemExit(done.stderr.decode(errors="replace")[-800:])
                return time.perf_counter() - start

            one(warm)
            colds, warms = [], []
            for _ in range(rounds):
                colds.append(one(cold))
                warms.append(one(warm))
            return report(name, colds, warms, goal=goal, labels=("cold", "warm"))
        finally:
            server.terminate()
            server.wait(timeout=30)
