"""Saved networks, the Keras face: a trained network as one Keras v3 file that plain Keras
opens (`keras.models.load_model`, no custom objects), whose model reads what a user has,
and the same file read back as rnnprobe's weights.

The model is functional and built from the network's own stages, called as `run` calls
them but on symbolic tensors: in front, a `StringLookup` (`""` is `<pad>`, id 0; `<unk>`
id 1, where any token outside the vocabulary goes; then the tokens) or, for a series, the
fitted scaling as float64 ops on the raw values. rnnprobe's description of the network
(`meta`) travels in the same zip archive as `rnnprobe.json`: Keras reads only its own
entries. A file is written whole: to a temporary file beside it, then renamed.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import threading
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.keras import build, env
from rnnprobe.core.keras import pairs as keras_pairs
from rnnprobe.core.kinds import UNK
from rnnprobe.core.stages import Network
from rnnprobe.core.stages.encdec import EncoderDecoder

META = "rnnprobe.json"  # rnnprobe's description, inside the .keras archive
_umask_lock = threading.Lock()


def _lookup(keras: Any, tokens: Sequence[str], name: str, *, unknown: bool) -> Any:
    """`""` (padding) is id 0; with `unknown`, any other token outside `tokens` is id 1
    (`<unk>`) and `tokens` follow from id 2; without, `tokens` follow from id 1."""
    if unknown:
        return keras.layers.StringLookup(vocabulary=list(tokens), mask_token="", oov_token=UNK,
                                         num_oov_indices=1, name=name)  # fmt: skip
    return keras.layers.StringLookup(vocabulary=list(tokens), mask_token="", num_oov_indices=0,
                                     name=name)  # fmt: skip


def token_model(network: Network, vocab: Sequence[str], *, embedded: bool,
                weights: Sequence[Tensor] | None = None) -> tuple[Any, build.Model]:  # fmt: skip
    """Token strings (batch, time), `""` as padding, in; the network's logits out. `vocab`
    starts with `<unk>`; the one-hot rows (or the Embedding's ids after `<pad>`) follow it."""
    keras = env.load_keras()
    assert vocab[0] == UNK
    built = build.model(keras, network.model)
    tokens = keras.Input(shape=(None,), dtype="string", name="tokens")
    ids = _lookup(keras, vocab[1:], "lookup", unknown=True)(tokens)
    value = ids
    if not embedded:  # x_data: id 0 (padding) a row of zeros, each other id its one-hot row
        rows = np.concatenate([np.zeros((1, len(vocab))), np.eye(len(vocab))]).astype(np.float32)
        value = keras.layers.Embedding(len(vocab) + 1, len(vocab), trainable=False, name="one_hot",
                                       mask_zero=True,
                                       embeddings_initializer=keras.initializers.Constant(rows),
                                       )(ids)  # fmt: skip
    # The mask is the Embedding's (mask_zero: id 0 is padding), which Keras passes on from
    # layer to layer as it does in any model: no operation of rnnprobe's in the graph.
    flow = build.call(built, build.Flow(value, None))
    model = keras.Model(tokens, flow.value, name="rnnprobe")
    if weights is not None:
        build.assign([built], weights)
    return model, built


def pair_model(
    network: EncoderDecoder,
    source_vocab: Sequence[str],
    target_vocab: Sequence[str],
    target_time: int,
    weights: Sequence[Tensor] | None = None,
) -> tuple[Any, keras_pairs.Pair]:
    """The source's token strings and the decoder's input (`<bos>` + the target, `""` as
    padding, `target_time` steps) in; the decoder's logits out, teacher-forced. The source
    vocabulary is `<pad>`, `<unk>`, tokens; the target's `<pad>`, `<bos>`, `<eos>`, tokens."""
    keras = env.load_keras()
    ops = keras.ops
    assert source_vocab[:2] == ("<pad>", UNK)
    encoder = build.model(keras, network.encoder)
    decoder = build.model(keras, network.decoder)
    source = keras.Input(shape=(None,), dtype="string", name="source")
    decoder_input = keras.Input(shape=(target_time,), dtype="string", name="decoder_input")
    source_ids = _lookup(keras, source_vocab[2:], "source_lookup", unknown=True)(source)
    target_ids = _lookup(keras, target_vocab[1:], "target_lookup", unknown=False)(decoder_input)
    pair = keras_pairs.Pair(network, encoder, decoder, [])
    _, found = keras_pairs.call(pair, source_ids, ops.not_equal(source_ids, 0), target_ids,
                                ops.not_equal(target_ids, 0))  # fmt: skip
    model = keras.Model([source, decoder_input], found["logits"], name="rnnprobe")
    pair = keras_pairs.Pair(
        network, encoder, decoder, build.named_variables(encoder) + build.named_variables(decoder)
    )
    if weights is not None:
        build.assign([encoder, decoder], weights)
    return model, pair


def series_model(network: Network, window: int, shift: Sequence[float], span: Sequence[float],
                 weights: Sequence[Tensor] | None = None) -> tuple[Any, build.Model]:  # fmt: skip
    """Raw values (batch, window, features) in, scaled in float64 as rnnprobe scales them
    ((x - shift) / span, then float32); the network's (scaled) predictions out."""
    keras = env.load_keras()
    ops = keras.ops
    built = build.model(keras, network.model)
    values = keras.Input(shape=(window, len(shift)), dtype="float64", name="values")
    scaled = ops.divide(ops.subtract(values, np.asarray(shift, np.float64)),
                        np.asarray(span, np.float64))  # fmt: skip
    flow = build.call(built, build.Flow(ops.cast(scaled, "float32"), None))
    model = keras.Model(values, flow.value, name="rnnprobe")
    if weights is not None:
        build.assign([built], weights)
    return model, built


def write(model: Any, meta: dict[str, Any], path: str, option: str = "save") -> None:
    """The model and rnnprobe's description as one file at `path`, written whole: into a
    temporary file beside the target, then renamed over it, so that the target is replaced
    only by a complete file. A symlink is written through (the file it names is replaced).
    The file gets the mode a new file gets under the umask. Any failure of the write, from
    the first byte to the rename, leaves the target as it was and is one line naming why."""
    target = os.path.realpath(path)
    try:
        handle, temporary = tempfile.mkstemp(prefix=".rnnprobe-", suffix=".keras",
                                             dir=os.path.dirname(target))  # fmt: skip
    except OSError as error:
        raise write_error(path, error, option) from None
    os.close(handle)
    try:
        with env.tensorflow_logs_quiet():
            model.save(temporary)
        with zipfile.ZipFile(temporary, "a") as archive:
            archive.writestr(META, json.dumps(meta, ensure_ascii=False, indent=1))
        os.chmod(temporary, new_file_mode())
        os.replace(temporary, target)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        failed = _os_error(error)
        if failed is not None:
            raise write_error(path, failed, option) from None
        raise


def _os_error(error: BaseException) -> OSError | None:
    """The OSError behind a failed write (Keras and h5py may wrap it), else None."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        if isinstance(found, OSError):
            return found
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return None


# Why a write fails, in a user's words, by errno name: what to do about it.
_WRITE_HINTS = {
    "EACCES": "permission denied: choose a folder you can write to",
    "EPERM": "not permitted: the file or its folder is read-only or immutable (lsattr shows it)",
    "EROFS": "the file system is read-only",
    "ENOSPC": "no space left on the device",
    "EDQUOT": "the disk quota is used up",
    "EFBIG": "the file is larger than the file-size limit allows (ulimit -f)",
    "ENOTDIR": "a part of the path is not a directory",
    "EISDIR": "it is a directory: give a file name",
    "ENOENT": "its folder does not exist or cannot hold files",
    "ENAMETOOLONG": "the name is too long",
}


def write_error(path: str, error: OSError, option: str = "save") -> InputError:
    """A failed write as one line naming the path and the reason; nothing was replaced."""
    import errno

    name = errno.errorcode.get(error.errno or 0, "")
    reason = _WRITE_HINTS.get(name) or (error.strerror or str(error) or type(error).__name__)
    return InputError(Param(option), f" {path!r} could not be written: {reason}; nothing was "
                      "saved (an existing file is left as it was)")  # fmt: skip


def new_file_mode() -> int:
    """The mode `open()` gives a new file under this process's umask (0o666 & ~umask)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _umask_lock:  # os.umask can only be read by setting it: keep it set briefly
        mask = os.umask(0o077)
        os.umask(mask)
    return 0o666 & ~mask


def read_meta(path: str, option: str = "load") -> dict[str, Any] | None:
    """rnnprobe's description inside a `.keras` file (None: a Keras file rnnprobe did not
    save); a missing file, or one that is not a Keras archive, is refused in one line."""
    if not os.path.exists(path):
        raise InputError(Param(option), f" {path!r}: no such file")
    if os.path.isdir(path):
        raise InputError(Param(option), f" {path!r} is a directory: give a .keras file")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise InputError(Param(option), f" {path!r} is not a Keras model file")
            if META not in names:
                return None
            found: dict[str, Any] = json.loads(archive.read(META))
            return found
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InputError(Param(option), f" {path!r} is not a Keras model file (or it is "
                         "truncated)") from None  # fmt: skip


def load_model(path: str, option: str = "load") -> Any:
    """The Keras model in `path`, as plain Keras loads it (no custom objects, safe mode).
    Keras's warnings while loading are kept off stderr; a failure is one line."""
    import warnings

    keras = env.load_keras()
    try:
        with env.tensorflow_logs_quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds for a damaged or foreign file
        raise InputError(Param(option), f" {path!r}: Keras cannot load it: "
                         f"{load_reason(error, path)}") from None  # fmt: skip


def load_reason(error: BaseException, path: str = "") -> str:
    """Why Keras could not load a file, in one line: a weight that does not fit named with
    both shapes, a class Keras does not know named, else Keras's own words whole (arrays
    left out), with the hint that fits."""
    import re

    said = str(error)
    shapes = re.search(r"variable\.shape=(\([^)]*\)), Received: value\.shape=(\([^)]*\))",
                       said)  # fmt: skip
    if shapes is not None:
        where = re.search(r"Target variable: <Variable path=([^,>]+)", said)
        count = re.match(r"A total of (\d+) objects could not be loaded", said)
        # Keras numbers a layer's name by how many it made in this process: not the file's.
        name = f"the weight {_unnumbered(where.group(1))}" if where else "a weight"
        more = f" ({count.group(1)} layers do not fit)" if count and count.group(1) != "1" else ""
        return (
            f"its weights do not fit its layers: {name} is {shapes.group(1)} in the "
            f"model and {shapes.group(2)} in the weights{more}"
        )
    unknown = re.search(r"Could not locate (?:class|function) '([^']+)'", said)
    if unknown is not None:
        return (
            f"it uses {unknown.group(1)!r}, a class or function Keras does not know: "
            "custom objects are not supported (rnnprobe loads in safe mode, without "
            "custom_objects)"
        )
    said = whole_words(error)
    if path.lower().endswith((".h5", ".hdf5")) and re.search(
        r"StringLookup|TextVectorization|lookup|vocabulary", said, re.I
    ):  # fmt: skip
        said += " (a text layer's vocabulary is not kept in .h5: save the model as .keras)"
    return said.rstrip(".")


def whole_words(error: BaseException) -> str:
    """Keras's or TensorFlow's message, whole and on one line, without a tensor's values
    (never cut mid-sentence: a message cut at some width reads as a bug)."""
    import re

    said = re.sub(r"value=\[.*?\]>", ">", str(error), flags=re.S)  # a tensor's values
    return " ".join(said.split()) or type(error).__name__


def _unnumbered(path: str) -> str:
    """A weight's path without the numbers Keras appends to layer names (`simple_rnn_12`)."""
    import re

    return re.sub(r"_\d+(?=/|$)", "", path)


def _mismatch(found: Sequence[Any], wanted: Sequence[Any]) -> str | None:
    """The first weight of the file's model whose shape differs from the rebuilt network's
    (named by the file, both shapes), or a count that differs; None when they fit."""
    for have, need in zip(found, wanted, strict=False):
        if tuple(have.shape) != tuple(need.shape):
            return (f"the file's {_unnumbered(have.path)} is {tuple(have.shape)} where it needs "
                    f"{tuple(need.shape)}")  # fmt: skip
    if len(found) != len(wanted):
        return f"the file holds {len(found)} weights, the description's network {len(wanted)}"
    return None


def weights_of(path: str, rebuilt: Callable[[], tuple[Any, Any]], option: str = "load"
               ) -> tuple[Tensor, ...]:  # fmt: skip
    """The saved weights by rnnprobe's names: the file's model loaded by plain Keras, its
    weights set into the same model rebuilt from rnnprobe's description."""
    from rnnprobe.core.keras.probe import collect_weights

    loaded = load_model(path, option)
    with env.build_lock, env.tensorflow_logs_quiet():
        model, built = rebuilt()
        found = loaded.get_weights()
        mismatch = _mismatch(loaded.weights, model.weights)
        if mismatch is not None:
            raise InputError(Param(option), f" {path!r}: its weights do not fit the network "
                             f"its rnnprobe description names: {mismatch}")  # fmt: skip
        model.set_weights(found)
        models = [built.encoder, built.decoder] if isinstance(built, keras_pairs.Pair) else [built]
        named = [n for side in models for n in build.named_variables(side)]
        return collect_weights(named, [variable.numpy() for _, variable, _ in named])
