"""`--torch`: the same network in PyTorch, its weights converted from Keras, run on the
same input, and compared with what Keras returned.

The only module that imports torch, lazily (PyTorch is an optional extra). The conversion:
- kernels are transposed: Keras keeps (input, gates x hidden), PyTorch (gates x hidden,
  input) in `weight_ih_l{k}`, recurrent kernels likewise in `weight_hh_l{k}`;
- GRU's gate blocks come in another order: Keras z, r, h; PyTorch r, z, n (LSTM's i, f,
  g/c, o match);
- PyTorch has two biases: Keras's single bias goes to `bias_ih`, zeros to `bias_hh`; a GRU
  with reset_after=True (Keras's default) has both rows, which go one to each.
PyTorch has no mask: padded words go through `pack_padded_sequence` and come back from
`pad_packed_sequence`, with zeros at padded steps where Keras repeats the last real step.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.result import (
    TOLERANCE,
    Cell,
    Layer,
    MergeMode,
    ProbeResult,
    ProbeSpec,
    Tensor,
)

INSTALL = 'pip install "rnnprobe[torch]"'
CLASSES = {Cell.simple: "RNN", Cell.lstm: "LSTM", Cell.gru: "GRU"}


@dataclass(frozen=True)
class TorchTwin:
    """The same network in PyTorch, weights converted from Keras, run on the same input.

    `output` is batch first (batch, time, directions x hidden); `h_n` and `c_n` hold one
    tensor per PyTorch module ((layers x directions, batch, hidden) each: one module for
    a stack of equal sizes, one per layer otherwise).
    """

    modules: tuple[str, ...]  # each module's constructor, as Python
    state_dict: tuple[Tensor, ...]
    rules: tuple[str, ...]  # the conversion rules applied, one line each
    output: Tensor
    h_n: tuple[Tensor, ...]
    c_n: tuple[Tensor, ...]
    slices: tuple[str, ...]  # which slice of h_n (c_n) is which Keras state
    calls: tuple[str, ...]  # the lines that call it, with the unpacking that works
    max_abs_diff: float
    compared: tuple[str, ...]  # what was compared with Keras
    embedding: Tensor | None = None
    logits: Tensor | None = None

    @property
    def ok(self) -> bool:
        return self.max_abs_diff < TOLERANCE


def available() -> bool:
    """Whether PyTorch is installed, asked without importing it."""
    return importlib.util.find_spec("torch") is not None


def require(name: str = "torch") -> None:
    """A usage error naming the extra to install, when PyTorch is not installed."""
    if not available():
        raise InputError(Param(name), f" needs PyTorch, which is not installed: {INSTALL}")


def _torch() -> Any:
    # Lazy on purpose: PyTorch is optional and takes seconds to import.
    import torch

    return torch


@dataclass(frozen=True)
class Group:
    """One PyTorch recurrent module: a run of Keras layers it stands for."""

    layers: tuple[Layer, ...]
    name: str  # `rnn`, or `rnn_1`, `rnn_2` for one module per layer

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    def constructor(self, cell: Cell) -> str:
        first = self.layers[0]
        args = [str(first.input_width), str(first.units)]
        if self.num_layers > 1:
            args.append(f"num_layers={self.num_layers}")
        args.append("batch_first=True")
        if first.bidirectional:
            args.append("bidirectional=True")
        return f"nn.{CLASSES[cell]}({', '.join(args)})"


def groups(spec: ProbeSpec, vocab_size: int) -> tuple[Group, ...]:
    """One module for a stack of equal sizes, one per layer otherwise (or when the
    directions are merged by anything but concatenation, which PyTorch does between
    layers)."""
    planned = spec.layers(vocab_size)
    merged = spec.bidirectional and spec.merge_mode is not MergeMode.concat
    if len(set(spec.hidden)) == 1 and not (merged and len(planned) > 1):
        return (Group(planned, "rnn"),)
    return tuple(Group((layer,), f"rnn_{layer.number}") for layer in planned)


def _gate_blocks(cell: Cell, array: np.ndarray, units: int) -> np.ndarray:
    """Columns of a Keras kernel (or bias) in PyTorch's gate order (GRU: z,r,h -> r,z,n)."""
    if cell is not Cell.gru:
        return array
    z, r, h = (array[..., k * units : (k + 1) * units] for k in range(3))
    return np.concatenate([r, z, h], axis=-1)


