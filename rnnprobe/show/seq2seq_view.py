"""`rnnprobe seq2seq` as rich views: tables in the order the data flows, and a picture.

Nothing is computed here: every number, shape and prediction comes from the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.commands.seq2seq import Seq2SeqResult
from rnnprobe.core.kinds import SHOWN_WORDS, TOLERANCE
from rnnprobe.core.result import Batch, Tensor
from rnnprobe.show import seq2seq_code
from rnnprobe.show.cells import (
    VOCAB_LISTED_UP_TO,
    check_line,
    code,
    shape_text,
    vector,
    vocab_tokens,
    weight_table,
)
from rnnprobe.show.grid import Grid, finished, fitted
from rnnprobe.show.widgets import BLANK, BlockTable, Column, number

SHADES = " ░▒▓█"  # attention weight 0 to 1, as a picture


def vocab_line(name: str, batch: Batch, *, whole: bool = False) -> Text:
    vocab = batch.vocab or ()
    line = Text(f"{name} vocab ({len(vocab):,}): ", style="bold")
    if whole or len(vocab) <= VOCAB_LISTED_UP_TO:
        line.append(" ".join(vocab))
    else:
        line.append_text(vocab_tokens(vocab, batch.words, batch.tokenizer))
    lengths = list(batch.lengths)
    shown = str(lengths) if whole or len(lengths) <= VOCAB_LISTED_UP_TO else (
        f"{len(lengths):,} rows of {min(lengths)} to {max(lengths)} tokens")  # fmt: skip
    line.append(f"    lengths: {shown}", style="dim")
    return line


def _header(result: Seq2SeqResult) -> list[RenderableType]:
    lines = seq2seq_code.seq2seq_layer_lines(result.network)
    return [
        *code(lines),
        Text(f"seed {result.seed}", style="dim"),
        vocab_line("source", result.source),
        vocab_line("target", result.target),
    ]


def _roles(result: Seq2SeqResult) -> list[tuple[str, Tensor, str]]:
    """(label, tensor, role) in the order the data flows."""
    source, target = result.source, result.target
    assert source.ids is not None and target.ids is not None
    found = [
        ("source_ids", source.ids, "encoder input"),
        ("source_emb", result.source_embedding, "embedded"),
        ("enc_outputs", result.encoder_outputs, "encoder outputs"),
        *((f"enc_{s.name}", s, "encoder state") for s in result.encoder_states),
        ("decoder_input", target.ids, "<bos> + target"),
        ("decoder_target", result.decoder_target, "target + <eos>"),
        ("target_emb", result.target_embedding, "embedded"),
        *((f"initial_state {s.name}", s, "handed over") for s in result.initial_state),
    ]
    if result.attention_weights is not None and result.context is not None:
        found += [
            ("attention weights", result.attention_weights, "attention"),
            ("context", result.context, "attention"),
        ]
    found += [
        ("dec_outputs", result.decoder_outputs, "decoder outputs"),
        *((f"dec_{s.name}", s, "decoder state") for s in result.decoder_states),
        ("logits", result.logits, "head"),
    ]
    return found


def shapes_table(result: Seq2SeqResult, *, params: bool = False) -> Table:
    table = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes", "role", *(("params",) if params else ())):
        table.add_column(heading, justify="right" if heading in ("shape", "params") else "left")
    for label, tensor, role in _roles(result):
        table.add_row(label, shape_text(tensor.shape), " x ".join(tensor.dims), role,
                      *(("",) if params else ()))  # fmt: skip
    if params:
        for weight in result.weights:
            table.add_row(weight.name, shape_text(weight.shape), " x ".join(weight.dims),
                          "weight", f"{weight.array.size:,}")  # fmt: skip
    return table


def handover_line(result: Seq2SeqResult) -> Text:
    """The hand-over in words: `decoder initial_state = encoder state h (2, 4)`."""
    states = ", ".join(f"{s.name} {shape_text(s.shape)}" for s in result.encoder_states)
    line = Text("decoder initial_state = encoder state ", style="bold")
    line.append(states, style="bold magenta")
    line.append(
        "  (the decoder's first step starts from the encoder's last real step)", style="dim"
    )
    return line


def _tokens(batch: Batch, index: int) -> list[str]:
    tokens = batch.tokens
    return list(tokens[index]) if tokens is not None else []


def _pair_title(result: Seq2SeqResult, index: int) -> Text:
    title = Text(f"pair {index + 1}: ", style="bold")
    title.append((result.source.words or ())[index])
    title.append("  ->  ", style="dim")
    title.append((result.target.words or ())[index])
    return title


def _encoder_table(result: Seq2SeqResult, index: int) -> BlockTable:
    source = result.source
    assert source.ids is not None
    units = result.encoder_outputs.shape[-1]
    data = [Column("id", justify="right")] + [
        Column(f"out {u}", justify="right") for u in range(units)
    ]
    table = BlockTable([Column("t", justify="right", style="dim"), Column("source")], data)
    tokens = _tokens(source, index)
    for step in range(source.time):
        real = step < source.lengths[index]
        word = Text(tokens[step]) if real else Text("<pad>", style="dim italic")
        cells: list[RenderableType] = [Text(str(step)), word]
        cells.append(Text(str(int(source.ids.array[index, step]))))
        cells += [number(float(v)) for v in result.encoder_outputs.array[index, step]]
        table.add_row(cells, style=None if real else "dim")
    return table


def _decoder_table(result: Seq2SeqResult, index: int) -> BlockTable:
    target = result.target
    vocab = target.vocab or ()
    units = result.decoder_outputs.shape[-1]
    data = [Column(f"out {u}", justify="right") for u in range(units)]
    data += [Column("predicted"), Column("expected")]
    keys = [Column("t", justify="right", style="dim"), Column("input")]
    table = BlockTable(keys, data)
    inputs = ["<bos>", *_tokens(target, index)]
    for step in range(target.time):
        real = step < target.lengths[index]
        word = Text(inputs[step]) if real else Text("<pad>", style="dim italic")
        cells: list[RenderableType] = [Text(str(step)), word]
        cells += [number(float(v)) for v in result.decoder_outputs.array[index, step]]
        predicted = vocab[int(result.predicted.array[index, step])]
        expected = vocab[int(result.decoder_target.array[index, step])]
        right = real and predicted == expected
        cells.append(Text(predicted, style="green" if right else ""))
        cells.append(Text(expected if real else "-", style="" if real else "dim"))
        table.add_row(cells, style=None if real else "dim")
    return table


def _attention_table(result: Seq2SeqResult, index: int) -> BlockTable:
    """Target steps x source words: how much each decoder step reads of each source word."""
    assert result.attention_weights is not None
    source, target = result.source, result.target
    words = _tokens(source, index)
    shown = [words[s] if s < source.lengths[index] else "<pad>" for s in range(source.time)]
    inputs = ["<bos>", *_tokens(target, index)][: target.lengths[index]]
    weights = result.attention_weights.array[index, : target.lengths[index]]
    return attention_table(shown, source.lengths[index], inputs, weights)


def attention_table(source: Sequence[str], real: int, inputs: Sequence[str],
                    weights: np.ndarray) -> BlockTable:  # fmt: skip
    """A row per decoder step (its input), a column per source token (the first `real` ones
    real, the rest padding): the step's attention weight on each."""
    data = [Column(token, justify="right") for token in source]
    table = BlockTable([Column("t", justify="right", style="dim"), Column("input")], data)
    for step, fed in enumerate(inputs):
        cells: list[RenderableType] = [Text(str(step)), Text(fed)]
        for s, weight in enumerate(weights[step]):
            shade = "bold yellow" if weight >= 0.5 else "yellow" if weight >= 0.2 else "dim"
            cells.append(Text(f"{float(weight):.4f}", style="dim" if s >= real else shade))
        table.add_row(cells)
    return table


