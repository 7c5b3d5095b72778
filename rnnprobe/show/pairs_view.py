"""`seq2seq --train` as rich views: the recipe, pair 1's masked loss laid out, the first
gradients, the loss curve, the teacher-forced predictions before and after, then the greedy
decoding loop of every source (and its attention), step by step.

The parts `train` shows too are `train_view`'s; nothing is computed here.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.commands.decoding import Decoded
from rnnprobe.core.commands.seq2seq_train import PairsTraining
from rnnprobe.core.kinds import EOS, SHOWN_WORDS, TOLERANCE, UNK
from rnnprobe.show import keras_code, seq2seq_code, seq2seq_view, train_view
from rnnprobe.show.cells import check_line, code, names_line, probability
from rnnprobe.show.widgets import BLANK, BlockTable, Column

MODES = (
    "training is teacher forcing: the decoder reads <bos> + the whole target at once; "
    "decoding is a loop: <bos> in, a token out, fed back in, the state carried by hand"
)


def recipe(result: PairsTraining, *, whole: bool = False) -> list[RenderableType]:
    """The layers, the decoder's loss and the optimizer as the lab writes them, the plan."""
    network = result.network
    lines = [
        *seq2seq_code.seq2seq_layer_lines(network),
        *keras_code.loss_lines(network.decoder.loss),
        train_view.optimizer_line(result),
    ]
    return [
        Text(f"task: {train_view.task_line(result.data)}", style="bold"),
        *code(lines),
        train_view.plan(result),
        Text(f"seed {result.seed}", style="dim"),
        seq2seq_view.vocab_line("source", result.source, whole=whole),
        seq2seq_view.vocab_line("target", result.data.batch, whole=whole),
    ]


def loop_table(decoded: Decoded) -> BlockTable:
    """The greedy loop: step, the token fed in, the token predicted and its probability."""
    table = BlockTable(
        [Column("step", justify="right", style="dim"), Column("input")],
        [Column("predicted"), Column("p", justify="right")],
    )
    for number, step in enumerate(decoded.steps):
        style = "bold green" if step.predicted == EOS else "bold"
        table.add_row([Text(str(number)), Text(step.input), Text(step.predicted, style=style),
                       probability(step.probability)])  # fmt: skip
    return table


def decoded_parts(result: PairsTraining, decoded: Decoded, title: Text) -> list[RenderableType]:
    """One source decoded: its loop, what it gives, and what each step read of the source."""
    parts: list[RenderableType] = [BLANK, title, loop_table(decoded)]
    sentence = " ".join(decoded.sentence) if result.spec.tokens.value == "word" else "".join(
        decoded.sentence
    )  # fmt: skip
    line = Text("decoded: ", style="bold").append(sentence or "(nothing)", style="bold")
    if decoded.expected is not None:
        right = decoded.reached_eos and list(decoded.sentence) == _tokens(result, decoded.expected)
        line.append("   ✓ the target" if right else f"   ✗ the target is {decoded.expected}",
                    style="green" if right else "red")  # fmt: skip
    parts.append(line)
    if decoded.unknown:
        unknown = " ".join(decoded.unknown)
        parts.append(Text(f"read as {UNK} (not in the source vocabulary): {unknown}",
                          style="yellow"))  # fmt: skip
    if not decoded.reached_eos:
        parts.append(Text(f"no <eos> within --max-steps {result.max_steps}: the loop stopped "
                          "there", style="yellow"))  # fmt: skip
    if decoded.attention is not None:
        source = _tokens(result, decoded.source)
        inputs = [step.input for step in decoded.steps]
        parts += [
            Text("attention of each decoded step over the source (each row sums to 1)",
                 style="dim"),
            seq2seq_view.attention_table(source, len(source), inputs, decoded.attention),
        ]  # fmt: skip
    return parts


def _tokens(result: PairsTraining, sentence: str) -> list[str]:
    return sentence.split() if result.spec.tokens.value == "word" else list(sentence)


