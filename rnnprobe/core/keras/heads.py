"""A user's model's head read as it is: the last layer's activation decides what its output
means. A softmax gives probabilities as they are (never a softmax again), a sigmoid gives
each output's own probability, a linear layer of one number per sequence is a regression,
and a linear layer of several numbers gives logits, whose softmax rnnprobe takes (and says
so). The logits of a softmax or sigmoid head are its Dense layer's output before the
activation, computed from the layer's own kernel and bias.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.result import Tensor
from rnnprobe.core.stages import Head, Stage, StepHead, ValueHead
from rnnprobe.core.stages.around import ACTIVATIONS


@dataclass(frozen=True)
class HeadReading:
    """What a model's output is: `kind` (softmax, sigmoid, linear or regression; `none`:
    no head a table reads), the Dense layer's activation, and the tensors it gives: logits
    and probabilities (a classifier's) or predictions (a regression's)."""

    kind: str
    activation: str = "linear"
    logits: np.ndarray | None = None
    probabilities: np.ndarray | None = None
    predictions: np.ndarray | None = None

    def stages(self, recurrent: Any) -> tuple[Stage, ...]:
        """The stage this head stands for after `recurrent` (none without a head)."""
        width, axis = recurrent.output_width, recurrent.output_axis
        if self.predictions is not None:  # a regression: the value as it is
            activation = self.activation if self.activation in ACTIVATIONS else "linear"
            return (ValueHead(int(self.predictions.shape[-1]), width, axis, activation),)
        if self.logits is None:
            return ()
        kind = StepHead if self.logits.ndim == 3 else Head
        return (kind(int(self.logits.shape[-1]), width, axis, self.kind),)

    def tensors(self) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
        """The result's logits, probabilities and predictions (None where the head has none)."""
        per_step = self.logits is not None and self.logits.ndim == 3
        classes = ("batch", "time", "class") if per_step else ("batch", "class")

        def named(name: str, array: np.ndarray | None, dims: tuple[str, ...]) -> Tensor | None:
            return None if array is None else Tensor(name, dims, array)

        return (
            named("logits", self.logits, classes),
            named("probabilities", self.probabilities, classes),
            named("predictions", self.predictions, ("batch", "target")),
        )


NO_HEAD = HeadReading("none")


def activation_name(function: Any) -> str:
    """`softmax`, `sigmoid`, `linear`... as Keras names an activation function."""
    name = getattr(function, "__name__", None) or str(function)
    return str(name)


def _dense(layers: Any, layer: Any) -> Any:
    """The Dense layer itself (inside a TimeDistributed), or None."""
    inner = layer.layer if isinstance(layer, layers.TimeDistributed) else layer
    return inner if isinstance(inner, layers.Dense) else None


def _before_activation(dense: Any, given: Any) -> np.ndarray:
    """A Dense layer's output before its activation: given @ kernel + bias."""
    z = np.asarray(given, dtype=np.float32) @ np.asarray(dense.kernel, dtype=np.float32)
    if dense.use_bias:
        z = z + np.asarray(dense.bias, dtype=np.float32)
    return np.asarray(z, dtype=np.float32)


def read_head(
    layers: Any, chain: list[Any], flows: list[Any], output: np.ndarray, time: int
) -> HeadReading:
    """The head of a model whose layers `chain` read `flows` (one input each) and whose last
    gives `output` for an input of `time` steps: NO_HEAD when the model ends in no Dense
    layer, or in one whose output has another time axis (no step table reads it)."""
    if not (output.ndim == 2 or (output.ndim == 3 and output.shape[1] == time)):
        return NO_HEAD
    last = chain[-1]
    if isinstance(last, layers.Softmax | layers.Activation) and len(chain) > 1:
        dense = _dense(layers, chain[-2])
        if dense is None or activation_name(dense.activation) != "linear":
            return NO_HEAD
        activation = "softmax" if isinstance(last, layers.Softmax) else activation_name(
            last.activation)  # fmt: skip
        logits = np.asarray(flows[-1], dtype=np.float32)  # the Dense's own output
    else:
        dense = _dense(layers, last)
        if dense is None:
            return NO_HEAD
        activation = activation_name(dense.activation)
        logits = output if activation == "linear" else _before_activation(dense, flows[-1])
    if activation in ("softmax", "sigmoid"):
        return HeadReading(activation, activation, logits, output)
    if output.ndim == 2 and output.shape[-1] == 1:  # one number per sequence
        return HeadReading("regression", activation, predictions=output)
    # Several numbers: read as logits (another activation's output too), softmax by rnnprobe.
    shifted = np.exp(output.astype(np.float64) - output.max(axis=-1, keepdims=True))
    probabilities = shifted / shifted.sum(axis=-1, keepdims=True)
    return HeadReading("linear", activation, output, probabilities.astype(np.float32))