def convert(
    spec: ProbeSpec, vocab_size: int, weights: dict[str, np.ndarray]
) -> tuple[list[tuple[str, np.ndarray]], list[str]]:
    """The PyTorch state_dict (module-prefixed names), and the rules applied, in words."""
    found: list[tuple[str, np.ndarray]] = []
    rules: list[str] = []
    if spec.embed is not None:
        found.append(("embedding.weight", weights["embedding/embeddings"]))
        rules.append("embedding/embeddings -> embedding.weight: as it is (vocab x embedding)")
    cell = spec.cell
    for group in groups(spec, vocab_size):
        for k, layer in enumerate(group.layers):
            for direction in layer.directions:
                suffix = f"l{k}" + ("_reverse" if direction == "backward" else "")
                keras = layer.prefix(direction)
                kernel = _gate_blocks(cell, weights[keras + "kernel"], layer.units)
                recurrent = _gate_blocks(cell, weights[keras + "recurrent_kernel"], layer.units)
                bias = _gate_blocks(cell, weights[keras + "bias"], layer.units)
                bias_ih, bias_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, 0 * bias)
                prefix = f"{group.name}."
                found += [
                    (f"{prefix}weight_ih_{suffix}", np.ascontiguousarray(kernel.T)),
                    (f"{prefix}weight_hh_{suffix}", np.ascontiguousarray(recurrent.T)),
                    (f"{prefix}bias_ih_{suffix}", bias_ih),
                    (f"{prefix}bias_hh_{suffix}", bias_hh),
                ]
                rules.append(
                    f"{keras}kernel {weights[keras + 'kernel'].shape} -> {prefix}weight_ih_"
                    f"{suffix} {kernel.T.shape}, {keras}recurrent_kernel -> weight_hh_{suffix}:"
                    " transposed"
                )
                if weights[keras + "bias"].ndim == 2:
                    rules.append(
                        f"{keras}bias {weights[keras + 'bias'].shape}: row 0 -> bias_ih_{suffix},"
                        f" row 1 -> bias_hh_{suffix} (GRU reset_after=True has both)"
                    )
                else:
                    rules.append(
                        f"{keras}bias {weights[keras + 'bias'].shape} -> bias_ih_{suffix}; "
                        f"bias_hh_{suffix} = zeros (Keras has one bias, PyTorch two)"
                    )
    if cell is Cell.gru:
        rules.append("GRU gate blocks reordered: Keras z, r, h -> PyTorch r, z, n")
    elif cell is Cell.lstm:
        rules.append("LSTM gate blocks kept: Keras i, f, c, o = PyTorch i, f, g, o")
    if spec.head is not None:
        found += [
            ("head.weight", np.ascontiguousarray(weights["head/kernel"].T)),
            ("head.bias", weights["head/bias"]),
        ]
        rules.append(f"head/kernel {weights['head/kernel'].shape} -> head.weight: transposed")
    return found, rules


def _merge(mode: MergeMode, both: Any, units: int) -> Any:
    forward, backward = both[..., :units], both[..., units:]
    if mode is MergeMode.concat:
        return both
    if mode is MergeMode.sum:
        return forward + backward
    if mode is MergeMode.mul:
        return forward * backward
    return (forward + backward) / 2


