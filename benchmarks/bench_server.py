"""`rnnprobe serve`: a warm `rnnprobe run hello eolll lleel --json` (served) against a cold
one; the same command while the server is busy with a long training (the client runs it
itself) against a cold one beside the same training; and how soon a killed client's
training stops. Every ratio is measured in the same run.

    python benchmarks/bench_server.py [ROUNDS]

Starts `rnnprobe serve` on a private temporary socket. Goals: served at most 0.025x the
cold run; while busy at most 1.1x the cold run (both share the machine with the server's
training); a killed client's training stopped within 1 s.
"""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import bench_env, report, rnnprobe_command

LONG = ["train", "hihello", "--epochs", "99999999999999999999", "--seed", "1"]


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode(errors="replace")[-500:])
    return elapsed


def running(env: dict[str, str]) -> dict | None:
    done = subprocess.run([*rnnprobe_command(), "serve", "--status", "--json"],
                          capture_output=True, env=env, check=True)  # fmt: skip
    found: dict | None = json.loads(done.stdout)["running"]
    return found


def busy_rounds(env: dict[str, str], warm: list[str], cold: list[str], rounds: int) -> None:
    """While a long served training runs: the command handed back against a cold one; then
    the training's client killed, and the seconds until the server is idle again."""
    long = subprocess.Popen([*rnnprobe_command(), *LONG], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        while running(env) is None:
            time.sleep(0.1)
        colds, busy = [], []
        for _ in range(rounds):
            colds.append(timed(cold, env))
            busy.append(timed(warm, env))
        report("run while the server trains vs cold beside it", colds, busy, goal=1.1,
               labels=("cold", "busy"))  # fmt: skip
    finally:
        long.send_signal(signal.SIGKILL)
        long.wait()
    killed = time.perf_counter()
    while running(env) is not None:
        time.sleep(0.02)
    print(f"a killed client's training stopped after {time.perf_counter() - killed:.2f} s "
          "(goal <= 1 s, the status polls included)")  # fmt: skip


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as directory:
        socket_path = Path(directory) / "rnnprobe.sock"
        env = {**bench_env(), "RNNPROBE_SOCKET": str(socket_path)}
        env.pop("RNNPROBE_NO_SERVER", None)
        server = subprocess.Popen(
            [*rnnprobe_command(), "serve", "--idle-timeout", "600"],
            env=env,
            stderr=subprocess.DEVNULL,
        )
        try:
            while not socket_path.exists():
                if server.poll() is not None:
                    raise SystemExit("the server did not start")
                time.sleep(0.1)
            warm = [*rnnprobe_command(), "run", "hello", "eolll", "lleel", "--json"]
            cold = [*warm, "--no-server"]
            timed(warm, env)
            colds, warms = [], []
            for _ in range(rounds):
                colds.append(timed(cold, env))
                warms.append(timed(warm, env))
            report(
                "warm (served) run vs cold run", colds, warms, goal=0.025, labels=("cold", "warm")
            )
            print(f"median served run {statistics.median(warms) * 1000:.0f} ms")
            busy_rounds(env, warm, cold, rounds)
        finally:
            server.terminate()
            server.wait(timeout=30)
