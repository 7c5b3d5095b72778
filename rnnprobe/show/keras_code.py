"""The Keras code a ProbeSpec stands for, as lines of Python: shown in tables and scripts."""

from __future__ import annotations

from rnnprobe import __version__
from rnnprobe.core.result import Batch, Layer, ProbeSpec, Style


def identifier(state_name: str) -> str:
    """A state's name as a Python variable: `h` -> `h`, `1/forward_c` -> `forward_c_1`."""
    layer, _, name = state_name.rpartition("/")
    return f"{name}_{layer}" if layer else name


def _returns(spec: ProbeSpec, layer: Layer) -> str:
    flags = ["return_sequences=True"] if layer.return_sequences else []
    if spec.return_state:
        flags.append("return_state=True")
    return "".join(", " + f for f in flags)


def _wrap(spec: ProbeSpec, inner: str) -> str:
    if not spec.bidirectional:
        return inner
    merge = "" if spec.merge_mode.value == "concat" else f", merge_mode={spec.merge_mode.value!r}"
    return f"layers.Bidirectional({inner}{merge})"


def one_rnn(spec: ProbeSpec) -> bool:
    """True when the probe is one Keras layer (cell style, or a single layer)."""
    return len(spec.hidden) == 1 or (spec.style is Style.cell and not spec.bidirectional)


def layer_lines(spec: ProbeSpec) -> list[str]:
    """`rnn = layers....` for one layer, `rnn_1 = ...`, `rnn_2 = ...` for a stack of layers."""
    cell, keras_layer = spec.cell.keras_cell, spec.cell.keras_layer
    planned = spec.layers(0)
    if one_rnn(spec):
        returns = _returns(spec, planned[-1])
        if spec.style is Style.cell:
            cells = [f"layers.{cell}({layer.units})" for layer in planned]
            inner = cells[0] if len(cells) == 1 else "[" + ", ".join(cells) + "]"
            return [f"rnn = {_wrap(spec, f'layers.RNN({inner}{returns})')}"]
        return [f"rnn = {_wrap(spec, f'layers.{keras_layer}({planned[0].units}{returns})')}"]
    lines = []
    for layer in planned:
        returns = _returns(spec, layer)
        if spec.style is Style.cell:
            inner = f"layers.RNN(layers.{cell}({layer.units}){returns})"
        else:
            inner = f"layers.{keras_layer}({layer.units}{returns})"
        lines.append(f"rnn_{layer.number} = {_wrap(spec, inner)}")
    return lines


def call_lines(spec: ProbeSpec, *, masked: bool) -> list[str]:
    """The calls with the unpacking that matches what Keras returns."""
    mask = ", mask=mask" if masked else ""
    planned = spec.layers(0)
    per_layer = [
        [identifier(n) for n in layer.all_state_names] if spec.return_state else []
        for layer in planned
    ]
    if one_rnn(spec):
        if len(planned) > 1 and spec.return_state:  # StackedRNNCells: a list of states per cell
            targets = ["outputs", *("[" + ", ".join(names) + "]" for names in per_layer)]
        else:
            targets = ["outputs", *per_layer[0]]
        return [f"{', '.join(targets)} = rnn(x_data{mask})"]
    lines = []
    source = "x_data"
    for layer, names in zip(planned, per_layer, strict=True):
        out = "outputs" if layer.number == len(planned) else f"outputs_{layer.number}"
        lines.append(f"{', '.join([out, *names])} = rnn_{layer.number}({source}{mask})")
        source = out
    return lines


def script(batch: Batch, spec: ProbeSpec, seed: int) -> str:
    """A self-contained script (numpy and tensorflow.keras) that rebuilds this probe."""
    masked = batch.padded
    names = ["outputs", *(identifier(n) for n in spec.state_names)]
    lines = [
        f"# Written by rnnprobe {__version__}: the same x_data, seed and layers as this probe.",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        f"words = {list(batch.words or ())!r}",
        f"vocab = {list(batch.vocab or ())!r}",
        "lengths = [len(word) for word in words]",
        "x_data = np.zeros((len(words), max(lengths), len(vocab)), dtype=np.float32)",
        "for b, word in enumerate(words):",
        "    for t, char in enumerate(word):",
        "        x_data[b, t, vocab.index(char)] = 1.0",
    ]
    if masked:
        lines.append("mask = np.arange(x_data.shape[1])[None, :] < np.array(lengths)[:, None]")
    lines += [
        "",
        f"keras.utils.set_random_seed({seed})  # before the layers are built",
        *layer_lines(spec),
        *call_lines(spec, masked=masked),
        "",
    ]
    lines += [
        f"print('{name}: {{}}, shape: {{}}'.format(np.asarray({name}), tuple({name}.shape)))"
        for name in ("x_data", *names)
    ]
    return "\n".join(lines) + "\n"
