"""`rnnprobe inspect FILE`: any saved Keras model, layer by layer, and (with `--input` or
`--random`) one forward pass through it, named as `probe(model, x)` names it.

The file is opened as plain Keras opens it (`keras.models.load_model`, safe mode, no custom
objects): a `.keras` file, or a legacy `.h5` one where Keras still reads it. A file rnnprobe
saved carries rnnprobe's description too, shown beside Keras's layers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.inputs.model_input import InputKind
from rnnprobe.core.result import ProbeResult

FORMATS = {".keras": "keras", ".h5": "h5", ".hdf5": "h5"}


@dataclass(frozen=True)
class Inspection:
    """What `inspect` found in a file."""

    path: str
    format: str  # "keras" or "h5"
    layers: Any  # keras/inspect.py ModelLayers
    description: dict[str, Any] | None  # rnnprobe's, when rnnprobe saved the file
    kind: InputKind | None  # what its input holds (None: it has no input Keras knows)
    given: np.ndarray | None = None  # the batch given (--input or --random), as read
    probe: ProbeResult | None = None  # the forward pass of `given`
    damaged: str | None = None  # why rnnprobe's description in the file was set aside


def file_format(path: str) -> tuple[str, dict[str, Any] | None, str | None]:
    """The file's format, rnnprobe's description in it (checked as a whole) and why a
    damaged one is set aside (the model is still Keras's to show): before TensorFlow."""
    from rnnprobe.core.commands import saved
    from rnnprobe.core.keras import saving

    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        if not os.path.exists(path):
            raise InputError(Param("file"), f" {path!r}: no such file")
        raise InputError(Param("file"), f" {path!r}: give a Keras model file (.keras, or a "
                         "legacy .h5)")  # fmt: skip
    if FORMATS[suffix] == "keras":
        meta = saving.read_meta(path, "file")
        if meta is None:
            return "keras", None, None
        found, problem = saved.meta_problem(meta)
        return "keras", found, problem
    if not os.path.exists(path):
        raise InputError(Param("file"), f" {path!r}: no such file")
    if os.path.isdir(path):
        raise InputError(Param("file"), f" {path!r} is a directory: give a model file")
    with open(path, "rb") as handle:
        if handle.read(8) != b"\x89HDF\r\n\x1a\n":
            raise InputError(Param("file"), f" {path!r} is not a Keras model file (not HDF5)")
    return "h5", None, None


def _split(description: dict[str, Any] | None) -> str | None:
    """How a saved rnnprobe network cuts a text into tokens (char or word)."""
    if description is None:
        return None
    return str(description.get("tokens") or description.get("spec", {}).get("tokens") or "word")


def inspect(
    path: str,
    inputs: Sequence[str] | None = None,
    random: int | None = None,
    seed: int = 0,
    stdin: Callable[[], str] = lambda: "",
    array: np.ndarray | None = None,
) -> Inspection:
    """The model in `path`, its layers, and a forward pass of `inputs` (or `random` rows,
    or a whole batch `array`, checked against the model's input shape)."""
    from rnnprobe.core.inputs import model_input
    from rnnprobe.core.keras import env, models, saving
    from rnnprobe.core.keras import inspect as keras_inspect

    if sum(x is not None and x != [] for x in (inputs, random)) + (array is not None) > 1:
        raise InputError("give --input or --random, not both")
    kind_of, description, damaged = file_format(path)
    keras = env.load_keras()
    model = saving.load_model(path, "file")
    with env.tensorflow_logs_quiet():
        found = keras_inspect.model_layers(keras, model)
        try:
            kind: InputKind | None = keras_inspect.input_kind(keras, model, _split(description))
        except InputError:
            kind = None
    inspection = Inspection(path, kind_of, found, description, kind, damaged=damaged)
    if not inputs and random is None and array is None:
        return inspection
    if len(found.inputs) > 1:
        hint = " (a seq2seq network rnnprobe saved: rnnprobe seq2seq --load FILE --translate " \
            "SENTENCE)" if (description or {}).get("kind") == "seq2seq" else ""  # fmt: skip
        raise InputError(f"the model has {len(found.inputs)} inputs: --input runs a model with "
                         f"one{hint}")  # fmt: skip
    if found.unsupported:
        names = ", ".join(f"{name} ({cls})" for name, cls in found.unsupported)
        raise InputError(f"rnnprobe cannot run the layers {names}: inspect without --input "
                         "shows the model")  # fmt: skip
    if kind is None:
        raise InputError("the model has no input Keras knows the shape of: it cannot be run")
    if kind.kind == "values" and len(kind.shape) > 2:  # ConvLSTM2D's frames, say
        shape = ", ".join("None" if n is None else str(n) for n in kind.shape)
        raise InputError(f"the model reads (batch, {shape}): rnnprobe runs recurrent layers over "
                         "(batch, time, features) only; inspect without --input or --random "
                         "shows its layers")  # fmt: skip
    if array is not None:
        given = model_input.checked(array, kind)
    elif random is not None:
        _check_memory(random, kind, found, Param("random"))
        given = model_input.random_batch(random, kind, seed)
    else:
        given = model_input.model_batch(list(inputs or []), kind, stdin)
    return Inspection(path, kind_of, found, description, kind, given,
                      models.probe_model(model, given), damaged)  # fmt: skip


def _check_memory(rows: int, kind: InputKind, found: Any, *what: str) -> None:
    """Refuse, before anything is drawn, a batch whose input and layers' outputs would not
    fit: each row's input (8 bytes a value) and every layer's output (float32, kept once
    and copied once), a step count of `RANDOM_TIME` where the model takes any length."""
    import math

    from rnnprobe.core import budget
    from rnnprobe.core.inputs.model_input import RANDOM_TIME

    def size(shape: Sequence[int | None]) -> int:
        return math.prod(RANDOM_TIME if n is None else n for n in shape)

    per_row = 8 * size(kind.shape) + 2 * budget.FLOAT_BYTES * sum(
        size(shape[1:]) for row in found.rows for shape in row.output_shape
    )  # fmt: skip
    budget.ensure_fits(rows * per_row, *what, f" {rows}: a batch of {rows:,} rows")
