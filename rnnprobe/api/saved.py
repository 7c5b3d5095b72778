"""`rnnprobe.load(path)`: a network rnnprobe saved, to `run` on new words or `translate`
new sentences; `rnnprobe.inspect(path)`: any saved Keras model; and the `save` of the
training results."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from rich.console import RenderableType

from rnnprobe.api.probes import Run
from rnnprobe.api.shown import Shown, words_of
from rnnprobe.core.errors import InputError, Param

KINDS = ("train", "seq2seq", "series")


class Translations(Shown):
    """New sentences decoded by a loaded encoder-decoder: `.decoded`, as `seq2seq --load
    --translate --json` has it."""

    def __init__(self, result: Any) -> None:
        from rnnprobe.show import jsontrain

        self.result = result
        self.decoded: list[dict[str, Any]] = [jsontrain.decoded_object(d) for d in result.decoded]

    def _view(self) -> RenderableType:
        from rnnprobe.show import pairs_view

        return pairs_view.translations_view(self.result)

    def _json(self) -> dict[str, Any]:
        from rnnprobe.show import jsontrain

        return jsontrain.translations_object(self.result)

    def __repr__(self) -> str:
        return f"<rnnprobe.Translations of {len(self.decoded)} sentences>"


class Loaded:
    """A network rnnprobe saved (`--save`, `.save(path)`): `.description` is what rnnprobe
    wrote beside the Keras model (the task, vocabulary, classes, seed, history); `run`
    probes new words with the saved weights, `translate` decodes with a saved
    encoder-decoder."""

    def __init__(self, loaded: Any) -> None:
        self.loaded = loaded
        self.path: str = loaded.path
        self.kind: str = loaded.kind
        self.description: dict[str, Any] = loaded.meta

    def run(self, words: str | Sequence[str], *, return_state: bool = True) -> Run:
        """`rnnprobe run --load PATH WORDS`: the words in the saved vocabulary (unseen tokens
        read as `<unk>`) through the saved network."""
        from rnnprobe.core.commands import run as commands

        if self.kind != "train":
            raise InputError(f"{self.path!r} holds a {self.kind} network: run takes one "
                             "rnnprobe train saved")  # fmt: skip
        spec = replace(self.loaded.spec, loss=False, return_state=return_state)
        given = words_of(words, spec.tokens.value)
        batch = commands.loaded_batch(given, self.loaded, spec)
        return Run(commands.run(given, spec, batch=batch, seed=self.description["seed"],
                                weights=self.loaded.weights))  # fmt: skip

    def translate(self, sentences: str | Sequence[str], *,
                  max_steps: int | None = None) -> Translations:  # fmt: skip
        """`rnnprobe seq2seq --load PATH --translate ...`: each sentence decoded greedily."""
        from rnnprobe.core.commands import translate as translating

        if self.kind != "seq2seq":
            raise InputError(f"{self.path!r} holds a {self.kind} network: translate takes one "
                             "rnnprobe seq2seq saved")  # fmt: skip
        given = [sentences] if isinstance(sentences, str) else list(sentences)
        return Translations(translating.translate(self.loaded, given, max_steps))

    def __repr__(self) -> str:
        return f"<rnnprobe.Loaded {self.kind} network from {self.path!r}>"


def load(path: str) -> Loaded:
    """A network rnnprobe saved (`train --save`, `seq2seq --train --save`, `series --train
    --save`, or `.save(path)` of a training result), read through plain Keras."""
    from rnnprobe.core.commands import saved

    return Loaded(saved.load(str(path), KINDS, "path"))


class Inspection(Shown):
    """What `rnnprobe inspect` shows: `.layers` (one dict per layer, as the JSON's), and,
    with an input, `.run` (the forward pass, as `rnnprobe.probe(model, x)` gives it)."""

    def __init__(self, found: Any) -> None:
        from rnnprobe.show import inspect_view

        self.found = found
        self.description: dict[str, Any] | None = found.description
        self.layers: list[dict[str, Any]] = inspect_view.inspect_object(found)["layers"]
        self.run: Run | None = None if found.probe is None else Run(found.probe)

    def _view(self) -> RenderableType:
        from rnnprobe.show import inspect_view

        return inspect_view.inspect_view(self.found)

    def _json(self) -> dict[str, Any]:
        from rnnprobe.show import inspect_view, jsonout

        if self.found.probe is not None:
            return jsonout.run_object(self.found.probe, weights=False)
        return inspect_view.inspect_object(self.found)

    def __repr__(self) -> str:
        return f"<rnnprobe.Inspection of {self.found.path!r}: {len(self.layers)} layers>"


def inspect(path: str, input: Any = None, *, random: int | None = None,
            seed: int = 0) -> Inspection:  # fmt: skip
    """`rnnprobe inspect PATH`: any saved Keras model layer by layer; `input` (strings, one
    row each, or an array: the whole batch) or `random` rows run through it."""
    import numpy as np

    from rnnprobe.core.commands import inspect as inspecting

    if input is None or isinstance(input, str | list | tuple):
        rows = [input] if isinstance(input, str) else None if input is None else list(input)
        return Inspection(inspecting.inspect(str(path), rows, random, seed))
    if random is not None:
        raise InputError("give input or random, not both")
    return Inspection(inspecting.inspect(str(path), array=np.asarray(input)))


def save(result: Any, path: str) -> str:
    """A training result's network written to `path` (.keras), as `--save` writes it."""
    from rnnprobe.core.commands import saved

    saved.check_target(str(path), "path")
    kind = type(result).__name__
    if kind == "TrainResult":
        return saved.save_training(result, str(path))
    if kind == "GradsResult":
        if not result.after:
            raise InputError(Param("path"), ": only gradients taken after training (after=N) "
                             "have a trained network to save")  # fmt: skip
        return saved.save_grads(result, str(path))
    if kind == "PairsTraining":
        return saved.save_pairs(result, str(path))
    if kind == "SeriesResult":
        if result.recipe is None:
            raise InputError(Param("path"), ": only a trained series (train=N) has a network "
                             "to save")  # fmt: skip
        return saved.save_series(result, str(path))
    raise InputError(f"{kind} holds no trained network to save")
