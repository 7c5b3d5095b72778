"""`rnnprobe run hello eolll lleel --json` against importing TensorFlow's Keras, same run.

    python benchmarks/bench_run.py [ROUNDS]

Goals: median ratio at most 1.05; peak RSS at most the import floor's + 50 MiB.
"""

from __future__ import annotations

import sys

from common import FLOOR, alternate, peak_rss, report, rnnprobe_command

MIB = 1 << 20

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    command = [*rnnprobe_command(), "run", "hello", "eolll", "lleel", "--json"]
    floors, times = alternate(FLOOR, command, rounds)
    report("run --json vs import floor", floors, times, goal=1.05)
    table = [*rnnprobe_command(), "run", "hello", "eolll", "lleel"]
    floor_rss = min(peak_rss(FLOOR)[0] for _ in range(3))
    for name, measured in (("run --json", command), ("run (tables)", table)):
        rss = min(peak_rss(measured)[0] for _ in range(3))
        print(
            f"peak RSS of {name}: {rss / MIB:.0f} MiB, "
            f"the import floor's {floor_rss / MIB:.0f} MiB "
            f"(+{(rss - floor_rss) / MIB:.0f} MiB; goal <= +50 MiB)"
        )
