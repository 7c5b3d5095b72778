"""`run --diagram`: the steps, the shapes and the state names are where they belong."""

from __future__ import annotations

import re

import pytest

WIDTH = {"COLUMNS": "100"}


def picture(cli, *args: str) -> list[str]:
    """The lines of the diagram (from its title on) of `rnnprobe run ... --diagram`."""
    out = cli.ok("run", *args, "--diagram", "--seed", "1", env=WIDTH).stdout
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith("unrolled"))
    return lines[start:]


def centre(line: str, token: str, nth: int = 0) -> float:
    """Where the nth `token` sits on a line: the middle of it, in columns."""
    found = [m.start() for m in re.finditer(re.escape(token), line)]
    return found[nth] + len(token) / 2


def rows(lines: list[str], title: str) -> list[str]:
    """A layer's title line and the four lines of its boxes."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    body = next(i for i in range(start + 1, len(lines)) if "╭" in lines[i])
    return [lines[start], *lines[body : body + 4]]


def test_a_simple_rnn_unrolled_over_a_word(cli):
    lines = picture(cli, "hello", "eolll", "lleel")
    assert lines[0] == "word 1: hello  (5 steps), unrolled"
    steps, chars = lines[1], lines[2]
    for t, char in enumerate("hello"):
        assert f"t={t}" in steps
        assert abs(centre(steps, f"t={t}") - centre(chars, char, "hello"[:t].count(char))) <= 0.5
    title, top, middle, lower, _ = rows(lines, "layer 1")
    assert title == "layer 1: SimpleRNNCell(2) reads x_t (3, 4), carries h (3, 2)"
    assert middle.count("│SimpleRNN│") == 5 and lower.count(f"│{'Cell'.center(9)}│") == 5
    assert middle.count("─▶") == 5 and middle.endswith("─▶ h")
    x_names = next(line for line in lines if line.startswith("x_data"))
    x_shapes = lines[lines.index(x_names) + 1]
    outputs = next(line for line in lines if line.startswith("outputs"))
    for t in range(5):  # each step's column: its header, box, output, input
        column = centre(top, "╭─────────╮", t)
        for line, token, nth in ((steps, f"t={t}", 0), (x_names, f"x_{t}", 0),
                                 (x_shapes, "(3, 4)", t), (outputs, "(3, 2)", t)):  # fmt: skip
            assert abs(centre(line, token, nth) - column) <= 0.5, token
    assert "outputs (3, 2) at every step" in lines
    assert "x_t (3, 4): step t of every word in the batch, one-hot over the vocabulary" in lines


@pytest.mark.parametrize(("cell", "name", "states"), [("lstm", "LSTM", ["h", "c"]),
                                                      ("gru", "GRU", ["h"])])  # fmt: skip
def test_lstm_and_gru_cells_and_the_states_they_carry(cli, cell, name, states):
    lines = picture(cli, "hello", "--cell", cell, "-H", "3")
    title, _, middle, lower, _ = rows(lines, "layer 1")
    carried = ", ".join(states)
    assert title == f"layer 1: {name}Cell(3) reads x_t (1, 4), carries {carried} (1, 3)"
    assert middle.count(f"│{name.center(4)}│") == 5 and lower.count("│Cell│") == 5
    assert middle.endswith(f"─▶ {states[0]}")
    assert lower.endswith(f"  {states[1]}") if len(states) > 1 else lower.endswith("│")


def test_bidirectional_rows_run_both_ways_and_merge(cli):
    lines = picture(cli, "hello", "--bidirectional", "--cell", "lstm", "--merge-mode", "sum")
    backward = rows(lines, "layer 1, backward")
    forward = rows(lines, "layer 1, forward")
    assert lines.index(backward[0]) < lines.index(forward[0])
    assert backward[0].endswith("carries h, c (1, 2) right to left")
    assert backward[2].startswith("backward_h ◀ │") and backward[3].startswith("backward_c ◀ │")
    assert backward[2].count("◀─") == 4 and "─▶" not in backward[2]
    assert forward[2].count("─▶") == 5 and forward[2].endswith("─▶ forward_h")
    assert forward[3].endswith("forward_c")
    assert "outputs (1, 2) at every step; the two directions summed" in lines


def test_a_stack_reads_the_layer_below(cli):
    lines = picture(cli, "hello", "-H", "3,2", "--bidirectional")
    titles = [line for line in lines if line.startswith("layer ")]
    assert [t.split(":")[0] for t in titles] == [
        "layer 2, backward", "layer 2, forward", "layer 1, backward", "layer 1, forward",
    ]  # fmt: skip
    assert "reads layer 1's outputs (1, 6)" in titles[0]
    assert "reads x_t (1, 4)" in titles[3]
    assert rows(lines, "layer 2, forward")[2].endswith("─▶ 2/forward_h")
    assert rows(lines, "layer 1, backward")[2].startswith("1/backward_h ◀")
    assert "outputs (1, 4) at every step; the two directions concatenated" in lines


def test_padded_steps_are_masked_and_keep_the_state(cli):
    lines = picture(cli, "hello", "hi", "--word", "2")
    assert lines[0] == "word 2: hi  (2 steps), unrolled"
    steps, chars = lines[1], lines[2]
    assert chars.split() == ["h", "i", "pad", "pad", "pad"]
    _, _, middle, lower, _ = rows(lines, "layer 1")
    mask, keep = f"│{'mask'.center(9)}│", f"│{'keep'.center(9)}│"
    assert middle.count("│SimpleRNN│") == 2 and middle.count(mask) == 3
    assert lower.count(keep) == 3
    assert abs(centre(middle, mask) - centre(steps, "t=2")) <= 0.5
    assert "t=2 to 4: padding, masked; each keeps the state it gets" in lines


def test_without_sequences_only_the_last_real_step_has_an_output(cli):
    lines = picture(cli, "hello", "hi", "--word", "2", "--no-return-sequences", "--cell", "gru")
    outputs = next(line for line in lines if line.startswith("outputs"))
    assert outputs.count("(2, 2)") == 1
    assert abs(centre(outputs, "(2, 2)") - centre(lines[1], "t=1")) <= 0.5
    assert outputs.count("·") == 4
    assert "outputs (2, 2) at the word's last real step, t=1" in lines


def test_a_long_word_shows_its_first_six_and_last_two_steps_in_100_columns(cli):
    word = "abcdefghijklmnopqrstuvwxyzabcd"
    lines = picture(cli, word, "hi", "--bidirectional", "--cell", "lstm", "-H", "2,2")
    assert re.findall(r"t=(\d+)", lines[1]) == ["0", "1", "2", "3", "4", "5", "28", "29"]
    assert " … " in lines[1] and lines[2].split() == [*"abcdef", "…", "c", "d"]
    assert "…: steps 6 to 27 left out" in lines
    assert max(len(line) for line in lines) <= 100
    assert rows(lines, "layer 2, forward")[2].endswith("─▶ 2/forward_h")


def test_no_returned_state_is_named_as_such(cli):
    lines = picture(cli, "hello", "--no-return-state")
    assert rows(lines, "layer 1")[2].endswith("─▶ h (not returned)")


def test_colour_on_a_terminal_plain_when_piped(cli):
    args = ["run", "hello", "--diagram", "--seed", "1"]
    coloured = cli.ok(*args, env={"FORCE_COLOR": "1", "COLUMNS": "100"}).stdout
    assert "\x1b[" in coloured
    assert "\x1b[" not in cli.ok(*args, env={"FORCE_COLOR": None, "COLUMNS": "100"}).stdout


def test_the_export_holds_the_picture(cli, tmp_path):
    target = tmp_path / "unrolled.txt"
    shown = cli.ok("run", "hello", "--diagram", "--seed", "1", "--export", str(target),
                   env=WIDTH).stdout  # fmt: skip
    assert target.read_text(encoding="utf-8") == shown
    svg = tmp_path / "unrolled.svg"
    cli.ok("run", "hello", "--diagram", "--seed", "1", "--export", str(svg))
    assert "SimpleRNN" in svg.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--diagram", "--json"], "--diagram draws a picture; it does not combine with --json"),
        (["--diagram", "--steps"], "does not combine with --steps"),
        (["--diagram", "--shapes"], "does not combine with --shapes"),
        (["--word", "2"], "--word needs --diagram"),
        (["--diagram", "--word", "3"], "--word 3: give a word from 1 to 2"),
        (["--diagram", "--word", "0"], "--word 0: give a word from 1 to 2"),
        (["--diagram", "--code"], "--code prints a script; it does not combine with --diagram"),
    ],
)
def test_bad_diagram_options_are_usage_errors(cli, args, needle):
    assert needle in cli.usage_error("run", "hello", "hi", *args)


@pytest.mark.parametrize("number", ["0", "3"])
@pytest.mark.parametrize(
    "args",
    [
        ["train", "hello", "hi", "--epochs", "1", "--diagram", "--word"],
        ["grads", "hello", "hi", "--diagram", "--word"],
        ["seq2seq", "hi", "안녕", "bye", "잘 가", "--diagram", "--pair"],
    ],
    ids=["train", "grads", "seq2seq"],
)
def test_every_drawn_word_or_pair_is_one_of_those_given(cli, args, number):
    """--word 0 is refused as --word 3 is (not taken for the default, word 1)."""
    flag, name = args[-1], args[-1][2:]
    assert cli.usage_error(*args, number) == (
        f"rnnprobe: error: {flag} {number}: give a {name} from 1 to 2"
    )
