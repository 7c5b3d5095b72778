"""The options every command shares, parsed and checked: the network asked for (a
`ProbeSpec`, an encoder-decoder's `Seq2SeqSpec`), choices, whole numbers, the seed, and a
training's recipe (epochs, learning rate, batch size, how often the loss is printed).

Plain values in, checked values out; a bad one raises `InputError` naming the parameter.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import MAX_SEED, ONEHOT, Cell, MergeMode, Style, Tokens

if TYPE_CHECKING:  # loaded where a model is described: `vocab` needs none of them
    from rnnprobe.core.stages import ProbeSpec
    from rnnprobe.core.stages.encdec import Seq2SeqSpec

Choice = TypeVar("Choice", bound=Enum)
DEFAULT_EPOCHS = 50
DEFAULT_LR = 0.1  # the char-RNN lab's


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


def make_seq2seq_spec(
    *,
    cell: Cell | str = Cell.gru,
    hidden: int | str = 4,
    embed: int | str = 4,
    attention: bool = False,
    tokens: Tokens | str = Tokens.word,
) -> Seq2SeqSpec:
    """The encoder-decoder to build, checked: one layer of `hidden` units on each side."""
    from rnnprobe.core.stages.encdec import Seq2SeqSpec

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


def check_drawn(name: str, number: int | None, count: int) -> int:
    """The word (or pair) to draw, counted from 1: one of the `count` given (default 1)."""
    if number is None:
        return 1
    if not 1 <= number <= count:
        article = "an" if name[0] in "aeiou" else "a"
        raise InputError(Param(name), f" {number}: give {article} {name} from 1 to {count}")
    return number


def positive_int(name: str, value: Any) -> int:
    """A whole number of at least 1 (epochs, batch size, every)."""
    text = str(value).strip()
    if isinstance(value, bool) or not (
        isinstance(value, numbers.Integral) or (text.isascii() and text.isdecimal())
    ):
        raise InputError(Param(name), f" {value!r}: give a whole number such as 10")
    if int(text) < 1:
        raise InputError(Param(name), f" {value!r}: give at least 1")
    return int(text)


def learning_rate(value: Any) -> float:
    """A learning rate: a finite number above 0."""
    try:
        rate = float(value)
    except (TypeError, ValueError):
        raise InputError(Param("lr"), f" {value!r}: give a number such as 0.1") from None
    if isinstance(value, bool) or not math.isfinite(rate) or rate <= 0:
        raise InputError(Param("lr"), f" {value!r}: give a finite number above 0, such as 0.1")
    return rate


def default_every(epochs: int) -> int:
    """Print the loss every this many epochs: about ten lines."""
    return max(1, math.ceil(epochs / 10))


def shown_epochs(epochs: int, every: int) -> list[int]:
    """The epochs whose loss is printed: the first, every `every`-th, and the last."""
    return sorted({1, epochs, *range(every, epochs + 1, every)})


def vocab_limits(max_vocab: Any, min_count: Any) -> dict[str, Any]:
    """`max_vocab` and `min_count`, checked (each at least 1, or None)."""
    return {
        "max_vocab": None if max_vocab is None else positive_int("max_vocab", max_vocab),
        "min_count": None if min_count is None else positive_int("min_count", min_count),
    }
