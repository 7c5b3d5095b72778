"""`series --code`: the same windows, network and training as a self-contained script, in the
lab's style (numpy and Keras, `timeseries_dataset_from_array`, `compile` and `fit`), each
epoch's windows in the order rnnprobe takes them; it prints what rnnprobe reports."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnprobe import __version__
from rnnprobe.show import keras_code

if TYPE_CHECKING:
    from rnnprobe.core.commands.series import SeriesPlan


def _rows(values: object) -> str:
    import numpy as np

    rows = np.asarray(values, dtype=np.float64)
    return "[\n" + "".join(f"    {[float(v) for v in row]!r},\n" for row in rows) + "]"


def _scaling(method: str) -> list[str]:
    if method == "minmax":
        return [
            "low, high = fitted.min(axis=0), fitted.max(axis=0)",
            "scaled = ((data - low) / (high - low + 1e-7)).astype(np.float32)",
            "shift, span = low, high - low + 1e-7",
        ]
    if method == "standard":
        return [
            "shift, span = fitted.mean(axis=0), fitted.std(axis=0)",
            "scaled = ((data - shift) / span).astype(np.float32)",
        ]
    return [
        "shift, span = np.zeros(data.shape[1]), np.ones(data.shape[1])",
        "scaled = data.astype(np.float32)",
    ]


def script(planned: SeriesPlan, source: str) -> str:
    """The script that rebuilds this series' windows and network, and trains it."""
    windows, spec, recipe = planned.windows, planned.spec, planned.recipe
    network = spec.network(len(windows.features))
    constructors = keras_code.layer_lines(spec, len(windows.features))
    lines = [
        f"# Written by rnnprobe {__version__}: this series in the lab's style: the same "
        "windows, scaling, seed, layers, loss and optimizer.",
        "import math",
        "",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        f"# {source}: {windows.rows} rows, as read",
        f"names = {list(windows.names)!r}",
        f"data = np.array({_rows(windows.values[::-1] if windows.reverse else windows.values)})",
    ]
    if windows.reverse:
        lines.append("data = data[::-1]  # --reverse: the last row first")
    lines += [
        f"features, target = {list(windows.features)!r}, {windows.target}  # "
        f"{', '.join(windows.feature_names)} -> {windows.target_name}",
        f"window, stride, horizon = {windows.window}, {windows.stride}, {windows.horizon}",
        f"train_rows = math.floor({windows.split!r} * len(data))  # they train, and fit the "
        "scaling",
        "fitted = data[:train_rows]",
        *_scaling(windows.scaler.method),
        "",
        "# window i reads rows [i*stride, i*stride + window) and predicts the target at row",
        "# i*stride + window - 1 + horizon: Keras pairs the window starting at row i with",
        "# targets[i]",
        "dataset = keras.utils.timeseries_dataset_from_array(",
        "    scaled[:-horizon][:, features], scaled[window - 1 + horizon :, target][:, None],",
        "    sequence_length=window, sequence_stride=stride, shuffle=False,",
        "    batch_size=len(data),",
        ")",
        "x_data, targets = (np.asarray(t) for t in next(iter(dataset)))",
        "target_rows = np.arange(len(x_data)) * stride + window - 1 + horizon",
        "train = target_rows < train_rows  # a test window's target is a test row",
        "x_train, y_train = x_data[train], targets[train]",
        "x_test, y_test = x_data[~train], targets[~train]",
        "print('x_data', x_data.shape, 'targets', targets.shape, 'train', int(train.sum()), "
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
    lines += [
        "",
        "# the test windows in the target's own units, against the baseline that repeats",
        "# the target's value at the window's last row",
        "if len(x_test):",
        "    predicted = model.predict(x_test, verbose=0)[:, 0] * span[target] + shift[target]",
        "    actual = data[target_rows[~train], target]",
        "    baseline = data[target_rows[~train] - horizon, target]",
        "    rmse = float(np.sqrt(np.mean((predicted - actual) ** 2)))",
        "    baseline_rmse = float(np.sqrt(np.mean((baseline - actual) ** 2)))",
        "    print(f'rmse {rmse:.6g} baseline_rmse {baseline_rmse:.6g}')",
    ]
    return "\n".join(lines).rstrip() + "\n"