def modules(spec: ProbeSpec, vocab_size: int) -> dict[str, Any]:
    """The PyTorch modules, by the names the state_dict uses, in flow order."""
    torch = _torch()
    nn = torch.nn
    found: dict[str, Any] = {}
    embedding = spec.embedding(vocab_size)
    if embedding is not None:
        found["embedding"] = nn.Embedding(embedding.vocab_size, embedding.width)
    for group in groups(spec, vocab_size):
        first = group.layers[0]
        found[group.name] = getattr(nn, CLASSES[spec.cell])(
            first.input_width,
            first.units,
            num_layers=group.num_layers,
            batch_first=True,
            bidirectional=first.bidirectional,
        )
    head = spec.head_stage(vocab_size)
    if head is not None:
        found["head"] = nn.Linear(head.input_width, head.units)
    return found


def load(found: dict[str, Any], state: Sequence[tuple[str, np.ndarray]]) -> None:
    """Copy the converted weights into the modules (exactly: the same float32 values)."""
    torch = _torch()
    for name, array in state:
        module, _, parameter = name.partition(".")
        with torch.no_grad():
            getattr(found[module], parameter).copy_(torch.from_numpy(np.asarray(array)))


def twin(result: ProbeResult) -> TorchTwin:
    """Build the PyTorch twin of a probe, run it on the probe's input, compare with Keras."""
    torch = _torch()
    spec, batch = result.spec, result.batch
    vocab_size = batch.width
    weights = {w.name: w.array for w in result.weights}
    state, rules = convert(spec, vocab_size, weights)
    found = modules(spec, vocab_size)
    load(found, state)
    found_groups = groups(spec, vocab_size)
    lengths = torch.tensor(batch.lengths, dtype=torch.int64)
    time = batch.time
    pack = torch.nn.utils.rnn.pack_padded_sequence
    unpack = torch.nn.utils.rnn.pad_packed_sequence
    embedded = None
    with torch.no_grad():
        if spec.embed is not None:
            flow = found["embedding"](torch.from_numpy(batch.input.array.astype(np.int64)))
            embedded = flow.numpy().astype(np.float32)
        else:
            flow = torch.from_numpy(batch.input.array)
        h_n, c_n = [], []
        for group in found_groups:
            packed = pack(flow, lengths, batch_first=True, enforce_sorted=False)
            out, hidden = found[group.name](packed)
            flow, _ = unpack(out, batch_first=True, total_length=time)
            h, c = hidden if spec.cell is Cell.lstm else (hidden, None)
            h_n.append(h)
            if c is not None:
                c_n.append(c)
            top = group.layers[-1]
            if top.bidirectional:
                flow = _merge(spec.merge_mode, flow, top.units)
        output = flow
        last_h = h_n[-1]
        top = found_groups[-1].layers[-1]
        if top.bidirectional:
            both = torch.cat([last_h[-2], last_h[-1]], -1)
            final = _merge(spec.merge_mode, both, top.units)
        else:
            final = last_h[-1]
        logits = None
        if spec.head is not None:
            logits = found["head"](output if spec.each_step else final)
    out_np = output.numpy().astype(np.float32)
    final_np = final.numpy().astype(np.float32)
    slices, states = _slices(spec, vocab_size, h_n, c_n)
    diffs = _compare(result, out_np, final_np, states, embedded, logits)

    def per_module(name: str, tensors: list[Any]) -> tuple[Tensor, ...]:
        dims = ("layers*directions", "batch", "hidden")
        return tuple(
            Tensor(name if len(found_groups) == 1 else f"{name} ({group.name})", dims,
                   tensor.numpy().astype(np.float32))
            for group, tensor in zip(found_groups, tensors, strict=True)
        )  # fmt: skip

    axis = "directions*hidden" if top.output_width != top.units else "hidden"
    classes = ("batch", "time", "class") if spec.each_step else ("batch", "class")
    return TorchTwin(
        modules=tuple(f"{name} = {_constructor(spec, vocab_size, name)}" for name in found),
        state_dict=tuple(
            Tensor(name, _dims(name), np.asarray(array, dtype=np.float32)) for name, array in state
        ),
        rules=tuple(rules),
        output=Tensor("output", ("batch", "time", axis), out_np),
        h_n=per_module("h_n", h_n),
        c_n=per_module("c_n", c_n) if c_n else (),
        slices=tuple(slices),
        calls=tuple(_calls(spec, vocab_size)),
        max_abs_diff=max(diffs.values()),
        compared=tuple(diffs),
        embedding=None
        if embedded is None
        else Tensor("embedding", ("batch", "time", "embedding"), embedded),
        logits=None if logits is None else Tensor("logits", classes, _numpy(logits)),
    )


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.numpy(), dtype=np.float32)


