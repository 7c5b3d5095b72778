"""Real data (issue: the chatbot lab): words, labels and pairs read from a file, shuffled
every epoch, a fraction held out, every whole-set pass batched, large vocabularies
summarised and limited, unseen tokens read as <unk>."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from rnnprobe.core.keras import env

from .conftest import start_script

SAMPLE = Path(__file__).parent / "data" / "chatbot_sample.csv"


def sample_rows() -> list[dict[str, str]]:
    with open(SAMPLE, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@pytest.fixture
def no_tensorflow(monkeypatch):
    def refused():
        raise AssertionError("TensorFlow was asked for")

    monkeypatch.setattr(env, "load_keras", refused)


# -- reading a file -------------------------------------------------------------------------
def test_the_sample_reads_as_the_csv_module_reads_it(cli):
    rows = sample_rows()
    obj = cli.json("run", "--from", str(SAMPLE), "--columns", "A", "--tokens", "word",
                   "--embed", "2", "--limit", "5", "--shapes")  # fmt: skip
    assert obj["words"] == [row["A"] for row in rows[:5]]
    assert any("," in word for word in obj["words"])  # a quoted field with a comma


def test_quoted_fields_tsv_plain_text_and_column_numbers(cli, tmp_path, no_tensorflow):
    from rnnprobe.core.inputs.corpus import read_corpus

    quoted = tmp_path / "q.csv"
    quoted.write_text('text,label\n"a, b",x\n"two\nlines",y\n  c  , z \n', encoding="utf-8")
    found = read_corpus(str(quoted), str, columns="text,2", default=1, allowed=(1, 2))
    assert found.columns == (("a, b", "two\nlines", "c"), ("x", "y", "z"))
    assert found.names == ("text", "label") and found.kind == "CSV"
    tabbed = read_corpus("-", lambda: "q\ta\nhi there\tyo\n", columns="a", default=1,
                         allowed=(1,))  # fmt: skip
    assert tabbed.kind == "TSV" and tabbed.columns == (("yo",),)
    plain = read_corpus("-", lambda: "hello\n\n eolll \n", columns=None, default=1, allowed=(1,))
    assert plain.kind == "plain text" and plain.columns == (("hello", "eolll"),)
    limited = read_corpus(str(quoted), str, columns="label", default=1, allowed=(1,), limit=2)
    assert limited.columns == (("x", "y"),)


@pytest.mark.parametrize(
    ("content", "args", "needle"),
    [
        ("Q,A\nhi,yo\nhey\n", ["--columns", "Q,A"], "row 2 (line 3) of "),
        ("Q,A\nhi,yo\n", ["--columns", "B"], "--columns 'B': no such column; the columns are Q, A"),
        ("Q,A\nhi,yo\n", ["--columns", "3"], "--columns '3': no such column"),
        ("", ["--columns", "Q"], "is empty"),
        ("Q,A\n", ["--columns", "Q"], "holds a header and no rows"),
        ("Q,A\nhi,yo\n", ["--columns", "Q", "--limit", "0"], "--limit '0': give at least 1"),
        ("Q,A\nhi,yo\n", ["--columns", "Q,A,Q"], "--columns 'Q,A,Q': give 1 or 2 column(s)"),
    ],
)
def test_bad_files_are_one_line_before_tensorflow_loads(cli, tmp_path, no_tensorflow, content,
                                                        args, needle):  # fmt: skip
    path = tmp_path / "data.csv"
    path.write_text(content, encoding="utf-8")
    line = cli.usage_error("train", "--from", str(path), *args, "--epochs", "1")
    assert needle in line
    if "row 2" in needle:
        assert "has 1 column, no A (column 2)" in line


def test_other_bad_sources(cli, tmp_path, no_tensorflow):
    missing = tmp_path / "nope.csv"
    assert "no such file" in cli.usage_error("run", "--from", str(missing))
    assert "is a directory" in cli.usage_error("run", "--from", str(tmp_path))
    assert "give no words on the command line" in cli.usage_error(
        "run", "hello", "--from", str(SAMPLE), "--columns", "Q"
    )
    assert "--columns needs --from" in cli.usage_error("run", "hello", "--columns", "Q")
    assert "--limit needs --from" in cli.usage_error("train", "hello", "--limit", "2")
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"Q\n\xff\xfe\n")
    assert "is not UTF-8 text" in cli.usage_error("run", "--from", str(binary), "--columns", "Q")


def test_seq2seq_reads_pairs_from_stdin_and_a_csv(cli):
    rows = sample_rows()[:3]
    text = "question\tanswer\n" + "".join(f"{row['Q']}\t{row['A']}\n" for row in rows)
    from_stdin = cli.json("seq2seq", "--from", "-", "--columns", "1,2", "--shapes", input=text)
    from_csv = cli.json("seq2seq", "--from", str(SAMPLE), "--columns", "Q,A", "--limit", "3",
                        "--shapes", "--seed", str(from_stdin["seed"]))  # fmt: skip
    assert from_stdin["source"]["sentences"] == [row["Q"] for row in rows]
    assert from_stdin["target"]["sentences"] == [row["A"] for row in rows]
    assert from_csv == from_stdin


# -- shuffling, held-out rows ------------------------------------------------------------------
def sorted_file(tmp_path: Path) -> Path:
    """Three classes in the file's order, told apart by their first character."""
    import random

    rng = random.Random(0)
    path = tmp_path / "sorted.csv"
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["word", "label"])
        for first in "abc":
            for _ in range(30):
                writer.writerow([first + "".join(rng.choice("defg") for _ in range(3)), first])
    return path


