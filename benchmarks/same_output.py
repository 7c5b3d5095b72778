"""Every command's output on a fixed set of invocations, saved, or compared byte for byte
with a saved set: the proof that a change which should change nothing (a move of modules,
a refactoring) changed nothing a user sees.

    python benchmarks/same_output.py --save DIR      # at the commit before the change
    python benchmarks/same_output.py --compare DIR   # after it: exit 1 on any difference

Each invocation runs in this one process through Typer's runner, in the same order both
times; stdout is compared (JSON, tables without colour, scripts) and the exit code.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

LECTURE = ["hello", "eolll", "lleel"]
SENTENCES = ["i feel hungry", "tensorflow is very hungry", "i am a dog"]
PAIRS = ["I feel hungry", "나는 배가 고프다", "Pytorch is very easy", "파이토치는 매우 쉽다"]

# (name, arguments, stdin): each command with the options that change its JSON.
INVOCATIONS: list[tuple[str, list[str], str | None]] = [
    ("vocab", ["vocab", *LECTURE, "--json"], None),
    ("run", ["run", *LECTURE, "--seed", "0", "--json"], None),
    ("run-table", ["run", *LECTURE, "--seed", "0"], None),
    (
        "run-cell-lstm-check",
        [
            "run",
            "hello",
            "hi",
            "--style",
            "cell",
            "--cell",
            "lstm",
            "--seed",
            "1",
            "--check",
            "--json",
        ],
        None,
    ),
    (
        "run-gru-stack-bi",
        [
            "run",
            *LECTURE,
            "--cell",
            "gru",
            "-H",
            "3,2",
            "--bidirectional",
            "--merge-mode",
            "sum",
            "--seed",
            "2",
            "--json",
        ],
        None,
    ),
    (
        "run-steps",
        ["run", "hello", "hi", "--cell", "lstm", "--steps", "--seed", "3", "--json"],
        None,
    ),
    ("run-shapes", ["run", *LECTURE, "--shapes", "--json", "--seed", "4"], None),
    (
        "run-embed-head",
        [
            "run",
            *SENTENCES,
            "--tokens",
            "word",
            "--embed",
            "4",
            "--head",
            "2",
            "--seed",
            "5",
            "--check",
            "--json",
        ],
        None,
    ),
    (
        "run-each-step",
        [
            "run",
            *LECTURE,
            "--embed",
            "onehot",
            "--head",
            "3",
            "--each-step",
            "--seed",
            "6",
            "--json",
        ],
        None,
    ),
    (
        "run-no-seq",
        ["run", *LECTURE, "--no-return-sequences", "--no-return-state", "--seed", "7", "--json"],
        None,
    ),
    ("run-torch", ["run", *LECTURE, "--cell", "gru", "--torch", "--seed", "8", "--json"], None),
    ("run-code", ["run", *LECTURE, "--embed", "3", "--head", "2", "--seed", "9", "--code"], None),
    ("run-diagram", ["run", "hello", "hi", "--diagram", "--word", "2", "--seed", "10"], None),
    ("run-stdin", ["run", "-", "--seed", "11", "--json"], "hello eolll\nlleel\n"),
    ("compare", ["compare", *LECTURE, "--cell", "lstm", "--seed", "12", "--json"], None),
    ("seq2seq", ["seq2seq", *PAIRS, "--seed", "13", "--check", "--json"], None),
    (
        "seq2seq-attention",
        ["seq2seq", *PAIRS, "--attention", "--cell", "lstm", "--seed", "14", "--json"],
        None,
    ),
    ("seq2seq-code", ["seq2seq", *PAIRS, "--attention", "--seed", "15", "--code"], None),
    (
        "seq2seq-train",
        [
            "seq2seq",
            *PAIRS,
            "--train",
            "30",
            "--hidden",
            "8",
            "--embed",
            "8",
            "--lr",
            "0.01",
            "--seed",
            "16",
            "--check",
            "--translate",
            "I feel easy",
            "--json",
        ],
        None,
    ),
    (
        "seq2seq-train-attention",
        [
            "seq2seq",
            *PAIRS,
            "--train",
            "5",
            "--attention",
            "--batch-size",
            "1",
            "--seed",
            "17",
            "--json",
        ],
        None,
    ),
    ("train", ["train", "hihello", "--epochs", "20", "--seed", "18", "--check", "--json"], None),
    (
        "train-labels",
        [
            "train",
            "good",
            "bad",
            "worse",
            "so good",
            "--labels",
            "1,0,0,1",
            "--embed",
            "onehot",
            "--hidden",
            "10",
            "--epochs",
            "30",
            "--lr",
            "0.01",
            "--batch-size",
            "2",
            "--seed",
            "19",
            "--json",
        ],
        None,
    ),
    (
        "train-tagged",
        [
            "train",
            "i/pronoun feel/verb hungry/adjective",
            "--tokens",
            "word",
            "--tagged",
            "--embed",
            "4",
            "--cell",
            "gru",
            "--epochs",
            "12",
            "--seed",
            "20",
            "--json",
        ],
        None,
    ),
    (
        "train-torch",
        [
            "train",
            "hihello",
            "--cell",
            "lstm",
            "--epochs",
            "5",
            "--torch",
            "--seed",
            "21",
            "--json",
        ],
        None,
    ),
    ("train-table", ["train", "hihello", "--epochs", "20", "--seed", "22"], None),
    ("train-code", ["train", "hihello", "--epochs", "20", "--seed", "23", "--code"], None),
    ("grads", ["grads", *LECTURE, "--seed", "24", "--check", "--json"], None),
    (
        "grads-after",
        [
            "grads",
            "hihello",
            "--after",
            "15",
            "--cell",
            "gru",
            "--seed",
            "25",
            "--global-clipnorm",
            "0.5",
            "--json",
        ],
        None,
    ),
    (
        "grads-cells",
        ["grads", "hihello", "--cells", "simple,lstm,gru", "--seed", "26", "--json"],
        None,
    ),
    (
        "grads-torch",
        ["grads", *LECTURE, "--bidirectional", "--torch", "--seed", "27", "--json"],
        None,
    ),
    (
        "batch",
        ["batch", "-"],
        "hello eolll lleel --seed 28\nhello --cell lstm --seed 29 --check\nhello --hidden 0\n",
    ),
]


def outputs() -> dict[str, bytes]:
    """Each invocation's exit code and stdout, by name."""
    from typer.testing import CliRunner

    from rnnprobe.cli import app

    runner = CliRunner()
    found = {}
    for name, args, stdin in INVOCATIONS:
        result = runner.invoke(app, args, input=stdin, catch_exceptions=False,
                               env={"NO_COLOR": "1", "COLUMNS": "100"})  # fmt: skip
        found[name] = f"exit {result.exit_code}\n".encode() + result.stdout_bytes
        print(f"{name}: exit {result.exit_code}, {len(result.stdout_bytes):,} bytes, "
              f"{hashlib.sha256(found[name]).hexdigest()[:12]}", file=sys.stderr)  # fmt: skip
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", type=Path, metavar="DIR")
    group.add_argument("--compare", type=Path, metavar="DIR")
    given = parser.parse_args()
    found = outputs()
    if given.save is not None:
        given.save.mkdir(parents=True, exist_ok=True)
        for name, data in found.items():
            (given.save / f"{name}.out").write_bytes(data)
        print(f"saved {len(found)} outputs in {given.save}")
        return 0
    differ = []
    for name, data in found.items():
        saved = given.compare / f"{name}.out"
        if not saved.exists() or saved.read_bytes() != data:
            differ.append(name)
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(found) - len(differ)} of {len(found)} outputs byte-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
