"""The JSON objects of training (`train`, `grads`, `seq2seq --train`): what they report of
the data, the network before and after, the gradients and every epoch. Written by the one
JSON writer, `jsonout`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnprobe import __version__
from rnnprobe.core.result import Tensor
from rnnprobe.show.jsonout import batch_object, tensor_object

if TYPE_CHECKING:
    from rnnprobe.core.commands.decoding import Decoded
    from rnnprobe.core.commands.grads import GradsResult
    from rnnprobe.core.commands.seq2seq_train import PairsTraining
    from rnnprobe.core.commands.trained import Snapshot, Trained, TrainResult
    from rnnprobe.core.inputs.tasks import TrainData


def _snapshot(result: Trained, found: Snapshot, values: bool) -> dict[str, Any]:
    data = result.data
    held = {} if found.val_loss is None else {"val_loss": found.val_loss,
                                              "val_accuracy": found.val_accuracy}  # fmt: skip
    return {
        "weights": [tensor_object(w, named=True, values=values) for w in found.weights],
        "loss": found.loss,
        "accuracy": found.accuracy,
        **held,
        "predictions": [
            list(names) if isinstance(names, tuple) else names
            for names in (data.names(found.predicted, i) for i in range(data.batch.rows))
        ],
        "step_losses": tensor_object(found.step_losses, named=False, values=values),
    }


def _training_keys(result: Trained, values: bool) -> dict[str, Any]:
    """The network before training, its first gradients, every epoch, and after."""
    return {
        "initial": _snapshot(result, result.initial, values),
        "gradients": [tensor_object(g, named=True, values=values) for g in result.gradients],
        "frozen": list(result.frozen),
        "history": [epoch_object(e) for e in result.history],
        "final": _snapshot(result, result.final, values),
        "stopped": result.stopped,
    }


def epoch_object(e: Any) -> dict[str, Any]:
    found = {"epoch": e.epoch, "loss": e.loss, "accuracy": e.accuracy}
    if e.val_loss is not None:
        found.update(val_loss=e.val_loss, val_accuracy=e.val_accuracy)
    return found


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
        shuffle=result.shuffle,
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
    if data.held_out is not None:
        body["validation"] = data.validation
        body["validation_rows"] = data.held_out.tolist()
    body.update(_training_keys(result, values))
    if result.rebuilt is not None:
        body["stride"] = data.stride
        body["rebuilt"] = data.shown(result.rebuilt)
        body["rebuilt_accuracy"] = result.rebuilt_accuracy
    if result.torch is not None:
        body["torch"] = {
            "history": list(result.torch.history),
            "epoch_diffs": result.torch_diffs,
            "max_abs_diff": max(result.torch_diffs, default=0.0),
            "weights": [tensor_object(w, named=True, values=values) for w in result.torch.weights],
            "weights_max_abs_diff": result.torch_weight_diff,
        }
    if result.check is not None:
        body["check"] = check_object(result.check)
    return body


def check_object(found: Any) -> dict[str, Any]:
    """A training's `--check`: the largest difference, ok, then each difference measured
    (the check's own fields, in their order)."""
    return {"max_abs_diff": found.max_abs_diff, "ok": found.ok, **dataclasses.asdict(found)}


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
        shuffle=result.shuffle,
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
        body["check"] = check_object(result.check)
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
    if result.initial_state is not None:  # `--initial-state`: per state, as `states`
        body["initial_state"] = named(result.initial_state)
    return body


def cells_object(results: Any, *, values: bool = True) -> dict[str, Any]:
    """`grads --cells --json`: the words once, then each cell's `grads` object."""
    first = results[0]
    return {**batch_object(first.data.batch), "words": list(first.data.words),
            "cells": [grads_object(r, values=values) for r in results]}  # fmt: skip


def decoded_object(decoded: Decoded) -> dict[str, Any]:
    """One source decoded greedily: its tokens and every turn of the loop."""
    body: dict[str, Any] = {
        "source": decoded.source,
        "expected": decoded.expected,
        "tokens": list(decoded.tokens),
        "reached_eos": decoded.reached_eos,
        "unknown": list(decoded.unknown),
        "steps": [
            {"input": s.input, "predicted": s.predicted, "probability": s.probability}
            for s in decoded.steps
        ],
    }
    if decoded.attention is not None:
        body["attention"] = decoded.attention
    return body


def pairs_object(result: PairsTraining, *, weights: bool = False,
                 values: bool = True) -> dict[str, Any]:  # fmt: skip
    """`seq2seq --train --json`: `seq2seq`'s keys for the trained network (teacher-forced),
    `train`'s for the training, and every source decoded greedily."""
    from rnnprobe.show.jsonout import seq2seq_object

    body = seq2seq_object(result.probe, weights=weights, values=values)
    body.update(
        task=result.data.task.value,
        epochs=result.epochs,
        lr=result.lr,
        batch_size=result.batch_size,
        shuffle=result.shuffle,
        every=result.every,
        optimizer="adam",
        loss=result.network.decoder.loss.text,
        trainable_params=result.trainable,
        max_steps=result.max_steps,
    )
    body.update(_training_keys(result, values))
    body["decoded"] = [decoded_object(d) for d in result.decoded]
    if result.check is not None:
        body["check"] = check_object(result.check)
    return body


def translations_object(result: Any) -> dict[str, Any]:
    """`seq2seq --load FILE --translate ... --json`: the loaded network, each sentence
    decoded (as `seq2seq --train` gives `decoded`)."""
    spec = result.spec
    return {
        "rnnprobe": __version__,
        "loaded": result.path,
        "tokenizer": spec.tokens.value,
        "cell": spec.cell.value,
        "hidden": spec.hidden,
        "embed": spec.embed,
        "attention": spec.attention,
        "seed": result.seed,
        "source": {"vocab": list(result.source_vocab)},
        "target": {"vocab": list(result.target_vocab)},
        "max_steps": result.max_steps,
        "decoded": [decoded_object(d) for d in result.decoded],
    }
