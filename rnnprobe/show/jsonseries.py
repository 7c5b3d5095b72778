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
    starts = windows.starts.tolist()
    targets = windows.target_rows.tolist()
    train = windows.train.tolist()
    return [
        {"index": i, "start": start, "end": start + windows.window, "target_row": target,
         "split": "train" if trains else "test"}
        for i, (start, target, trains) in enumerate(zip(starts, targets, train, strict=True))
    ]  # fmt: skip


def _scale(result: SeriesResult) -> dict[str, Any]:
    windows = result.windows
    used = dict.fromkeys([*windows.features, windows.target])
    return {
        "method": windows.scaler.method,
        "fitted_rows": windows.train_rows,
        "columns": {windows.names[c]: windows.scaler.fitted(c) for c in used},
    }


def _measure(found: Measure, values: bool) -> dict[str, Any]:
    return {
        "loss": found.loss,
        "test_loss": found.test_loss,
        "weights": [tensor_object(w, named=True, values=values) for w in found.weights],
    }


def series_object(result: SeriesResult, *, values: bool = True) -> dict[str, Any]:
    """`series --json`."""
    windows, spec, probe = result.windows, result.spec, result.probe
    body: dict[str, Any] = {
        "rnnprobe": __version__,
        "columns": list(windows.feature_names),
        "target": windows.target_name,
        "rows": windows.rows,
        "reverse": windows.reverse,
        "window": windows.window,
        "stride": windows.stride,
        "horizon": windows.horizon,
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
    test = result.test
    body["test"] = None if test is None else {
        "windows": len(test.windows),
        "rmse": test.rmse,
        "mae": test.mae,
        "baseline_rmse": test.baseline_rmse,
        "baseline_mae": test.baseline_mae,
        **({"actual": values_of(test.actual), "predicted": values_of(test.predicted),
            "baseline": values_of(test.baseline)} if values else {}),
    }  # fmt: skip
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
