"""The PyTorch face of each stage kind: its weights converted from Keras's, its modules and
their constructors as code, its run on the twin's input, the lines that call it, and what
of it is compared with Keras.

The conversion:
- kernels are transposed: Keras keeps (input, gates x hidden), PyTorch (gates x hidden,
  input) in `weight_ih_l{k}`, recurrent kernels likewise in `weight_hh_l{k}`;
- gate blocks come in PyTorch's order (`Cell.torch_gate_order`: GRU z, r, h -> r, z, n);
- PyTorch has two biases: Keras's single bias goes to `bias_ih`, zeros to `bias_hh`; a GRU
  with reset_after=True (Keras's default) has both rows, which go one to each.
PyTorch has no mask: padded words go through `pack_padded_sequence` and come back from
`pad_packed_sequence`, with zeros at padded steps where Keras repeats the last real step.

torch itself is imported by `twin.py` only and passed in (`nn`, `torch`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any

import numpy as np

from rnnprobe.core.kinds import Cell
from rnnprobe.core.stages import (
    Embedding,
    Head,
    Layer,
    Network,
    Recurrent,
    Stage,
    StepHead,
    TokenIds,
)

Converted = tuple[list[tuple[str, np.ndarray]], list[str]]  # state_dict entries, rules


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
        return f"nn.{cell.torch_class}({', '.join(args)})"


def groups(stage: Recurrent) -> tuple[Group, ...]:
    """One module for a stack of equal sizes, one per layer otherwise (or when the
    directions are merged by anything but concatenation, which PyTorch does between
    layers)."""
    planned = stage.layers
    merged = stage.bidirectional and not stage.merge_mode.widens
    if len({layer.units for layer in planned}) == 1 and not (merged and len(planned) > 1):
        return (Group(planned, "rnn"),)
    return tuple(Group((layer,), f"rnn_{layer.number}") for layer in planned)


def gate_blocks(cell: Cell, array: np.ndarray, units: int) -> np.ndarray:
    """Columns of a Keras kernel (or bias) in PyTorch's gate order."""
    order = cell.torch_gate_order
    if order == tuple(range(len(order))):
        return array
    blocks = [array[..., k * units : (k + 1) * units] for k in range(len(order))]
    return np.concatenate([blocks[k] for k in order], axis=-1)


@dataclass
class TorchFlow:
    """What passes from stage to stage in the twin, and what each stage left behind."""

    value: Any
    lengths: Any
    time: int
    found: dict[str, Any] = field(default_factory=dict)
    starts: Any = None  # `--initial-state`: every state (numpy), in Keras's order


# -- convert: the state_dict entries and the rules, in words ---------------------------------
@singledispatch
def convert(stage: Stage, weights: dict[str, np.ndarray], blocks: Any) -> Converted:
    return [], []


@convert.register
def _(stage: Embedding, weights: dict[str, np.ndarray], blocks: Any) -> Converted:
    (weight,) = stage.weights()
    return (
        [("embedding.weight", weights[weight.name])],
        [f"{weight.name} -> embedding.weight: as it is (vocab x embedding)"],
    )