def decoding_parts(result: PairsTraining, all_pairs: bool) -> list[RenderableType]:
    """Every pair's source (the first few without --all), then each --translate."""
    parts: list[RenderableType] = [
        BLANK,
        Text("greedy decoding after training, pair by pair:", style="bold"),
        Text(MODES, style="dim"),
    ]
    pairs = result.pairs
    shown = pairs if all_pairs or len(pairs) <= SHOWN_WORDS else pairs[:SHOWN_WORDS]
    for number, decoded in enumerate(shown, start=1):
        title = Text(f"pair {number}: ", style="bold").append(decoded.source)
        parts += decoded_parts(result, decoded, title)
    if len(shown) < len(pairs):
        parts += [BLANK, Text(f"... {len(pairs) - len(shown):,} more pairs (use --all, or "
                              "--json)", style="dim")]  # fmt: skip
    for decoded in result.translations:
        title = Text("--translate: ", style="bold").append(decoded.source)
        parts += decoded_parts(result, decoded, title)
    return parts


def pairs_view(result: PairsTraining, *, weights: bool = False, all_pairs: bool = False,
               diagram: int | None = None) -> Group:  # fmt: skip
    """`seq2seq --train`: the recipe, the loss, the training, then the decoding loops."""
    parts: list[RenderableType] = [*recipe(result, whole=all_pairs), BLANK]
    parts += train_view.loss_layout(result.network.decoder.loss, result)
    parts += [BLANK, train_view.first_gradients(result), BLANK]
    parts += train_view.history_lines(result)
    if result.stopped:
        parts += [BLANK, Text(result.stopped, style="bold red")]
    parts += [BLANK, Text("teacher-forced predictions before and after training (the decoder "
                          "reads the true target):", style="bold")]  # fmt: skip
    parts.append(train_view.predictions_table(result, all_pairs))
    initial, final = result.initial, result.final
    parts.append(Text(f"accuracy {initial.accuracy:.2f} -> {final.accuracy:.2f}, loss "
                      f"{initial.loss:.4f} -> {final.loss:.4f}", style="bold"))  # fmt: skip
    parts += decoding_parts(result, all_pairs)
    if diagram is not None:
        parts += [BLANK, Text("the trained network, teacher-forced:", style="bold"),
                  seq2seq_view.seq2seq_diagram(result.probe, diagram)]  # fmt: skip
    if weights:
        parts += seq2seq_view.weight_tables(result.probe)
    if result.check is not None:
        parts += [BLANK, check_text(result)]
    return Group(*parts)


def check_text(result: PairsTraining) -> RenderableType:
    found = result.check
    assert found is not None
    line = check_line(found.ok, found.max_abs_diff, TOLERANCE)
    line.text.append(
        f"; the final teacher-forced loss and the greedy loop, in numpy from the trained "
        f"weights (loss {found.loss_diff:.3g}, decoding {found.decoding_diff:.3g}, "
        f"{'the same' if found.same_tokens else 'other'} tokens)"
    )
    return line


def pairs_shapes_view(result: PairsTraining) -> Group:
    """`seq2seq --train --shapes`: the recipe, then every tensor's and weight's shape."""
    table: Table = seq2seq_view.shapes_table(result.probe, params=True)
    parts: list[RenderableType] = [*recipe(result), table]
    if result.check is not None:
        parts.append(check_text(result))
    return Group(*parts)


def translations_view(result: Any) -> Group:
    """`seq2seq --load FILE --translate ...`: the loaded network, then each sentence's loop."""
    spec = result.spec
    parts: list[RenderableType] = [
        Text(f"loaded from {result.path}: the encoder and the decoder ({spec.cell.value}, "
             f"hidden {spec.hidden}, embed {spec.embed}"
             f"{', attention' if spec.attention else ''}; trained with seed {result.seed})",
             style="bold"),
        names_line("source vocab", result.source_vocab),
        names_line("target vocab", result.target_vocab),
        Text(MODES, style="dim"),
    ]  # fmt: skip
    for decoded in result.decoded:
        title = Text("--translate: ", style="bold").append(decoded.source)
        parts += decoded_parts(result, decoded, title)
    return Group(*parts)
