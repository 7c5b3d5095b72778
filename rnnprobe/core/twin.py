"""`--torch`: the same network in PyTorch, its weights converted from Keras, run on the
same input, and compared with what Keras returned.

The only module that imports torch, lazily (PyTorch is an optional extra); each stage
kind's PyTorch face (conversion, modules, run, code, comparison) is in `conversion.py`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnprobe.core import conversion
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.result import ProbeResult, Tensor, TorchTwin
from rnnprobe.core.stages import Network, ProbeSpec

INSTALL = 'pip install "rnnprobe[torch]"'


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


# Columns of a Keras kernel (or bias) in PyTorch's gate order (GRU: z,r,h -> r,z,n).
_gate_blocks = conversion.gate_blocks


def convert(network: Network, weights: dict[str, np.ndarray]) -> conversion.Converted:
    """The PyTorch state_dict (module-prefixed names), and the rules applied, in words."""
    found: list[tuple[str, np.ndarray]] = []
    rules: list[str] = []
    for stage in network.stages:
        state, said = conversion.convert(stage, weights, _gate_blocks)
        found += state
        rules += said
    return found, rules


def modules(network: Network) -> dict[str, Any]:
    """The PyTorch modules, by the names the state_dict uses, in flow order."""
    nn = _torch().nn
    found: dict[str, Any] = {}
    for stage in network.stages:
        found.update(conversion.modules(stage, nn))
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
    network, batch = result.network, result.batch
    weights = {w.name: w.array for w in result.weights}
    state, rules = convert(network, weights)
    found = modules(network)
    load(found, state)
    lengths = torch.tensor(batch.lengths, dtype=torch.int64)
    flow = conversion.TorchFlow(batch.input.array, lengths, batch.time)
    with torch.no_grad():
        for stage in network.stages:
            flow = conversion.run(stage, found, flow, torch)
    diffs: dict[str, float] = {}
    for stage in network.stages:
        diffs.update(conversion.compare(stage, result, flow))
    recurrent = network.recurrent
    slices, _ = conversion.state_slices(recurrent, flow)
    count = len(conversion.groups(recurrent))

    def per_module(name: str, tensors: list[Any]) -> tuple[Tensor, ...]:
        dims = ("layers*directions", "batch", "hidden")
        return tuple(
            Tensor(name if count == 1 else f"{name} ({group.name})", dims, _numpy(tensor))
            for group, tensor in zip(conversion.groups(recurrent), tensors, strict=True)
        )

    axis = "directions*hidden" if recurrent.output_width != recurrent.top.units else "hidden"
    embedded, logits = flow.found.get("embedding"), flow.found.get("logits")
    constructors = {
        name: code for stage in network.stages for name, code in
        conversion.constructors(stage).items()
    }  # fmt: skip
    return TorchTwin(
        modules=tuple(f"{name} = {constructors[name]}" for name in found),
        state_dict=tuple(
            Tensor(name, _dims(name), np.asarray(array, dtype=np.float32)) for name, array in state
        ),
        rules=tuple(rules),
        output=Tensor("output", ("batch", "time", axis), _numpy(flow.found["output"])),
        h_n=per_module("h_n", flow.found["h_n"]),
        c_n=per_module("c_n", flow.found["c_n"]) if flow.found["c_n"] else (),
        slices=tuple(slices),
        calls=tuple(line for stage in network.stages for line in conversion.calls(stage, network)),
        max_abs_diff=max(diffs.values()),
        compared=tuple(diffs),
        embedding=None
        if embedded is None
        else Tensor("embedding", ("batch", "time", "embedding"), _numpy(embedded)),
        logits=None
        if logits is None or result.logits is None
        else Tensor("logits", result.logits.dims, _numpy(logits)),
    )


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.detach().numpy(), dtype=np.float32)


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


def to_torch(layer: Any) -> Any:
    """A user's built Keras recurrent layer as a PyTorch module (batch_first=True) with the
    same weights: `nn.RNN`/`nn.LSTM`/`nn.GRU` where one module is the same network, else a
    small `nn.Module` that runs one module per layer and merges the directions as Keras."""
    from rnnprobe.core.keras import env, user

    keras = env.load_keras()
    layers = keras.layers
    spec, cells_per_rnn = user.user_structure(layers, layer)
    require("to_torch")
    cells = cells_per_rnn[0]
    if not all(getattr(cell, "built", False) for group in cells_per_rnn for cell in group):
        raise InputError("rnnprobe.to_torch takes a built layer: call it once (or build it) first")
    if spec.bidirectional and len(cells) > 1:
        raise InputError(
            "rnnprobe.to_torch: Bidirectional over a stack of cells runs each direction "
            "through its own stack, which no PyTorch module does; wrap each layer instead"
        )
    width = int(cells[0].kernel.shape[0])
    network = spec.network(width, given=True)
    weights: dict[str, np.ndarray] = {}
    sides = ["forward", "backward"] if spec.bidirectional else [""]
    for side, group in zip(sides, cells_per_rnn, strict=True):
        for planned, cell in zip(network.layers, group, strict=True):
            by_name = {v.name.split("/")[-1]: v for v in cell.weights}
            for weight in planned.weights(side):
                value = by_name[weight.name.rpartition("/")[2]].numpy()
                weights[weight.name] = np.asarray(value, dtype=np.float32)
    state, _ = convert(network, weights)
    found = modules(network)
    load(found, state)
    names = [g.name for g in conversion.groups(network.recurrent)]
    if len(names) == 1 and not (spec.bidirectional and not spec.merge_mode.widens):
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
                    units = module.hidden_size
                    x = spec.merge_mode.merge(x[..., :units], x[..., units:],
                                              lambda f, b: torch.cat([f, b], -1))  # fmt: skip
                states.append(state)
            return x, states

    return KerasStack()
