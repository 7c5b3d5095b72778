"""Nothing lost, no traceback: a failed training or write never replaces a saved network, a
damaged file is refused in one line, numbers at the edge of float32 are refused by name, and
messages say what a user typed (no Python reprs, no cut sentences)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnprobe.core.inputs import description

WORDS = ["hihello", "hello"]


@pytest.fixture(scope="module")
def model(cli, tmp_path_factory) -> Path:
    """A small trained network saved once: its bytes are what must never be lost."""
    path = tmp_path_factory.mktemp("lost") / "good.keras"
    cli.ok("train", *WORDS, "--epochs", "2", "--seed", "1", "--save", str(path))
    return path


@pytest.fixture
def kept(model, tmp_path) -> Path:
    """A copy of the good network where a failing command will try to save."""
    target = tmp_path / "kept.keras"
    shutil.copy(model, target)
    return target


def _left(folder: Path) -> list[str]:
    """What a failed save left beside its target (it must leave nothing)."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".rnnprobe-"))


# -- a training that stops, a write that fails: the saved file is kept --------------------------
@pytest.mark.parametrize(
    "args",
    [
        ["train", *WORDS, "--epochs", "30", "--lr", "1e38"],
        ["grads", *WORDS, "--after", "30", "--lr", "1e38"],
        ["series", *map(str, range(30)), "--window", "3", "--train", "20", "--lr", "1e38"],
        ["seq2seq", "i am", "나는", "you are", "너는", "--train", "30", "--lr", "1e38"],
    ],
    ids=["train", "grads", "series", "seq2seq"],
)
def test_a_training_stopped_by_a_loss_that_is_not_finite_saves_nothing(cli, kept, args):
    before = kept.read_bytes()
    result = cli(*args, "--seed", "1", "--save", str(kept))
    assert result.exit_code == 1
    assert "training stopped there" in result.stderr
    assert f"--save wrote nothing ('{kept}' is left as it was)" in result.stderr
    assert "Traceback" not in result.stderr
    assert kept.read_bytes() == before
    assert _left(kept.parent) == []


def test_a_folder_that_cannot_hold_files_is_one_line(cli):
    said = cli.usage_error("train", *WORDS, "--epochs", "1", "--save", "/proc/x.keras")
    assert said == ("rnnprobe: error: --save '/proc/x.keras' could not be written: its folder "
                    "does not exist or cannot hold files; nothing was saved (an existing file is "
                    "left as it was)")  # fmt: skip


def test_a_write_past_the_file_size_limit_keeps_the_old_file(cli, kept):
    """RLIMIT_FSIZE (`ulimit -f`) applies to root too; Python ignores SIGXFSZ, so the write
    fails with EFBIG half-way through the temporary file."""
    before = kept.read_bytes()
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (12 * 1024, hard))
    try:
        result = cli("train", *WORDS, "--epochs", "1", "--seed", "1", "--save", str(kept))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == (f"rnnprobe: error: --save '{kept}' could not be written: the file "
                             "is larger than the file-size limit allows (ulimit -f); nothing was "
                             "saved (an existing file is left as it was)\n")  # fmt: skip
    assert kept.read_bytes() == before
    assert _left(kept.parent) == []


