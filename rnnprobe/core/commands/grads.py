"""`rnnprobe grads`, the core of it: one forward and backward pass of the whole-set loss at
the seeded weights (or after `after` epochs of training), every weight's gradient, dL/dh_t
through time, clipping as Keras's optimizers clip, and the check in numpy."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core import options
from rnnprobe.core.batch import Tensor
from rnnprobe.core.budget import check_probe_memory
from rnnprobe.core.commands import run as commands
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.tasks import TrainData, task_data, train_spec
from rnnprobe.core.kinds import TOLERANCE, Task
from rnnprobe.core.options import DEFAULT_LR
from rnnprobe.core.stages import ProbeSpec

STATE_DIMS = ("batch", "time", "hidden")


@dataclass(frozen=True)
class GradsCheck:
    """`grads --check`: the loss, every weight's gradient and every dL/dh_t again, by
    backpropagation in numpy, against Keras."""

    loss_diff: float
    gradient_diff: float
    state_diff: float

    @property
    def max_abs_diff(self) -> float:
        return max(self.loss_diff, self.gradient_diff, self.state_diff)

    @property
    def ok(self) -> bool:
        return self.max_abs_diff < TOLERANCE


@dataclass(frozen=True)
class GradsResult:
    """One backward pass through the network on the learner's words."""

    data: TrainData
    spec: ProbeSpec  # the network, its head and its loss
    seed: int
    after: int  # epochs trained before the pass
    at: int | None  # the loss of this step alone, or the whole loss
    weights: tuple[Tensor, ...]  # what the gradients are taken at
    loss: float
    gradients: tuple[Tensor, ...]  # every trainable weight's, unclipped
    frozen: tuple[str, ...]
    state_gradients: tuple[Tensor, ...]  # dL/dh_t per layer and direction, named as states
    clipnorm: float | None = None
    global_clipnorm: float | None = None
    clipped: tuple[Tensor, ...] | None = None
    shuffle: bool = False  # the `after` epochs took the rows in a new order each
    check: GradsCheck | None = None
    torch: Any = None  # `--torch`: the twin's gradients (core/torch/twin.py TorchGrads)
    initial_state: tuple[Tensor, ...] | None = None  # `--initial-state`: every state's start
    stopped: str | None = None  # why the `after` epochs stopped early (a loss not finite)

    @property
    def starts(self) -> dict[str, np.ndarray] | None:
        """`--initial-state`'s arrays by state name (None without)."""
        if self.initial_state is None:
            return None
        return {t.name: t.array for t in self.initial_state}

    @property
    def network(self) -> Any:
        return self.spec.network(self.data.batch.width)

    @property
    def global_norm(self) -> float:
        return _global(self.gradients)

    @property
    def clipped_norm(self) -> float | None:
        return None if self.clipped is None else _global(self.clipped)

    @property
    def norms(self) -> np.ndarray:
        """|dL/dh_t| (batch, time) of the last layer's forward direction."""
        top = self.spec.layers(0)[-1]
        name = top.state_names(top.directions[0])[0]
        found = next(s for s in self.state_gradients if s.name == name)
        with np.errstate(all="ignore"):  # an infinite gradient has an infinite norm
            norms: np.ndarray = np.linalg.norm(found.array, axis=-1)
        return norms

    @property
    def nonfinite(self) -> dict[str, list[Any]]:
        """Weights whose gradient is NaN or infinite, and the (state, word, step) where
        dL/dh_t is."""
        weights = [g.name for g in self.gradients if not np.all(np.isfinite(g.array))]
        steps = [
            [s.name, int(b), int(t)]
            for s in self.state_gradients
            for b, t in zip(*np.nonzero(~np.all(np.isfinite(s.array), axis=-1)), strict=True)
        ]
        return {"weights": weights, "steps": steps}


def _global(tensors: Sequence[Tensor]) -> float:
    with np.errstate(all="ignore"):  # an infinite gradient has an infinite norm
        return float(math.sqrt(sum(float(np.sum(np.square(t.array, dtype=np.float64)))
                                   for t in tensors)))  # fmt: skip


def positive_number(name: str, value: Any) -> float | None:
    """A clipping norm: a finite number above 0 (None stays None)."""
    if value is None:
        return None
    try:
        found = float(value)
    except (TypeError, ValueError):
        raise InputError(Param(name), f" {value!r}: give a number above 0, such as 1.0") from None
    if isinstance(value, bool) or not math.isfinite(found) or found <= 0:
        raise InputError(Param(name), f" {value!r}: give a finite number above 0, such as 1.0")
    return found


def check_clipping(clipnorm: float | None, global_clipnorm: float | None) -> None:
    if clipnorm is not None and global_clipnorm is not None:
        raise InputError(
            Param("clipnorm"), " and ", Param("global_clipnorm"),
            " do not combine (a Keras optimizer takes one of them)",
        )  # fmt: skip


def check_at(at: Any, data: TrainData) -> int | None:
    """The step whose loss alone is taken: a step some word has, for a loss on every step."""
    if at is None:
        return None
    if data.task is Task.labels:
        raise InputError(
            Param("at"), " is for a loss on every step: with ", Param("labels"),
            " the loss sits at each word's last real step already",
        )  # fmt: skip
    last = data.batch.time - 1
    valid = isinstance(at, numbers.Integral) and not isinstance(at, bool) and 0 <= int(at) <= last
    if not valid:
        raise InputError(Param("at"), f" {at!r}: the longest word has steps 0 to {last}")
    return int(at)