def _pair_parts(result: Seq2SeqResult, index: int) -> list[RenderableType]:
    parts: list[RenderableType] = [BLANK, _pair_title(result, index)]
    parts += [Text("encoder", style="dim"), _encoder_table(result, index)]
    for state in result.encoder_states:
        note = "handed over: the decoder's initial state"
        parts.append(vector(f"enc_{state.name}", state.array[index], note))
    if result.attention_weights is not None and result.context is not None:
        parts += [
            Text(
                "attention weights (each row sums to 1 over the real source words; 0 on padding)",
                style="dim",
            ),
            _attention_table(result, index),
            Text(
                f"context {shape_text((result.context.shape[0], result.context.shape[2]))} "
                "per step = the weights · enc_outputs, read with the step's embedding as "
                f"({result.spec.embed} + {result.spec.hidden},)",
                style="dim",
            ),
        ]
    parts += [Text("decoder (teacher forcing: it reads <bos> + the target)", style="dim")]
    parts.append(_decoder_table(result, index))
    parts += [vector(f"dec_{s.name}", s.array[index]) for s in result.decoder_states]
    return parts


def seq2seq_view(
    result: Seq2SeqResult,
    *,
    weights: bool = False,
    all_pairs: bool = False,
    diagram: int | None = None,
) -> Group:
    """The code, the two vocabularies, the shapes, the hand-over, then each pair."""
    parts: list[RenderableType] = [*_header(result), shapes_table(result)]
    parts += code(seq2seq_code.seq2seq_call_lines(result.network))
    parts.append(handover_line(result))
    if result.spec.attention:
        parts.append(
            Text(
                "the decoder passes its own state from step to step (the lecture's "
                "attention lab drops it and starts every step from zeros)",
                style="dim",
            )
        )
    if diagram is not None:
        parts += [BLANK, seq2seq_diagram(result, diagram)]
    else:
        count = len(result.source.lengths)
        shown = range(count) if all_pairs or count <= SHOWN_WORDS else range(SHOWN_WORDS)
        for index in shown:
            parts += _pair_parts(result, index)
        if len(shown) < count:
            more = count - len(shown)
            note = f"... {more:,} more pair{'s' if more != 1 else ''} (use --all, or --json)"
            parts += [BLANK, Text(note, style="dim")]
    if weights:
        parts += weight_tables(result)
    if result.check is not None:
        parts += [BLANK, check_line(result.check.ok, result.check.max_abs_diff, TOLERANCE)]
    return Group(*parts)


