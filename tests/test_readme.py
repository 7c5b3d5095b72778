"""README.md's console examples are real: each `$ rnnprobe ...` is run and compared.

The rnnprobe part runs in-process; a pipe's other end (jq, cut, tail) runs in a shell on
its output, a `$ cat FILE` example provides FILE, and `$ python FILE.py` of such a file runs
in the session's script interpreter. Every example runs in one folder, in the README's
order: a file one example saves is there for a later one. Only the structure is compared:
four-decimal values, tiny differences (6.02e-08), and the padding and rules whose width
follows them, are normalised.

A file an example downloads (`$ curl -sO URL`, a lab's data, which this repository does not
ship) is taken from the folder $RNNPROBE_LAB_DATA when it is there; without it, the examples
that read that file are skipped, saying so.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from .conftest import run_script

README = Path(__file__).resolve().parent.parent / "README.md"
DATA = Path(__file__).resolve().parent / "data"  # shipped samples, there for every example


def _examples() -> list[tuple[str, str]]:
    """(command, output) of every `$ ` line, in the README's order."""
    examples = []
    for block in re.findall(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S):
        for chunk in re.split(r"^\$ ", block, flags=re.M)[1:]:
            command, _, output = chunk.partition("\n")
            examples.append((command, output))
    return examples


FILES = {cmd.split()[1]: out for cmd, out in _examples() if cmd.startswith("cat ")}
DOWNLOADS = {cmd.split()[-1].rsplit("/", 1)[1] for cmd, _ in _examples() if cmd.startswith("curl ")}
# rnnprobe's examples, and `python FILE.py` where a `$ cat FILE.py` example gives FILE.py.
RUNS = [
    (cmd, out)
    for cmd, out in _examples()
    if cmd.startswith("rnnprobe ") or (cmd.startswith("python ") and cmd.split()[1] in FILES)
]
_FOLDER: list[Path] = []


def _folder(factory: pytest.TempPathFactory) -> Path:
    """One folder for every example, run there in the README's order, so that a file one
    writes (`--save`) is there for a later one (`--load`)."""
    if not _FOLDER:
        _FOLDER.append(factory.mktemp("readme"))
        for name, text in FILES.items():
            (_FOLDER[0] / name).write_text(text, encoding="utf-8")
        for shipped in DATA.glob("*.csv"):  # the samples the repository ships
            shutil.copy(shipped, _FOLDER[0] / shipped.name)
    return _FOLDER[0]


def _stages(command: str) -> list[str]:
    """The stages of a shell pipeline: split at each `|` outside quotes."""
    stages, current, quote = [], "", ""
    for char in command:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "|":
            stages.append(current.strip())
            current = ""
            continue
        current += char
    return [*stages, current.strip()]


def _normalise(text: str) -> str:
    text = re.sub(r"-?\d+\.\d{4}\b", "N", text)
    text = re.sub(r"\d+(\.\d+)?e-\d+", "E", text)  # a tiny difference, e.g. 6.02e-08
    text = re.sub(r"━+", "━", text)
    text = re.sub(r"│[▁▂▃▄▅▆▇█][ ▁▂▃▄▅▆▇█]*$", "│B", text, flags=re.M)  # a loss curve's bars
    return "\n".join(re.sub(r" +", " ", line).strip() for line in text.splitlines()).strip()


def test_the_readme_has_examples():
    assert len(RUNS) >= 10
    assert any("|" in cmd for cmd, _ in RUNS)


@pytest.mark.parametrize(("command", "output"), RUNS, ids=lambda v: v[:50])
def test_readme_example_is_real(cli, tmp_path_factory, monkeypatch, command, output):
    own, *rest = _stages(command)
    pipeline = " | ".join(rest)
    for stage in rest:
        if shutil.which(stage.split()[0]) is None:
            pytest.skip(f"{stage.split()[0]} is not installed")
    tmp_path = _folder(tmp_path_factory)
    if own.startswith("python "):  # a printed script, run as `python FILE.py` runs it
        given = FILES[own.split()[1]]
        script = (
            f"import os\n_was = os.getcwd()\nos.chdir({str(tmp_path)!r})\n{given}\nos.chdir(_was)\n"
        )
        assert _normalise(run_script(script)) == _normalise(output)
        return
    for name in (name for name in DOWNLOADS if name in command):
        folder = os.environ.get("RNNPROBE_LAB_DATA")
        if not folder or not (Path(folder) / name).is_file():
            pytest.skip(f"{name} is a lab's data, not shipped: set RNNPROBE_LAB_DATA to its folder")
        shutil.copy(Path(folder) / name, tmp_path / name)
    monkeypatch.chdir(tmp_path)
    args = shlex.split(own)
    assert args[0] == "rnnprobe"
    result = cli(*args[1:], env={"COLUMNS": "80", "FORCE_COLOR": None})
    printed = result.stdout + result.stderr
    if pipeline:
        printed = subprocess.run(
            ["bash", "-c", pipeline], input=result.stdout, capture_output=True, text=True
        ).stdout
    assert _normalise(printed) == _normalise(output)
