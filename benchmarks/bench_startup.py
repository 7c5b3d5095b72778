"""Start-up: `rnnprobe vocab hello eolll lleel`, `rnnprobe --help`, `rnnprobe run --help` and
a TAB completion against `python -c "import typer, rich, numpy"`, in the same run; and the
imports of the served client path (`python -X importtime`).

    python benchmarks/bench_startup.py [ROUNDS]

Goals: each median ratio at most 1.5; the client path's own imports under 20 ms.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

from common import alternate, bench_env, report, rnnprobe_command

FLOOR = [sys.executable, "-c", "import typer, rich, numpy"]
# What a served `rnnprobe run` imports before it sends its request.
CLIENT_PATH = "import rnnprobe.entry, rnnprobe.serve.client"


def client_import_ms() -> float:
    """Import time of the client path (every module it pulls in), from -X importtime."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", CLIENT_PATH],
        capture_output=True,
        text=True,
        check=True,
        env=bench_env(),
    )
    total = 0
    for line in done.stderr.splitlines():
        found = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if found and found.group(2).startswith("rnnprobe"):  # top level: its whole subtree
            total += int(found.group(1))
    return total / 1000


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    entry = rnnprobe_command()
    cases = {
        "vocab hello eolll lleel": [*entry, "vocab", "hello", "eolll", "lleel"],
        "--help": [*entry, "--help"],
        "run --help": [*entry, "run", "--help"],
    }
    for name, command in cases.items():
        floors, times = alternate(FLOOR, command, rounds)
        report(f"{name} vs import typer, rich, numpy", floors, times, goal=1.5)
    os.environ["_RNNPROBE_COMPLETE"] = "complete_bash"
    os.environ["COMP_WORDS"] = "rnnprobe run hello --cell "
    os.environ["COMP_CWORD"] = "4"
    floors, times = alternate(FLOOR, entry, rounds)
    report("TAB completion of run --cell vs import typer, rich, numpy", floors, times, goal=1.5)
    imports = min(client_import_ms() for _ in range(5))  # the first run writes bytecode
    print(f"client path imports (entry and serve.client): {imports:.1f} ms (goal < 20)")
