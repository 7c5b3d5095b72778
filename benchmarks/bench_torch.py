"""`rnnprobe run hello eolll lleel --torch --json` against importing TensorFlow's Keras and
PyTorch together in one process (the floor for a probe that needs both), in the same run.

    python benchmarks/bench_torch.py [ROUNDS]

Goal: median ratio at most 1.05.
"""

from __future__ import annotations

import sys

from common import alternate, report, rnnprobe_command

FLOOR_BOTH = [
    sys.executable,
    "-c",
    "import tensorflow; from tensorflow.keras import layers; import torch",
]

if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    command = [*rnnprobe_command(), "run", "hello", "eolll", "lleel", "--torch", "--json"]
    floors, times = alternate(FLOOR_BOTH, command, rounds)
    report("run --torch --json vs importing Keras and torch", floors, times, goal=1.05)
