"""How a number, a vector, a token, a shape or a verdict looks in a table or a line, and
the key columns (step and token) every per-word table starts with."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import RenderableType
from rich.text import Text

from rnnprobe.core.batch import Batch, Tensor
from rnnprobe.core.inputs.vocab import show_char
from rnnprobe.core.kinds import PAD, SHOWN_WORDS, UNK, Tokens
from rnnprobe.show.widgets import BLANK, BlockTable, Column, OneLine, number


def shape_text(shape: Sequence[int]) -> str:
    """A shape as Python prints a tuple: `(3, 5, 4)`, `(2,)`."""
    return str(tuple(shape))


def one_hot(value: float) -> Text:
    return Text("1", style="bold cyan") if value else Text("0", style="dim")


def one_hot_columns(batch: Batch) -> list[Column]:
    """A column per token of the vocabulary, named by the token."""
    return [Column(label(token), justify="center") for token in batch.vocab or ()]


def one_hot_cells(batch: Batch, index: int, step: int) -> list[RenderableType]:
    assert batch.x_data is not None
    return [one_hot(v) for v in batch.x_data.array[index, step]]


def probability(value: float) -> Text:
    style = "bold" if value >= 0.5 else "dim" if value < 0.1 else ""
    return Text(f"{value:.4f}", style=style)


def step_value(value: float) -> Text:
    """A step quantity: four decimals, or a dash where a padded step discarded it."""
    return Text("-", style="dim") if np.isnan(value) else number(value)


def vector(name: str, values: np.ndarray, note: str = "") -> Text:
    """`name = [v v v]`, with a dim note after it."""
    line = Text(f"{name} = [", style="bold")
    for i, value in enumerate(values):
        line.append(" " if i else "")
        line.append_text(number(float(value)))
    line.append("]", style="bold")
    if note:
        line.append(f"   {note}", style="dim")
    return line


def label(token: str) -> str:
    """A token as a column or row label: a character made readable, a word as it is."""
    return show_char(token) if len(token) == 1 else token


def code(lines: Sequence[str]) -> list[RenderableType]:
    return [OneLine(Text(line, style="bold")) for line in lines]


def verdict(ok: bool, good: str, bad: str, said: str) -> OneLine:
    """`✓ good: said` in green, or `✗ bad: said` in red, never wrapped."""
    line = Text(f"✓ {good}" if ok else f"✗ {bad}", style="bold")
    line.stylize("green" if ok else "red")
    line.append(said)
    return OneLine(line)


def check_line(ok: bool, max_abs_diff: float, tolerance: float) -> OneLine:
    return verdict(
        ok, "check ok", "check FAILED",
        f": numpy re-computation vs Keras, max |diff| = {max_abs_diff:.3g} "
        f"(tolerance {tolerance:.3g})",
    )  # fmt: skip


def shown_words(batch: Batch, all_words: bool) -> range:
    """The words that get a table: the first few, or all of them with --all."""
    total = len(batch.lengths)
    if all_words or total <= SHOWN_WORDS:
        return range(total)
    return range(SHOWN_WORDS)


def more_note(batch: Batch, shown: range) -> list[RenderableType]:
    hidden = len(batch.lengths) - len(shown)
    if not hidden:
        return []
    note = Text(
        f"... {hidden:,} more word{'s' if hidden != 1 else ''} "
        "(use --all to show every word, or --json)",
        style="dim",
    )
    return [BLANK, note]


VOCAB_LISTED_UP_TO = 50  # tokens a vocabulary line lists whole; a longer one is summed up
MOST_FREQUENT = 10  # tokens the summary of a long vocabulary names, with their counts


def vocab_tokens(vocab: Sequence[str], words: Sequence[str] | None, tokens: Tokens,
                 *, whole: bool = False, counts: dict[str, int] | None = None) -> Text:  # fmt: skip
    """A vocabulary's tokens, all of them; or, when long (and not `whole`), a summary: the
    most frequent with their counts (`counts`, or counted in `words`), how many appear only
    once, and how many tokens read as `<unk>`."""
    from rnnprobe.core.inputs.vocab import counted, unknown_tokens

    if whole or len(vocab) <= VOCAB_LISTED_UP_TO or not (words or counts):
        line = Text(" ".join(label(c) for c in vocab))
        left = unknown_tokens(words or (), vocab, tokens) if UNK in vocab else []
        if left:
            shown = " ".join(label(t) for t in left[:VOCAB_LISTED_UP_TO])
            more = len(left) - VOCAB_LISTED_UP_TO
            line.append(f"   read as {UNK}: {shown}" + (f" and {more:,} more" if more > 0 else ""),
                        style="yellow")  # fmt: skip
        return line

    found = counts if counts is not None else counted(words or (), tokens)
    known = set(vocab)
    ranked = [(n, i, t) for i, (t, n) in enumerate(found.items()) if t in known]
    top = sorted(ranked, key=lambda item: (-item[0], item[1]))[:MOST_FREQUENT]
    once = sum(1 for n, _, _ in ranked if n == 1)
    line = Text("the most frequent: ")
    line.append(" ".join(f"{label(t)}({n:,})" for n, _, t in top))
    line.append(f"; {once:,} appear once", style="dim")
    if UNK in known:  # counted in every row, held-out ones too
        every = counted(words, tokens) if words else found
        rest = [n for t, n in every.items() if t not in known]
        line.append(f"; {len(rest):,} others ({sum(rest):,} times) read as {UNK}", style="dim")
    line.append(" (--all lists every token, --json too)", style="dim")
    return line


def vocab_line(batch: Batch, *, whole: bool = False, counts: dict[str, int] | None = None) -> Text:
    if batch.vocab is None:  # the user's own x_data
        line = Text(f"{batch.input.name}: {len(batch.lengths)} sequences", style="bold")
    else:
        kind = " words" if batch.tokenizer is Tokens.word else ""
        line = Text(f"vocab ({len(batch.vocab):,}{kind}): ", style="bold")
        line.append_text(vocab_tokens(batch.vocab, batch.words, batch.tokenizer, whole=whole,
                                      counts=counts))  # fmt: skip
    lengths = list(batch.lengths)
    shown = str(lengths) if len(lengths) <= VOCAB_LISTED_UP_TO or whole else (
        f"{len(lengths):,} rows of {min(lengths)} to {max(lengths)} tokens")  # fmt: skip
    line.append(f"    lengths: {shown}", style="dim")
    return line


def names_line(title: str, names: Sequence[str], *, whole: bool = False) -> Text:
    """`title (N): a b c`, the first names only when there are many (all with `whole`)."""
    line = Text(f"{title} ({len(names):,}): ", style="bold")
    if whole or len(names) <= VOCAB_LISTED_UP_TO:
        return line.append(" ".join(label(c) for c in names), style="")
    line.append(" ".join(label(c) for c in names[:VOCAB_LISTED_UP_TO]), style="")
    return line.append(f" ... {len(names) - VOCAB_LISTED_UP_TO:,} more (--all lists them, "
                       "--json too)", style="dim")  # fmt: skip


def keys(batch: Batch) -> list[Column]:
    """The key columns of a per-step table: the step, and its token (or `pad`)."""
    header = "word" if batch.tokenizer is Tokens.word else "char"
    return [Column("t", justify="right", style="dim"), Column(header if batch.words else "")]


def step_keys(batch: Batch, index: int, step: int) -> list[RenderableType]:
    """The t and token cells of a row: the token, or `pad` after the word's end."""
    if step >= batch.lengths[index]:
        shown = PAD if batch.ids is not None else "pad"
        return [Text(str(step)), Text(shown, style="dim italic")]
    tokens = batch.tokens
    token = show_char(tokens[index][step]) if tokens is not None else ""
    return [Text(str(step)), Text(token)]


