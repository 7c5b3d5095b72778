"""10,000 words of 1 to 16 letters, `--hidden 32 --steps --json`, against the same run
without `--steps`, in the same run.

    python benchmarks/bench_steps.py [ROUNDS]

Goal: median ratio at most 2. Also prints the size of both JSON outputs.
"""

from __future__ import annotations

import subprocess
import sys

from common import alternate, bench_env, report, rnnprobe_command
from words import random_words


def json_size(command: list[str], stdin: bytes) -> int:
    env = bench_env()
    done = subprocess.run(command, input=stdin, capture_output=True, env=env, check=True)
    return len(done.stdout)


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    words = random_words(10_000).encode()
    plain = [*rnnprobe_command(), "run", "-", "--hidden", "32", "--json", "--seed", "1"]
    steps = [*plain, "--steps"]
    floors, times = alternate(plain, steps, rounds, stdin=words, floor_stdin=words)
    report(
        "10,000 words --hidden 32 --steps --json vs without --steps",
        floors,
        times,
        goal=2.0,
        labels=("without", "with --steps"),
    )
    print(
        f"JSON {json_size(plain, words) / 1e6:.1f} MB without --steps, "
        f"{json_size(steps, words) / 1e6:.1f} MB with"
    )
