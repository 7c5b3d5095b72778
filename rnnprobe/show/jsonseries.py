"""The JSON object of `series`: the data and how it is cut, scaled and split, the network's
tensors on every window, the test against the baseline, and the training. Written by the
one JSON writer, `jsonout`; rows and windows are numbered from 0, as Python indexes them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rnnprobe import __version__
from rnnprobe.core.stages import SquaredLoss
from rnnprobe.show.jsonout import layers_list, spec_keys, tensor_object, values_of
from rnnprobe.show.jsontrain import check_object

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import Measure, SeriesResult


def _windows(result: SeriesResult) -> list[dict[str, Any]]:
    windows = result.windows
    data = windows.data
    starts = windows.starts.tolist()
    targets = windows.target_rows.tolist()
    train = windows.train.tolist()
    groups = windows.group_of.tolist()
    grouped = len(data.groups) > 1
    found = []
    for i, (start, rows, trains) in enumerate(zip(starts, targets, train, strict=True)):
        entry: dict[str, Any] = {
            "index": i,
            "start": start,
            "end": start + windows.window,
            "target_row": rows[0] if len(rows) == 1 else rows,
            "split": "train" if trains else "test",
        }
        if grouped:
            entry["group"] = data.groups[groups[i]]
        found.append(entry)
    return found


def _scale(result: SeriesResult) -> dict[str, Any]:
    windows = result.windows
    used = dict.fromkeys([*windows.features, *windows.targets_read])
    scaler = windows.scaler
    body: dict[str, Any] = {
        "method": scaler.method,
        "fitted_rows": windows.train_rows,
        "per_group": scaler.per_group,
        "columns": {windows.names[c]: scaler.fitted(c) for c in used},
    }
    if scaler.per_group:
        body["groups"] = {
            name: {windows.names[c]: scaler.fitted(c, g) for c in used}
            for g, name in enumerate(windows.data.groups)
        }
    return body


def _index(result: SeriesResult) -> dict[str, Any] | None:
    data = result.windows.data
    if data.index is None:
        return None
    uneven = data.uneven
    return {
        "column": data.index_name,
        "values": list(data.index),
        "uneven": None
        if uneven is None
        else {
            "usual_step": uneven.step,
            "steps": uneven.count,
            "first": [{"after": a, "next": b, "step": step} for a, b, step in uneven.first],
        },
        "increasing": data.unsorted is None,
    }


def _groups(result: SeriesResult) -> dict[str, Any] | None:
    windows = result.windows
    data = windows.data
    if len(data.groups) < 2:
        return None
    sizes = data.group_sizes
    return {
        "column": data.group_name,
        "names": list(data.groups),
        "rows": sizes,
        "skipped": list(windows.skipped),
        "shown": data.groups[result.shown_group],
    }


def _scores(scores: Any) -> dict[str, float]:
    return {
        "rmse": scores.rmse,
        "mae": scores.mae,
        "baseline_rmse": scores.baseline_rmse,
        "baseline_mae": scores.baseline_mae,
    }


def _test(result: SeriesResult, values: bool) -> dict[str, Any] | None:
    test = result.test
    if test is None:
        return None
    body: dict[str, Any] = {"windows": len(test.windows), **_scores(test.first)}
    if values:
        for name in ("actual", "predicted", "baseline"):
            body[name] = values_of(test.shown(name))
    body["by_output"] = [
        {"horizon": h, "target": name, **_scores(s)} for h, name, s in test.by_output()
    ]
    body["by_group"] = [
        {"group": name, "windows": n, **_scores(s)} for name, n, s in test.by_group()
    ]
    return body


def _measure(found: Measure, values: bool) -> dict[str, Any]:
    return {
        "loss": found.loss,
        "test_loss": found.test_loss,
        "weights": [tensor_object(w, named=True, values=values) for w in found.weights],
    }


def series_object(result: SeriesResult, *, values: bool = True) -> dict[str, Any]:
    """`series --json`."""
    windows, spec, probe = result.windows, result.spec, result.probe
    gaps = windows.data.gaps
    body: dict[str, Any] = {
        "rnnprobe": __version__,
        "columns": list(windows.feature_names),
        "target": windows.target_names[0],
        "target_columns": list(windows.target_names),
        "rows": windows.rows,
        "reverse": windows.reverse,
        "index": _index(result),
        "groups": _groups(result),
        "missing": {
            "how": gaps.how,
            "cells": gaps.cells,
            "rows_dropped": gaps.rows_dropped,
            "filled": gaps.filled,
        },
        "window": windows.window,
        "stride": windows.stride,
        "horizon": windows.horizons[0],
        "horizons": list(windows.horizons),
        "difference": windows.difference,
        "split": windows.split,
        "train_rows": windows.train_rows,
        "scale": _scale(result),
        "windows": _windows(result),
        "same_as_keras": result.same_as_keras,
        "keras_compared": result.keras.count,
        "style": spec.style.value,
        **spec_keys(probe),
        "activation": spec.value_head,
        "params": result.params,
        "layers": layers_list(probe),
        "x_data": tensor_object(probe.batch.input, named=False, values=values),
        "targets": tensor_object(result.targets, named=False, values=values),
        "weights": [tensor_object(w, named=True, values=values) for w in probe.weights],
        "outputs": tensor_object(probe.outputs, named=False, values=values),
        "states": [tensor_object(s, named=True, values=values) for s in probe.states],
    }
    assert probe.predictions is not None
    body["predictions"] = tensor_object(probe.predictions, named=False, values=values)
    body["test"] = _test(result, values)
    body["extrapolation"] = [
        {
            "column": b.column,
            "group": b.group,
            "test_rows_outside": b.rows,
            "test_rows": b.test_rows,
            "training_min": b.low,
            "training_max": b.high,
            "test_min": b.test_low,
            "test_max": b.test_high,
            "scaled_min": b.reached[0],
            "scaled_max": b.reached[1],
        }
        for b in result.beyond
    ]
    body["loss"] = SquaredLoss.text
    body["initial"] = _measure(result.initial, values)
    recipe = result.recipe
    if recipe is not None:
        body.update(
            epochs=recipe.epochs,
            lr=recipe.lr,
            batch_size=recipe.batch_size,
            shuffle=recipe.shuffle,
            every=recipe.every,
            optimizer="adam",
            gradients=[tensor_object(g, named=True, values=values) for g in result.gradients],
            history=[
                {"epoch": e.epoch, "loss": e.loss, "test_loss": e.test_loss} for e in result.history
            ],
            final=_measure(result.final, values),
            stopped=result.stopped,
        )
    if result.check is not None:
        body["check"] = check_object(result.check)
    return body
