"""`run --check`: rnnprobe's numpy engine (`engine.py`) against what Keras returned."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.numpy import engine
from rnnprobe.core.result import CheckResult, ProbeResult

__all__ = ["TOLERANCE", "max_abs_diff", "verify"]


def reported(result: ProbeResult) -> dict[str, np.ndarray]:
    """What Keras returned, by name: the Embedding's output, outputs, states, logits and
    probabilities, or a value head's predictions (those the model has)."""
    found = {"outputs": result.outputs.array, **{s.name: s.array for s in result.states}}
    for tensor in (result.embedding, result.logits, result.probabilities, result.predictions):
        if tensor is not None:
            found[tensor.name] = tensor.array
    return found


def largest_difference(keras: Mapping[str, np.ndarray], computed: Mapping[str, Any]) -> float:
    """The largest |a - b| over every tensor Keras gave (computed has at least those)."""
    return max(float(np.max(np.abs(keras[k] - computed[k]), initial=0.0)) for k in keras)


def max_abs_diff(result: ProbeResult, computed: Mapping[str, np.ndarray]) -> float:
    """The largest difference between what Keras returned and the computed tensors."""
    return largest_difference(reported(result), computed)


def verify(result: ProbeResult, computed: Mapping[str, np.ndarray] | None = None) -> CheckResult:
    """Re-compute the result's outputs and states with numpy (unless given) and compare."""
    if computed is None:
        computed = engine.recompute(
            result.spec,
            result.batch.input.array,
            np.asarray(result.batch.lengths),
            {w.name: w.array for w in result.weights},
        )
    diff = max_abs_diff(result, computed)
    return CheckResult(max_abs_diff=diff, ok=diff < TOLERANCE)
