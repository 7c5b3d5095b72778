"""Where each returned state sits in `outputs`: the lecture's remark, checked per word.

`outputs` keeps every step and a state only the last, so a state is a slice of `outputs`:
`h` is `outputs[0, 4]` for a word of five characters, a backward `h` sits at the word's
first step. Each claim here is found by comparing the arrays; with a merge that adds or
multiplies the directions no slice matches, and nothing is claimed.
"""

from __future__ import annotations

import numpy as np

from rnnprobe.core.result import ProbeResult


def where_in_outputs(result: ProbeResult) -> dict[str, tuple[str, ...]]:
    """For each state, per word, the `outputs[...]` slice it equals, or why it is in none.

    An empty string means no slice matched and there is nothing to say.
    """
    spec = result.spec
    outputs = result.outputs.array
    lengths = np.asarray(result.batch.lengths)
    rows = np.arange(len(lengths))
    sequences = spec.return_sequences
    planned = result.layers
    top = planned[-1]
    found: dict[str, tuple[str, ...]] = {}
    for layer in planned:
        for direction in layer.directions:
            names = layer.state_names(direction)
            for kind, name in zip(spec.cell.state_names, names, strict=True):
                if name not in {s.name for s in result.states}:
                    continue
                if kind == "c":
                    found[name] = ("the cell state, not returned in outputs",) * len(rows)
                    continue
                if layer.number != top.number:
                    reason = f"layer {layer.number}'s state; outputs are layer {top.number}'s"
                    found[name] = (reason,) * len(rows)
                    continue
                state = next(s.array for s in result.states if s.name == name)
                found[name] = _matches(
                    state, outputs, lengths, rows, direction, top.units, sequences
                )
    return found


def _matches(
    state: np.ndarray,
    outputs: np.ndarray,
    lengths: np.ndarray,
    rows: np.ndarray,
    direction: str,
    units: int,
    sequences: bool,
) -> tuple[str, ...]:
    """Per word, the slice of outputs this top-layer h equals (by comparison), or ""."""
    backward = direction == "backward"
    steps = np.zeros_like(lengths) if backward else lengths - 1
    picked = outputs[rows, steps] if sequences else outputs
    if direction:  # concatenated directions: forward first, then backward
        part = slice(units, 2 * units) if backward else slice(0, units)
        columns = f", {units}:" if backward else f", :{units}"
    else:
        part, columns = slice(None), ""
    candidate = picked[:, part]
    if candidate.shape != state.shape:
        return ("",) * len(rows)
    equal = np.all(candidate == state, axis=-1)
    return tuple(
        (
            f"same as outputs[{row}, {step}{columns}]"
            if sequences
            else f"same as outputs[{row}{columns}]"
        )
        if same
        else ""
        for row, step, same in zip(rows.tolist(), steps.tolist(), equal.tolist(), strict=True)
    )