def test_an_immutable_file_is_kept_and_said_so(cli, kept):
    if subprocess.run(["chattr", "+i", str(kept)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not possible here (no such file system or capability)")
    try:
        before = kept.read_bytes()
        said = cli.usage_error("train", *WORDS, "--epochs", "1", "--save", str(kept))
        assert "could not be written: not permitted: the file or its folder is read-only or " \
            "immutable" in said  # fmt: skip
        assert kept.read_bytes() == before
    finally:
        subprocess.run(["chattr", "-i", str(kept)], check=True)
    assert _left(kept.parent) == []


def test_a_full_file_system_keeps_the_old_file(cli, model, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(small)],
                      capture_output=True).returncode != 0:  # fmt: skip
        pytest.skip("mounting a small tmpfs is not possible here")
    try:
        target = small / "kept.keras"
        shutil.copy(model, target)
        before = target.read_bytes()
        said = cli.usage_error("train", *WORDS, "--epochs", "1", "--save", str(target))
        assert "could not be written: no space left on the device" in said
        assert target.read_bytes() == before
        assert _left(small) == []
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_read_only_folder_is_refused_before_any_work(cli, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root may write to any directory")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert "cannot be written" in cli.usage_error("train", *WORDS, "--save",
                                                  str(locked / "x.keras"))  # fmt: skip


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_saved_file_gets_the_mode_of_a_new_file_under_the_umask(cli, tmp_path, mask, mode):
    target = tmp_path / "fresh.keras"
    old = os.umask(mask)
    try:
        cli.ok("train", *WORDS, "--epochs", "1", "--seed", "1", "--save", str(target))
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == mode


def test_a_symlink_is_written_through(cli, tmp_path):
    (tmp_path / "models").mkdir()
    link = tmp_path / "latest.keras"
    link.symlink_to(tmp_path / "models" / "v1.keras")  # dangling until the save
    cli.ok("train", *WORDS, "--epochs", "1", "--seed", "1", "--save", str(link))
    assert link.is_symlink()
    assert (tmp_path / "models" / "v1.keras").is_file()
    assert cli.json("run", "--load", str(link), "hello")["vocab"]


# -- a damaged description inside a .keras file -----------------------------------------------
def _with_meta(model: Path, path: Path, meta: bytes) -> Path:
    """A copy of `model` whose rnnprobe.json is `meta`."""
    with zipfile.ZipFile(model) as given, zipfile.ZipFile(path, "w") as made:
        for item in given.infolist():
            made.writestr(item, meta if item.filename == "rnnprobe.json" else given.read(item))
    return path


def _meta(model: Path) -> dict:
    with zipfile.ZipFile(model) as archive:
        return json.loads(archive.read("rnnprobe.json"))


DAMAGED = {
    "list": ([], "it is a list, not an object"),
    "format": ({"format": "x"}, "format is 'x', not a whole number of at least 1"),
    "no spec": ({"spec": None}, "it has no spec object"),
    "hidden": ({"spec": {"hidden": "x"}},
               "spec.hidden is 'x', not a list of 1 or more (each a whole number of at least 1)"),
    "cell": ({"spec": {"cell": "tree"}}, "spec.cell is 'tree', not one of simple, lstm, gru"),
    "vocab": ({"vocab": 3}, "vocab is 3, not a list of 1 or more (each text)"),
    "unknown key": ({"spec": {"depth": 3}}, "spec.depth is not a key rnnprobe writes"),
    "epochs": ({"epochs": -1}, "epochs is -1, not a whole number of at least 0"),
}  # fmt: skip


def _damaged(meta: dict, change) -> object:
    if not isinstance(change, dict):
        return change
    found = json.loads(json.dumps(meta))
    for key, value in change.items():
        if key == "spec" and isinstance(value, dict):
            found["spec"].update(value)
        elif value is None:
            found.pop(key)
        else:
            found[key] = value
    return found


@pytest.mark.parametrize("case", list(DAMAGED))
def test_a_damaged_description_is_one_line_naming_what_is_wrong(cli, model, tmp_path, case):
    change, said = DAMAGED[case]
    path = _with_meta(model, tmp_path / "damaged.keras",
                      json.dumps(_damaged(_meta(model), change)).encode())  # fmt: skip
    expected = f"rnnprobe: error: --load '{path}': the rnnprobe.json inside is damaged: {said}"
    assert cli.usage_error("run", "--load", str(path), "hello") == expected
    assert cli.usage_error("train", "--load", str(path), "hello", "--epochs", "1") == expected
    shown = cli.ok("inspect", str(path), "--json")
    found = json.loads(shown.stdout)
    assert found["description"] is None
    assert found["description_damaged"] == f"the rnnprobe.json inside is damaged: {said}"
    assert "set aside: the rnnprobe.json inside is damaged" in cli.ok("inspect", str(path)).stdout


def test_a_description_of_a_later_format_asks_for_a_later_rnnprobe(cli, model, tmp_path):
    from rnnprobe.core.commands.saved import FORMAT

    meta = {**_meta(model), "format": FORMAT + 1, "rnnprobe": "99.0"}
    path = _with_meta(model, tmp_path / "later.keras", json.dumps(meta).encode())
    said = "saved by a later rnnprobe (99.0): update rnnprobe to read it"
    assert cli.usage_error("run", "--load", str(path), "hello") == (
        f"rnnprobe: error: --load '{path}': {said}"
    )
    found = cli.json("inspect", str(path))  # Keras's model is still shown
    assert found["description"] is None and found["description_damaged"] == said


def test_a_description_that_is_not_json_is_refused(cli, model, tmp_path):
    path = _with_meta(model, tmp_path / "text.keras", b"{not json")
    said = cli.usage_error("run", "--load", str(path), "hello")
    assert "is not a Keras model file" in said


def test_weights_of_another_network_name_the_weight_and_both_shapes(cli, model, tmp_path):
    bigger = tmp_path / "bigger.keras"
    cli.ok("train", *WORDS, "--epochs", "1", "--seed", "1", "--hidden", "3", "--save", str(bigger))
    swapped = tmp_path / "swapped.keras"
    with zipfile.ZipFile(bigger) as other:
        weights = other.read("model.weights.h5")
    with zipfile.ZipFile(model) as given, zipfile.ZipFile(swapped, "w") as made:
        for item in given.infolist():
            made.writestr(item, weights if item.filename == "model.weights.h5" else
                          given.read(item))  # fmt: skip
    for args in (["run", "--load", str(swapped), "hello"], ["inspect", str(swapped)]):
        result = cli(*args)
        assert result.exit_code == 2 and result.stdout == ""
        line = result.stderr.strip()
        assert len(result.stderr.splitlines()) == 1, result.stderr  # no Keras warning first
        assert line.endswith("Keras cannot load it: its weights do not fit its layers: the "
                             "weight simple_rnn/simple_rnn_cell/kernel is (6, 2) in the model "
                             "and (6, 3) in the weights (2 layers do not fit)")  # fmt: skip
    description_says = _meta(model)
    description_says["spec"]["hidden"] = [5]
    named = _with_meta(model, tmp_path / "named.keras", json.dumps(description_says).encode())
    said = cli.usage_error("run", "--load", str(named), "hello")
    assert said.endswith("its weights do not fit the network its rnnprobe description names: "
                         "the file's simple_rnn/simple_rnn_cell/kernel is (6, 2) where it needs "
                         "(6, 5)")  # fmt: skip


def test_the_description_checker_accepts_what_rnnprobe_writes(model):
    assert description.check(_meta(model)) == _meta(model)
    with pytest.raises(description.Damaged, match=r"history\[1\]\.epoch is 0"):
        description.check({**_meta(model), "history": [{"epoch": 0, "loss": 1.0}]})


def test_a_long_keras_error_is_whole_and_on_one_line():
    from rnnprobe.core.keras.saving import load_reason

    said = "A thing went wrong.\n\nIt was this: <Variable path=x, value=[[1 2]\n [3 4]]>. Done."
    assert (
        load_reason(ValueError(said))
        == "A thing went wrong. It was this: <Variable path=x, >. Done"
    )
    assert "custom objects are not supported" in load_reason(
        TypeError("Could not locate class 'MyLayer'. Make sure custom classes are ...")
    )


# -- numbers at the edge -----------------------------------------------------------------------
def test_a_column_beyond_float32_is_refused_by_row(cli, tmp_path):
    data = tmp_path / "big.csv"
    data.write_text("a,b\n" + "".join(f"{1e308 * (-1) ** i},{i}\n" for i in range(50)))
    said = ("rnnprobe: error: row 1, column a: 1e+308 is beyond float32's range (±3.403e+38), "
            "the precision of every tensor here (line 2)")  # fmt: skip
    assert cli.usage_error("series", str(data), "--train", "1") == said
    assert cli.usage_error("series", str(data), "--train", "1", "--json") == said
    import rnnprobe

    with pytest.raises(ValueError, match="beyond float32's range"):
        rnnprobe.series(np.full((20, 1), 1e300))


def test_a_chart_over_an_infinite_or_empty_span_draws():
    from rich.console import Console

    from rnnprobe.show.chart import line_chart

    console = Console(width=80, record=True)
    console.print(
        line_chart(
            [
                ("a", [1e308, -1e308, float("nan"), 1.0], "•", ""),
                ("b", [1.0, 1.0, 1.0, 1.0], "x", ""),
            ],
            first="0",
            last="3",
        )
    )
    console.print(line_chart([("a", [2.0, 2.0], "•", "")], first="0", last="1"))
    text = console.export_text()
    assert " 1.000e+308 │•" in text and "-1.000e+308 │" in text and "2 │••" in text
    assert "◆ two at once" in text  # a marker drawn is in the legend


def test_a_stride_larger_than_the_data_names_the_option(cli):
    said = cli.usage_error("series", *map(str, range(1, 21)), "--window", "3", "--stride", "50")
    assert said == ("rnnprobe: error: --stride 50 is larger than the data: give a stride below "
                    "19 (its 20 rows less the --horizon)")  # fmt: skip


def test_an_initial_state_beyond_float32_is_refused(cli):
    said = cli.usage_error("run", "hello", "--initial-state", "h=1e308,0")
    assert said == ("rnnprobe: error: --initial-state 'h=1e308,0': 1e+308 is beyond float32's "
                    "range (±3.403e+38), the precision of every tensor here")  # fmt: skip


def test_random_rows_past_the_memory_are_refused_before_any_is_drawn(cli, model):
    said = cli.usage_error("inspect", str(model), "--random", "1000000000",
                           env={"RNNPROBE_MEMORY_LIMIT": "8GB"})  # fmt: skip
    assert said.startswith("rnnprobe: error: --random 1000000000: a batch of 1,000,000,000 rows "
                           "needs about ")  # fmt: skip
    assert said.endswith("of memory, more than the 8.0 GB available")


@pytest.mark.parametrize("given", ["1_0", "١٢", "0x10", "1e"])
def test_only_plain_ascii_numbers_count(cli, given):
    assert f"'{given}' is not a number" in cli.usage_error("series", "1", "2", given)
    assert "is not a number" in cli.usage_error("series", "-", input=f"a\n1\n2\n{given}\n3\n")
    assert "is not a number" in cli.usage_error("run", "hi", "--initial-state", f"h={given},0")


def test_a_long_field_of_a_corpus_is_read(tmp_path):
    from rnnprobe.core.inputs.corpus import read_corpus

    corpus = tmp_path / "long.csv"
    corpus.write_text('q,label\n"' + "ab" * 70_000 + '",x\nhello,y\n', encoding="utf-8")
    found = read_corpus(str(corpus), str, columns="q,label", default=2, allowed=(2,))
    assert [len(text) for text in found.columns[0]] == [140_000, 5]


# -- served as direct: the pieces a unit test can hold ----------------------------------------
def test_the_client_forwards_stdin_for_every_spelling():
    from rnnprobe.serve.client import reads_stdin

    assert reads_stdin(["run", "-"]) and reads_stdin(["train", "--from=-", "--epochs", "1"])
    assert reads_stdin(["inspect", "m.keras", "--input", "-"])
    assert reads_stdin(["inspect", "m.keras", "--input=-"])
    assert not reads_stdin(["run", "hello", "--from=a-b.csv"]) and not reads_stdin(["-"])


def test_a_served_request_shows_each_warning_again(tmp_path):
    """Python shows a warning once per place and process: the server shows it once per
    request, as a new process would."""
    import warnings

    from rnnprobe.serve.server import Server

    class Warns:
        def main(self, **kwargs):
            warnings.warn("a value overflowed", RuntimeWarning, stacklevel=1)
            return 0

    server = Server(str(tmp_path / "s.sock"), 60)
    server.__dict__["command"] = Warns()
    request = {"argv": ["run", "hi"], "cwd": str(tmp_path), "env": {}}
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("default")  # Python's own action: once per place
        for _ in range(2):
            assert server.execute(request, b"")[0] == 0
    assert [str(w.message) for w in shown] == ["a value overflowed"] * 2


def test_the_server_applies_the_clients_own_variables_and_umask(tmp_path):
    from rnnprobe.serve.server import Server

    seen = {}

    class Reads:
        def main(self, **kwargs):
            seen["limit"] = os.environ.get("RNNPROBE_MEMORY_LIMIT")
            seen["other"] = os.environ.get("RNNPROBE_SERVER_ONLY")
            mask = os.umask(0)
            os.umask(mask)
            seen["umask"] = mask
            return 0

    server = Server(str(tmp_path / "s.sock"), 60)
    server.__dict__["command"] = Reads()
    os.environ["RNNPROBE_SERVER_ONLY"] = "1"
    try:
        server.execute({"argv": ["run"], "cwd": str(tmp_path), "umask": 0o077,
                        "env": {"RNNPROBE_MEMORY_LIMIT": "1GB"}}, b"")  # fmt: skip
        assert os.environ["RNNPROBE_SERVER_ONLY"] == "1"  # the server's own, back afterwards
    finally:
        del os.environ["RNNPROBE_SERVER_ONLY"]
    assert seen == {"limit": "1GB", "other": None, "umask": 0o077}
    assert "RNNPROBE_MEMORY_LIMIT" not in os.environ


def test_a_long_pass_stops_between_batches_when_its_client_left(monkeypatch):
    """Keras's windows, compared batch by batch, and the whole-set passes check for an
    abandoned request before each batch; a pass's batch of long windows holds few rows."""
    import threading

    import rnnprobe
    from rnnprobe.core import progress
    from rnnprobe.core.keras import passes

    assert passes.pass_rows(1, 100_000) == passes.PASS_FLOATS // 100_000
    gone = threading.Event()
    gone.set()
    monkeypatch.setattr(progress, "ABANDONED", gone)
    with pytest.raises(progress.Abandoned):
        rnnprobe.series(list(range(40)), window=5)
    from rnnprobe.core.inputs import selection, table, windows
    from rnnprobe.core.keras.windows import same_as_keras

    data = selection.select(table.table_from_arguments([str(v) for v in range(20)]))
    with pytest.raises(progress.Abandoned):
        same_as_keras(windows.cut(data, window=5, split=0.7, scale="minmax"))


def test_a_long_pass_says_how_far_it_is_and_the_time_left(monkeypatch):
    from rnnprobe.core import progress

    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(progress, "_ADVANCE", lambda done, total: seen.append((done, total)))
    progress.advance(0, 3)
    progress.advance(1, 3)
    progress.advance(0, 1)  # one batch: nothing to say
    assert seen == [(0, 3), (1, 3)]
    assert [progress._left(s) for s in (0.2, 75, 7300)] == ["1 s", "1 min", "2.0 h"]


def test_one_live_line_at_a_time(monkeypatch):
    """A spinner started while a training's bar is drawn (TensorFlow loading inside it) draws
    nothing: two live lines at once left a broken line on the terminal."""
    from rich.console import Console

    from rnnprobe.core import progress

    monkeypatch.setattr(progress, "stderr_is_terminal", lambda: True)
    monkeypatch.setattr(progress, "ENABLED", True)
    statuses = []
    real = Console.status

    def status(self, *args, **kwargs):
        statuses.append(args[0])
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Console, "status", status)
    with progress.training(2, 3) as (epoch, batch):
        assert epoch is not None
        with progress.spinner("Loading TensorFlow…"):
            pass
    assert statuses == []
    with progress.spinner("Reading…"), progress.training(2, 3) as (epoch, batch):
        assert epoch is None and batch is None
    assert statuses == ["Reading…"]
    assert progress._LIVE is False