SORTED = ["--columns", "word,label", "--embed", "8", "--hidden", "8", "--lr", "0.05", "--epochs",
          "4", "--batch-size", "5", "--seed", "1"]  # fmt: skip


def test_a_sorted_file_shuffled_learns_what_the_same_file_in_order_cannot(cli, tmp_path):
    path = str(sorted_file(tmp_path))
    shuffled = cli.json("train", "--from", path, *SORTED)
    in_order = cli.json("train", "--from", path, *SORTED, "--no-shuffle")
    assert shuffled["shuffle"] is True and in_order["shuffle"] is False
    # In the file's order every epoch ends on class c: the network ends up predicting it.
    assert in_order["final"]["accuracy"] <= 0.5
    assert shuffled["final"]["accuracy"] >= 0.95
    assert shuffled["final"]["loss"] * 10 < in_order["final"]["loss"]
    one_batch = cli.json("train", "hello", "eolll", "--epochs", "1", "--shuffle")
    assert one_batch["shuffle"] is False  # one batch: its order changes nothing


def test_held_out_rows_are_never_trained_on(cli, tmp_path):
    """Other labels on the held-out rows change nothing of the training (its loss, its
    weights); the held-out loss sees them."""
    path = sorted_file(tmp_path)
    args = [*SORTED[:-6], "--epochs", "2", "--batch-size", "8", "--seed", "3", "--validation",
            "0.2"]  # fmt: skip
    obj = cli.json("train", "--from", str(path), *args)
    held = obj["validation_rows"]
    assert held == sorted(held) and len(held) == math.ceil(0.2 * 90)
    assert len(obj["words"]) == len(obj["targets"]["values"]) == 90  # every row, in order
    lines = path.read_text(encoding="utf-8").splitlines()
    flipped = {1 + row: lines[1 + row][:-1] + {"a": "b", "b": "c", "c": "a"}[lines[1 + row][-1]]
               for row in held}  # fmt: skip
    other = tmp_path / "other.csv"
    other.write_text("\n".join(flipped.get(n, line) for n, line in enumerate(lines)) + "\n",
                     encoding="utf-8")  # fmt: skip
    changed = cli.json("train", "--from", str(other), *args)
    assert [e["loss"] for e in changed["history"]] == [e["loss"] for e in obj["history"]]
    assert changed["final"]["weights"] == obj["final"]["weights"]
    assert [e["val_loss"] for e in changed["history"]] != [e["val_loss"] for e in obj["history"]]
    for entry in obj["history"]:
        assert list(entry) == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
        assert 0 <= entry["val_accuracy"] <= 1


