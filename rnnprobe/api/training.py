"""`rnnprobe.train`: the network trained on your words, before and after."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.console import RenderableType

from rnnprobe.api.shown import Picture, Shown, check_of, window_of, words_or_text
from rnnprobe.core import options
from rnnprobe.core.commands import train as trainer
from rnnprobe.core.commands.trained import Snapshot, Trained, TrainResult
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs import split
from rnnprobe.core.inputs import tasks as training
from rnnprobe.show import jsontrain


@dataclass(frozen=True)
class State:
    """The whole set at some weights: `.loss`, `.accuracy`, `.predictions` (per word: its
    class names, one per real step, or its one class), `.weights` (name -> array)."""

    loss: float
    accuracy: float
    predictions: list[Any]
    weights: dict[str, np.ndarray]
    step_losses: np.ndarray
    val_loss: float | None = None
    val_accuracy: float | None = None


def _state(result: Trained, found: Snapshot) -> State:
    data = result.data
    names = [data.names(found.predicted, i) for i in range(data.batch.rows)]
    return State(
        loss=found.loss,
        accuracy=found.accuracy,
        predictions=[list(n) if isinstance(n, tuple) else n for n in names],
        weights={w.name: w.array for w in found.weights},
        step_losses=found.step_losses.array,
        val_loss=found.val_loss,
        val_accuracy=found.val_accuracy,
    )


class Train(Shown):
    """What `rnnprobe train` shows: the recipe, the loss laid out, the first gradients, the
    history with its curve, the predictions before and after (`.initial`, `.final`)."""

    def __init__(self, result: TrainResult) -> None:
        self.result = result
        data = result.data
        self._keep(data.batch)
        self.words = list(data.words)
        self.seed: int = result.seed
        self.task: str = data.task.value
        self.classes: list[str] = list(data.classes)
        self.targets: np.ndarray = data.targets.array
        self.mask: np.ndarray = data.batch.mask
        self.history: list[dict[str, Any]] = [jsontrain.epoch_object(e) for e in result.history]
        held = data.held_out
        self.validation_rows: list[int] | None = None if held is None else held.tolist()
        self.initial = _state(result, result.initial)
        self.final = _state(result, result.final)
        self.gradients: dict[str, np.ndarray] = {g.name: g.array for g in result.gradients}
        self.frozen: list[str] = list(result.frozen)
        self.stopped: str | None = result.stopped
        self.check: dict[str, Any] | None = check_of(result.check)
        rebuilt = result.rebuilt
        self.rebuilt: str | None = None if rebuilt is None else data.shown(rebuilt)

    def save(self, path: str) -> str:
        """The trained network written to `path` (.keras), as `--save` writes it: a plain
        Keras model that reads what a user has, rnnprobe's description inside."""
        from rnnprobe.api.saved import save

        return save(self.result, path)

    def _view(self) -> RenderableType:
        from rnnprobe.show import train_view

        return train_view.train_view(self.result)

    def _json(self) -> dict[str, Any]:
        return jsontrain.train_object(self.result)

    def curve(self) -> Picture:
        """The loss per epoch, drawn as `train` draws it."""
        from rnnprobe.show.curve import curve

        return Picture(curve([entry["loss"] for entry in self.history]))

    def __repr__(self) -> str:
        return (
            f"<rnnprobe.Train {self.task}: loss {self.initial.loss:.4f} -> "
            f"{self.final.loss:.4f}, accuracy {self.initial.accuracy:.2f} -> "
            f"{self.final.accuracy:.2f} in {len(self.history)} epochs>"
        )


def train(
    words: str | Sequence[str],
    *,
    labels: str | Sequence[Any] | None = None,
    tagged: bool = False,
    epochs: int = options.DEFAULT_EPOCHS,
    lr: float = options.DEFAULT_LR,
    batch_size: int | None = None,
    every: int | None = None,
    hidden: int | Sequence[int] = 2,
    style: str = "layer",
    cell: str = "simple",
    bidirectional: bool = False,
    merge_mode: str = "concat",
    embed: int | str | None = None,
    tokens: str = "char",
    vocab: str | None = None,
    seed: int | None = None,
    check: bool = False,
    window: int | None = None,
    stride: int | None = None,
    shuffle: bool | None = None,
    validation: float | None = None,
    max_vocab: int | None = None,
    min_count: int | None = None,
) -> Train:
    """Train the RNN on your words with Adam: `rnnprobe train`.

    Without `labels` or `tagged`, each word learns to predict its next token; `labels`
    (one per word) makes it many-to-one; `tagged=True` (with `tokens="word"`) reads each
    token as `word/TAG` and learns a tag per word. `check` recomputes the initial loss and
    gradients in numpy. The same `seed` gives the same history, bit for bit. `window` cuts
    one text (a string) into next-token windows of that many tokens, `stride` apart.
    `shuffle` (by default whenever there is more than one batch) takes the rows in a new
    order every epoch, drawn from the seed; `validation=0.2` holds a fifth of the rows out
    and measures them every epoch; `max_vocab` / `min_count` read the rarer tokens as
    `<unk>`.
    """
    if isinstance(lr, bool):
        raise InputError(Param("lr"), f" {lr!r}: give a number such as 0.1")
    spec = options.make_spec(
        hidden=hidden,
        style=style,
        cell=cell,
        bidirectional=bidirectional,
        merge_mode=None if not bidirectional and merge_mode == "concat" else merge_mode,
        tokens=tokens,
        embed=embed,
    )
    cut, step = window_of(window, stride)
    found = trainer.train(
        words_or_text(words, spec.tokens.value, cut),
        spec,
        window=cut,
        stride=step,
        labels=training.parse_labels(labels),
        tagged=bool(tagged),
        vocab=vocab,
        seed=seed,
        epochs=options.positive_int("epochs", epochs),
        lr=options.learning_rate(lr),
        batch_size=None if batch_size is None else options.positive_int("batch_size", batch_size),
        every=None if every is None else options.positive_int("every", every),
        shuffle=None if shuffle is None else bool(shuffle),
        validation=split.check_validation(validation),
        **options.vocab_limits(max_vocab, min_count),
        check=check,
    )
    return Train(found)
