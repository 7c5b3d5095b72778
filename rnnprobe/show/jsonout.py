"""The one JSON writer: result objects -> JSON bytes on stdout.

orjson writes numpy float32 arrays directly, as the shortest text that reads back as
the same float32 (`0.32261637`), without a Python loop over the values.
"""

from __future__ import annotations

import sys
from functools import singledispatch
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from rnnprobe import __version__
from rnnprobe.core.result import Batch, CompareResult, ProbeResult, Tensor, TorchTwin
from rnnprobe.core.stages import Embedding, Head, Stage, TokenIds

if TYPE_CHECKING:  # only `seq2seq`, `train` and `grads` load these
    from rnnprobe.core.encdec import Seq2SeqResult
    from rnnprobe.core.gradients import GradsResult
    from rnnprobe.core.trained import Snapshot, TrainResult
    from rnnprobe.core.training import TrainData


def tensor_object(tensor: Tensor, *, named: bool, values: bool = True) -> dict[str, Any]:
    """`{"name"?, "shape", "dims", "values"?}` for one tensor."""
    body: dict[str, Any] = {"name": tensor.name} if named else {}
    body["shape"] = list(tensor.shape)
    body["dims"] = list(tensor.dims)
    if values:
        body["values"] = np.ascontiguousarray(tensor.array)
    return body


def batch_object(batch: Batch) -> dict[str, Any]:
    """The keys `vocab --json` prints, and `run --json` starts with."""
    return {
        "rnnprobe": __version__,
        "words": None if batch.words is None else list(batch.words),
        "lengths": list(batch.lengths),
        "vocab": None if batch.vocab is None else list(batch.vocab),
    }


def vocab_object(batch: Batch) -> dict[str, Any]:
    assert batch.x_data is not None
    return {
        **batch_object(batch),
        "x_data": tensor_object(batch.x_data, named=False),
        "tokenizer": batch.tokenizer.value,
    }


def _spec_keys(result: ProbeResult) -> dict[str, Any]:
    spec = result.spec
    return {
        "cell": spec.cell.value,
        "hidden": spec.hidden[0] if len(spec.hidden) == 1 else list(spec.hidden),
        "seed": result.seed,
        "bidirectional": spec.bidirectional,
        "merge_mode": spec.merge_mode.value if spec.bidirectional else None,
        "return_sequences": spec.return_sequences,
        "return_state": spec.return_state,
    }


def layers_list(result: ProbeResult) -> list[dict[str, Any]]:
    """`"layers"`: each Keras layer in the order the data flows, as the layers table."""
    return [
        {
            "name": layer.name,
            "class": layer.keras_class,
            "shape": list(layer.shape),
            "mask": layer.mask,
            "params": layer.params,
        }
        for layer in result.keras_layers
    ]


@singledispatch
def stage_keys(stage: Stage, result: ProbeResult, values: bool) -> dict[str, Any]:
    """The keys a stage around the recurrent layers adds to `run --json`."""
    return {}


@stage_keys.register
def _(stage: TokenIds, result: ProbeResult, values: bool) -> dict[str, Any]:
    assert result.batch.ids is not None and result.mask is not None
    return {
        "tokens": tensor_object(result.batch.ids, named=True, values=values),
        "mask": tensor_object(result.mask, named=True, values=values),
    }


@stage_keys.register
def _(stage: Embedding, result: ProbeResult, values: bool) -> dict[str, Any]:
    assert result.embedding is not None
    return {"embedding": tensor_object(result.embedding, named=False, values=values)}


@stage_keys.register
def _(stage: Head, result: ProbeResult, values: bool) -> dict[str, Any]:
    assert result.logits is not None and result.probabilities is not None
    return {
        "logits": tensor_object(result.logits, named=False, values=values),
        "probabilities": tensor_object(result.probabilities, named=False, values=values),
    }