def test_the_validation_loss_is_the_held_out_rows_loss_in_numpy(cli, tmp_path):
    """The last epoch's val_loss and val_accuracy recomputed from the reported final weights:
    the held-out rows through the network in numpy."""
    from rnnprobe.core import options
    from rnnprobe.core.inputs.tasks import task_data
    from rnnprobe.core.numpy.backprop import backprop

    path = sorted_file(tmp_path)
    args = [*SORTED[:-2], "--seed", "4", "--validation", "0.25", "--epochs", "3"]
    obj = cli.json("train", "--from", str(path), *args)
    with open(path, encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))[1:]
    words, labels = [r[0] for r in rows], [r[1] for r in rows]
    spec = options.make_spec(hidden=8, embed=8)
    data = task_data(words, kind=spec.tokens, embedded=True, labels=labels, validation=0.25,
                     seed=4)  # fmt: skip
    assert data.held_out is not None and data.held_out.tolist() == obj["validation_rows"]
    held = data.held_out
    weights = {w["name"]: np.array(w["values"], dtype=np.float64) for w in obj["final"]["weights"]}
    from rnnprobe.core.commands.train import train_spec

    full = train_spec(spec, data)
    found = backprop(full, data.batch.input.array[held], np.asarray(data.batch.lengths)[held],
                     weights, data.targets.array[held])  # fmt: skip
    last = obj["history"][-1]
    assert found.loss == pytest.approx(last["val_loss"], abs=1e-5)


def test_validation_errors(cli, tmp_path, no_tensorflow):
    path = str(sorted_file(tmp_path))
    for value, needle in [("0", "--validation '0': give a fraction above 0 and below 1"),
                          ("1", "--validation '1'"), ("x", "give a fraction such as 0.2"),
                          ("0.999", "no row is left to train on")]:  # fmt: skip
        assert needle in cli.usage_error("train", "--from", path, *SORTED, "--validation", value)
    lone = tmp_path / "lone.csv"
    lone.write_text("w,l\nab,x\ncd,x\nef,x\ngh,y\n", encoding="utf-8")
    line = cli.usage_error("train", "--from", str(lone), "--columns", "w,l", "--validation",
                           "0.5", "--seed", "0")  # fmt: skip
    assert "--validation" in line and "'y'" in line and "training" in line


def test_the_code_script_shuffles_and_holds_out_the_same_rows(cli, tmp_path):
    path = str(sorted_file(tmp_path))
    args = ["train", "--from", path, *SORTED[:-6], "--epochs", "3", "--batch-size", "16",
            "--seed", "7", "--validation", "0.2", "--max-vocab", "5"]  # fmt: skip
    script = cli.ok(*args, "--code").stdout
    assert "np.random.default_rng(7)" in script and "default_rng([7, 1])" in script
    assert "index.get(" in script  # <unk> for the tokens --max-vocab leaves out
    printed = start_script(script)
    obj = cli.json(*args)
    found = re.findall(r"^epoch \d+ loss (\S+) val_loss (\S+)$", printed(), re.M)
    assert len(found) == 3 and obj["shuffle"] is True
    np.testing.assert_allclose([float(a) for a, _ in found], [e["loss"] for e in obj["history"]],
                               atol=1e-4)  # fmt: skip
    np.testing.assert_allclose([float(b) for _, b in found],
                               [e["val_loss"] for e in obj["history"]], atol=1e-4)  # fmt: skip


# -- batched passes ---------------------------------------------------------------------------
def test_batched_passes_equal_one_batch(monkeypatch):
    """The initial loss and gradients, the predictions before and after and p(target),
    with the whole set in one pass and in passes of 7 rows: equal within float32 rounding."""
    import rnnprobe
    from rnnprobe.core.keras import passes

    rows = sample_rows()[20:60]  # both labels (0 and 1): one class alone is refused
    words, labels = [row["Q"] for row in rows], [row["label"] for row in rows]
    kwargs = {"labels": labels, "tokens": "word", "embed": 4, "hidden": 4, "epochs": 2,
              "batch_size": 5, "seed": 2, "lr": 0.01}  # fmt: skip
    whole = rnnprobe.train(words, **kwargs).to_dict()
    monkeypatch.setattr(passes, "PASS_ROWS", 7)
    assert passes.pass_rows(5) == 7
    parts = rnnprobe.train(words, **kwargs).to_dict()
    for key in ("initial", "final"):
        assert parts[key]["loss"] == pytest.approx(whole[key]["loss"], rel=1e-6)
        assert parts[key]["predictions"] == whole[key]["predictions"]
    for a, b in zip(parts["gradients"], whole["gradients"], strict=True):
        np.testing.assert_allclose(a["values"], b["values"], rtol=1e-5, atol=1e-7)
    assert parts["history"] == whole["history"]


