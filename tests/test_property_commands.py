"""Every command, any input: Hypothesis draws command lines and the files they read (numbers,
CSV tables with odd cells, damaged `.keras` files, options at their edges), and each one runs
twice, in-process and through the server's request path, and must hold:

- exit 0 with output; exit 1 (a training stopped, a check failed) saying why, on stderr or in
  the output; or exit 2 with one line on stderr and nothing on stdout; never a traceback or
  a warning;
- the served run prints the same bytes and exits the same as the direct one, the request
  built as the client builds it (its stdin forwarded only when an argument reads stdin);
- an existing `--save` target is unchanged unless the command exits 0.

CI runs a fixed number of examples from a fixed seed (reproducible, a few seconds a command);
`RNNPROBE_PROPERTY_EXAMPLES=500 python -m pytest tests/test_property_commands.py` runs more
(and `RNNPROBE_PROPERTY_SEED` another draw).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from rnnprobe.serve import client
from rnnprobe.serve.server import Server

EXAMPLES = int(os.environ.get("RNNPROBE_PROPERTY_EXAMPLES") or 12)
SEED = int(os.environ.get("RNNPROBE_PROPERTY_SEED") or 20261208)
# The environment both runs get: a fixed width, no colour, a fixed memory figure (the
# machine's free memory changes from one moment to the next, and refusals quote it).
ENV = {"COLUMNS": "80", "RNNPROBE_MEMORY_LIMIT": "8GB"}
CLEARED = {"FORCE_COLOR": None, "NO_COLOR": None, "TERM": None, "LINES": None}

PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@dataclass
class Case:
    """One command line, the files it reads (by name, in a fresh folder) and its stdin."""

    argv: list[str]
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: bytes = b""
    save: str | None = None  # a --save target that exists before the run
    tail: list[str] = field(default_factory=list)  # after `--`: words, sentences, numbers

    @property
    def line(self) -> list[str]:
        """The command line: options first, then `--` and the words (if any)."""
        return [*self.argv, *(["--", *self.tail] if self.tail else [])]


# -- what the strategies draw -----------------------------------------------------------------
LETTERS = "helowrdi 가나"
word = st.text(alphabet=LETTERS, min_size=0, max_size=6)
# Mostly words that work; now and then none, or an empty one.
words = st.one_of(
    *[st.lists(st.text(alphabet=LETTERS, min_size=2, max_size=6), min_size=1, max_size=3)] * 3,
    st.lists(word, max_size=3),
)
seeds = st.integers(min_value=0, max_value=9).map(str)
number_cells = st.one_of(
    st.integers(-50, 50).map(str),
    st.floats(-1e3, 1e3, allow_nan=False).map(lambda v: f"{v:.3g}"),
    st.sampled_from(["1e308", "-1e308", "nan", "inf", "", "x", "1_0", "١٢", '"1,5"', "NA"]),
)


@st.composite
def csv_table(draw) -> bytes:
    """A CSV table of a few columns: a header (or none), rows of mostly numbers, odd cells."""
    columns = draw(st.integers(1, 3))
    rows = draw(st.integers(0, 40) if draw(st.integers(0, 4)) == 0 else st.integers(12, 40))
    lines = []
    header = "twice" if _rare(draw, 10) else draw(st.sampled_from(["names", "none"]))
    if header != "none":
        names = ["a", "b", "c"][:columns]
        lines.append(",".join(names if header == "names" else ["a"] * columns))
    odd = draw(st.integers(1, 2)) if _rare(draw, 3) else 0
    ragged = _rare(draw, 8)
    for r in range(rows):
        cells = [str((r * 7 + c * 3) % 11) for c in range(columns)]
        if odd and r % max(1, rows // odd) == 0:
            cells[draw(st.integers(0, columns - 1))] = draw(number_cells)
        if ragged and r == rows // 2:
            cells = cells[:-1]  # a ragged row
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


@st.composite
def damaged(draw, good: bytes) -> bytes:
    """A `.keras` file rnnprobe saved, whole or damaged in one of the ways files are."""
    how = draw(st.sampled_from(["whole", "cut", "flip", "meta", "no meta", "noise"]))
    if how == "whole":
        return good
    if how == "cut":
        return good[: draw(st.integers(0, len(good) - 1))]
    if how == "flip":
        at = draw(st.integers(0, len(good) - 1))
        return good[:at] + bytes([good[at] ^ 0xFF]) + good[at + 1 :]
    if how == "noise":
        return draw(st.binary(max_size=64))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as given, zipfile.ZipFile(out, "w") as made:
        meta = json.loads(given.read("rnnprobe.json"))
        for item in given.infolist():
            if item.filename != "rnnprobe.json":
                made.writestr(item, given.read(item))
            elif how == "meta":
                scalars = st.none() | st.booleans() | st.integers(-3, 9) | st.text(max_size=5)
                value = draw(scalars | st.lists(scalars, max_size=3))
                key = draw(st.sampled_from(["format", "kind", "spec", "vocab", "epochs",
                                            "hidden", "cell", "embedded"]))  # fmt: skip
                if key in ("hidden", "cell"):
                    meta["spec"][key] = value
                else:
                    meta[key] = value
                made.writestr("rnnprobe.json", json.dumps(meta))
    return out.getvalue()


def _rare(draw, one_in: int) -> bool:
    """True about once in `one_in` draws (Hypothesis favours the ends of a range of numbers,
    so the odd case sits in the middle of a list, not at an end)."""
    choices = [False] * one_in
    choices[one_in // 2] = True
    return bool(draw(st.sampled_from(choices)))


def _flags(draw, *names: str) -> list[str]:
    return [name for name in names if _rare(draw, 4)]


def _option(draw, name: str, good: list[str], bad: list[str] = ()) -> list[str]:
    """The option left out (about half the time), a value that works, or one at the edge
    (about one time in ten): so that most command lines run, and each edge is reached."""
    if draw(st.booleans()):
        return []
    values = bad if bad and _rare(draw, 5) else good
    return [name, draw(st.sampled_from(values))] if values else []


@st.composite
def run_case(draw, good: bytes) -> Case:
    case = Case(["run", "--seed", draw(seeds)])
    source = draw(st.sampled_from(["words", "words", "stdin", "from", "from=", "load", "window"]))
    if source == "words":
        case.tail = draw(words)
    elif source == "stdin":
        case.argv.append("-")
        case.stdin = draw(st.binary(max_size=20) | word.map(str.encode))
    elif source in ("from", "from="):
        case.files["rows.csv"] = draw(csv_table())
        case.argv += ["--from", "rows.csv"] if source == "from" else ["--from=rows.csv"]
    elif source == "load":
        case.files["m.keras"] = draw(damaged(good))
        case.argv += ["--load", "m.keras"]
        case.tail = draw(words)
    else:
        case.argv += [
            "--window",
            "0" if _rare(draw, 6) else draw(st.sampled_from(["1", "3", "99"])),
        ]
        case.tail = [draw(word)]
    if source != "load":
        case.argv += _option(draw, "--hidden", ["1", "3", "2,2"], ["0", "x"])
        case.argv += _option(draw, "--cell", ["lstm", "gru"], ["tree"])
        case.argv += _option(draw, "--embed", ["2", "onehot"], ["0"])
        case.argv += _option(draw, "--head", ["2"], ["0"])
    case.argv += _option(draw, "--initial-state", ["zeros", "random"],
                         ["h=1e308,0", "h=1_0", "h=0.5,-0.5"])  # fmt: skip
    case.argv += draw(
        st.sampled_from(
            [
                [],
                ["--json"],
                ["--steps"],
                ["--diagram"],
                ["--check"],
                ["--json", "--check"],
                ["--diagram", "--json"],
            ]
        )
    )
    case.argv += _flags(draw, "--bidirectional")
    return case


@st.composite
def train_case(draw, good: bytes) -> Case:
    command = draw(st.sampled_from(["train", "grads"]))
    case = Case([command, "--seed", draw(seeds)])
    if draw(st.booleans()):
        case.files["rows.csv"] = b"text,label\n" + draw(csv_table()).split(b"\n", 1)[-1]
        case.argv += ["--from", "rows.csv", "--columns", draw(st.sampled_from(["1", "1,2", "9"]))]
    else:
        case.tail = draw(words)
    if command == "train":
        case.argv += ["--epochs", "0" if _rare(draw, 8) else draw(st.sampled_from(["1", "2"]))]
        case.argv += _option(draw, "--validation", ["0.5"], ["0", "1e-9"])
        rows = len(case.tail) if case.tail else 3
        case.argv += _option(draw, "--labels", [",".join("ab"[i % 2] for i in range(rows))],
                             ["a", "a,b,a,b,a"])  # fmt: skip
    else:
        case.argv += ["--after", "0" if _rare(draw, 8) else draw(st.sampled_from(["1", "2"]))]
    case.argv += _option(draw, "--lr", ["0.1", "0.01"], ["1e38", "0", "nan", "1_0"])
    if draw(st.booleans()):
        case.save = "kept.keras"
        case.argv += ["--save", case.save]
    if command == "train" and _rare(draw, 4):
        case.files["m.keras"] = draw(damaged(good))
        case.argv += ["--load", "m.keras"]
    case.argv += _flags(draw, "--json", "--check")
    return case


@st.composite
def series_case(draw, good: bytes) -> Case:
    case = Case(["series", "--seed", draw(seeds)])
    source = draw(st.sampled_from(["file", "stdin", "numbers"]))
    if source == "file":
        case.files["data.csv"] = draw(csv_table())
        case.argv.append("data.csv")
    elif source == "stdin":
        case.argv.append("-")
        case.stdin = draw(st.one_of(csv_table(), csv_table(), csv_table(), st.binary(max_size=16)))
    else:
        values = st.integers(-50, 50).map(str)
        case.tail = draw(st.lists(st.one_of(*[values] * 9, number_cells), max_size=30))
    case.argv += _option(draw, "--window", ["1", "2", "3"], ["0", "100000"])
    case.argv += _option(draw, "--stride", ["1", "2"], ["50"])
    case.argv += _option(draw, "--horizon", ["1", "2"])
    case.argv += _option(draw, "--split", ["0.7", "1"], ["1e-9", "0"])
    case.argv += _option(draw, "--scale", ["minmax", "standard", "none"], ["log"])
    if draw(st.booleans()):
        case.argv += ["--train", draw(st.sampled_from(["1", "2"]))]
        case.argv += _option(draw, "--lr", ["0.01"], ["1e38"])
        if draw(st.booleans()):
            case.save = "kept.keras"
            case.argv += ["--save", case.save]
    case.argv += _flags(draw, "--json", "--check")
    return case


@st.composite
def pairs_case(draw, good: bytes) -> Case:
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["i am", "you are", "a b c"]),
                st.sampled_from(["나는", "너는", "그"]),
            ),
            min_size=1,
            max_size=3,
        )
    )
    sentences = [sentence for pair in pairs for sentence in pair]
    if _rare(draw, 10):  # odd: one sentence more, or an empty one
        sentences.append(draw(st.sampled_from(["", "i am"])))
    case = Case(["seq2seq", "--seed", draw(seeds)], tail=sentences)
    if draw(st.booleans()):
        case.argv[1:1] = ["--train", draw(st.sampled_from(["1", "2"]))]
        case.argv[1:1] = _option(draw, "--lr", ["0.01"], ["1e38"])
        if draw(st.booleans()):
            case.save = "kept.keras"
            case.argv[1:1] = ["--save", case.save]
    case.argv[1:1] = _flags(draw, "--json", "--attention", "--check")
    return case


@st.composite
def other_case(draw, good: bytes) -> Case:
    command = draw(st.sampled_from(["inspect", "inspect", "compare", "batch"]))
    if command == "inspect":
        case = Case(["inspect", "m.keras"], {"m.keras": draw(damaged(good))})
        case.argv += _option(draw, "--random", ["1", "2"], ["0", "1000000000"])
        if _rare(draw, 4):
            case.argv += ["--input", "-"]
            case.stdin = draw(word).encode()
        case.argv += _flags(draw, "--json")
        return case
    if command == "compare":
        return Case(["compare", "--seed", draw(seeds)], tail=draw(words))
    lines = draw(st.lists(st.sampled_from(["hi --seed 1", "hi --hidden 0", "", "# a note",
                                           "train hi hello --epochs 1 --seed 2",
                                           "series 1 2 3 4 5 6 --window 2 --seed 1",
                                           "hi 'unclosed"]), max_size=3))  # fmt: skip
    return Case(["batch", "lines.txt"], {"lines.txt": "\n".join(lines).encode()})


# -- the properties -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good(cli, tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("property") / "good.keras"
    cli.ok("train", "hihello", "hello", "--epochs", "1", "--seed", "1", "--save", str(path))
    return path.read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    """The server's request path, in this process: what a client's request runs through."""
    return Server(str(tmp_path_factory.mktemp("socket") / "rnnprobe.sock"), 60)


def _holds(cli, server: Server, good: bytes, case: Case) -> None:
    with tempfile.TemporaryDirectory() as folder:
        here = Path(folder)
        for name, data in case.files.items():
            (here / name).write_bytes(data)
        if case.save:
            (here / case.save).write_bytes(good)
        was = os.getcwd()
        os.chdir(here)
        try:
            direct = cli(*case.line, input=case.stdin, env={**ENV, **CLEARED})
            _well_behaved(case, direct.exit_code, direct.stdout_bytes, direct.stderr_bytes)
            _kept(here, case, good, direct.exit_code)
            if case.argv[0] == "vocab":
                return
            if case.save:
                (here / case.save).write_bytes(good)
            request = {"argv": case.line, "cwd": str(here), "env": ENV, "stdout_tty": False,
                       "stderr_tty": False, "umask": client.umask()}  # fmt: skip
            forwarded = case.stdin if client.reads_stdin(case.line) else b""
            code, out, err = server.execute(request, forwarded)
            _kept(here, case, good, code)
        finally:
            os.chdir(was)
    served, local = (code, out, err), (direct.exit_code, direct.stdout_bytes, direct.stderr_bytes)
    assert served == local, f"served differs from direct for {case.line}"


def _well_behaved(case: Case, code: int, out: bytes, err: bytes) -> None:
    said = err.decode("utf-8", "replace")
    assert "Traceback" not in said and "Warning:" not in said, (case.argv, said)
    if code == 0:
        assert out, case.argv
    elif code == 2:
        assert out == b"", (case.argv, out[:200])
        assert len(said.splitlines()) == 1 and said.startswith("rnnprobe"), (case.argv, said)
    else:
        assert code == 1, (case.argv, code, said)
        assert said.strip() or out, case.argv  # why: on stderr, or in the output (a check)


def _kept(here: Path, case: Case, good: bytes, code: int) -> None:
    if case.save and code != 0:
        assert (here / case.save).read_bytes() == good, f"{case.argv} replaced its --save target"


@pytest.mark.parametrize(
    "cases",
    [run_case, train_case, series_case, pairs_case, other_case],
    ids=["run", "train-grads", "series", "seq2seq", "inspect-compare-batch"],
)
def test_any_command_line_is_handled_the_same_served_and_direct(cli, server, good, cases):
    @PROPERTY
    @seed(SEED)
    @given(data=st.data())
    def holds(data):
        _holds(cli, server, good, data.draw(cases(good)))

    holds()
