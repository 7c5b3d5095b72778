"""One core function per command: plain values in, a result out.

The CLI, the batch runner, the server and the Python API call these and only parse and
print around them. Bad input raises `InputError` (a ValueError) naming the parameter.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from rnnprobe.core.batch import Batch
from rnnprobe.core.budget import check_probe_memory
from rnnprobe.core.errors import InputError, Param, RnnProbeError
from rnnprobe.core.kinds import MAX_SEED, ONEHOT, Cell, MergeMode, Style, Tokens
from rnnprobe.core.vocab import build_batch, vocabulary

if TYPE_CHECKING:  # loaded where a model is described or run: `vocab` needs none of them
    from rnnprobe.core.encdec import Seq2SeqResult, Seq2SeqSpec
    from rnnprobe.core.result import CompareResult, ProbeResult
    from rnnprobe.core.stages import ProbeSpec

Choice = TypeVar("Choice", bound=Enum)


def parse_hidden(text: str) -> tuple[int, ...]:
    """`2` -> (2,), `4,2` -> (4, 2): units per recurrent layer, each at least 1."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not (part.isascii() and part.isdecimal()):
            shown = repr(part) if part else "an empty size"
            raise InputError(
                Param("hidden"),
                f" {text!r}: {shown} is not a whole number; give units per layer such as 2 or 4,2",
            )
        if int(part) < 1:
            raise InputError(Param("hidden"), f" {text!r}: every layer needs at least 1 unit")
        sizes.append(int(part))
    return tuple(sizes)


def parse_embed(embed: Any) -> int | str | None:
    """`onehot`, or the width of a random Embedding (a whole number, at least 1)."""
    if embed is None or embed == ONEHOT:
        return embed
    text = str(embed).strip()
    if isinstance(embed, bool) or not (text.isascii() and text.isdecimal()):
        raise InputError(
            Param("embed"), f" {embed!r}: give onehot or a number of dimensions such as 8"
        )
    if int(text) < 1:
        raise InputError(Param("embed"), f" {embed!r}: an Embedding needs at least 1 dimension")
    return int(text)


def parse_head(head: Any) -> int | None:
    """The classes of a Dense head: a whole number, at least 1."""
    if head is None:
        return None
    text = str(head).strip()
    if isinstance(head, bool) or not (text.isascii() and text.isdecimal()):
        raise InputError(Param("head"), f" {head!r}: give the number of classes, such as 2")
    if int(text) < 1:
        raise InputError(Param("head"), f" {head!r}: a head needs at least 1 class")
    return int(text)


def hidden_sizes(hidden: int | str | Sequence[int]) -> tuple[int, ...]:
    """Units per layer from an int, a sequence of ints, or text such as "4,2"."""
    if isinstance(hidden, str):
        return parse_hidden(hidden)
    if isinstance(hidden, numbers.Integral) and not isinstance(hidden, bool):
        return parse_hidden(str(int(hidden)))
    if isinstance(hidden, Sequence) and all(
        isinstance(n, numbers.Integral) and not isinstance(n, bool) for n in hidden
    ):
        return parse_hidden(",".join(str(int(n)) for n in hidden))
    raise InputError(
        Param("hidden"), f" {hidden!r}: give units per layer as an int or a sequence of ints"
    )


def choice(kind: type[Choice], name: str, value: Any) -> Choice:
    """An enum member from itself or its value, else the error Click gives for a bad choice."""
    if isinstance(value, kind):
        return value
    for member in kind:
        if value == member.value:
            return member
    allowed = ", ".join(repr(m.value) for m in kind)
    raise InputError("Invalid value for '", Param(name), f"': {value!r} is not one of {allowed}.")


def whole_number(name: str, text: str | None) -> int | None:
    """A whole number given as text on the command line (None stays None).

    Parsed here rather than by Typer, whose wording differs from one version to the next.
    """
    if text is None:
        return None
    stripped = text.strip()
    digits = stripped[1:] if stripped[:1] in "+-" else stripped
    if not (digits.isascii() and digits.isdecimal()):
        raise InputError("Invalid value for '", Param(name), f"': {text!r} is not a valid integer.")
    return int(stripped)


def check_seed(seed: Any) -> int | None:
    """None, or a whole number from 0 to 2**32 - 1."""
    if seed is None:
        return None
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise InputError("Invalid value for '", Param("seed"), f"': {seed!r} is not an int.")
    if not 0 <= int(seed) <= MAX_SEED:
        raise InputError(
            "Invalid value for '",
            Param("seed"),
            f"': {int(seed)} is not in the range 0<=x<={MAX_SEED}.",
        )
    return int(seed)


def resolve_seed(seed: Any) -> int:
    """The seed given (checked), or a new one drawn for a run that was given none.

    Drawn from the operating system, so that two runs without a seed differ; reported in
    the result, so that either can be repeated.
    """
    checked = check_seed(seed)
    if checked is not None:
        return checked
    import secrets

    return secrets.randbelow(2**31)