def _model_keys(result: ProbeResult, values: bool) -> dict[str, Any]:
    """What the network around the recurrent layers adds: tokens, Embedding, head, layers."""
    spec, batch = result.spec, result.batch
    body: dict[str, Any] = {
        "tokenizer": batch.tokenizer.value,
        "embed": spec.embed,
        "head": spec.head,
        "each_step": spec.each_step,
        "layers": layers_list(result),
    }
    for stage in result.network.stages:
        body.update(stage_keys(stage, result, values))
    return body


def run_object(result: ProbeResult, *, weights: bool, values: bool = True) -> dict[str, Any]:
    """`run --json`; `values=False` (`--shapes`) drops every values key, keeps the weights."""
    body = batch_object(result.batch)
    body["style"] = result.spec.style.value
    body.update(_spec_keys(result))
    x_data = result.batch.x_data
    body.update(
        params=result.params,
        x_data=None if x_data is None else tensor_object(x_data, named=False, values=values),
        outputs=tensor_object(result.outputs, named=False, values=values),
        states=[tensor_object(s, named=True, values=values) for s in result.states],
    )
    body.update(_model_keys(result, values))
    if weights or not values:
        body["weights"] = [tensor_object(w, named=True, values=values) for w in result.weights]
    if result.torch is not None:
        body["torch"] = torch_object(result.torch, values=values)
    if result.check is not None:
        body["check"] = {"max_abs_diff": result.check.max_abs_diff, "ok": result.check.ok}
    if result.steps is not None:
        body["steps"] = [
            {
                "layer": trace.layer,
                "direction": trace.direction,
                "equations": list(trace.equations),
                "tensors": [tensor_object(t, named=True, values=values) for t in trace.tensors],
            }
            for trace in result.steps.traces
        ]
    return body


def torch_object(twin: TorchTwin, *, values: bool = True) -> dict[str, Any]:
    """`"torch"`: the PyTorch twin's modules, converted state_dict and returned tensors."""

    def states(found: tuple[Tensor, ...]) -> Any:
        objects = [tensor_object(t, named=len(found) > 1, values=values) for t in found]
        return objects[0] if len(objects) == 1 else objects

    body: dict[str, Any] = {
        "module": "\n".join(twin.modules),
        "state_dict": [
            {"name": t.name, "shape": list(t.shape), **({"values": t.array} if values else {})}
            for t in twin.state_dict
        ],
        "rules": list(twin.rules),
        "output": tensor_object(twin.output, named=False, values=values),
        "h_n": states(twin.h_n),
    }
    if twin.c_n:
        body["c_n"] = states(twin.c_n)
    if twin.logits is not None:
        body["logits"] = tensor_object(twin.logits, named=False, values=values)
    body["slices"] = list(twin.slices)
    body["max_abs_diff"] = twin.max_abs_diff
    body["ok"] = twin.ok
    return body


def compare_object(result: CompareResult) -> dict[str, Any]:
    """`compare --json`: per returned tensor, the largest |cell - layer| difference."""
    body = batch_object(result.cell.batch)
    body.update(_spec_keys(result.cell))
    body.update(
        identical=result.identical,
        max_abs_diff=result.max_abs_diff,
        shapes={t.name: list(t.shape) for t in result.cell.returned},
    )
    return body


def dumps(body: dict[str, Any]) -> bytes:
    return orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE)


def write(body: dict[str, Any]) -> None:
    """Write one JSON object and a newline as bytes to stdout, never through rich."""
    sys.stdout.buffer.write(dumps(body))
    sys.stdout.buffer.flush()


