"""`run --torch --code`: a runnable PyTorch script with the twin's modules, the converted
weights, the same input, and the same numbers printed."""

from __future__ import annotations

import numpy as np

from rnnprobe import __version__
from rnnprobe.core.result import ProbeResult
from rnnprobe.show.keras_code import input_lines, printed

# The input as a torch tensor, by the name the input stage gives it.
TORCH_INPUT = {
    "ids": "ids = torch.from_numpy(ids.astype(np.int64))",
    "x_data": "x_data = torch.from_numpy(x_data)",
}


def _literal(array: np.ndarray) -> str:
    """A float32 array as a Python list that reads back as the same float32 values."""
    return repr(np.asarray(array, dtype=np.float32).tolist())


def torch_script(result: ProbeResult) -> str:
    """A runnable PyTorch script: the twin's modules, the converted weights, the same input,
    and the same numbers printed."""
    twin = result.torch
    assert twin is not None
    batch = result.batch
    network = result.network
    lines = [
        f"# Written by rnnprobe {__version__}: this probe's network in PyTorch, with the "
        "weights converted from Keras.",
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence",
        "",
        *input_lines(network.input, batch),
        "",
        TORCH_INPUT[network.input.name],
    ]
    lines += [
        "lengths = torch.tensor(lengths)",
        f"T = {batch.time}",
        "",
        *twin.modules,
        "modules = {"
        + ", ".join(f"{m.split(' = ')[0]!r}: {m.split(' = ')[0]}" for m in twin.modules)
        + "}",
        "state_dict = {  # converted from the Keras weights",
        *(f"    {t.name!r}: {_literal(t.array)}," for t in twin.state_dict),
        "}",
        "with torch.no_grad():",
        "    for name, values in state_dict.items():",
        "        module, _, parameter = name.partition('.')",
        "        getattr(modules[module], parameter).copy_(torch.tensor(values))",
        *(f"    {line}" for line in twin.calls),
        "",
    ]
    shown = ["output", *(t.name.split(" ")[0] + _suffix(t.name) for t in twin.h_n)]
    shown += [t.name.split(" ")[0] + _suffix(t.name) for t in twin.c_n]
    shown += ["logits"] if twin.logits is not None else []
    lines += printed(shown)
    return "\n".join(lines) + "\n"


def _suffix(name: str) -> str:
    """`h_n (rnn_2)` -> `_2`: the variable the calls unpack that module's h_n into."""
    if "(" not in name:
        return ""
    return "_" + name.rsplit("_", 1)[1].rstrip(")")