# -- messages ------------------------------------------------------------------------------------
def test_contradicting_options_are_said_as_typed(cli, model):
    assert cli.usage_error("run", "--load", str(model), "--embed", "3", "hi") == (
        "rnnprobe: error: --load holds a network without --embed (not 3): leave the option out "
        "to use the saved network")  # fmt: skip
    assert cli.usage_error("run", "--load", str(model), "--bidirectional", "hi") == (
        "rnnprobe: error: --load holds a network without --bidirectional: leave the option out "
        "to use the saved network")  # fmt: skip


def test_a_split_that_leaves_no_training_row_says_so(cli):
    said = cli.usage_error("series", *map(str, range(20)), "--window", "3", "--split", "1e-9")
    assert said == ("rnnprobe: error: --split 1e-09 leaves no training rows: 1e-09 of 20 rows "
                    "is less than one row (give a larger --split)")  # fmt: skip


def test_bytes_that_are_not_utf8_are_shown_as_bytes(cli):
    said = cli.usage_error("series", "1", "2", "3\udce9")
    assert said == r"rnnprobe: error: '3\xe9' is not a number: give numbers, one CSV/TSV " + (
        "file or - for stdin"
    )
    said = cli.usage_error("run", "-", input=b"h\xe9llo\n")
    assert said == "rnnprobe: error: stdin is not UTF-8 text: byte 0xe9 on line 1 (give UTF-8 text)"