def word_title(batch: Batch, index: int) -> Text:
    length = batch.lengths[index]
    if batch.words is None:
        title = Text(f"sequence {index + 1}", style="bold")
    else:
        kind = "sentence" if batch.tokenizer is Tokens.word else "word"
        title = Text(f"{kind} {index + 1}: ", style="bold")
        title.append(batch.words[index])
    title.append(f"  ({length} step{'s' if length != 1 else ''})", style="dim")
    return title


def weight_table(tensor: Tensor, vocab: Sequence[str] | None) -> RenderableType:
    """A weight as a table: one row per input (a token's row is labelled by the token)."""
    from rich.console import Group

    title = Text(f"{tensor.name} {shape_text(tensor.shape)}", style="bold")
    title.append(f" = {' x '.join(tensor.dims)}", style="dim")
    matrix = tensor.array.reshape(-1, tensor.shape[-1])
    data = [Column(str(column), justify="right") for column in range(matrix.shape[1])]
    table = BlockTable([Column("row", style="dim")], data)
    by_token = vocab is not None and tensor.dims[0] == "vocab"
    for row_index, row in enumerate(matrix):
        if tensor.array.ndim == 1:
            shown = "-"
        else:
            shown = label(vocab[row_index]) if vocab is not None and by_token else str(row_index)
        table.add_row([Text(shown), *(number(float(v)) for v in row)])
    return Group(title, table)