def test_a_wide_output_takes_fewer_rows_a_pass(monkeypatch):
    from rnnprobe.core.keras import passes

    assert passes.pass_rows(64, 22 * 10_008) == 64  # the chatbot's decoder: the batch
    assert passes.pass_rows(8, 22 * 1_000) == passes.PASS_FLOATS // (22 * 1_000)
    assert passes.pass_rows(8, 22 * 1_000) < passes.PASS_ROWS
    assert passes.pass_rows(8, 3) == passes.PASS_ROWS


def test_seq2seq_decoding_and_passes_in_parts_equal_one_part(monkeypatch):
    import rnnprobe
    from rnnprobe.core.commands import seq2seq_train
    from rnnprobe.core.keras import passes

    pairs = [(row["Q"], row["A"]) for row in sample_rows()[:12]]
    kwargs = {"train": 2, "batch_size": 4, "seed": 3, "hidden": 8, "embed": 8,
              "attention": True, "max_steps": 4}  # fmt: skip
    whole = rnnprobe.seq2seq(pairs, **kwargs).to_dict()
    monkeypatch.setattr(passes, "PASS_ROWS", 5)
    monkeypatch.setattr(seq2seq_train, "DECODE_ROWS", 5)
    parts = rnnprobe.seq2seq(pairs, **kwargs).to_dict()
    assert parts["initial"]["loss"] == pytest.approx(whole["initial"]["loss"], rel=1e-6)
    assert parts["final"]["loss"] == pytest.approx(whole["final"]["loss"], rel=1e-6)
    assert [d["tokens"] for d in parts["decoded"]] == [d["tokens"] for d in whole["decoded"]]
    for a, b in zip(parts["decoded"], whole["decoded"], strict=True):
        np.testing.assert_allclose([s["probability"] for s in a["steps"]],
                                   [s["probability"] for s in b["steps"]], rtol=1e-5)  # fmt: skip


# -- vocabularies ------------------------------------------------------------------------------
def test_a_large_vocabulary_is_summarised_and_listed_whole_with_all(cli):
    args = ["run", "--from", str(SAMPLE), "--columns", "Q", "--tokens", "word", "--embed", "2"]
    out = cli.ok(*args).stdout
    vocab = cli.json(*args, "--shapes")["vocab"]
    assert len(vocab) > 50
    line = next(line for line in out.splitlines() if line.startswith("vocab ("))
    assert f"vocab ({len(vocab):,} words): the most frequent: " in line
    assert "appear once" in out and "122 rows of" in out
    assert " ".join(vocab[-3:]) not in out
    whole = cli.ok(*args, "--all").stdout
    assert "the most frequent" not in whole
    listed = whole.split("vocab (", 1)[1].split("lengths:", 1)[0].split()
    assert [token for token in listed if token in vocab] == vocab


def test_max_vocab_and_min_count_read_the_rest_as_unk(cli):
    rows = sample_rows()
    args = ["train", "--from", str(SAMPLE), "--columns", "Q,label", "--tokens", "word",
            "--embed", "4", "--epochs", "1", "--seed", "0"]  # fmt: skip
    kept = cli.json(*args, "--max-vocab", "20", "--shapes")
    assert kept["vocab"][:2] == ["<pad>", "<unk>"] and len(kept["vocab"]) == 22
    counts: dict[str, int] = {}
    for row in rows:
        for word in row["Q"].split():
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.values(), reverse=True)
    assert min(counts[w] for w in kept["vocab"][2:]) >= ranked[19] >= 1
    frequent = cli.json(*args, "--min-count", "2", "--shapes")
    assert set(frequent["vocab"][2:]) == {w for w, n in counts.items() if n >= 2}
    assert "--max-vocab '0': give at least 1" in cli.usage_error(*args, "--max-vocab", "0")


