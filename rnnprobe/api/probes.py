"""`rnnprobe.run`, `compare`, `vocab`, `probe` and `to_torch`: a probe's results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import RenderableType

from rnnprobe.api.shown import (
    Picture,
    Shown,
    array_of,
    check_of,
    window_of,
    words_of,
    words_or_text,
)
from rnnprobe.core import options
from rnnprobe.core.commands import run as commands
from rnnprobe.core.kinds import MergeMode, Tokens
from rnnprobe.core.result import Batch, CompareResult, ProbeResult, Tensor
from rnnprobe.show import jsonout, views, vocab_view


def _merge_mode(merge_mode: str | MergeMode | None, bidirectional: bool) -> Any:
    """The command's --merge-mode: the keyword's default stands for none given."""
    if not bidirectional and merge_mode in ("concat", MergeMode.concat):
        return None
    return merge_mode


def _torch(result: ProbeResult) -> dict[str, Any]:
    """`--torch`'s JSON object, with numpy arrays for its tensors."""
    twin = result.torch
    assert twin is not None

    def states(found: tuple[Tensor, ...]) -> Any:
        arrays = [t.array for t in found]
        return arrays[0] if len(arrays) == 1 else arrays

    return {
        "module": "\n".join(twin.modules),
        "state_dict": {t.name: t.array for t in twin.state_dict},
        "rules": list(twin.rules),
        "output": twin.output.array,
        "h_n": states(twin.h_n),
        "c_n": states(twin.c_n) if twin.c_n else None,
        "logits": array_of(twin.logits),
        "slices": list(twin.slices),
        "max_abs_diff": twin.max_abs_diff,
        "ok": twin.ok,
    }


class Vocabulary(Shown):
    """What `rnnprobe vocab` shows: the vocabulary and the one-hot x_data."""

    def __init__(self, batch: Batch) -> None:
        self.batch = batch
        self._keep(batch)

    def _view(self) -> RenderableType:
        return vocab_view.vocab_view(self.batch)

    def _json(self) -> dict[str, Any]:
        return jsonout.vocab_object(self.batch)

    def __repr__(self) -> str:
        shape = None if self.x_data is None else self.x_data.shape
        return f"<rnnprobe.Vocabulary vocab={''.join(self.vocab)!r} x_data {shape}>"


class Run(Shown):
    """What `rnnprobe run` shows (or `rnnprobe.probe` found): arrays by name, and tables.

    `outputs` and `x_data` are numpy arrays; `states` and `weights` map each name (`h`,
    `c`, `forward_h`, `1/h`; `kernel`, `1/forward/bias`) to its array, in Keras's order.
    """

    def __init__(self, result: ProbeResult) -> None:
        self.result = result
        batch = result.batch
        self._keep(batch)
        self.seed: int | None = result.seed
        self.outputs: np.ndarray = result.outputs.array
        self.states: dict[str, np.ndarray] = {s.name: s.array for s in result.states}
        self.weights: dict[str, np.ndarray] = {w.name: w.array for w in result.weights}
        self.params: int = result.params
        shown = (batch.x_data, batch.ids, result.embedding, result.outputs, *result.states)
        shown += (result.logits, result.probabilities, result.predictions, *result.weights)
        self.dims: dict[str, tuple[str, ...]] = {t.name: t.dims for t in shown if t is not None}
        self.tokens: np.ndarray | None = None if batch.ids is None else batch.ids.array
        self.mask: np.ndarray | None = None if result.mask is None else result.mask.array
        self.embedding: np.ndarray | None = array_of(result.embedding)
        self.logits: np.ndarray | None = array_of(result.logits)
        self.probabilities: np.ndarray | None = array_of(result.probabilities)
        self.predictions: np.ndarray | None = array_of(result.predictions)  # a regression head
        self.layers: list[dict[str, Any]] = jsonout.layers_list(result)
        self.torch: dict[str, Any] | None = None if result.torch is None else _torch(result)
        self.check: dict[str, Any] | None = check_of(result.check)
        self.steps: list[dict[str, Any]] | None = (
            None
            if result.steps is None
            else [
                {
                    "layer": trace.layer,
                    "direction": trace.direction,
                    "equations": list(trace.equations),
                    "tensors": {t.name: t.array for t in trace.tensors},
                }
                for trace in result.steps.traces
            ]
        )

    def _view(self) -> RenderableType:
        return views.run_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsonout.run_object(self.result, weights=False)

    def diagram(self, word: int = 1) -> Picture:
        """The network unrolled over word `word` (from 1), as `run --diagram` draws it."""
        options.check_drawn("word", word, len(self.lengths))
        return Picture(views.run_view(self.result, diagram=word - 1))

    def __repr__(self) -> str:
        shapes = ", ".join(f"{t.name} {t.shape}" for t in self.result.returned)
        return f"<rnnprobe.Run {self.result.spec.cell.keras_layer}: {shapes}>"


class Comparison(Shown):
    """What `rnnprobe compare` shows: both styles with the same weights, tensor by tensor."""

    def __init__(self, result: CompareResult) -> None:
        self.result = result
        self.cell = Run(result.cell)
        self.layer = Run(result.layer)
        self.seed = result.cell.seed
        self.max_abs_diff: dict[str, float] = dict(result.max_abs_diff)
        self.identical: bool = result.identical

    def _view(self) -> RenderableType:
        return views.compare_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsonout.compare_object(self.result)

    def __repr__(self) -> str:
        return f"<rnnprobe.Comparison identical={self.identical} max_abs_diff={self.max_abs_diff}>"