@convert.register
def _(stage: Recurrent, weights: dict[str, np.ndarray], blocks: Any) -> Converted:
    found: list[tuple[str, np.ndarray]] = []
    rules: list[str] = []
    cell = stage.cell
    for group in groups(stage):
        for k, layer in enumerate(group.layers):
            for direction in layer.directions:
                suffix = f"l{k}" + ("_reverse" if direction == "backward" else "")
                named = {w.name.rpartition("/")[2]: w.name for w in layer.weights(direction)}
                kernel = blocks(cell, weights[named["kernel"]], layer.units)
                recurrent = blocks(cell, weights[named["recurrent_kernel"]], layer.units)
                bias = blocks(cell, weights[named["bias"]], layer.units)
                bias_ih, bias_hh = (bias[0], bias[1]) if bias.ndim == 2 else (bias, 0 * bias)
                prefix = f"{group.name}."
                found += [
                    (f"{prefix}weight_ih_{suffix}", np.ascontiguousarray(kernel.T)),
                    (f"{prefix}weight_hh_{suffix}", np.ascontiguousarray(recurrent.T)),
                    (f"{prefix}bias_ih_{suffix}", bias_ih),
                    (f"{prefix}bias_hh_{suffix}", bias_hh),
                ]
                keras = layer.prefix(direction)
                rules.append(
                    f"{keras}kernel {weights[named['kernel']].shape} -> {prefix}weight_ih_"
                    f"{suffix} {kernel.T.shape}, {keras}recurrent_kernel -> weight_hh_{suffix}:"
                    " transposed"
                )
                shape = weights[named["bias"]].shape
                if len(shape) == 2:
                    rules.append(
                        f"{keras}bias {shape}: row 0 -> bias_ih_{suffix},"
                        f" row 1 -> bias_hh_{suffix} (GRU reset_after=True has both)"
                    )
                else:
                    rules.append(
                        f"{keras}bias {shape} -> bias_ih_{suffix}; "
                        f"bias_hh_{suffix} = zeros (Keras has one bias, PyTorch two)"
                    )
    if cell.torch_gate_rule:
        rules.append(cell.torch_gate_rule)
    return found, rules


@convert.register
def _(stage: Head, weights: dict[str, np.ndarray], blocks: Any) -> Converted:
    kernel, bias = (weights[w.name] for w in stage.weights())
    return (
        [("head.weight", np.ascontiguousarray(kernel.T)), ("head.bias", bias)],
        [f"head/kernel {kernel.shape} -> head.weight: transposed"],
    )


# -- constructors: each module as Python -----------------------------------------------------
@singledispatch
def constructors(stage: Stage) -> dict[str, str]:
    return {}


@constructors.register
def _(stage: Embedding) -> dict[str, str]:
    return {"embedding": f"nn.Embedding({stage.vocab_size}, {stage.width})"}


@constructors.register
def _(stage: Recurrent) -> dict[str, str]:
    return {group.name: group.constructor(stage.cell) for group in groups(stage)}


@constructors.register
def _(stage: Head) -> dict[str, str]:
    return {"head": f"nn.Linear({stage.input_width}, {stage.units})"}


@singledispatch
def modules(stage: Stage, nn: Any) -> dict[str, Any]:
    """The stage's PyTorch modules, by the names the state_dict uses (as `constructors`)."""
    return {}


@modules.register
def _(stage: Embedding, nn: Any) -> dict[str, Any]:
    return {"embedding": nn.Embedding(stage.vocab_size, stage.width)}


@modules.register
def _(stage: Recurrent, nn: Any) -> dict[str, Any]:
    found = {}
    for group in groups(stage):
        first = group.layers[0]
        found[group.name] = getattr(nn, stage.cell.torch_class)(
            first.input_width,
            first.units,
            num_layers=group.num_layers,
            batch_first=True,
            bidirectional=first.bidirectional,
        )
    return found


@modules.register
def _(stage: Head, nn: Any) -> dict[str, Any]:
    return {"head": nn.Linear(stage.input_width, stage.units)}


# -- run: the twin's forward pass ------------------------------------------------------------
@singledispatch
def run(stage: Stage, found: dict[str, Any], flow: TorchFlow, torch: Any) -> TorchFlow:
    flow.value = torch.from_numpy(np.asarray(flow.value, dtype=np.float32))
    return flow


@run.register
def _(stage: TokenIds, found: dict[str, Any], flow: TorchFlow, torch: Any) -> TorchFlow:
    flow.value = torch.from_numpy(np.asarray(flow.value).astype(np.int64))
    return flow


@run.register
def _(stage: Embedding, found: dict[str, Any], flow: TorchFlow, torch: Any) -> TorchFlow:
    flow.value = found["embedding"](flow.value)
    flow.found["embedding"] = flow.value
    return flow


