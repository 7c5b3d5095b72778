"""`run --chunks K`, the Keras face: the probe's recurrent layers rebuilt with
`stateful=True` (the batch size fixed, as Keras requires) and the probe's weights, then called
on the time axis chunk by chunk, so that the state a chunk ends with is where the next one
starts (or, with `reset`, `reset_state()` between chunks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.keras import build, env, user
from rnnprobe.core.result import ProbeResult


@dataclass(frozen=True)
class KerasChunk:
    """One chunk as the stateful layers returned it: the steps [start, end), the top
    layer's outputs, and every state the chunk ends with (Keras's order)."""

    start: int
    end: int
    outputs: np.ndarray
    states: tuple[np.ndarray, ...]


def _stateful(keras: Any, layer: Any, rows: int, width: int) -> Any:
    """A copy of a recurrent Keras layer with `stateful=True` and the same weights."""
    config = {**layer.get_config(), "stateful": True, "return_state": True}
    copy = type(layer).from_config(config)
    copy.build((rows, None, width))
    copy.set_weights(layer.get_weights())
    return copy


def run_chunks(result: ProbeResult, bounds: list[tuple[int, int]], *, reset: bool
               ) -> list[KerasChunk]:  # fmt: skip
    """The probe's network on its own input, chunk by chunk through stateful layers (which
    start from the probe's `--initial-state`, if it has one)."""
    keras = env.load_keras()
    network = result.network
    batch = result.batch
    with env.build_lock, env.tensorflow_logs_quiet():
        built = build.model(keras, network)
        build.build_weights(built, batch.rows, batch.time)
        build.assign([built], result.weights)
        recurrent = network.recurrent
        flow = build.Flow(batch.input.array, batch.mask)
        for stage, made in built.pairs:  # what reaches the recurrent layers, whole
            if stage is recurrent:
                break
            flow = build.call_stage(stage, made, flow)
        x = np.asarray(flow.value, dtype=np.float32)
        widths = [group[0].input_width for group in recurrent.keras_groups]
        layers = [_stateful(keras, layer, batch.rows, width)
                  for layer, width in zip(built.recurrent, widths, strict=True)]  # fmt: skip
        if result.initial_state is not None:  # what the layers hold before the first chunk
            held = [v for layer in layers for v in user.flat_states(layer)]
            for variable, tensor in zip(held, result.initial_state, strict=True):
                variable.assign(tensor.array)
        found = []
        for start, end in bounds:
            value: Any = x[:, start:end]
            mask = batch.mask[:, start:end]
            states: list[np.ndarray] = []
            for layer in layers:
                value, *returned = layer(value, mask=mask)
                states += [np.asarray(s, dtype=np.float32) for s in build.flatten(returned)]
            if reset:
                for layer in layers:
                    user.reset_states(layer)
            found.append(KerasChunk(start, end, np.asarray(value, dtype=np.float32),
                                    tuple(states)))  # fmt: skip
        return found


def tensors(chunk: KerasChunk, names: tuple[str, ...], axis: str) -> tuple[Tensor, ...]:
    """A chunk's outputs and states as named tensors."""
    dims = ("batch", "time", axis) if chunk.outputs.ndim == 3 else ("batch", axis)
    outputs = Tensor("outputs", dims, chunk.outputs)
    states = tuple(Tensor(n, ("batch", "hidden"), s) for n, s in zip(names, chunk.states,
                                                                    strict=True))  # fmt: skip
    return (outputs, *states)
