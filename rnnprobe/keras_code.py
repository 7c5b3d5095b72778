"""The Keras code a ProbeSpec stands for, as lines of Python: shown in tables and scripts."""

from __future__ import annotations

from rnnprobe import __version__
from rnnprobe.result import Batch, ProbeSpec, Style

KERAS_LAYER = {"simple": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
KERAS_CELL = {"simple": "SimpleRNNCell", "lstm": "LSTMCell", "gru": "GRUCell"}


def identifier(state_name: str) -> str:
    """A state's name as a Python variable: `h` -> `h`, `1/forward_c` -> `forward_c_1`."""
    layer, _, name = state_name.rpartition("/")
    return f"{name}_{layer}" if layer else name


def _returns(spec: ProbeSpec, *, last: bool) -> str:
    flags = []
    if spec.return_sequences or not last:
        flags.append("return_sequences=True")
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
    cell, layer = KERAS_CELL[spec.cell.value], KERAS_LAYER[spec.cell.value]
    if one_rnn(spec):
        if spec.style is Style.cell:
            cells = [f"layers.{cell}({n})" for n in spec.hidden]
            inner = cells[0] if len(cells) == 1 else "[" + ", ".join(cells) + "]"
            return [f"rnn = {_wrap(spec, f'layers.RNN({inner}{_returns(spec, last=True)})')}"]
        inner = f"layers.{layer}({spec.hidden[0]}{_returns(spec, last=True)})"
        return [f"rnn = {_wrap(spec, inner)}"]
    lines = []
    for number, units in enumerate(spec.hidden, start=1):
        returns = _returns(spec, last=number == len(spec.hidden))
        if spec.style is Style.cell:
            inner = f"layers.RNN(layers.{cell}({units}){returns})"
        else:
            inner = f"layers.{layer}({units}{returns})"
        lines.append(f"rnn_{number} = {_wrap(spec, inner)}")
    return lines


def call_lines(spec: ProbeSpec, *, masked: bool) -> list[str]:
    """The calls with the unpacking that matches what Keras returns."""
    mask = ", mask=mask" if masked else ""
    names = [identifier(n) for n in spec.state_names]
    layers_count = len(spec.hidden)
    if one_rnn(spec):
        if layers_count > 1 and names:  # StackedRNNCells: one list of states per cell
            per = len(names) // layers_count
            groups = [names[i * per : (i + 1) * per] for i in range(layers_count)]
            targets = ["outputs", *("[" + ", ".join(g) + "]" for g in groups)]
        else:
            targets = ["outputs", *names]
        return [f"{', '.join(targets)} = rnn(x_data{mask})"]
    per = len(names) // layers_count
    lines = []
    source = "x_data"
    for number in range(1, layers_count + 1):
        out = "outputs" if number == layers_count else f"outputs_{number}"
        targets = [out, *names[(number - 1) * per : number * per]]
        lines.append(f"{', '.join(targets)} = rnn_{number}({source}{mask})")
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
        f"words = {list(batch.words)!r}",
        f"vocab = {list(batch.vocab)!r}",
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