def weight_tables(result: Seq2SeqResult) -> list[RenderableType]:
    """Every weight as a table; an Embedding's rows named by its vocabulary."""
    vocabs = {"encoder/embeddings": result.source.vocab, "decoder/embeddings": result.target.vocab}
    parts: list[RenderableType] = []
    for tensor in result.weights:
        parts += [BLANK, weight_table(tensor, vocabs.get(tensor.name))]
    return parts


def seq2seq_shapes_view(result: Seq2SeqResult) -> Group:
    """`seq2seq --shapes`: every tensor and weight with its shape; no values."""
    parts: list[RenderableType] = [*_header(result), shapes_table(result, params=True)]
    groups = {"encoder": 0, "decoder": 0, "head": 0, "attention": 0}
    for weight in result.weights:
        groups[weight.name.split("/")[0]] += int(weight.array.size)
    for name, count in groups.items():
        if count:
            parts.append(f"{name}: {count:,} parameters")
    parts.append(Text(f"total: {result.params:,} parameters", style="bold"))
    parts += code(seq2seq_code.seq2seq_call_lines(result.network))
    parts.append(handover_line(result))
    if result.check is not None:
        parts.append(check_line(result.check.ok, result.check.max_abs_diff, TOLERANCE))
    return Group(*parts)