def _concatenate(torch: Any) -> Any:
    return lambda forward, backward: torch.cat([forward, backward], -1)


@run.register
def _(stage: Recurrent, found: dict[str, Any], flow: TorchFlow, torch: Any) -> TorchFlow:
    pack = torch.nn.utils.rnn.pack_padded_sequence
    unpack = torch.nn.utils.rnn.pad_packed_sequence
    h_n, c_n = [], []
    value = flow.value
    given = iter(flow.starts or ())
    for group in groups(stage):
        packed = pack(value, flow.lengths, batch_first=True, enforce_sorted=False)
        if flow.starts is None:
            out, hidden = found[group.name](packed)
        else:  # h0 (and c0): (layers*directions, batch, hidden), Keras's order within
            places = [[next(given) for _ in stage.cell.state_names]
                      for layer in group.layers for _ in layer.directions]  # fmt: skip
            h0, *c0 = (torch.from_numpy(np.stack(kind)) for kind in zip(*places, strict=True))
            out, hidden = found[group.name](packed, (h0, *c0) if c0 else h0)
        value, _ = unpack(out, batch_first=True, total_length=flow.time)
        h, c = hidden if stage.cell is Cell.lstm else (hidden, None)
        h_n.append(h)
        if c is not None:
            c_n.append(c)
        top = group.layers[-1]
        if top.bidirectional:
            units = top.units
            value = stage.merge_mode.merge(value[..., :units], value[..., units:],
                                           _concatenate(torch))  # fmt: skip
    last = h_n[-1]
    if stage.bidirectional:
        final = stage.merge_mode.merge(last[-2], last[-1], _concatenate(torch))
    else:
        final = last[-1]
    flow.value = value
    flow.found.update(output=value, final=final, h_n=h_n, c_n=c_n)
    return flow


@run.register
def _(stage: Head, found: dict[str, Any], flow: TorchFlow, torch: Any) -> TorchFlow:
    flow.value = flow.found["logits"] = found["head"](flow.found["final"])
    return flow


@run.register
def _(stage: StepHead, found: dict[str, Any], flow: TorchFlow, torch: Any) -> TorchFlow:
    flow.value = flow.found["logits"] = found["head"](flow.found["output"])
    return flow


# -- calls: the lines that run the twin, with the unpacking that works -----------------------
@singledispatch
def calls(stage: Stage, network: Network, starts: Any = None) -> list[str]:
    """The twin's calls as code; `starts` (`--initial-state`'s states, Keras's order) give
    each recurrent module its h0 (and c0)."""
    return ["x = x_data"]


@calls.register
def _(stage: TokenIds, network: Network, starts: Any = None) -> list[str]:
    return []


@calls.register
def _(stage: Embedding, network: Network, starts: Any = None) -> list[str]:
    return ["x = embedding(ids)"]


def _h_n(count: int, number: int) -> str:
    """The variable a module's h_n is unpacked into: `h_n`, or `h_n_2` of several."""
    return "h_n" if count == 1 else f"h_n_{number}"


@calls.register
def _(stage: Recurrent, network: Network, starts: Any = None) -> list[str]:
    lines = []
    found = groups(stage)
    given = iter(starts if starts is not None else ())
    for number, group in enumerate(found, start=1):
        source = "x" if number == 1 else "output"
        h, c = _h_n(len(found), number), _h_n(len(found), number).replace("h_n", "c_n")
        returned = f"output, ({h}, {c})" if stage.cell is Cell.lstm else f"output, {h}"
        lines.append(
            f"packed = pack_padded_sequence({source}, lengths, batch_first=True, "
            "enforce_sorted=False)"
        )
        hidden = ""
        if starts is not None:  # (layers*directions, batch, hidden), Keras's order within
            places = [[next(given) for _ in stage.cell.state_names]
                      for layer in group.layers for _ in layer.directions]  # fmt: skip
            names = [h.replace("h_n", "h0"), c.replace("c_n", "c0")]
            for name, kind in zip(names, zip(*places, strict=True), strict=False):
                stacked = np.stack(kind).astype(np.float32).tolist()
                lines.append(f"{name} = torch.tensor({stacked!r})  # --initial-state")
            hidden = f", ({names[0]}, {names[1]})" if stage.cell is Cell.lstm else f", {names[0]}"
        lines.append(f"{returned} = {group.name}(packed{hidden})")
        lines.append("output, _ = pad_packed_sequence(output, batch_first=True, total_length=T)")
        top = group.layers[-1]
        if top.bidirectional and not stage.merge_mode.widens:
            units = top.units
            merged = stage.merge_mode.torch_code(f"output[..., :{units}]", f"output[..., {units}:]")
            lines.append(f"output = {merged}  # Keras's merge_mode")
    return lines