def run(
    words: str | Sequence[str],
    *,
    hidden: int | Sequence[int] = 2,
    style: str = "layer",
    cell: str = "simple",
    seed: int | None = None,
    vocab: str | None = None,
    return_sequences: bool = True,
    return_state: bool = True,
    bidirectional: bool = False,
    merge_mode: str = "concat",
    steps: bool = False,
    check: bool = False,
    at: int | None = None,
    tokens: str = "char",
    embed: int | str | None = None,
    head: int | None = None,
    each_step: bool = False,
    torch: bool = False,
    window: int | None = None,
    stride: int | None = None,
    initial_state: str | Sequence[str] | None = None,
    chunks: int | None = None,
    reset_between: bool = False,
) -> Run:
    """Run a Keras RNN on one-hot words (or token ids through an Embedding): `rnnprobe run`.

    `words` is a string (split on whitespace) or a list of strings; with `tokens="word"`
    each string is a sentence of whitespace-separated words (a string: one sentence per
    line). `hidden` is the units of one layer or a sequence of units (a stack). `embed`
    ("onehot" or a width) puts `layers.Embedding(mask_zero=True)` first; `head` (classes)
    puts a Dense head last, on every step with `each_step`. Without a seed one is drawn
    and kept in `.seed`. `steps` traces every step (`--steps`, `at` picks the worked one);
    `check` compares Keras with rnnprobe's numpy re-computation (`--check`); `torch`
    runs the same network in PyTorch (`--torch`, PyTorch installed) and puts it on `.torch`.
    `window` cuts one text (a string) into windows of that many tokens, `stride` apart.
    `initial_state` ("zeros", "random", or "h=0.5,-0.2"-style strings, one per state) is
    where the layers start; `chunks` runs the words again in that many chunks through
    stateful layers (`reset_between`: reset between them), on `.result.chunks`.
    """
    spec = options.make_spec(
        hidden=hidden,
        style=style,
        cell=cell,
        return_sequences=return_sequences,
        return_state=return_state,
        bidirectional=bidirectional,
        merge_mode=_merge_mode(merge_mode, bidirectional),
        tokens=tokens,
        embed=embed,
        head=head,
        each_step=each_step,
    )
    cut, step = window_of(window, stride)
    given = words_or_text(words, spec.tokens.value, cut)
    if cut is not None:
        from rnnprobe.core.inputs.tasks import one_text
        from rnnprobe.core.inputs.text_windows import text_windows

        given = text_windows(one_text(given), cut, step, spec.tokens, predict=False)
    initial = commands.read_initial(initial_state, [spec])
    from rnnprobe.core.commands.chunks import check_request

    count = None if chunks is None else options.positive_int("chunks", chunks)
    check_request(count, reset_between, spec, steps=steps, torch=torch)
    result = commands.run(
        given,
        spec,
        vocab=vocab,
        seed=seed,
        check=check,
        steps=steps,
        at=at,
        torch=torch,
        initial=initial,
        chunks=chunks,
        reset_between=reset_between,
    )
    return Run(result)


def compare(
    words: str | Sequence[str],
    *,
    hidden: int | Sequence[int] = 2,
    cell: str = "simple",
    seed: int | None = None,
    vocab: str | None = None,
    bidirectional: bool = False,
    merge_mode: str = "concat",
    tokens: str = "char",
    embed: int | str | None = None,
    head: int | None = None,
    each_step: bool = False,
    initial_state: str | Sequence[str] | None = None,
) -> Comparison:
    """Run the cell style and the layer style with the same weights: `rnnprobe compare`."""
    spec = options.make_spec(
        hidden=hidden,
        cell=cell,
        bidirectional=bidirectional,
        merge_mode=_merge_mode(merge_mode, bidirectional),
        tokens=tokens,
        embed=embed,
        head=head,
        each_step=each_step,
    )
    found = commands.compare(words_of(words, spec.tokens.value), spec, vocab=vocab, seed=seed,
                             initial=commands.read_initial(initial_state, [spec]))  # fmt: skip
    return Comparison(found)


def vocab(
    words: str | Sequence[str], *, vocab: str | None = None, tokens: str = "char"
) -> Vocabulary:
    """The vocabulary and the one-hot x_data, without a model: `rnnprobe vocab`.

    With `tokens="word"` each string is a sentence of whitespace-separated words (a string:
    one sentence per line), and `vocab` gives the words separated by commas.
    """
    kind = options.choice(Tokens, "tokens", tokens)
    return Vocabulary(commands.vocab(words_of(words, kind.value), vocab, kind))


def probe(layer: Any, x_data: Any, mask: Any = None, *, reset: bool = False) -> Run:
    """Call your own Keras recurrent layer once on x_data and show what it returned.

    `layer` is a SimpleRNN, LSTM, GRU, a `layers.RNN` over a cell or a list of cells, or a
    `Bidirectional` over one of these, built or not; `x_data` is (batch, time, features);
    `mask` (batch, time), if given, is True on each sequence's first steps. The values are
    those of calling the layer directly, named as `rnnprobe run` names them. A stateful
    layer starts from the state it holds (`initial_state`; `reset=True`: `reset_state()`
    first), and the call leaves it holding its final states, as calling it does.
    """
    return Run(commands.probe_layer(layer, x_data, mask, reset=reset))


def to_torch(layer: Any) -> Any:
    """Your built Keras recurrent layer as a PyTorch module with the same weights.

    SimpleRNN, LSTM, GRU (or `layers.RNN` over their cells), `Bidirectional` over one of
    these, stacks of cells: an `nn.RNN`/`nn.LSTM`/`nn.GRU` with `batch_first=True` whose
    output on the same input equals the layer's (a stack of unequal sizes, or directions
    merged by sum, mul or ave, becomes a small module that runs one PyTorch layer per Keras
    layer). PyTorch has no mask: give padded batches through `pack_padded_sequence`.
    """
    from rnnprobe.core.torch import twin

    return twin.to_torch(layer)
