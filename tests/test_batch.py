"""`rnnprobe batch`: JSON Lines, each exactly what `run --json` prints for the same line."""

from __future__ import annotations

import json
import shlex

import pytest

BATCH = """\
# lecture batch, then variations
hello eolll lleel --seed 1

hello --hidden 3 --seed 2 --cell lstm
   # an indented comment
hello hi --bidirectional --seed 3 --weights --check
hello --hidden 0
"안녕" '하세요' --seed 4 --shapes
"""


def test_batch_lines_equal_run_json_line_by_line(cli, tmp_path):
    source = tmp_path / "probes.txt"
    source.write_text(BATCH, encoding="utf-8")
    result = cli(*["batch", str(source)])
    assert result.exit_code == 1  # one line failed, said on stderr too
    assert result.stderr == "rnnprobe: 1 of 5 lines failed: see their JSON\n"
    printed = result.stdout.splitlines()
    assert len(printed) == 5
    probe_lines = [
        (n, line)
        for n, line in enumerate(BATCH.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for (number, line), out in zip(probe_lines, printed, strict=True):
        if number == 7:
            assert json.loads(out) == {
                "line": 7,
                "error": "--hidden '0': every layer needs at least 1 unit",
            }
            continue
        expected = cli.ok("run", *shlex.split(line), "--json").stdout
        assert out + "\n" == expected, line


def test_a_batch_without_failures_exits_0_and_reads_stdin(cli):
    result = cli("batch", "-", input="hello --seed 1\nhi --seed 2 --cell gru\n")
    assert result.exit_code == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["words"] for o in objects] == [["hello"], ["hi"]]
    assert objects[1]["cell"] == "gru"


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ("hello 'unclosed --seed 1", "bad quoting"),
        ("- --seed 1", "cannot read words from stdin"),
        ("hello --style loop", "'loop' is not one of"),
        ("hello --code", "does not combine with --json"),
        ("--seed 1", "no words given"),
    ],
)
def test_failing_lines_report_their_number_and_the_batch_goes_on(cli, line, needle):
    result = cli("batch", "-", input=f"hi --seed 1\n{line}\nho --seed 2\n")
    assert result.exit_code == 1
    first, error, last = (json.loads(x) for x in result.stdout.splitlines())
    assert first["words"] == ["hi"] and last["words"] == ["ho"]
    assert error["line"] == 2
    assert needle in error["error"]


def test_a_failed_check_line_prints_its_object_and_fails_the_batch(cli, monkeypatch):
    from rnnprobe.core.numpy import check
    from rnnprobe.core.result import CheckResult

    monkeypatch.setattr(check, "verify", lambda result, computed=None: CheckResult(0.5, False))
    result = cli("batch", "-", input="hi --seed 1 --check\n")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["check"] == {"max_abs_diff": 0.5, "ok": False}


def test_an_unreadable_batch_file_is_a_usage_error(cli, tmp_path):
    assert "cannot read" in cli.usage_error("batch", str(tmp_path / "missing.txt"))


def test_a_batch_with_no_lines_to_run_is_a_usage_error(cli, tmp_path):
    source = tmp_path / "empty.txt"
    source.write_text("# only a note\n\n", encoding="utf-8")
    said = cli.usage_error("batch", str(source))
    assert (
        said == f"rnnprobe: error: '{source}' holds no probes: give one command's arguments a line"
    )
    assert "stdin holds no probes" in cli.usage_error("batch", "-", input="")