def _last(stage: Recurrent) -> str:
    """The final state a many-to-one head reads, as PyTorch code."""
    count = len(groups(stage))
    last = _h_n(count, count)
    if stage.bidirectional:
        return stage.merge_mode.torch_code(last + "[-2]", last + "[-1]")
    return f"{last}[-1]"


@calls.register
def _(stage: Head, network: Network, starts: Any = None) -> list[str]:
    recurrent = network.recurrent
    if recurrent.bidirectional:
        return [f"logits = head({_last(recurrent)})"]
    return [f"logits = head({_last(recurrent)})  # the last real step's h"]


@calls.register
def _(stage: StepHead, network: Network, starts: Any = None) -> list[str]:
    return ["logits = head(output)"]


# -- compare: the largest |Keras - PyTorch| of what both have, over the real steps -----------
def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b), initial=0.0))


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.detach().numpy(), dtype=np.float32)


@singledispatch
def compare(stage: Stage, result: Any, flow: TorchFlow) -> dict[str, float]:
    return {}


@compare.register
def _(stage: Embedding, result: Any, flow: TorchFlow) -> dict[str, float]:
    return {"embedding": _diff(result.embedding.array, _numpy(flow.found["embedding"]))}


@compare.register
def _(stage: Recurrent, result: Any, flow: TorchFlow) -> dict[str, float]:
    mask = result.batch.mask
    keras = result.outputs.array
    if stage.return_sequences:  # padded steps differ: see above
        found = {"outputs": _diff(keras[mask], _numpy(flow.found["output"])[mask])}
    else:
        found = {"outputs": _diff(keras, _numpy(flow.found["final"]))}
    states = state_slices(stage, flow)[1]
    for state in result.states:
        found[state.name] = _diff(state.array, states[state.name])
    return found


@compare.register
def _(stage: Head, result: Any, flow: TorchFlow) -> dict[str, float]:
    return {"logits": _diff(result.logits.array, _numpy(flow.found["logits"]))}


@compare.register
def _(stage: StepHead, result: Any, flow: TorchFlow) -> dict[str, float]:
    mask = result.batch.mask
    return {"logits": _diff(result.logits.array[mask], _numpy(flow.found["logits"])[mask])}


def state_slices(stage: Recurrent, flow: TorchFlow) -> tuple[list[str], dict[str, np.ndarray]]:
    """Which slice of h_n (and c_n) each Keras state is, and those slices by Keras name."""
    lines, states = [], {}
    found = groups(stage)
    h_n, c_n = flow.found["h_n"], flow.found["c_n"]
    for module, group in enumerate(found):
        where = f" ({group.name})" if len(found) > 1 else ""
        for k, layer in enumerate(group.layers):
            for d, direction in enumerate(layer.directions):
                index = k * len(layer.directions) + d
                names = layer.state_names(direction)
                for kind, (torch_name, tensors) in enumerate((("h_n", h_n), ("c_n", c_n))):
                    if kind >= len(names):
                        continue
                    states[names[kind]] = _numpy(tensors[module][index])
                    lines.append(f"{torch_name}[{index}]{where} = {names[kind]}")
    return lines, states