def test_a_word_outside_vocab_and_an_unseen_translate_word_read_as_unk(cli):
    obj = cli.json("run", "hello", "--vocab", "olh")
    assert obj["vocab"] == ["<unk>", "o", "l", "h"] and obj["unknown"] == ["e"]
    x = np.array(obj["x_data"]["values"])
    assert x[0, 1].tolist() == [1, 0, 0, 0]  # 'e' is the <unk> row
    assert "read as <unk>: e" in cli.ok("run", "hello", "--vocab", "olh").stdout
    pairs = ["i feel hungry", "나는 배가 고프다", "you are hungry", "너는 배가 고프다"]
    trained = cli.json("seq2seq", *pairs, "--train", "2", "--seed", "1", "--translate",
                       "we feel hungry")  # fmt: skip
    assert trained["decoded"][-1]["unknown"] == ["we"]
    assert all(d["unknown"] == [] for d in trained["decoded"][:-1])
    assert "<unk>" in trained["source"]["vocab"]
    shown = cli.ok("seq2seq", *pairs, "--train", "2", "--seed", "1", "--translate",
                   "we feel hungry").stdout  # fmt: skip
    assert "read as <unk> (not in the source vocabulary): we" in shown


def test_the_seq2seq_code_script_shuffles_and_reads_unk_as_rnnprobe_does(cli):
    pairs = [(row["Q"], row["A"]) for row in sample_rows()[:6]]
    given = [s for pair in pairs for s in pair]
    args = ["seq2seq", *given, "--train", "3", "--batch-size", "2", "--seed", "4",
            "--max-vocab", "6", "--translate", "전혀 모르는 말"]  # fmt: skip
    script = cli.ok(*args, "--code").stdout
    assert "order.permutation(len(sources))" in script and "source_index.get(" in script
    printed = start_script(script)
    obj = cli.json(*args)
    assert obj["shuffle"] is True
    lines = printed().splitlines()
    losses = [float(line.split()[-1]) for line in lines if line.startswith("epoch ")]
    np.testing.assert_allclose(losses, [e["loss"] for e in obj["history"]], atol=1e-4)
    decoded = [line for line in lines if " -> " in line]
    assert decoded == [f"{d['source']} -> {' '.join(d['tokens'])}" for d in obj["decoded"]]


# -- the views ---------------------------------------------------------------------------------
def test_the_train_view_tells_the_order_the_held_out_rows_and_both_curves(cli, tmp_path):
    path = str(sorted_file(tmp_path))
    out = cli.ok("train", "--from", path, *SORTED[:-2], "--seed", "5", "--validation",
                 "0.2").stdout  # fmt: skip
    assert "18 batches an epoch" not in out  # 72 training rows in batches of 5: 15
    assert "15 batches an epoch, shuffled every epoch, the order drawn from the seed" in (
        " ".join(out.split())
    )
    assert "18 of the 90 words held out (--validation 0.2)" in " ".join(out.split())
    assert re.search(r"epoch 4 +loss \S+ +accuracy \S+ +val_loss \S+ +val_accuracy \S+", out)
    assert "• loss" in out and "+ val_loss" in out
    assert "(held out)" in out
    assert re.search(r"held out \(18 words, never trained on\): accuracy", " ".join(out.split()))
    obj = cli.json("train", "--from", path, *SORTED[:-2], "--seed", "5", "--validation", "0.2")
    assert json.dumps(obj["validation"]) == "0.2"


def test_a_memory_refusal_names_the_option_that_makes_the_run_too_big(cli, no_tensorflow):
    for option in ("--head", "--embed", "--hidden"):
        line = cli.usage_error("run", "hello", option, "99999999999999999999")
        assert line.startswith(f"rnnprobe: error: {option} 99999999999999999999: this probe needs")
    pairs = ["--from", str(SAMPLE), "--columns", "Q,A"]
    small = {"RNNPROBE_MEMORY_LIMIT": "100kB"}
    whole = cli.usage_error("seq2seq", *pairs, env=small)
    assert "122 pairs at once over" in whole and "--limit takes fewer pairs" in whole
    batched = cli.usage_error("seq2seq", *pairs, "--train", "1", "--batch-size", "8", env=small)
    assert "--batch-size 8: a batch over" in batched and "needs about" in batched