def seq2seq_object(
    result: Seq2SeqResult, *, weights: bool = False, values: bool = True
) -> dict[str, Any]:
    """`seq2seq --json`: the two vocabularies and ids, both halves, the hand-over, logits."""
    source, target = result.source, result.target

    def tensor(t: Tensor) -> dict[str, Any]:
        return tensor_object(t, named=False, values=values)

    def states(found: tuple[Tensor, ...]) -> list[dict[str, Any]]:
        return [tensor_object(s, named=True, values=values) for s in found]

    assert source.ids is not None and target.ids is not None
    body: dict[str, Any] = {
        "rnnprobe": __version__,
        "tokenizer": result.spec.tokens.value,
        "cell": result.spec.cell.value,
        "hidden": result.spec.hidden,
        "embed": result.spec.embed,
        "seed": result.seed,
        "params": result.params,
        "source": {
            "sentences": list(source.words or ()),
            "vocab": list(source.vocab or ()),
            "lengths": list(source.lengths),
            "ids": tensor(source.ids),
        },
        "target": {
            "sentences": list(target.words or ()),
            "vocab": list(target.vocab or ()),
            "lengths": list(target.lengths),
            "decoder_input": tensor(target.ids),
            "decoder_target": tensor(result.decoder_target),
        },
        "encoder": {
            "embedding": tensor(result.source_embedding),
            "outputs": tensor(result.encoder_outputs),
            "states": states(result.encoder_states),
        },
        "decoder": {
            "initial_state": states(result.initial_state),
            "embedding": tensor(result.target_embedding),
            "outputs": tensor(result.decoder_outputs),
            "states": states(result.decoder_states),
        },
        "logits": tensor(result.logits),
    }
    if result.attention_weights is not None and result.context is not None:
        body["attention"] = {
            "weights": tensor(result.attention_weights),
            "context": tensor(result.context),
        }
    if weights or not values:
        body["weights"] = [tensor_object(w, named=True, values=values) for w in result.weights]
    if result.check is not None:
        body["check"] = {"max_abs_diff": result.check.max_abs_diff, "ok": result.check.ok}
    return body


def _snapshot(result: TrainResult, found: Snapshot, values: bool) -> dict[str, Any]:
    data = result.data
    return {
        "weights": [tensor_object(w, named=True, values=values) for w in found.weights],
        "loss": found.loss,
        "accuracy": found.accuracy,
        "predictions": [
            list(names) if isinstance(names, tuple) else names
            for names in (data.names(found.predicted, i) for i in range(data.batch.rows))
        ],
        "step_losses": tensor_object(found.step_losses, named=False, values=values),
    }


def train_object(result: TrainResult, *, values: bool = True) -> dict[str, Any]:
    """`train --json`: run's keys that apply, the task and its recipe, the targets, the
    network before and after, the first gradients and every epoch."""
    data, spec = result.data, result.spec
    batch = data.batch
    body = batch_object(batch)
    body["words"] = list(data.words)
    body["style"] = spec.style.value
    body.update(
        cell=spec.cell.value,
        hidden=spec.hidden[0] if len(spec.hidden) == 1 else list(spec.hidden),
        seed=result.seed,
        bidirectional=spec.bidirectional,
        merge_mode=spec.merge_mode.value if spec.bidirectional else None,
        return_sequences=spec.return_sequences,
        return_state=spec.return_state,
        task=data.task.value,
        classes=list(data.classes),
        epochs=result.epochs,
        lr=result.lr,
        batch_size=result.batch_size,
        every=result.every,
        optimizer="adam",
        loss=result.network.loss.text,
        params=result.params,
        trainable_params=result.trainable,
        x_data=None
        if batch.x_data is None
        else tensor_object(batch.x_data, named=False, values=values),
        tokenizer=batch.tokenizer.value,
        embed=spec.embed,
        head=spec.head,
        each_step=spec.each_step,
        layers=[
            {
                "name": row.name,
                "class": row.keras_class,
                "shape": list(row.shape),
                "mask": row.mask,
                "params": row.params,
            }
            for row in result.network.keras_rows(batch.rows, batch.time, batch.padded)
        ],
    )
    if batch.ids is not None:
        body["tokens"] = tensor_object(batch.ids, named=True, values=values)
    body["mask"] = tensor_object(result.mask, named=True, values=values)
    if result.embedding is not None:
        body["embedding"] = tensor_object(result.embedding, named=False, values=values)
    body["targets"] = tensor_object(data.targets, named=False, values=values)
    body["initial"] = _snapshot(result, result.initial, values)
    body["gradients"] = [tensor_object(g, named=True, values=values) for g in result.gradients]
    body["frozen"] = list(result.frozen)
    body["history"] = [
        {"epoch": e.epoch, "loss": e.loss, "accuracy": e.accuracy} for e in result.history
    ]
    body["final"] = _snapshot(result, result.final, values)
    body["stopped"] = result.stopped
    if result.torch is not None:
        body["torch"] = {
            "history": list(result.torch.history),
            "epoch_diffs": result.torch_diffs,
            "max_abs_diff": max(result.torch_diffs, default=0.0),
            "weights": [tensor_object(w, named=True, values=values) for w in result.torch.weights],
            "weights_max_abs_diff": result.torch_weight_diff,
        }
    if result.check is not None:
        found = result.check
        body["check"] = {
            "max_abs_diff": found.max_abs_diff,
            "ok": found.ok,
            "loss_diff": found.loss_diff,
            "gradient_diff": found.gradient_diff,
        }
    return body


