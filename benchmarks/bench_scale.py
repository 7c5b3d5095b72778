"""10,000 words of 1 to 16 letters from stdin, `--hidden 32 --json`, against the import floor.

    python benchmarks/bench_scale.py [ROUNDS]

Goal: median ratio at most 1.3. Also prints the peak RSS of one such run and the size of
its JSON.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

from common import FLOOR, alternate, report, rnnprobe_command
from words import random_words


def peak_rss(command: list[str], stdin: bytes) -> tuple[int, int]:
    """(peak resident set size in bytes, stdout bytes) of one run of `command`."""
    env = {**os.environ, "RNNPROBE_NO_SERVER": "1"}
    with tempfile.TemporaryFile() as words:
        words.write(stdin)
        words.seek(0)
        child = subprocess.Popen(
            command, stdin=words, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert child.stdout is not None
        size = len(child.stdout.read())
        _, _, usage = os.wait4(child.pid, 0)
        child.returncode = 0  # reaped here, by wait4
    return usage.ru_maxrss * 1024, size


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    words = random_words(10_000).encode()
    command = [*rnnprobe_command(), "run", "-", "--hidden", "32", "--json"]
    floors, times = alternate(FLOOR, command, rounds, stdin=words)
    report("10,000 words --hidden 32 --json vs import floor", floors, times, goal=1.3)
    rss, size = peak_rss(command, words)
    floor_rss, _ = peak_rss(FLOOR, b"")
    print(
        f"peak RSS {rss / 1e6:.0f} MB (the import floor alone: {floor_rss / 1e6:.0f} MB), "
        f"JSON {size / 1e6:.1f} MB"
    )
