"""What `rnnprobe train` produced: the recipe, the data, the network before and after, its
first gradients and the history of every epoch.

Kept apart from `result.py`, which `vocab` and `--help` import: only `train` pays for it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.inputs.tasks import TrainData
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.result import ProbeResult
from rnnprobe.core.stages import Network, ProbeSpec


@dataclass(frozen=True)
class Snapshot:
    """The whole set at some weights: the loss, and what the network predicts."""

    weights: tuple[Tensor, ...]
    loss: float  # the training rows'
    accuracy: float  # the training rows'
    step_losses: Tensor  # -log p(target): (batch, time), 0 at padded steps; (batch,)
    target_probabilities: Tensor  # p(target) of the softmax, as the targets: every row's
    predicted: np.ndarray  # class ids, as the targets
    plain_loss: float  # the mean over every step, padding counted (its targets are class 0)
    sentence_loss: float  # the lecture's: each word's mean over its real steps, then their mean
    val_loss: float | None = None  # the held-out rows' (`--validation`)
    val_accuracy: float | None = None

    def weight(self, name: str) -> Tensor:
        return next(w for w in self.weights if w.name == name)


@dataclass(frozen=True)
class Epoch:
    """One epoch: its batches' losses and accuracy, each taken before that batch's update."""

    epoch: int
    loss: float
    accuracy: float
    val_loss: float | None = None  # measured after the epoch's updates, as Keras does
    val_accuracy: float | None = None


@dataclass(frozen=True)
class TrainCheck:
    """`train --check`: the initial loss and gradients again, in numpy, against Keras."""

    loss_diff: float
    gradient_diff: float  # the largest |Keras - numpy| over every gradient's entries

    @property
    def max_abs_diff(self) -> float:
        return max(self.loss_diff, self.gradient_diff)

    @property
    def ok(self) -> bool:
        return self.max_abs_diff < TOLERANCE


class Counted:
    """The parameters of a trained network, and how many of them train."""

    initial: Snapshot
    gradients: tuple[Tensor, ...]

    @property
    def params(self) -> int:
        return sum(int(w.array.size) for w in self.initial.weights)

    @property
    def trainable(self) -> int:
        return sum(int(g.array.size) for g in self.gradients)


class Trained(Protocol):
    """What any training reports (`train`'s, `seq2seq --train`'s): the data, the weights
    before and after, the first gradients and the epochs, as the shared views read them."""

    @property
    def data(self) -> TrainData: ...
    @property
    def initial(self) -> Snapshot: ...
    @property
    def final(self) -> Snapshot: ...
    @property
    def gradients(self) -> tuple[Tensor, ...]: ...
    @property
    def history(self) -> tuple[Epoch, ...]: ...
    @property
    def frozen(self) -> tuple[str, ...]: ...
    @property
    def stopped(self) -> str | None: ...
    @property
    def epochs(self) -> int: ...
    @property
    def every(self) -> int: ...
    @property
    def lr(self) -> float: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def params(self) -> int: ...
    @property
    def trainable(self) -> int: ...
    @property
    def shuffle(self) -> bool: ...


@dataclass(frozen=True)
class TrainResult(Counted):
    """A network trained with Adam on the learner's own words."""

    data: TrainData
    spec: ProbeSpec  # the network, its head and its loss
    seed: int
    epochs: int
    lr: float
    batch_size: int  # words per batch (all of them by default)
    every: int  # the loss is printed every this many epochs
    shuffle: bool  # each epoch took the training rows in a new order, drawn from the seed
    initial: Snapshot
    final: Snapshot
    gradients: tuple[Tensor, ...]  # of the initial whole-set loss, every trainable weight
    frozen: tuple[str, ...]  # weights that are not trained (a one-hot Embedding)
    history: tuple[Epoch, ...]
    stopped: str | None = None  # why training stopped before its last epoch
    check: TrainCheck | None = None
    probe: ProbeResult | None = None  # the trained network run on the words (--diagram)
    torch: Any = None  # `--torch`: the twin trained the same way (core/torch/twin.py TorchTraining)

    @property
    def probabilities(self) -> Tensor:
        """The softmax over the classes, by its shape alone (a pass keeps p(target) only)."""
        dims = (*self.data.targets.dims, "class")
        shape = (*self.data.targets.array.shape, len(self.data.classes))
        return Tensor("probabilities", dims, np.broadcast_to(np.float32(0), shape))

    @functools.cached_property
    def rebuilt(self) -> tuple[str, ...] | None:
        """Windows of one text: the text the trained network's predictions rebuild (from
        the text's second token on), or None; made once (the views and JSON read it often)."""
        if self.data.stride is None:
            return None
        return self.data.rebuilt(self.final.predicted)

    @property
    def rebuilt_accuracy(self) -> float | None:
        """How many of the rebuilt text's tokens are the text's own."""
        if self.data.stride is None:
            return None
        from rnnprobe.core.inputs.train_data import rebuilt

        found = rebuilt(np.asarray(self.final.predicted), self.data.stride)
        actual = rebuilt(np.asarray(self.data.targets.array), self.data.stride)
        return float(np.mean(found == actual)) if len(actual) else 0.0

    @property
    def torch_diffs(self) -> list[float]:
        """Per epoch, |Keras's loss - PyTorch's|."""
        assert self.torch is not None
        return [abs(e.loss - t) for e, t in zip(self.history, self.torch.history, strict=True)]

    @property
    def torch_weight_diff(self) -> float:
        """The largest |Keras - PyTorch| over the final weights, converted back."""
        assert self.torch is not None
        return max(
            float(np.max(np.abs(w.array - self.final.weight(w.name).array), initial=0.0))
            for w in self.torch.weights
        )

    @property
    def network(self) -> Network:
        return self.spec.network(self.data.batch.width)

    @property
    def mask(self) -> Tensor:
        return Tensor("mask", ("batch", "time"), self.data.batch.mask)

    @property
    def embedding(self) -> Tensor | None:
        """What an Embedding gives the words at the initial weights (row ids[b, t])."""
        ids = self.data.batch.ids
        names = [w.name for w in self.network.weights() if w.dims[0] == "vocab"]
        if ids is None or not names:
            return None
        table = self.initial.weight(names[0]).array
        return Tensor("embedding", ("batch", "time", "embedding"), table[ids.array])