def at_weights(data: TrainData, at: int | None) -> np.ndarray | None:
    """How much each target counts in the loss of step `at` alone: the mean over the words
    that have a real step `at`."""
    if at is None:
        return None
    weights = np.zeros(data.batch.mask.shape, dtype=np.float32)
    real = data.batch.mask[:, at]
    weights[real, at] = 1.0 / real.sum()
    return weights


def grads(
    words: Sequence[str],
    spec: ProbeSpec,
    *,
    labels: Sequence[str] | None = None,
    tagged: bool = False,
    vocab: str | None = None,
    seed: int | None = None,
    after: int | None = None,
    lr: float = DEFAULT_LR,
    batch_size: int | None = None,
    at: int | None = None,
    clipnorm: float | None = None,
    global_clipnorm: float | None = None,
    shuffle: bool | None = None,
    check: bool = False,
    torch: bool = False,
    data: TrainData | None = None,
    initial: Any = None,
) -> GradsResult:
    """`rnnprobe grads`: the gradients of the network `train` starts from (or reaches after
    `after` epochs), with respect to every weight and every state h_t; `initial`
    (`--initial-state`) the state the pass starts from (`after`'s epochs start from zeros,
    as Keras's fit does)."""
    from rnnprobe.core.keras import env, private
    from rnnprobe.core.keras import grads as keras_grads
    from rnnprobe.core.keras import train as keras_train
    from rnnprobe.core.keras.probe import collect_weights

    checked = options.check_seed(seed)
    check_clipping(clipnorm, global_clipnorm)
    if data is None:
        data = task_data(words, kind=spec.tokens, embedded=spec.embed is not None,
                         labels=labels, tagged=tagged, vocab=vocab)  # fmt: skip
    at = check_at(at, data)
    if torch:
        commands.check_torch()
    full = train_spec(spec, data)
    batch = data.batch
    check_probe_memory(full, batch.rows, batch.time, batch.width, ("hidden", "embed"))
    drawn = options.resolve_seed(checked)
    model = keras_train.prepared(data, full, drawn)
    shuffles = False
    stopped = None
    if after:
        from rnnprobe.core.inputs import split

        size = batch.rows if batch_size is None else min(batch_size, batch.rows)
        order = (
            split.orders(drawn, batch.rows) if split.shuffled(shuffle, batch.rows, size) else None
        )
        stopped = keras_train.fit(data, model, epochs=after, lr=lr, batch_size=size,
                                  order=order).stopped  # fmt: skip
    keras = env.load_keras()
    starts = commands.initial_states(initial, full, batch.rows, drawn)
    with env.tensorflow_logs_quiet():
        found = keras_grads.through_time(
            model.built, model.trainable, batch.input.array, batch.mask, data.targets.array,
            at_weights(data, at), None if starts is None else [t.array for t in starts],
        )  # fmt: skip
    named = model.named
    weights = collect_weights(named, [np.asarray(v.numpy()) for _, v, _ in named])
    trainable = [(name, dims) for name, variable, dims in named if variable.trainable]
    gradients = tuple(
        Tensor(name, tuple(dims), g) for (name, dims), g in zip(trainable, found.gradients,
                                                                strict=True)
    )  # fmt: skip
    clipped = None
    if clipnorm is not None or global_clipnorm is not None:
        values = private.clipped(keras, [g.array for g in gradients], clipnorm=clipnorm,
                                 global_clipnorm=global_clipnorm)  # fmt: skip
        clipped = tuple(replace(g, array=np.asarray(v, dtype=np.float32))
                        for g, v in zip(gradients, values, strict=True))  # fmt: skip
    result = GradsResult(
        data=data,
        spec=full,
        seed=drawn,
        after=after or 0,
        at=at,
        weights=weights,
        loss=found.loss,
        gradients=gradients,
        frozen=tuple(name for name, variable, _ in named if not variable.trainable),
        state_gradients=tuple(
            Tensor(name, STATE_DIMS, array) for name, array in found.state_gradients.items()
        ),
        clipnorm=clipnorm,
        global_clipnorm=global_clipnorm,
        clipped=clipped,
        shuffle=shuffles,
        initial_state=starts,
        stopped=stopped,
    )
    if check:
        result = replace(result, check=check_grads(result))
    if torch:
        result = replace(result, torch=torch_grads(result))
    return result


def torch_grads(result: GradsResult) -> Any:
    """The same pass on the PyTorch twin, compared with Keras's."""
    from rnnprobe.core.torch import twin

    data = result.data
    batch = data.batch
    return twin.grads(
        result.spec.network(batch.width),
        {w.name: w.array for w in result.weights},
        (batch.input.array, batch.mask, data.targets.array),
        at_weights(data, result.at),
        (
            result.loss,
            {g.name: g.array for g in result.gradients},
            {s.name: s.array for s in result.state_gradients},
        ),
        result.frozen,
        result.starts,
    )


def check_grads(result: GradsResult) -> GradsCheck:
    """The same pass by backpropagation through time in numpy, from the weights only."""
    from rnnprobe.core.numpy.backprop import backprop

    data = result.data
    batch = data.batch
    found = backprop(
        result.spec, batch.input.array, np.asarray(batch.lengths),
        {w.name: w.array for w in result.weights}, data.targets.array,
        loss_weights=at_weights(data, result.at), starts=result.starts,
    )  # fmt: skip

    def largest(tensors: Sequence[Tensor], numpy: dict[str, np.ndarray]) -> float:
        return max((float(np.max(np.abs(t.array - numpy[t.name]))) for t in tensors), default=0.0)

    return GradsCheck(
        loss_diff=abs(result.loss - found.loss),
        gradient_diff=largest(result.gradients, found.gradients),
        state_diff=largest(result.state_gradients, found.state_gradients),
    )