def seq2seq_diagram(result: Seq2SeqResult, pair: int = 0) -> Group:
    """The encoder unrolled over the source, the state crossing to the decoder unrolled over
    its input, the logits on top; with attention, what each decoder step reads. Drawn on the
    same grid as `run --diagram`: one grid for the encoder's steps, one for the decoder's."""
    source, target = result.source, result.target
    label = result.spec.cell.keras_layer
    cell_width = max(len(label) + 4, 9) + 2
    left = 8
    encoder = Grid(left=left, step=cell_width, box=cell_width - 2, steps=range(source.time))
    decoder = Grid(left=left, step=cell_width, box=cell_width - 2, steps=range(target.time))
    src_tokens = _tokens(source, pair)
    tgt_inputs = ["<bos>", *_tokens(target, pair)]
    src_padded = [s >= source.lengths[pair] for s in range(source.time)]
    tgt_padded = [t >= target.lengths[pair] for t in range(target.time)]
    states = ", ".join(s.name for s in result.encoder_states)
    handover = f" {states} {shape_text(result.encoder_states[0].shape)} "
    gap = len(handover) + 4

    def texts(values: Sequence[str], style: str) -> list[Text]:
        return [Text(fitted(v, cell_width - 2), style=style) for v in values]

    def row(margin: str, src: Sequence[str], tgt: Sequence[str], style: str = "") -> Text:
        line = Text(margin.ljust(left), style="bold")
        line.append_text(encoder.pieces(texts(src, style)))
        line.append(" " * gap)
        line.append_text(decoder.pieces(texts(tgt, style)))
        return finished(line)

    def boxes(grid: Grid, padded: Sequence[bool]) -> list[list[Text]]:
        count = len(padded)
        return grid.boxes(
            lambda s: ("mask", "keep") if padded[s] else (label, ""),
            lambda s: "dim" if padded[s] else "bold cyan",
            lambda position: ("─▶", "cyan") if position < count - 1 else None,
        )

    vocab = target.vocab or ()
    logits = [shape_text((target.rows, len(vocab))) if not p else "·" for p in tgt_padded]
    predicted = [
        vocab[int(result.predicted.array[pair, t])] if not p else ""
        for t, p in enumerate(tgt_padded)
    ]
    lines = [
        _pair_title(result, pair).append("  unrolled", style="dim"),
        row("", ["encoder"] + [""] * (source.time - 1), ["decoder"] + [""] * (target.time - 1)),
        row("", [f"t={s}" for s in range(source.time)], [f"t={t}" for t in range(target.time)]),
        row("logits", [""] * source.time, logits, "green"),
        row("", [""] * source.time, predicted, "dim"),
        row("", [""] * source.time, ["▲" if not p else "" for p in tgt_padded], "cyan"),
    ]
    enc_boxes, dec_boxes = boxes(encoder, src_padded), boxes(decoder, tgt_padded)
    for position, (enc, dec) in enumerate(zip(enc_boxes, dec_boxes, strict=True)):
        line = Text(" " * left)
        line.append_text(encoder.pieces(enc))
        arrow = f"═{handover}═▶ " if position == 1 else " " * gap
        line.append(arrow[:gap].ljust(gap), style="bold magenta")
        line.append_text(decoder.pieces(dec))
        lines.append(finished(line))
    shown_src = [w if not p else "<pad>" for w, p in zip(src_tokens + [""] * source.time,
                                                           src_padded, strict=False)]  # fmt: skip
    shown_tgt = [w if not p else "<pad>" for w, p in zip(tgt_inputs + [""] * target.time,
                                                           tgt_padded, strict=False)]  # fmt: skip
    lines += [
        row("", ["▲"] * source.time, ["▲"] * target.time, "cyan"),
        row("tokens", shown_src[: source.time], shown_tgt[: target.time], "yellow"),
        row(
            "ids",
            [str(int(v)) for v in source.input.array[pair]],
            [str(int(v)) for v in target.input.array[pair]],
            "dim",
        ),
    ]
    notes = [
        f"the encoder's final state {states} {shape_text(result.encoder_states[0].shape)} "
        "becomes the decoder's initial_state",
        f"logits {shape_text(result.logits.shape)}: a score for each of the "
        f"{len(vocab)} target tokens at every step; the predicted token under each",
    ]
    if result.attention_weights is not None:
        lines += [Text(""), Text("attention: what each decoder step reads of the source",
                                 style="bold")]  # fmt: skip
        weights = result.attention_weights.array[pair]
        for t in range(target.lengths[pair]):
            line = Text(f"t={t}".ljust(left), style="dim")
            cells = []
            for s in range(source.time):
                weight = float(weights[t, s])
                shade = SHADES[min(len(SHADES) - 1, round(weight * (len(SHADES) - 1)))]
                style = "dim" if src_padded[s] else "yellow"
                cells.append(Text(fitted(shade * 3 + f" {weight:.2f}", cell_width - 2), style))
            line.append_text(encoder.pieces(cells))
            line.append(f" ◀─ {tgt_inputs[t]}", style="cyan")
            lines.append(finished(line))
        notes.append(
            "each decoder step t reads its context from every source step: the weights "
            "above (0 on <pad>), then [embedding, context] goes into the cell"
        )
    if any(src_padded) or any(tgt_padded):
        notes.append("mask/keep: a padded step keeps the state it gets")
    return Group(*lines, *(Text(n, style="dim") for n in notes))


__all__ = [
    "attention_table", "handover_line", "seq2seq_diagram", "seq2seq_shapes_view", "seq2seq_view",
    "weight_tables",
]  # fmt: skip