def _data_keys(data: TrainData, spec: Any, seed: int, values: bool) -> dict[str, Any]:
    """What `train` and `grads` report about the network and the data, as `run` names it."""
    batch = data.batch
    body = batch_object(batch)
    body["words"] = list(data.words)
    body["style"] = spec.style.value
    body.update(
        cell=spec.cell.value,
        hidden=spec.hidden[0] if len(spec.hidden) == 1 else list(spec.hidden),
        seed=seed,
        bidirectional=spec.bidirectional,
        merge_mode=spec.merge_mode.value if spec.bidirectional else None,
        task=data.task.value,
        classes=list(data.classes),
        x_data=None
        if batch.x_data is None
        else tensor_object(batch.x_data, named=False, values=values),
        tokenizer=batch.tokenizer.value,
        embed=spec.embed,
        head=spec.head,
        each_step=spec.each_step,
    )
    if batch.ids is not None:
        body["tokens"] = tensor_object(batch.ids, named=True, values=values)
    mask = Tensor("mask", ("batch", "time"), batch.mask)
    body["mask"] = tensor_object(mask, named=True, values=values)
    body["targets"] = tensor_object(data.targets, named=False, values=values)
    return body


def grads_object(result: GradsResult, *, values: bool = True) -> dict[str, Any]:
    """`grads --json`: the data, the weights the gradients are taken at, every weight's
    gradient, dL/dh_t per layer and direction, and their norms."""

    def named(tensors: Any) -> list[dict[str, Any]]:
        return [tensor_object(t, named=True, values=values) for t in tensors]

    body = _data_keys(result.data, result.spec, result.seed, values)
    body.update(
        after=result.after,
        at=result.at,
        loss=result.loss,
        weights=named(result.weights),
        gradients=named(result.gradients),
        frozen=list(result.frozen),
        state_gradients=named(result.state_gradients),
        state_gradient_norms=np.ascontiguousarray(result.norms) if values else None,
        global_norm=result.global_norm,
        nonfinite=result.nonfinite,
    )
    if result.clipped is not None:
        body["clipped"] = {
            "clipnorm": result.clipnorm,
            "global_clipnorm": result.global_clipnorm,
            "gradients": named(result.clipped),
            "global_norm": result.clipped_norm,
        }
    if result.check is not None:
        found = result.check
        body["check"] = {
            "max_abs_diff": found.max_abs_diff,
            "ok": found.ok,
            "loss_diff": found.loss_diff,
            "gradient_diff": found.gradient_diff,
            "state_diff": found.state_diff,
        }
    if result.torch is not None:
        twin = result.torch
        body["torch"] = {
            "state_dict": named(twin.state_dict),
            "gradients": named(twin.gradients),
            "state_gradients": named(twin.state_gradients),
            "loss": twin.loss,
            "max_abs_diff": twin.max_abs_diff,
            "ok": twin.ok,
        }
    return body


def cells_object(results: Any, *, values: bool = True) -> dict[str, Any]:
    """`grads --cells --json`: the words once, then each cell's `grads` object."""
    first = results[0]
    return {**batch_object(first.data.batch), "words": list(first.data.words),
            "cells": [grads_object(r, values=values) for r in results]}  # fmt: skip
