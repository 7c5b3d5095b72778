"""`run --chunks K`: the time axis cut into K consecutive chunks, each run through the same
layers built with `stateful=True`, the state carried from chunk to chunk (or, with
`--reset-between`, `reset_state()` between them); compared with the whole run at real steps,
and (`--check`) recomputed chunk by chunk in numpy."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.result import CheckResult, ProbeResult


@dataclass(frozen=True)
class Chunk:
    """One chunk: the steps [start, end), its outputs and the states it ends with."""

    start: int
    end: int
    outputs: Tensor
    states: tuple[Tensor, ...]


@dataclass(frozen=True)
class Chunking:
    """The chunks of a run and how far their outputs are from the whole run's."""

    chunks: tuple[Chunk, ...]
    reset: bool  # `--reset-between`: each chunk started from zeros
    max_abs_diff: float  # chunked vs whole, at real steps
    step_diffs: np.ndarray  # (time,): the largest difference at each step (NaN: no real step)
    check: CheckResult | None = None  # numpy, chunk by chunk, vs Keras's chunks

    @property
    def same(self) -> bool:
        return self.max_abs_diff < TOLERANCE


def bounds(time: int, count: int) -> list[tuple[int, int]]:
    """K consecutive chunks of the time axis, as even as they come (the first ones longer)."""
    edges = np.cumsum([0, *(len(part) for part in np.array_split(np.arange(time), count))])
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def check_chunks(chunks: int | None, reset: bool, time: int | None = None) -> None:
    """--chunks and --reset-between, checked (against the word length when it is known)."""
    if chunks is None:
        if reset:
            raise InputError(Param("reset_between"), " needs ", Param("chunks"))
        return
    if chunks < 1:
        raise InputError(Param("chunks"), f" {chunks}: give at least 1")
    if time is not None and chunks > time:
        raise InputError(Param("chunks"), f" {chunks}: the words have {time} steps; give at "
                         f"most {time}")  # fmt: skip


def chunked(result: ProbeResult, count: int, *, reset: bool = False,
            check: bool = False) -> Chunking:  # fmt: skip
    """The probe's run again in `count` chunks through stateful layers."""
    from rnnprobe.core.keras import chunks as keras_chunks

    batch = result.batch
    check_chunks(count, reset, batch.time)
    cut = bounds(batch.time, count)
    recurrent = result.network.recurrent
    names = tuple(name for name, _ in recurrent.initial_places)
    found = keras_chunks.run_chunks(result, cut, reset=reset)
    pieces = []
    for piece in found:
        outputs, *states = keras_chunks.tensors(piece, names, recurrent.output_axis)
        pieces.append(Chunk(piece.start, piece.end, outputs, tuple(states)))
    whole = result.outputs.array
    if whole.ndim == 3:
        joined = np.concatenate([p.outputs.array for p in pieces], axis=1)
        gaps = np.where(batch.mask[..., None], np.abs(joined - whole), np.nan)
        step_diffs = np.nanmax(gaps, axis=(0, 2)) if batch.mask.any() else np.zeros(0)
    else:  # the last step only: the last chunk's output
        step_diffs = np.full(batch.time, np.nan)
        step_diffs[-1] = np.max(np.abs(pieces[-1].outputs.array - whole), initial=0.0)
    largest = float(np.nanmax(step_diffs)) if np.isfinite(step_diffs).any() else 0.0
    result_check = _numpy_check(result, cut, pieces, reset) if check else None
    return Chunking(tuple(pieces), reset, largest, step_diffs, result_check)


def _numpy_check(result: ProbeResult, cut: list[tuple[int, int]], pieces: list[Chunk],
                 reset: bool) -> CheckResult:  # fmt: skip
    """Each chunk recomputed by rnnprobe's numpy engine from the state the one before it
    ended with (or zeros after a reset), against Keras's chunk."""
    from rnnprobe.core.numpy import engine

    batch = result.batch
    spec = replace(result.spec, return_state=True)
    weights = {w.name: w.array for w in result.weights}
    names = [name for name, _ in result.network.recurrent.initial_places]
    carried = None if result.initial_state is None else [t.array for t in result.initial_state]
    lengths = np.asarray(batch.lengths)
    largest = 0.0
    for (start, end), piece in zip(cut, pieces, strict=True):
        steps = np.clip(lengths - start, 0, end - start)
        traced = engine.trace(spec, batch.input.array[:, start:end], steps, weights,
                              keep_steps=False, starts=carried).computed  # fmt: skip
        real = np.arange(end - start)[None, :] < steps[:, None]
        keras_out, numpy_out = piece.outputs.array, traced["outputs"]
        if keras_out.ndim == 3:
            gap = np.abs(keras_out - numpy_out)[real]
        else:
            gap = np.abs(keras_out - numpy_out)
        largest = max(largest, float(np.max(gap, initial=0.0)))
        for state in piece.states:
            largest = max(largest, float(np.max(np.abs(state.array - traced[state.name]))))
        carried = None if reset else [np.asarray(traced[name]) for name in names]
    return CheckResult(largest, largest < TOLERANCE)


def check_request(count: int | None, reset: bool, spec: Any, **shown: bool) -> None:
    """--chunks and --reset-between, and what --chunks does not combine with (the spec's
    own, and the ways of showing `shown` names: steps, diagram, torch, code), refused before
    any work."""
    check_chunks(count, reset)
    if count is None:
        return
    clashes: list[tuple[str | Param, ...]] = [
        (Param("bidirectional"),),
        ("outputs at the last step only (", Param("no_return_sequences"), ", or ", Param("head"),
         " alone)"),
    ]  # fmt: skip
    given = [spec.bidirectional, not spec.return_sequences]
    for name, on in shown.items():
        clashes.append((Param(name),))
        given.append(on)
    for parts, on in zip(clashes, given, strict=True):
        if on:
            raise InputError(Param("chunks"), " runs the layers chunk by chunk; it does not "
                             "combine with ", *parts)  # fmt: skip
