"""Saved networks: what `--save FILE.keras` writes after a training and what `--load` reads.

A file holds the trained network as a plain Keras model that reads what a user has (see
`keras/saving.py`) and, beside it in the archive, rnnprobe's description: what was trained
(`train`, `seq2seq` or `series`), the network's options, the vocabulary and classes (or the
columns and their scaling), the seed and the history. The saved vocabulary always starts
with `<unk>`: when the training never needed one, its row (of the Embedding, or of the
kernel that reads one-hot rows) is zeros, and every other token keeps its row, so that the
logits are the trained network's.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np

from rnnprobe import __version__
from rnnprobe.core.batch import Tensor
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import ONEHOT, PAD, UNK, Cell, MergeMode, Style, Task, Tokens
from rnnprobe.core.stages import ProbeSpec
from rnnprobe.core.stages.encdec import Seq2SeqSpec

FORMAT = 1  # the layout of rnnprobe.json; a later rnnprobe reads this one
ENUMS = {"style": Style, "cell": Cell, "merge_mode": MergeMode, "tokens": Tokens}


def check_target(path: str | None, option: str = "save") -> str | None:
    """Where `--save` writes, checked before any work: a `.keras` name in a directory
    that exists and can be written."""
    if path is None:
        return None
    if not path.endswith(".keras"):
        raise InputError(Param(option), f" {path!r}: give a file name ending in .keras (the "
                         "format keras.models.load_model reads)")  # fmt: skip
    # A symlink is written through: the folder that matters is the one of the file it names.
    directory = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(directory):
        raise InputError(Param(option), f" {path!r}: the directory {directory!r} does not exist")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(Param(option), f" {path!r}: the directory {directory!r} cannot be "
                         "written")  # fmt: skip
    if os.path.isdir(path):
        raise InputError(Param(option), f" {path!r} is a directory: give a file name")
    return path


def saved_vocab(vocab: tuple[str, ...]) -> tuple[str, ...]:
    """`<unk>` first, then the other tokens in their order."""
    return (UNK, *(token for token in vocab if token != UNK))


def reordered(
    weights: tuple[Tensor, ...],
    vocab: tuple[str, ...],
    saved: tuple[str, ...],
    *,
    padded: bool,
    scope: str = "",
    onehot: bool = False,
) -> tuple[Tensor, ...]:
    """The weights with a row per token (an Embedding's, after its `<pad>` row; a kernel
    that reads one-hot rows) in `saved`'s order; a token the network never had gets zeros.
    With a one-hot Embedding (`onehot`), its columns are the tokens too: it becomes the
    identity over `saved`, and the kernels that read it get a row per token."""
    where = {token: i for i, token in enumerate(vocab)}
    offset = 1 if padded else 0
    rows_of = ("vocab", "embedding") if onehot else ("vocab",)
    found = []
    for weight in weights:
        if weight.dims[0] not in rows_of or not weight.name.startswith(scope):
            found.append(weight)
            continue
        if onehot and weight.dims == ("vocab", "embedding"):  # the constant identity
            size = len(saved) + offset
            found.append(Tensor(weight.name, weight.dims, np.eye(size, dtype=np.float32)))
            continue
        rows = np.zeros((len(saved) + offset, *weight.array.shape[1:]), dtype=np.float32)
        rows[:offset] = weight.array[:offset]
        for new, token in enumerate(saved):
            if token in where:
                rows[new + offset] = weight.array[where[token] + offset]
        found.append(Tensor(weight.name, weight.dims, rows))
    return tuple(found)


def spec_meta(spec: ProbeSpec | Seq2SeqSpec) -> dict[str, Any]:
    return {key: value.value if isinstance(value, Enum) else value
            for key, value in dataclasses.asdict(spec).items()}  # fmt: skip


def spec_from(fields: dict[str, Any], kind: type) -> Any:
    given = {key: ENUMS[key](value) if key in ENUMS and value is not None else value
             for key, value in fields.items()}  # fmt: skip
    if "hidden" in given and isinstance(given["hidden"], list):
        given["hidden"] = tuple(given["hidden"])
    return kind(**given)


def history_meta(history: Any, before: list[dict[str, Any]] | None = None) -> list[Any]:
    return [*(before or []), *(dataclasses.asdict(entry) for entry in history)]


def _base(kind: str, spec: Any, seed: int) -> dict[str, Any]:
    """The keys every saved description starts with."""
    return {
        "rnnprobe": __version__,
        "format": FORMAT,
        "kind": kind,
        "spec": spec_meta(spec),
        "seed": seed,
    }


def save_training(result: Any, path: str, *, before: list[dict[str, Any]] | None = None,
                  before_epochs: int = 0) -> str:  # fmt: skip
    """`train --save`: the trained network at its final weights (its history after the
    loaded one's, its epochs counted after the loaded ones). Returns the path written."""
    return save_trained(result.data, result.spec, result.seed, result.final.weights, path,
                        history=history_meta(result.history, before),
                        epochs=before_epochs + len(result.history))  # fmt: skip


def save_grads(result: Any, path: str) -> str:
    """`grads --after N --save`: the network at the weights its gradients are taken at."""
    return save_trained(result.data, result.spec, result.seed, result.weights, path,
                        history=[], epochs=result.after)  # fmt: skip


def save_trained(data: Any, spec: ProbeSpec, seed: int, weights: tuple[Tensor, ...], path: str,
                 *, history: list[Any], epochs: int) -> str:  # fmt: skip
    """A network of `train`'s tasks over the saved vocabulary: token strings in, logits out."""
    from rnnprobe.core.keras import saving

    vocab = tuple(data.batch.vocab or ())
    embedded = data.batch.ids is not None
    tokens = vocab[1:] if embedded else vocab  # after <pad>
    saved = saved_vocab(tokens)
    spec = replace(spec, loss=False)
    network = spec.network(len(saved) + (1 if embedded else 0))
    meta = {
        **_base("train", spec, seed),
        "task": data.task.value,
        "tokens": data.batch.tokenizer.value,
        "embedded": embedded,
        "vocab": list(saved),
        "classes": list(data.classes),
        "window": None if data.stride is None else data.batch.time,
        "stride": data.stride,
        "epochs": epochs,
        "history": history,
    }
    rows = reordered(weights, tokens, saved, padded=embedded, onehot=spec.embed == ONEHOT)
    model, _ = saving.token_model(network, saved, embedded=embedded, weights=rows)
    saving.write(model, meta, path)
    return path


def save_pairs(result: Any, path: str, *, before: list[dict[str, Any]] | None = None) -> str:
    """`seq2seq --train --save`: the encoder-decoder, the source's and the decoder input's
    token strings in, the decoder's logits out (teacher-forced)."""
    from rnnprobe.core.keras import saving

    source = tuple(result.source.vocab or ())
    target = tuple(result.data.batch.vocab or ())
    saved = (PAD, *saved_vocab(source[1:]))
    spec = replace(result.spec, loss=False)
    network = spec.network(len(saved), len(target))
    weights = reordered(result.final.weights, source[1:], saved[1:], padded=True,
                        scope="encoder/")  # fmt: skip
    meta = {
        **_base("seq2seq", spec, result.seed),
        "source_vocab": list(saved),
        "target_vocab": list(target),
        "target_time": result.data.batch.time,
        "max_steps": result.max_steps,
        "epochs": len(before or []) + len(result.history),
        "history": history_meta(result.history, before),
    }
    model, _ = saving.pair_model(network, saved, target, result.data.batch.time, weights)
    saving.write(model, meta, path)
    return path


def save_series(result: Any, path: str) -> str:
    """`series --train --save`: raw values (windows, window, features) in, the fitted
    scaling inside, the scaled predictions out (one per horizon and target)."""
    from rnnprobe.core.keras import saving

    windows = result.windows
    scaler = windows.scaler
    if scaler.per_group:
        raise InputError(Param("save"), ": a saved series model holds one scaling, and "
                         "--scale-per-group fits one per group (leave it out to save)")  # fmt: skip
    features = list(windows.features)
    shift = [float(scaler.shift[0, c]) for c in features]
    span = [float(scaler.span[0, c]) for c in features]
    spec = replace(result.spec, loss=False)
    first = windows.targets_read[0]
    meta = {
        **_base("series", spec, result.seed),
        "columns": [windows.names[c] for c in features],
        "target": windows.names[first],
        "targets": list(windows.target_names),
        "window": windows.window,
        "stride": windows.stride,
        "horizon": windows.horizons[0],
        "horizons": list(windows.horizons),
        "difference": windows.difference,
        "scale": {
            "method": scaler.method,
            "shift": shift,
            "span": span,
            "target_shift": float(scaler.shift[0, first]),
            "target_span": float(scaler.span[0, first]),
            "targets_shift": [float(scaler.shift[0, c]) for c in windows.targets_read],
            "targets_span": [float(scaler.span[0, c]) for c in windows.targets_read],
        },
        "epochs": len(result.history),
        "history": history_meta(result.history),
    }
    network = spec.network(len(features))
    model, _ = saving.series_model(network, windows.window, shift, span, result.final.weights)
    saving.write(model, meta, path)
    return path


@dataclass(frozen=True)
class Loaded:
    """A network `--load` read: rnnprobe's description and the weights, by its names."""

    path: str
    meta: dict[str, Any]
    spec: Any  # ProbeSpec, or Seq2SeqSpec for an encoder-decoder
    weights: tuple[Tensor, ...]

    @property
    def kind(self) -> str:
        return str(self.meta["kind"])

    @property
    def vocab(self) -> tuple[str, ...]:
        return tuple(self.meta.get("vocab") or ())

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.meta.get("classes") or ())

    @property
    def tokens(self) -> Tokens:
        return Tokens(self.meta.get("tokens", self.spec.tokens.value))

    @property
    def task(self) -> Task:
        return Task(self.meta["task"])

    @property
    def history(self) -> list[dict[str, Any]]:
        return list(self.meta.get("history") or [])

    @property
    def embedded(self) -> bool:
        return bool(self.meta.get("embedded"))

    @property
    def epochs(self) -> int:
        """The epochs the saved network was trained (`grads --after` keeps no history)."""
        return int(self.meta.get("epochs", len(self.history)))


