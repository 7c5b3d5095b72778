"""Under each word: which slice of `outputs` a state is, found by comparing the arrays."""

from __future__ import annotations

import re

import numpy as np
import pytest

WIDTH = {"COLUMNS": "120"}
NOTE = re.compile(r"^(\S+) = \[[^\]]*\]   (.*)$")


def notes(cli, *args: str) -> list[tuple[str, str]]:
    """(state name, note) for every state line of the tables, word after word."""
    out = cli.ok("run", *args, "--seed", "3", env=WIDTH).stdout
    found = []
    for line in out.splitlines():
        if re.match(r"^\S+ = \[", line) and not line.startswith("outputs = "):
            matched = NOTE.match(line)
            found.append((line.split(" = ")[0], matched.group(2) if matched else ""))
    return found


def _index_part(text: str) -> int | slice:
    """`4` -> 4, `:2` -> slice(None, 2), `2:` -> slice(2, None): Python's index syntax."""
    text = text.strip()
    if ":" not in text:
        return int(text)
    start, stop = text.split(":")
    return slice(int(start) if start else None, int(stop) if stop else None)


def check_slices(cli, args, found) -> None:
    """Every `same as outputs[...]` claim holds for the arrays `run --json` gives."""
    obj = cli.json("run", *args, "--seed", "3")
    outputs = np.asarray(obj["outputs"]["values"])
    states = {s["name"]: np.asarray(s["values"]) for s in obj["states"]}
    per_word = len(obj["states"])
    for position, (name, note) in enumerate(found):
        claim = re.fullmatch(r"same as outputs\[(.*)\]", note)
        if claim:
            word = position // per_word
            index = tuple(_index_part(part) for part in claim.group(1).split(","))
            assert index[0] == word
            np.testing.assert_array_equal(outputs[index], states[name][word])


@pytest.mark.parametrize(
    ("args", "wanted"),
    [
        (["hello", "eolll"], [("h", "same as outputs[0, 4]"), ("h", "same as outputs[1, 4]")]),
        (["hello", "hi"], [("h", "same as outputs[0, 4]"), ("h", "same as outputs[1, 1]")]),
        (
            ["hello", "hi", "--bidirectional"],
            [
                ("forward_h", "same as outputs[0, 4, :2]"),
                ("backward_h", "same as outputs[0, 0, 2:]"),
                ("forward_h", "same as outputs[1, 1, :2]"),
                ("backward_h", "same as outputs[1, 0, 2:]"),
            ],
        ),
        (
            ["hello", "hi", "--no-return-sequences"],
            [("h", "same as outputs[0]"), ("h", "same as outputs[1]")],
        ),
        (
            ["hi", "--no-return-sequences", "--bidirectional", "-H", "3"],
            [("forward_h", "same as outputs[0, :3]"), ("backward_h", "same as outputs[0, 3:]")],
        ),
        (
            ["hello", "--cell", "lstm"],
            [("h", "same as outputs[0, 4]"), ("c", "the cell state, not returned in outputs")],
        ),
        (
            ["hello", "-H", "3,2", "--cell", "gru"],
            [
                ("1/h", "layer 1's state; outputs are layer 2's"),
                ("2/h", "same as outputs[0, 4]"),
            ],
        ),
    ],
    ids=lambda v: " ".join(v) if v and isinstance(v[0], str) else None,
)
def test_each_state_says_where_it_sits_in_outputs(cli, args, wanted):
    found = notes(cli, *args)
    assert found == wanted
    check_slices(cli, args, found)


@pytest.mark.parametrize("mode", ["sum", "mul", "ave"])
def test_merged_directions_are_in_no_slice_and_nothing_is_claimed(cli, mode):
    found = notes(cli, "hello", "hi", "--bidirectional", "--merge-mode", mode)
    assert [name for name, _ in found] == ["forward_h", "backward_h"] * 2
    assert all(note == "" for _, note in found)


def test_the_claims_are_computed_not_assumed(cli, monkeypatch):
    """A state that differs from its slice (a changed array) gets no claim."""
    from dataclasses import replace

    from rnnprobe.core.keras import probe
    from rnnprobe.core.result import Tensor

    real = probe.run_probe

    def moved(*args, **kwargs):
        result = real(*args, **kwargs)
        state = result.states[0]
        return replace(result, states=(Tensor(state.name, state.dims, state.array + 1.0),))

    monkeypatch.setattr(probe, "run_probe", moved)
    assert notes(cli, "hello") == [("h", "")]


def test_the_notes_are_not_in_json(cli):
    text = cli.ok("run", "hello", "--seed", "1", "--json").stdout
    assert "same as" not in text and "in_outputs" not in text