def _norm(value: float, digits: str, largest: float = 0.0) -> str:
    """A norm in `digits`; one too small to show there (a gradient just starting to flow,
    not a zero one) in three significant digits; one that float32 cannot tell from 0 (below
    `NOISE` of the `largest` in its table) as 0, said so."""
    if 0 < value < NOISE * largest:
        return f"0 (float noise: {value:.0e})"
    shown = format(value, digits)
    if value != 0 and float(shown) == 0:
        return f"{value:.3g}"
    return shown


# A gradient norm below this fraction of the largest in its table is float32's rounding, not
# a gradient: float32 keeps about 7 significant digits, so sums of values near the largest
# leave errors of about 1e-7 of it (a bias in front of a softmax over the same axis, which
# ignores a constant, shows about 1e-11 where its exact gradient is 0).
NOISE = 1e-6
NOISE_NOTE = (
    "0 (float noise: ...): below a millionth of the largest norm, which float32 cannot tell from 0"
)


def gradients_table(
    weights: Sequence[Tensor],
    gradients: Sequence[Tensor],
    *,
    clipped: Sequence[Tensor] | None = None,
    digits: str = ".4f",
) -> RenderableType:
    """Every weight with its gradient's shape (the weight's) and norm; a frozen weight says
    so; with `clipped`, the norm after clipping too."""
    import numpy as np
    from rich.table import Table

    table = Table(show_edge=False)
    headings = ["weight", "shape", "gradient", "norm", *(["clipped"] if clipped else [])]
    for heading in headings:
        table.add_column(heading, justify="left" if heading in ("weight", "gradient") else "right")
    found = {g.name: g for g in gradients}
    after = {g.name: g for g in clipped or ()}
    norms = [float(np.linalg.norm(g.array)) for g in gradients]
    largest = max((n for n in norms if np.isfinite(n)), default=0.0)
    noisy = False
    for weight in weights:
        gradient = found.get(weight.name)
        if gradient is None:
            rest = ["-"] * (len(headings) - 3)
            table.add_row(weight.name, shape_text(weight.shape), "frozen, no gradient", *rest,
                          style="dim")  # fmt: skip
            continue
        norm = float(np.linalg.norm(gradient.array))
        cells = [weight.name, shape_text(weight.shape), shape_text(gradient.shape),
                 _norm(norm, digits, largest)]  # fmt: skip
        if clipped:
            cells.append(_norm(float(np.linalg.norm(after[weight.name].array)), digits, largest))
        noisy = noisy or "noise" in cells[3]
        table.add_row(*cells, style=None if np.isfinite(norm) else "bold red")
    if noisy:
        table.caption, table.caption_justify = NOISE_NOTE, "left"
    return table