def read(path: str, kinds: tuple[str, ...], option: str = "load") -> dict[str, Any]:
    """rnnprobe's description in `path`, checked to be one of `kinds`: before TensorFlow."""
    from rnnprobe.core.keras import saving

    meta = saving.read_meta(path, option)
    if meta is None:
        raise InputError(Param(option), f" {path!r} holds a Keras model rnnprobe did not "
                         "save: `rnnprobe inspect` shows it")  # fmt: skip
    meta = checked_meta(meta, path, option)
    if meta.get("kind") not in kinds:
        wanted = " or ".join(kinds)
        raise InputError(Param(option), f" {path!r} holds a {meta.get('kind')} network; this "
                         f"command reads a {wanted} one")  # fmt: skip
    return meta


def meta_problem(meta: Any) -> tuple[dict[str, Any] | None, str | None]:
    """rnnprobe's description, checked whole: (the description, None), or (None, what is
    wrong with it: saved by a later rnnprobe, or damaged and where)."""
    from rnnprobe.core.inputs import description

    later = meta.get("format") if isinstance(meta, dict) else None
    if isinstance(later, int) and not isinstance(later, bool) and later > FORMAT:
        return (
            None,
            f"saved by a later rnnprobe ({meta.get('rnnprobe')}): update rnnprobe to read it",
        )
    try:
        return description.check(meta), None
    except description.Damaged as damaged:
        return None, f"the rnnprobe.json inside is damaged: {damaged}"