def make_spec(
    *,
    hidden: int | str | Sequence[int] = 2,
    style: Style | str = Style.layer,
    cell: Cell | str = Cell.simple,
    return_sequences: bool = True,
    return_state: bool = True,
    bidirectional: bool = False,
    merge_mode: MergeMode | str | None = None,
    tokens: Tokens | str = Tokens.char,
    embed: int | str | None = None,
    head: int | str | None = None,
    each_step: bool = False,
) -> ProbeSpec:
    """The network to build, checked. A merge mode (None: concat) needs bidirectional.

    A head without `each_step` is many-to-one: the last recurrent layer returns its last
    real step only. `each_step` needs a head, and the sequences it reads.
    """
    mode = None if merge_mode is None else choice(MergeMode, "merge_mode", merge_mode)
    if mode is not None and not bidirectional:
        raise InputError(Param("merge_mode"), " needs ", Param("bidirectional"))
    kind = choice(Tokens, "tokens", tokens)
    width = parse_embed(embed)
    classes = parse_head(head)
    if each_step and classes is None:
        raise InputError(Param("each_step"), " needs ", Param("head"))
    if each_step and not return_sequences:
        raise InputError(
            Param("each_step"), " reads every step: it does not combine with ",
            Param("no_return_sequences"),
        )  # fmt: skip
    sequences = bool(return_sequences) and (classes is None or bool(each_step))
    from rnnprobe.core.stages import ProbeSpec  # the description's classes: only for a model

    return ProbeSpec(
        style=choice(Style, "style", style),
        cell=choice(Cell, "cell", cell),
        hidden=hidden_sizes(hidden),
        return_sequences=sequences,
        return_state=bool(return_state),
        bidirectional=bool(bidirectional),
        merge_mode=mode or MergeMode.concat,
        tokens=kind,
        embed=width,
        head=classes,
        each_step=bool(each_step),
    )


def make_batch(
    words: Sequence[str], vocab: str | None = None, spec: ProbeSpec | None = None
) -> Batch:
    """The vocabulary and the model's input (one-hot x_data, or ids for an Embedding);
    with a spec, refused first if the probe won't fit."""
    kind = spec.tokens if spec is not None else Tokens.char
    tokens = vocabulary(words, vocab, kind)
    embedded = spec is not None and spec.network(0).input.name == "ids"  # <pad> gets an id
    if spec is not None:
        time = max(len(w.split()) for w in words) if kind is Tokens.word else max(map(len, words))
        check_probe_memory(spec, len(words), time, len(tokens) + embedded)
    return build_batch(words, tokens, tokens=kind, ids=embedded)


def vocab(
    words: Sequence[str], vocab: str | None = None, tokens: Tokens | str = Tokens.char
) -> Batch:
    """`rnnprobe vocab`: the vocabulary and x_data, without a model."""
    kind = choice(Tokens, "tokens", tokens)
    return build_batch(words, vocabulary(words, vocab, kind), tokens=kind)


def check_torch(*, steps: bool = False, diagram: bool = False) -> None:
    """`--torch` needs PyTorch, and shows no steps or diagram of the twin."""
    from rnnprobe.core import twin

    for name, on in (("steps", steps), ("diagram", diagram)):
        if on:
            raise InputError(
                Param("torch"), " shows the PyTorch twin's tensors; it does not combine with ",
                Param(name),
            )  # fmt: skip
    twin.require()


def check_drawn(name: str, number: int | None, count: int) -> int:
    """The word (or pair) to draw, counted from 1: one of the `count` given (default 1)."""
    if number is None:
        return 1
    if not 1 <= number <= count:
        raise InputError(Param(name), f" {number}: give a {name} from 1 to {count}")
    return number


def check_at(at: Any, batch: Batch, *, steps: bool) -> int | None:
    """The step of word 1 to work out: one of its real steps (default: its last)."""
    if at is None:
        return batch.lengths[0] - 1 if steps else None
    if not steps:
        raise InputError(Param("at"), " needs ", Param("steps"))
    last = batch.lengths[0] - 1
    if not isinstance(at, numbers.Integral) or isinstance(at, bool) or not 0 <= int(at) <= last:
        raise InputError(
            Param("at"),
            f" {at!r}: word 1 {(batch.words or ('',))[0]!r} has steps 0 to {last}",
        )
    return int(at)


