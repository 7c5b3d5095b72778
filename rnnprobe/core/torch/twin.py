"""`--torch`: the same network in PyTorch, its weights converted from Keras, run on the
same input, and compared with what Keras returned.

The only module that imports torch, lazily (PyTorch is an optional extra); each stage
kind's PyTorch face (conversion, modules, run, code, comparison) is in `conversion.py`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnprobe.core import progress
from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.core.result import ProbeResult, Tensor, TorchTwin
from rnnprobe.core.stages import Network, ProbeSpec
from rnnprobe.core.torch import conversion
from rnnprobe.core.torch import training as twin_training

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
    import sys

    # torch.optim imports torch._dynamo, which imports Triton when it is installed (the
    # CUDA builds of PyTorch bring it): Triton's native library loaded beside
    # TensorFlow's crashes the process (seen with PyTorch 2.14 and TensorFlow 2.21). The
    # twin runs on the CPU and needs no Triton: unless something imported it already, it
    # stays out (`import triton` raises ImportError, which PyTorch takes as "no Triton").
    sys.modules.setdefault("triton", None)  # type: ignore[arg-type]
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
    starts = None if result.initial_state is None else [t.array for t in result.initial_state]
    flow = conversion.TorchFlow(batch.input.array, lengths, batch.time, starts=starts)
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
        calls=tuple(
            line for stage in network.stages for line in conversion.calls(stage, network, starts)
        ),
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


@dataclass(frozen=True)
class TorchGrads:
    """`grads --torch`: the same loss's gradients in PyTorch, on the twin."""

    state_dict: tuple[Tensor, ...]  # the twin's weights, PyTorch's names
    gradients: tuple[Tensor, ...]  # each trainable parameter's gradient, PyTorch's names
    state_gradients: tuple[Tensor, ...]  # dL/dh_t kept with retain_grad(), Keras's names
    loss: float
    max_abs_diff: float  # against Keras: the loss, every gradient mapped back, every dL/dh_t

    @property
    def ok(self) -> bool:
        return self.max_abs_diff < TOLERANCE


@dataclass(frozen=True)
class TorchTraining:
    """`train --torch`: the twin trained by torch.optim.Adam as Keras trained its network."""

    history: tuple[float, ...]  # each epoch's loss, as Keras's history counts it
    weights: tuple[Tensor, ...]  # the twin's final weights converted back, Keras's names


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """PyTorch's backward pass on a machine without a GPU warns that CUDA did not start:
    not the user's concern, and not for stderr."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="CUDA initialization")
        yield


def _parameters(found: dict[str, Any]) -> dict[str, Any]:
    return {f"{name}.{p}": value for name, module in found.items()
            for p, value in module.named_parameters()}  # fmt: skip


def _twin(network: Network, weights: dict[str, np.ndarray], frozen: Sequence[str]) -> Any:
    """The twin's modules at these weights, what Keras does not train frozen."""
    state, _ = convert(network, weights)
    found = modules(network)
    load(found, state)
    parameters = _parameters(found)
    for name in twin_training.frozen_parameters(network, found, frozen):
        parameters[name].requires_grad_(False)
    return found, parameters


def _back(network: Network, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    for stage in network.stages:
        found.update(twin_training.keras_named(stage, arrays))
    return found


def grads(
    network: Network,
    weights: dict[str, np.ndarray],
    inputs: tuple[np.ndarray, np.ndarray, np.ndarray],
    loss_weights: np.ndarray | None,
    keras: tuple[float, dict[str, np.ndarray], dict[str, np.ndarray]],
    frozen: Sequence[str],
    starts: dict[str, np.ndarray] | None = None,
) -> TorchGrads:
    """The loss on the twin, `backward()`, every h_t's gradient kept; compared with Keras's
    (`keras`: its loss, gradients and dL/dh_t by name) through the conversion rules."""
    torch = _torch()
    found, parameters = _twin(network, weights, frozen)
    x, mask, targets = inputs
    flow = twin_training.run(torch, network, found, x, mask, targets, loss_weights, starts)
    with _quiet():
        flow.found["loss"].backward()
    grads_ = {
        name: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().numpy()
        for name, p in parameters.items()
    }
    back = _back(network, grads_)
    real = np.asarray(mask)[..., None]
    states = {
        name: np.stack([h.grad.numpy() for h in kept], axis=1) * real
        for name, kept in flow.states.items()
    }
    loss, keras_gradients, keras_states = keras
    diffs = [abs(loss - flow.found["loss"].item())]
    diffs += [float(np.max(np.abs(g - back[name]), initial=0.0)) for name, g in
              keras_gradients.items()]  # fmt: skip
    diffs += [float(np.max(np.abs(s - states[name]), initial=0.0)) for name, s in
              keras_states.items()]  # fmt: skip
    return TorchGrads(
        state_dict=tuple(Tensor(n, _dims(n), _numpy(p)) for n, p in parameters.items()),
        gradients=tuple(
            Tensor(n, _dims(n), grads_[n]) for n, p in parameters.items() if p.requires_grad
        ),
        state_gradients=tuple(
            Tensor(n, ("batch", "time", "hidden"), s.astype(np.float32)) for n, s in states.items()
        ),
        loss=flow.found["loss"].item(),
        max_abs_diff=max(diffs),
    )


def train(
    network: Network,
    weights: dict[str, np.ndarray],
    inputs: tuple[np.ndarray, np.ndarray, np.ndarray],
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    frozen: Sequence[str],
    order: Any = None,
) -> TorchTraining:
    """The twin trained by torch.optim.Adam (Keras's epsilon), batch after batch in the
    words' order (or each epoch's `order(epoch)`, as Keras's training took them); each
    epoch's loss is its batches' losses before their updates, weighted by their words, as
    Keras's history is."""
    torch = _torch()
    found, parameters = _twin(network, weights, frozen)
    trained = [p for p in parameters.values() if p.requires_grad]
    optimizer = torch.optim.Adam(trained, lr=lr, eps=twin_training.KERAS_EPSILON)
    x, mask, targets = inputs
    history = []
    steps = 0
    for epoch in range(1, epochs + 1):
        total = 0.0
        shuffled = None if order is None else order(epoch)
        for start in range(0, len(targets), batch_size):
            progress.check()
            rows: Any = slice(start, start + batch_size)
            if shuffled is not None:
                rows = shuffled[rows]
            flow = twin_training.run(torch, network, found, x[rows], mask[rows], targets[rows])
            steps += 1
            for group in optimizer.param_groups:  # Keras's epsilon, where PyTorch adds it
                group["eps"] = twin_training.keras_epsilon(steps)
            optimizer.zero_grad()
            with _quiet():
                flow.found["loss"].backward()
            optimizer.step()
            total += flow.found["loss"].item() * len(targets[rows])
        history.append(total / len(targets))
    final = _back(network, {n: _numpy(p) for n, p in parameters.items()})
    named = [w for w in network.weights()]
    return TorchTraining(
        history=tuple(history),
        weights=tuple(Tensor(w.name, w.dims, final[w.name].astype(np.float32)) for w in named),
    )