def checked_meta(meta: Any, path: str, option: str = "load") -> dict[str, Any]:
    """rnnprobe's description in `path` when it is whole and of a format this rnnprobe
    reads; else one line naming what is wrong."""
    found, problem = meta_problem(meta)
    if found is None:
        raise InputError(Param(option), f" {path!r}: {problem}")
    return found


def load(path: str, kinds: tuple[str, ...], option: str = "load") -> Loaded:
    """The network in `path` (one of `kinds`), its weights read through plain Keras."""
    from rnnprobe.core.keras import saving

    meta = read(path, kinds, option)
    if meta["kind"] == "seq2seq":
        spec: Any = spec_from(meta["spec"], Seq2SeqSpec)
        source, target = tuple(meta["source_vocab"]), tuple(meta["target_vocab"])
        network = spec.network(len(source), len(target))

        def rebuilt() -> tuple[Any, Any]:
            return saving.pair_model(network, source, target, int(meta["target_time"]))
    elif meta["kind"] == "series":
        spec = spec_from(meta["spec"], ProbeSpec)
        scale = meta["scale"]
        series = spec.network(len(scale["shift"]))

        def rebuilt() -> tuple[Any, Any]:
            return saving.series_model(series, int(meta["window"]), scale["shift"],
                                       scale["span"])  # fmt: skip
    else:
        spec = spec_from(meta["spec"], ProbeSpec)
        vocab = tuple(meta["vocab"])
        embedded = bool(meta["embedded"])
        model = spec.network(len(vocab) + (1 if embedded else 0))

        def rebuilt() -> tuple[Any, Any]:
            return saving.token_model(model, vocab, embedded=embedded)

    return Loaded(path, meta, spec, saving.weights_of(path, rebuilt, option))


def contradictions(loaded_spec: Any, given: dict[str, Any]) -> None:
    """Options given on the command line that the loaded network does not have: refused,
    each named with what the file holds."""
    fields = spec_meta(loaded_spec)
    found = []
    for name, value in given.items():
        held = fields.get(name)
        shown = value.value if isinstance(value, Enum) else value
        if isinstance(held, list):
            held = tuple(held)
        if isinstance(shown, list):
            shown = tuple(shown)
        if held != shown:
            found.append((name, shown, held))
    if found:
        name, shown, held = found[0]
        more = f" (and {', '.join('--' + n.replace('_', '-') for n, _, _ in found[1:])})" if (
            len(found) > 1) else ""  # fmt: skip
        if held is None or held is False:
            said = (" holds a network without ", Param(name),
                    "" if shown is True else f" (not {_spelled(shown)})")  # fmt: skip
        elif held is True:
            said = (" holds a network with ", Param(name), "")
        else:
            said = (" holds a network with ", Param(name), f" {_spelled(held)}, not "
                    f"{_spelled(shown)}")  # fmt: skip
        raise InputError(Param("load"), *said, f"{more}: leave the option out to use the "
                         "saved network")  # fmt: skip


def _spelled(value: Any) -> str:
    """An option's value as a user types it (never a Python repr such as None)."""
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return "none" if value is None else str(value)
