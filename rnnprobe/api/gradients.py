"""`rnnprobe.grads`: the gradient flowing back through time, on your words."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import RenderableType

from rnnprobe.api.shown import Picture, Shown, check_of, window_of, words_or_text
from rnnprobe.core import options
from rnnprobe.core.commands import grads as gradients
from rnnprobe.core.commands import run as commands
from rnnprobe.core.commands.grads import GradsResult
from rnnprobe.core.errors import InputError
from rnnprobe.core.inputs import tasks as training
from rnnprobe.show import jsontrain


class Grads(Shown):
    """What `rnnprobe grads` shows: `.gradients` (name -> array, every trainable weight),
    `.state_gradients` (state name -> dL/dh_t, (batch, time, hidden)), `.state_gradient_norms`
    ((batch, time), the last layer's forward direction), `.loss`, `.global_norm`,
    `.clipped`, `.check`, `.torch`."""

    def __init__(self, result: GradsResult) -> None:
        self.result = result
        data = result.data
        self._keep(data.batch)
        self.words = list(data.words)
        self.seed: int = result.seed
        self.task: str = data.task.value
        self.classes: list[str] = list(data.classes)
        self.at: int | None = result.at
        self.loss: float = result.loss
        self.weights: dict[str, np.ndarray] = {w.name: w.array for w in result.weights}
        self.gradients: dict[str, np.ndarray] = {g.name: g.array for g in result.gradients}
        self.frozen: list[str] = list(result.frozen)
        self.state_gradients: dict[str, np.ndarray] = {
            s.name: s.array for s in result.state_gradients
        }
        self.state_gradient_norms: np.ndarray = result.norms
        self.global_norm: float = result.global_norm
        self.clipped: dict[str, np.ndarray] | None = (
            None if result.clipped is None else {g.name: g.array for g in result.clipped}
        )
        self.check: dict[str, Any] | None = check_of(result.check)
        self.torch: dict[str, Any] | None = (
            None
            if result.torch is None
            else {
                "gradients": {g.name: g.array for g in result.torch.gradients},
                "state_gradients": {s.name: s.array for s in result.torch.state_gradients},
                "max_abs_diff": result.torch.max_abs_diff,
                "ok": result.torch.ok,
            }
        )

    def save(self, path: str) -> str:
        """The trained network written to `path` (.keras), as `--save` writes it: a plain
        Keras model that reads what a user has, rnnprobe's description inside."""
        from rnnprobe.api.saved import save

        return save(self.result, path)

    def _view(self) -> RenderableType:
        from rnnprobe.show import grads_view

        return grads_view.grads_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsontrain.grads_object(self.result)

    def diagram(self, word: int = 1) -> Picture:
        """The backward arrows of word `word` (from 1) with |dL/dh_t| on each step."""
        from rnnprobe.core import options
        from rnnprobe.show import grads_view

        options.check_drawn("word", word, len(self.words))
        return Picture(grads_view.backward_diagram(self.result, word - 1))

    def __repr__(self) -> str:
        return f"<rnnprobe.Grads {self.task}: loss {self.loss:.4f}, global norm " \
               f"{self.global_norm:.4g}>"  # fmt: skip


class GradsCells(Shown):
    """What `rnnprobe grads --cells` shows: `.cells` (the cell names) and `.results`
    (one `Grads` per cell, the same words and seed), the strips one under another."""

    def __init__(self, results: list[GradsResult]) -> None:
        self.found = results
        self._keep(results[0].data.batch)
        self.cells: list[str] = [r.spec.cell.value for r in results]
        self.results: list[Grads] = [Grads(r) for r in results]

    def _view(self) -> RenderableType:
        from rnnprobe.show import grads_view

        return grads_view.cells_view(self.found)

    def _json(self) -> dict[str, Any]:
        return jsontrain.cells_object(self.found)

    def __repr__(self) -> str:
        return f"<rnnprobe.GradsCells {', '.join(self.cells)}>"


def grads(
    words: str | Sequence[str],
    *,
    labels: str | Sequence[Any] | None = None,
    tagged: bool = False,
    at: int | None = None,
    after: int | None = None,
    lr: float = options.DEFAULT_LR,
    batch_size: int | None = None,
    clipnorm: float | None = None,
    global_clipnorm: float | None = None,
    hidden: int | Sequence[int] = 2,
    style: str = "layer",
    cell: str = "simple",
    cells: Sequence[str] | None = None,
    bidirectional: bool = False,
    merge_mode: str = "concat",
    embed: int | str | None = None,
    tokens: str = "char",
    vocab: str | None = None,
    seed: int | None = None,
    check: bool = False,
    torch: bool = False,
    window: int | None = None,
    stride: int | None = None,
    shuffle: bool | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
    initial_state: str | Sequence[str] | None = None,
) -> Grads | GradsCells:
    """One backward pass of the whole-set loss (or of step `at`'s loss alone) at the
    weights `train` starts from (after `after` epochs of it, if given): `rnnprobe grads`.
    With `cells=["simple", "lstm", "gru"]`, the same in each cell (`grads --cells`).
    `shuffle` takes the `after` epochs' rows in a new order each epoch (by default when
    there is more than one batch); `max_vocab` / `min_count` read the rarer tokens as
    `<unk>`; `initial_state` (as `rnnprobe.run` takes it) is where the pass starts."""
    if cells is not None and torch:
        raise InputError("cells compares Keras's cells; it does not combine with torch")
    kinds = [cell] if cells is None else [str(name) for name in cells]
    if not kinds:
        raise InputError("cells: give at least one cell")
    specs = [
        options.make_spec(
            hidden=hidden,
            style=style,
            cell=kind,
            bidirectional=bidirectional,
            merge_mode=None if not bidirectional and merge_mode == "concat" else merge_mode,
            tokens=tokens,
            embed=embed,
        )
        for kind in kinds
    ]
    recipe: dict[str, Any] = {
        "after": None if after is None else options.positive_int("after", after),
        "lr": options.learning_rate(lr),
        "batch_size": None
        if batch_size is None
        else options.positive_int("batch_size", batch_size),
        "clipnorm": gradients.positive_number("clipnorm", clipnorm),
        "global_clipnorm": gradients.positive_number("global_clipnorm", global_clipnorm),
        "shuffle": None if shuffle is None else bool(shuffle),
    }
    gradients.check_clipping(recipe["clipnorm"], recipe["global_clipnorm"])
    cut, step = window_of(window, stride)
    data = training.task_data(
        words_or_text(words, specs[0].tokens.value, cut),
        window=cut,
        stride=step,
        kind=specs[0].tokens,
        embedded=specs[0].embed is not None,
        labels=training.parse_labels(labels),
        tagged=bool(tagged),
        vocab=vocab,
        **options.vocab_limits(max_vocab, min_count),
    )
    gradients.check_at(at, data)
    initial = commands.read_initial(initial_state, specs)  # against every cell's states
    drawn = options.resolve_seed(seed)  # one seed for every cell
    found = [
        gradients.grads(data.words, spec, seed=drawn, at=at, check=check, torch=torch,
                        data=data, initial=initial, **recipe)
        for spec in specs
    ]  # fmt: skip
    return Grads(found[0]) if cells is None else GradsCells(found)