def test_an_export_that_cannot_be_written_exits_2(cli, model):
    said = cli.usage_error("inspect", str(model), "--export", "/proc/x.svg")
    assert said.startswith("rnnprobe: error: --export '/proc/x.svg' cannot be written: ")


def test_one_class_left_is_said_so(cli, tmp_path):
    rows = tmp_path / "labels.csv"
    rows.write_text("text,label\nhello,a\nworld,b\n")
    said = cli.usage_error("train", "--from", str(rows), "--columns", "text,label", "--limit", "1")
    assert said == (
        "rnnprobe: error: only one class left: every label is 'a', and a classifier needs two "
        "or more to learn anything (give rows of at least two classes)"
    )
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\nhello,\nworld,\n")
    assert "every label is empty" in cli.usage_error("train", "--from", str(empty), "--columns",
                                                     "text,label")  # fmt: skip
    assert "every next token is 'a'" in cli.usage_error("train", "aaa")


def test_rows_are_named_by_what_they_are(cli):
    sentences = ["i feel hungry", "you are fine", "we are here", "it is late"]
    out = cli.ok("train", *sentences, "--tokens", "word", "--labels", "a,b,a,b", "--validation",
                 "0.5", "--epochs", "1", "--seed", "3", env={"COLUMNS": "200"}).stdout  # fmt: skip
    assert "2 of the 4 sentences held out" in out
    out = cli.ok("train", *WORDS, "--validation", "0.5", "--epochs", "1", "--seed", "1",
                 env={"COLUMNS": "200"}).stdout  # fmt: skip
    assert "1 of the 2 words held out" in out