def run(
    words: Sequence[str],
    spec: ProbeSpec,
    *,
    vocab: str | None = None,
    seed: int | None = None,
    check: bool = False,
    steps: bool = False,
    at: int | None = None,
    batch: Batch | None = None,
    torch: bool = False,
    expected: int = 1,
) -> ProbeResult:
    """`rnnprobe run`: build the RNN, seed it, call it on the words.

    `check` compares Keras with rnnprobe's numpy engine; `steps` traces every step with it
    (word 1's step `at`, by default its last, written out) after checking that the trace
    gives what Keras returned. Without a seed one is drawn (and kept in the result). A
    `batch` already made from the same words and vocab saves making it again. `expected`:
    how many probes of this structure, this one included, are known to come (`batch`).
    """
    # The model's modules load with the first probe: `vocab` and `--help` never need them.
    import numpy as np

    from rnnprobe.core import check as numpy_check
    from rnnprobe.core import engine
    from rnnprobe.core import steps as stepwise
    from rnnprobe.core.keras import probe
    from rnnprobe.core.result import Steps

    seed = check_seed(seed)
    if torch:
        check_torch(steps=steps)
    batch = batch if batch is not None else make_batch(words, vocab, spec)
    at = check_at(at, batch, steps=steps)
    result = probe.run_probe(batch, spec, resolve_seed(seed), expected=expected)
    if torch:
        from rnnprobe.core import twin

        result = replace(result, torch=twin.twin(result))
    if not (check or steps):
        return result
    traced = engine.trace(
        spec,
        batch.input.array,
        np.asarray(batch.lengths),
        {w.name: w.array for w in result.weights},
        keep_steps=steps,
    )
    if check:
        result = replace(result, check=numpy_check.verify(result, traced.computed))
    if steps:
        diff = numpy_check.max_abs_diff(result, traced.computed)
        if not diff < numpy_check.TOLERANCE:
            raise RnnProbeError(
                f"the step-by-step numpy trace differs from what Keras returned by {diff:.3g} "
                f"(tolerance {numpy_check.TOLERANCE:g}): not shown"
            )
        assert at is not None
        found = Steps(at=at, traces=stepwise.step_traces(traced, at), max_abs_diff=diff)
        result = replace(result, steps=found)
    return result


def compare(
    words: Sequence[str], spec: ProbeSpec, *, vocab: str | None = None, seed: int | None = None
) -> CompareResult:
    """`rnnprobe compare`: both styles with the same weights, tensor by tensor."""
    from rnnprobe.core.keras import probe

    seed = check_seed(seed)
    batch = make_batch(words, vocab, spec)
    return probe.compare_styles(batch, spec, resolve_seed(seed))


def probe_layer(layer: Any, x_data: Any, mask: Any = None) -> ProbeResult:
    """`rnnprobe.probe`: call the user's own recurrent layer (or model) once on its input."""
    from rnnprobe.core.keras import env, user

    keras = env.load_keras()
    if isinstance(layer, keras.Model):
        if mask is not None:
            raise InputError(
                Param("mask"), " is for a recurrent layer: a model makes its own (Embedding)"
            )
        return user.probe_model(layer, x_data)
    return user.probe_layer(layer, x_data, mask)


def make_seq2seq_spec(
    *,
    cell: Cell | str = Cell.gru,
    hidden: int | str = 4,
    embed: int | str = 4,
    attention: bool = False,
    tokens: Tokens | str = Tokens.word,
) -> Seq2SeqSpec:
    """The encoder-decoder to build, checked: one layer of `hidden` units on each side."""
    from rnnprobe.core.encdec import Seq2SeqSpec

    sizes = hidden_sizes(hidden)
    if len(sizes) != 1:
        raise InputError(
            Param("hidden"), f" {hidden!r}: an encoder and a decoder of one layer take one size"
        )
    width = parse_embed(embed)
    if not isinstance(width, int):
        raise InputError(Param("embed"), f" {embed!r}: give a number of dimensions such as 4")
    return Seq2SeqSpec(
        cell=choice(Cell, "cell", cell),
        hidden=sizes[0],
        embed=width,
        attention=bool(attention),
        tokens=choice(Tokens, "tokens", tokens),
    )


def pairs_from_sentences(sentences: Sequence[str]) -> list[tuple[str, str]]:
    """SOURCE TARGET [SOURCE TARGET ...] as pairs; an odd count is a usage error."""
    if not sentences:
        raise InputError("no sentences given: give SOURCE TARGET pairs, or - to read them")
    if len(sentences) % 2:
        raise InputError(
            f"an odd number of sentences ({len(sentences)}): give SOURCE TARGET two by two"
        )
    return [(sentences[i], sentences[i + 1]) for i in range(0, len(sentences), 2)]


def pairs_from_text(text: str) -> list[tuple[str, str]]:
    """Tab-separated `source<TAB>target` lines (blank lines skipped)."""
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if line.count("\t") != 1:
            raise InputError(
                f"stdin line {number} {line[:40]!r}: give one tab between source and target"
            )
        source, target = line.split("\t")
        pairs.append((source, target))
    if not pairs:
        raise InputError("no pairs on stdin: give source<TAB>target lines")
    return pairs


def seq2seq(
    pairs: Sequence[tuple[str, str]],
    spec: Seq2SeqSpec,
    *,
    seed: int | None = None,
    check: bool = False,
    batches: tuple[Batch, Batch, Any] | None = None,
) -> Seq2SeqResult:
    """`rnnprobe seq2seq`: the encoder, the state handed over, the decoder (and attention)."""
    from rnnprobe.core import seq2seq as encoder_decoder

    seed = check_seed(seed)
    batches = batches or encoder_decoder.make_batches(pairs, spec)
    return encoder_decoder.run(pairs, spec, resolve_seed(seed), check=check, batches=batches)
