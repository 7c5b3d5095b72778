"""Random Unicode words and option values: exit 0 with consistent shapes, or exit 2."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

word = st.text(min_size=0, max_size=6)
hidden = st.one_of(
    st.integers(min_value=-2, max_value=6).map(str),
    st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=3).map(
        lambda sizes: ",".join(map(str, sizes))
    ),
    st.text(max_size=4),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    words=st.lists(word, min_size=0, max_size=4),
    hidden=hidden,
    style=st.sampled_from(["layer", "cell", "weird"]),
    vocab=st.one_of(st.none(), st.text(max_size=8)),
    seed=st.one_of(st.none(), st.integers(min_value=-5, max_value=2**33).map(str)),
)
def test_any_input_gives_shapes_or_a_usage_error(cli, words, hidden, style, vocab, seed):
    args = ["run", "--json", "--hidden", hidden, "--style", style]
    if vocab is not None:
        args += ["--vocab", vocab]
    if seed is not None:
        args += ["--seed", seed]
    args += ["--", *words]
    result = cli(*args)
    if result.exit_code == 2:
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1
        assert "error" in result.stderr
        return
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    obj = json.loads(result.stdout)
    batch, time = len(words), max(map(len, words))
    sizes = [int(h) for h in hidden.split(",")]
    assert obj["words"] == words
    assert obj["lengths"] == [len(w) for w in words]
    assert obj["x_data"]["shape"] == [batch, time, len(obj["vocab"])]
    assert obj["outputs"]["shape"] == [batch, time, sizes[-1]]
    assert len(obj["states"]) == len(sizes)
    for state in obj["states"]:  # "h" for one layer, "1/h", "2/h", ... for a stack
        layer = int(state["name"].split("/")[0]) if "/" in state["name"] else 1
        assert state["shape"] == [batch, sizes[layer - 1]]