# -- float noise -------------------------------------------------------------------------------
def test_a_gradient_that_is_zero_but_for_float_noise_is_shown_as_zero(cli):
    """The attention score's bias is added to every source position before a softmax over
    them: its exact gradient is 0, and what float32 leaves is shown as that."""
    pairs = ["i feel hungry", "나는 배가 고프다", "tensorflow is hard", "텐서플로우는 어렵다"]
    out = cli.ok("seq2seq", *pairs, "--train", "2", "--attention", "--seed", "1").stdout
    row = next(line for line in out.splitlines() if line.startswith(" attention/V/bias"))
    assert "0 (float noise: " in row
    assert "below a millionth of the largest norm, which float32 cannot tell from 0" in " ".join(
        out.split()
    )
    obj = cli.json("seq2seq", *pairs, "--train", "2", "--attention", "--seed", "1")
    bias = next(g for g in obj["gradients"] if g["name"] == "attention/V/bias")
    assert 0 < abs(bias["values"][0]) < 1e-6  # JSON keeps the number as it is


def test_texts_compare_as_a_reader_sees_them():
    from .texts import difference

    assert difference("V/bias │ 9.55e-12 │ 0.0322", "V/bias │   1.36e-11 │ 0.0323") is None
    assert difference("loss 0.0322", "loss 0.0325") == "number 0.0322 became 0.0325"
    assert difference("(3, 4)", "(3, 5)") == "number 4 became 5"
    assert difference("epoch 1", "epochs 1") is not None