def _constructor(spec: ProbeSpec, vocab_size: int, name: str) -> str:
    if name == "embedding":
        stage = spec.embedding(vocab_size)
        assert stage is not None
        return f"nn.Embedding({stage.vocab_size}, {stage.width})"
    if name == "head":
        head = spec.head_stage(vocab_size)
        assert head is not None
        return f"nn.Linear({head.input_width}, {head.units})"
    group = next(g for g in groups(spec, vocab_size) if g.name == name)
    return group.constructor(spec.cell)


def _dims(name: str) -> tuple[str, ...]:
    short = name.rpartition(".")[2]
    if name.startswith("embedding."):
        return ("vocab", "embedding")
    if name.startswith("head."):
        return ("class", "hidden") if short == "weight" else ("class",)
    if short.startswith("weight_ih"):
        return ("gates*hidden", "input")
    if short.startswith("weight_hh"):
        return ("gates*hidden", "hidden")
    return ("gates*hidden",)


def _slices(
    spec: ProbeSpec, vocab_size: int, h_n: list[Any], c_n: list[Any]
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Which slice of h_n (and c_n) each Keras state is, and those slices by Keras name."""
    lines, states = [], {}
    found = groups(spec, vocab_size)
    for module, group in enumerate(found):
        where = f" ({group.name})" if len(found) > 1 else ""
        for k, layer in enumerate(group.layers):
            for d, direction in enumerate(layer.directions):
                index = k * len(layer.directions) + d
                names = layer.state_names(direction)
                for kind, (torch_name, tensors) in enumerate((("h_n", h_n), ("c_n", c_n))):
                    if kind >= len(names):
                        continue
                    states[names[kind]] = tensors[module][index].numpy().astype(np.float32)
                    lines.append(f"{torch_name}[{index}]{where} = {names[kind]}")
    return lines, states


def _compare(
    result: ProbeResult,
    output: np.ndarray,
    final: np.ndarray,
    states: dict[str, np.ndarray],
    embedded: np.ndarray | None,
    logits: Any,
) -> dict[str, float]:
    """The largest |Keras - PyTorch| of each tensor both have, over the real steps."""
    spec, mask = result.spec, result.batch.mask

    def diff(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.max(np.abs(a - b), initial=0.0))

    found = {}
    if embedded is not None and result.embedding is not None:
        found["embedding"] = diff(result.embedding.array, embedded)
    keras = result.outputs.array
    if spec.return_sequences:
        found["outputs"] = diff(keras[mask], output[mask])  # padded steps differ: see above
    else:
        found["outputs"] = diff(keras, final)
    for state in result.states:
        found[state.name] = diff(state.array, states[state.name])
    if logits is not None and result.logits is not None:
        values = logits.numpy().astype(np.float32)
        if spec.each_step:
            found["logits"] = diff(result.logits.array[mask], values[mask])
        else:
            found["logits"] = diff(result.logits.array, values)
    return found


def _merged(mode: MergeMode, forward: str, backward: str) -> str:
    """Keras's merge_mode as PyTorch code on the two directions."""
    return {
        MergeMode.concat: f"torch.cat([{forward}, {backward}], dim=-1)",
        MergeMode.sum: f"{forward} + {backward}",
        MergeMode.mul: f"{forward} * {backward}",
        MergeMode.ave: f"({forward} + {backward}) / 2",
    }[mode]


def _calls(spec: ProbeSpec, vocab_size: int) -> list[str]:
    """The PyTorch lines that run the twin, with the unpacking that works."""
    lines = ["x = embedding(ids)"] if spec.embed is not None else ["x = x_data"]
    found = groups(spec, vocab_size)
    for number, group in enumerate(found):
        source = "x" if number == 0 else "output"
        suffix = "" if len(found) == 1 else f"_{number + 1}"
        h, c = f"h_n{suffix}", f"c_n{suffix}"
        returned = f"output, ({h}, {c})" if spec.cell is Cell.lstm else f"output, {h}"
        lines.append(
            f"packed = pack_padded_sequence({source}, lengths, batch_first=True, "
            "enforce_sorted=False)"
        )
        lines.append(f"{returned} = {group.name}(packed)")
        lines.append("output, _ = pad_packed_sequence(output, batch_first=True, total_length=T)")
        top = group.layers[-1]
        if top.bidirectional and spec.merge_mode is not MergeMode.concat:
            units = top.units
            merged = _merged(spec.merge_mode, f"output[..., :{units}]", f"output[..., {units}:]")
            lines.append(f"output = {merged}  # Keras's merge_mode")
    if spec.head is not None:
        last = "h_n" if len(found) == 1 else f"h_n_{len(found)}"
        if spec.each_step:
            lines.append("logits = head(output)")
        elif spec.bidirectional:
            lines.append(f"logits = head({_merged(spec.merge_mode, last + '[-2]', last + '[-1]')})")
        else:
            lines.append(f"logits = head({last}[-1])  # the last real step's h")
    return lines


def to_torch(layer: Any) -> Any:
    """A user's built Keras recurrent layer as a PyTorch module (batch_first=True) with the
    same weights: `nn.RNN`/`nn.LSTM`/`nn.GRU` where one module is the same network, else a
    small `nn.Module` that runs one module per layer and merges the directions as Keras."""
    from rnnprobe.core import probe

    keras = probe.load_keras()
    layers = keras.layers
    spec, cells_per_rnn = probe._user_structure(layers, layer)
    require("to_torch")
    cells = cells_per_rnn[0]
    if not all(getattr(cell, "built", False) for group in cells_per_rnn for cell in group):
        raise InputError("rnnprobe.to_torch takes a built layer: call it once (or build it) first")
    if spec.bidirectional and len(cells) > 1:
        raise InputError(
            "rnnprobe.to_torch: Bidirectional over a stack of cells runs each direction "
            "through its own stack, which no PyTorch module does; wrap each layer instead"
        )
    weights: dict[str, np.ndarray] = {}
    sides = ["forward", "backward"] if spec.bidirectional else [""]
    for side, group in zip(sides, cells_per_rnn, strict=True):
        for number, cell in enumerate(group, start=1):
            prefix = (f"{number}/" if len(group) > 1 else "") + (f"{side}/" if side else "")
            by_name = {v.name.split("/")[-1]: v for v in cell.weights}
            for short in ("kernel", "recurrent_kernel", "bias"):
                weights[prefix + short] = np.asarray(by_name[short].numpy(), dtype=np.float32)
    width = int(cells[0].kernel.shape[0])
    state, _ = convert(spec, width, weights)
    found = modules(spec, width)
    load(found, state)
    names = [g.name for g in groups(spec, width)]
    if len(names) == 1 and not (spec.bidirectional and spec.merge_mode is not MergeMode.concat):
        return found[names[0]]
    return _stacked(spec, [found[name] for name in names])


def _stacked(spec: ProbeSpec, parts: list[Any]) -> Any:
    """One PyTorch module per Keras layer, run in turn, the directions merged as Keras."""
    torch = _torch()

    class KerasStack(torch.nn.Module):  # type: ignore[name-defined]
        """Runs each layer in turn; returns (output, [h_n of each layer] (and c_n))."""

        def __init__(self) -> None:
            super().__init__()
            self.layers = torch.nn.ModuleList(parts)

        def forward(self, x: Any) -> Any:
            states = []
            for module in self.layers:
                x, state = module(x)
                if module.bidirectional:
                    x = _merge(spec.merge_mode, x, module.hidden_size)
                states.append(state)
            return x, states

    return KerasStack()
