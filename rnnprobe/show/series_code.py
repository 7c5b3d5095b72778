"""`series --code`: the same windows, network and training as a self-contained script, in the
lab's style (numpy and Keras, `timeseries_dataset_from_array`, `compile` and `fit`): the
columns read as the file holds them, then every step rnnprobe takes (the groups, the
missing values, the split, the scaling, the windows of each run of rows, the horizons and
targets, the differences), each epoch's windows in the order rnnprobe takes them; it prints
what rnnprobe reports."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from rnnprobe import __version__
from rnnprobe.show import keras_code

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import SeriesPlan
    from rnnprobe.core.inputs.windows import Windows


def _number(value: float) -> str:
    return "np.nan" if math.isnan(value) else repr(float(value))


def _rows(values: object) -> str:
    import numpy as np

    rows = np.asarray(values, dtype=np.float64)
    return "[\n" + "".join(f"    [{', '.join(map(_number, row))}],\n" for row in rows) + "]"


def _scaling(method: str, per_group: bool) -> list[str]:
    where = "fitted = data[train_rows & (group == g)]" if per_group else (
        "fitted = data[train_rows]")  # fmt: skip
    if method == "minmax":
        fit = ["low, high = fitted.min(axis=0), fitted.max(axis=0)",
               "shift[g], span[g] = low, high - low + 1e-7"]  # fmt: skip
    elif method == "standard":
        fit = ["shift[g], span[g] = fitted.mean(axis=0), fitted.std(axis=0)"]
    else:
        fit = ["shift[g], span[g] = 0.0, 1.0"]
    lines = [
        f"# --scale {method}, fitted on the training rows only"
        + (", for each group" if per_group else ""),
        f"shift = np.zeros(({'len(groups)' if per_group else '1'}, data.shape[1]))",
        "span = np.ones_like(shift)",
        f"for g in range({'len(groups)' if per_group else '1'}):",
        f"    {where}",
        *(f"    {line}" for line in fit),
        "row_scaling = group if "
        + ("True" if per_group else "False")
        + " else np.zeros_like(group)",
        "scaled = ((data - shift[row_scaling]) / span[row_scaling]).astype(np.float32)",
    ]
    return lines


def _data_lines(windows: Windows, source: str) -> list[str]:
    """The columns read as the file holds them, then the groups, reversal and gaps."""
    data = windows.data
    assert data.raw_values is not None and data.raw_groups is not None
    grouped = len(data.groups) > 1
    lines = [
        f"# {source}: the columns read, {len(data.raw_values)} rows as the file holds them "
        "(np.nan: a missing cell)",
        f"names = {list(data.names)!r}",
        f"data = np.array({_rows(data.raw_values)})",
    ]
    if grouped:
        codes = ", ".join(str(int(g)) for g in data.raw_groups)
        lines += [
            f"groups = {list(data.groups)!r}  # --group {data.group_name}, as they first appear",
            f"group = np.array([{codes}])",
        ]
    else:
        lines.append("group = np.zeros(len(data), dtype=int)")
    if data.reverse:
        lines.append("data, group = data[::-1], group[::-1]  # --reverse: the last row first")
    if grouped:
        lines += [
            "order = np.argsort(group, kind='stable')  # each group's rows together, in order",
            "data, group = data[order], group[order]",
        ]
    how = data.gaps.how
    lines.append("missing = np.isnan(data)")
    if how == "drop":
        lines += [
            "kept = ~missing.any(axis=1)  # --missing drop: a row with a missing cell goes",
        ]
    else:
        lines.append("kept = np.ones(len(data), dtype=bool)")
        if how in ("ffill", "interpolate"):
            fill = (
                [
                    "            last = np.maximum.accumulate(np.where(gap, 0, "
                    "np.arange(len(column))))",
                    "            data[rows, c] = column[last]",
                ]
                if how == "ffill"
                else [
                    "            known = np.flatnonzero(~gap)",
                    "            data[rows, c] = np.interp(np.arange(len(column)), known, "
                    "column[known])",
                ]
            )
            lines += [
                f"for g in np.unique(group):  # --missing {how}, within each group",
                "    rows = np.flatnonzero(group == g)",
                "    for c in range(data.shape[1]):",
                "        column = data[rows, c]",
                "        gap = np.isnan(column)",
                "        if gap.any():",
                *fill,
            ]
    lines += [
        "# the runs of rows a window may span: a group's rows, cut where a row was dropped",
        "runs, start = [], None",
        "for row in range(len(data)):",
        "    if start is not None and (not kept[row] or group[row] != group[row - 1]):",
        "        runs.append((start, row))",
        "        start = None",
        "    if kept[row] and start is None:",
        "        start = row",
        "if start is not None:",
        "    runs.append((start, len(data)))",
    ]
    return lines


def script(planned: SeriesPlan, source: str) -> str:
    """The script that rebuilds this series' windows and network, and trains it."""
    windows, spec, recipe = planned.windows, planned.spec, planned.recipe
    network = spec.network(len(windows.features))
    constructors = keras_code.layer_lines(spec, len(windows.features))
    features = list(windows.features)
    targets = list(windows.targets_read)
    horizons = list(windows.horizons)
    lines = [
        f"# Written by rnnprobe {__version__}: this series in the lab's style: the same "
        "windows, scaling, seed, layers, loss and optimizer.",
        "import math",
        "",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        *_data_lines(windows, source),
        "",
        f"features, targets = {features!r}, {targets!r}  # "
        f"{', '.join(windows.feature_names)} -> {', '.join(windows.target_names)}",
        f"window, stride, horizons = {windows.window}, {windows.stride}, {horizons!r}",
        "reach = max(horizons)",
        "# the first rows of each group train (and fit the scaling)",
        "train_rows = np.zeros(len(data), dtype=bool)",
        "for g in np.unique(group):",
        "    rows = np.flatnonzero((group == g) & kept)",
        f"    train_rows[rows[: math.floor({windows.split!r} * len(rows))]] = True",
        *_scaling(windows.scaler.method, windows.scaler.per_group),
        "",
        "# in each run of rows, the window starting at its row i reads rows [i, i + window)",
        "# and predicts each target at rows i + window - 1 + h: Keras pairs the window",
        "# starting at row i with y[i]",
        "x_parts, y_parts, start_parts = [], [], []",
        "for start, end in runs:",
        "    part = scaled[start:end]",
        "    rows = np.arange(end - start - reach)",
        "    if (len(rows) - window) // stride + 1 <= 0:",
        "        continue",
        "    y = np.zeros((len(rows), len(horizons), len(targets)), dtype=np.float32)",
        "    begins = rows[: len(rows) - window + 1]  # the rows a window starts at",
        "    y[: len(begins)] = np.stack(",
        "        [part[begins + window - 1 + h][:, targets] for h in horizons], axis=1",
        "    )",
    ]
    if windows.difference:
        lines.append(
            "    y[: len(begins)] -= part[begins + window - 1][:, None, targets]  # --difference"
        )
    lines += [
        "    dataset = keras.utils.timeseries_dataset_from_array(",
        "        part[: len(rows)][:, features], y.reshape(len(rows), -1), sequence_length=window,",
        "        sequence_stride=stride, shuffle=False, batch_size=len(rows),",
        "    )",
        "    x, y = (np.asarray(t) for t in next(iter(dataset)))",
        "    x_parts.append(x)",
        "    y_parts.append(y)",
        "    start_parts.append(start + stride * np.arange(len(x)))",
        "x_data, y_data = np.concatenate(x_parts), np.concatenate(y_parts)",
        "starts = np.concatenate(start_parts)",
        "last_rows = starts + window - 1",
        "train = train_rows[last_rows + reach]  # a test window's furthest target is a test row",
        "x_train, y_train = x_data[train], y_data[train]",
        "x_test, y_test = x_data[~train], y_data[~train]",
        "print('x_data', x_data.shape, 'targets', y_data.shape, 'train', int(train.sum()), "
        "'test', int((~train).sum()))",
        "",
        f"keras.utils.set_random_seed({planned.seed})  # before the layers are built",
        *constructors,
        "inputs = keras.Input(shape=(window, len(features)))",
    ]
    calls = keras_code.Calls(source="inputs", masked=False)
    keras_code.call_code(network.recurrent, calls)  # outputs, then the states it returns
    lines += [
        *calls.lines,
        "model = keras.Model(inputs, head(outputs))",
        "model.compile(optimizer=keras.optimizers.Adam(learning_rate="
        f"{recipe.lr if recipe else 0.01!r}), loss='mean_squared_error')",
        "",
        "loss = model.evaluate(x_train, y_train, verbose=0)",
        "test_loss = model.evaluate(x_test, y_test, verbose=0) if len(x_test) else None",
        "print(f'loss {loss:.6f} test_loss {test_loss}')",
    ]
    if recipe is not None:
        order = (
            "rows = order.permutation(len(x_train))  # shuffled, as rnnprobe shuffles"
            if recipe.shuffle
            else "rows = np.arange(len(x_train))  # in their order"
        )
        lines += [
            "",
            f"order = np.random.default_rng({planned.seed})  # each epoch's order, in turn",
            f"for epoch in range(1, {recipe.epochs} + 1):",
            f"    {order}",
            "    fitted = model.fit(x_train[rows], y_train[rows], "
            f"batch_size={recipe.batch_size}, epochs=1,",
            "                       shuffle=False, verbose=0)",
            "    test_loss = model.evaluate(x_test, y_test, verbose=0) if len(x_test) else None",
            "    print(f\"epoch {epoch} loss {fitted.history['loss'][0]:.6f} "
            'test_loss {test_loss}")',
        ]
    back = (
        "    predicted = data[last_rows[tested]][:, None, targets] + shaped * span_t"
        if windows.difference
        else "    predicted = shaped * span_t + shift[row_scaling[starts[tested]]][:, None, "
        "targets]"
    )
    lines += [
        "",
        "# the test windows in each target's own units, against the baseline that repeats",
        "# each target's value at the window's last row",
        "if len(x_test):",
        "    tested = np.flatnonzero(~train)",
        "    shaped = model.predict(x_test, verbose=0).reshape(len(tested), len(horizons), -1)",
        "    span_t = span[row_scaling[starts[tested]]][:, None, targets]",
        back,
        "    actual = np.stack([data[last_rows[tested] + h][:, targets] for h in horizons], 1)",
        "    baseline = np.repeat(data[last_rows[tested]][:, None, targets], len(horizons), 1)",
        "    for i, h in enumerate(horizons):",
        "        for k, name in enumerate(names[t] for t in targets):",
        "            rmse = float(np.sqrt(np.mean((predicted[:, i, k] - actual[:, i, k]) ** 2)))",
        "            base = float(np.sqrt(np.mean((baseline[:, i, k] - actual[:, i, k]) ** 2)))",
        "            print(f'{name} +{h}: rmse {rmse:.6g} baseline_rmse {base:.6g}')",
    ]
    return "\n".join(lines).rstrip() + "\n"