def test_windows_of_a_long_text_past_the_memory_are_refused(cli):
    said = cli.usage_error("run", "--window", "100000", "-", input="ab" * 100_000,
                           env={"RNNPROBE_MEMORY_LIMIT": "4GB"})  # fmt: skip
    assert said == ("rnnprobe: error: --window 100000: 100,000 windows of 100,000 tokens needs "
                    "about 10.0 GB of memory, more than the 4.0 GB available")  # fmt: skip


def test_a_failed_check_saves_nothing(cli, kept, monkeypatch):
    """A command that exits 1 (its --check found Keras off) leaves the target as it was."""
    from rnnprobe.core.numpy import backprop

    real = backprop.backprop

    def off(*args, **kwargs):
        found = real(*args, **kwargs)
        return type(found)(**{**found.__dict__, "loss": found.loss + 1.0})

    monkeypatch.setattr(backprop, "backprop", off)
    before = kept.read_bytes()
    result = cli("train", *WORDS, "--epochs", "1", "--seed", "1", "--check", "--save", str(kept))
    assert result.exit_code == 1
    assert result.stderr == (f"rnnprobe: a check found Keras's numbers off; --save wrote nothing "
                             f"('{kept}' is left as it was)\n")  # fmt: skip
    assert kept.read_bytes() == before


def test_a_series_check_holds_unscaled_values_to_their_size(cli):
    """With --scale none the check compares prices and squared errors in the thousands:
    float32 keeps about 7 digits of them, so the tolerance grows with the largest value."""
    values = [str(1000 + (i * 37) % 23) for i in range(40)]
    obj = cli.json("series", *values, "--scale", "none", "--window", "3", "--train", "1",
                   "--seed", "0", "--check")  # fmt: skip
    check = obj["check"]
    assert check["ok"] and check["scale"] > 1000
    assert check["max_abs_diff"] < 1e-5 * check["scale"]


def test_a_series_of_one_row_before_its_target_is_refused_by_name(cli):
    """Keras's windows need 2 rows before the last --horizon ones (its own ValueError was
    a traceback)."""
    said = cli.usage_error("series", "1", "2", "--window", "1")
    assert said == (
        "rnnprobe: error: the data has 2 rows: windows are cut from the rows before the last "
        "--horizon 1, and Keras needs at least 2 of them (give more rows)"
    )
