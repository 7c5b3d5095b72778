"""The one JSON writer: result objects -> JSON bytes on stdout.

orjson writes numpy float32 arrays directly, as the shortest text that reads back as
the same float32 (`0.32261637`), without a Python loop over the values. A big array (a
series' windows) is written piece by piece, rows at a time, so that its text is never
held whole: the bytes are those of the whole array written at once.
"""

from __future__ import annotations

import os
import sys
from functools import singledispatch
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson

from rnnprobe import __version__
from rnnprobe.core.kinds import UNK
from rnnprobe.core.result import Batch, CompareResult, ProbeResult, Tensor, TorchTwin
from rnnprobe.core.stages import Embedding, Head, Stage, TokenIds, ValueHead

if TYPE_CHECKING:  # only `seq2seq` loads this
    from rnnprobe.core.commands.seq2seq import Seq2SeqResult


STREAM_FROM = 1 << 20  # values: an array this big is written piece by piece
STREAM_ROWS = 1 << 16  # values per piece, about


class Streamed:
    """An array whose values are written piece by piece (see `write`); not a dataclass,
    which orjson would write as an object."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


def values_of(array: np.ndarray) -> Any:
    """An array as the writer takes it: whole, or, when big, to be written in pieces."""
    if array.size >= STREAM_FROM and array.ndim > 1:
        return Streamed(array)
    return np.ascontiguousarray(array)


def tensor_object(tensor: Tensor, *, named: bool, values: bool = True) -> dict[str, Any]:
    """`{"name"?, "shape", "dims", "values"?}` for one tensor."""
    body: dict[str, Any] = {"name": tensor.name} if named else {}
    body["shape"] = list(tensor.shape)
    body["dims"] = list(tensor.dims)
    if values:
        body["values"] = values_of(tensor.array)
    return body


def batch_object(batch: Batch) -> dict[str, Any]:
    """The keys `vocab --json` prints, and `run --json` starts with (`unknown`: the tokens
    read as `<unk>`, when the vocabulary holds it)."""
    found: dict[str, Any] = {
        "rnnprobe": __version__,
        "words": None if batch.words is None else list(batch.words),
        "lengths": list(batch.lengths),
        "vocab": None if batch.vocab is None else list(batch.vocab),
    }
    if batch.vocab is not None and UNK in batch.vocab and batch.words is not None:
        from rnnprobe.core.inputs.vocab import unknown_tokens

        found["unknown"] = unknown_tokens(batch.words, batch.vocab, batch.tokenizer)
    return found


def vocab_object(batch: Batch) -> dict[str, Any]:
    assert batch.x_data is not None
    return {
        **batch_object(batch),
        "x_data": tensor_object(batch.x_data, named=False),
        "tokenizer": batch.tokenizer.value,
    }


def spec_keys(result: ProbeResult) -> dict[str, Any]:
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
        "head_activation": stage.activation,
    }


@stage_keys.register
def _(stage: ValueHead, result: ProbeResult, values: bool) -> dict[str, Any]:
    assert result.predictions is not None
    return {
        "predictions": tensor_object(result.predictions, named=False, values=values),
        "head_activation": "regression",
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
    body.update(spec_keys(result))
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
    if result.initial_state is not None:  # `--initial-state`: per state, as `states`
        body["initial_state"] = [
            tensor_object(s, named=True, values=values) for s in result.initial_state
        ]
    if result.stateful:  # a user's stateful layer: `initial_state` is what it held
        body["stateful"] = True
    if result.chunks is not None:  # `--chunks`: each chunk, and how far from the whole run
        found = result.chunks
        body["chunks"] = [
            {
                "start": chunk.start,
                "end": chunk.end,
                "outputs": tensor_object(chunk.outputs, named=False, values=values),
                "states": [tensor_object(t, named=True, values=values) for t in chunk.states],
            }
            for chunk in found.chunks
        ]
        body["reset_between"] = found.reset
        body["max_abs_diff"] = found.max_abs_diff
        if found.check is not None:
            body["chunks_check"] = {"max_abs_diff": found.check.max_abs_diff, "ok": found.check.ok}
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
    body.update(spec_keys(result.cell))
    body.update(
        identical=result.identical,
        max_abs_diff=result.max_abs_diff,
        shapes={t.name: list(t.shape) for t in result.cell.returned},
    )
    if result.cell.initial_state is not None:  # `--initial-state`: both styles start there
        body["initial_state"] = [tensor_object(s, named=True) for s in result.cell.initial_state]
    return body


OPTIONS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_APPEND_NEWLINE


def _whole(found: Any) -> Any:
    if isinstance(found, Streamed):
        return np.ascontiguousarray(found.array)
    raise TypeError(f"{type(found).__name__} is not JSON")


def dumps(body: dict[str, Any]) -> bytes:
    """One JSON object and a newline, whole (a batch line)."""
    return orjson.dumps(body, default=_whole, option=OPTIONS)


def _write_array(out: Any, array: np.ndarray) -> None:
    """An array's JSON, the rows of its first axis a piece at a time."""
    rows = max(1, STREAM_ROWS // max(1, int(np.prod(array.shape[1:]))))
    out.write(b"[")
    for start in range(0, len(array), rows):
        piece = orjson.dumps(np.ascontiguousarray(array[start : start + rows]),
                             option=orjson.OPT_SERIALIZE_NUMPY)  # fmt: skip
        out.write(b"," if start else b"")
        out.write(piece[1:-1])
    out.write(b"]")


def write(body: dict[str, Any]) -> None:
    """Write one JSON object and a newline as bytes to stdout, never through rich; a big
    array goes piece by piece where a placeholder stands in the object's text."""
    nonce = os.urandom(8).hex()
    streamed: list[Streamed] = []

    def mark(found: Any) -> Any:
        if isinstance(found, Streamed):
            streamed.append(found)
            return f"@@rnnprobe-{nonce}-{len(streamed) - 1}@@"
        raise TypeError(f"{type(found).__name__} is not JSON")

    text = orjson.dumps(body, default=mark, option=OPTIONS)
    out = sys.stdout.buffer
    done = 0
    for number, found in enumerate(streamed):
        token = f'"@@rnnprobe-{nonce}-{number}@@"'.encode()
        at = text.index(token, done)
        out.write(text[done:at])
        _write_array(out, found.array)
        done = at + len(token)
    out.write(text[done:])
    out.flush()


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
