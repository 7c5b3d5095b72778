"""README.md's console examples are real: each `$ rnnprobe ...` is run and compared.

Only the structure is compared: four-decimal values, and the padding and rules whose
width follows them, are normalised. Examples with a pipe, or of other commands, are not
run here.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _examples() -> list[tuple[str, str]]:
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            if command.startswith("rnnprobe ") and "|" not in command:
                examples.append((command, output))
    return examples


def _normalise(text: str) -> str:
    text = re.sub(r"-?\d+\.\d{4}\b", "N", text)
    text = re.sub(r"━+", "━", text)
    return "\n".join(re.sub(r" +", " ", line).strip() for line in text.splitlines()).strip()


def test_the_readme_has_examples():
    assert len(_examples()) >= 4


@pytest.mark.parametrize(("command", "output"), _examples(), ids=lambda v: v[:40])
def test_readme_example_is_real(cli, command, output):
    args = shlex.split(command)
    assert args[0] == "rnnprobe"
    result = cli(*args[1:], env={"COLUMNS": "80", "FORCE_COLOR": None})
    assert _normalise(result.stdout + result.stderr) == _normalise(output)
