"""A warm `rnnprobe run hello eolll lleel --json` (served) against a cold one, same run.

    python benchmarks/bench_server.py [ROUNDS]

Starts `rnnprobe serve` on a private temporary socket, then alternates a served client
with a `--no-server` run. Goal: median ratio at most 0.025.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import bench_env, report, rnnprobe_command


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(done.stderr.decode(errors="replace")[-500:])
    return elapsed


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
        finally:
            server.terminate()
            server.wait(timeout=30)
