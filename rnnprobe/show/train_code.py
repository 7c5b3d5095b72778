"""`train --code`: a runnable script in the lecture's style that rebuilds the same data and
weights, trains them the same way (the masked loss, a `GradientTape` loop with Adam) and
prints `epoch E loss L` for every epoch, then what the trained network predicts.

Written from the network's stages, as `--code` of `run` is: each stage's constructor and
call, then the loss stage's code.
"""

from __future__ import annotations

from rnnprobe import __version__
from rnnprobe.core.inputs.tasks import TrainData, train_spec
from rnnprobe.core.kinds import Task
from rnnprobe.core.stages import ProbeSpec
from rnnprobe.show.keras_code import (
    Calls,
    call_code,
    input_lines,
    layer_lines,
    lookup,
    loss_function,
)

TASK_LINES = {
    Task.next: "# next token: each word reads its tokens but the last, predicts all but the first",
    Task.labels: "# labels: one class per word, from its last real step (many-to-one)",
    Task.tags: "# tags: one tag per word of each sentence (many-to-many)",
}


def _targets(data: TrainData) -> list[str]:
    """Lines that rebuild the targets `y_data` (class ids) from what each word is taught."""
    lines = [f"classes = {list(data.classes)!r}"]
    setup, find = lookup(data.classes, "classes")
    if not data.per_step:
        labels = [data.classes[int(c)] for c in data.targets.array]
        return [
            *lines,
            *setup,
            f"labels = {labels!r}",
            f"y_data = np.array([{find.format('label')} for label in labels], dtype=np.int32)",
        ]
    taught = [list(data.names(data.targets.array, row)) for row in range(data.batch.rows)]
    return [
        *lines,
        *setup,
        f"taught = {taught!r}  # what each word is taught, step by step",
        "y_data = np.zeros((len(taught), max(lengths)), dtype=np.int32)  # padded steps: 0",
        "for b, sequence in enumerate(taught):",
        "    for t, token in enumerate(sequence):",
        f"        y_data[b, t] = {find.format('token')}",
    ]


def _split(data: TrainData, seed: int, shuffles: bool) -> list[str]:
    """Lines that hold out the rows `--validation` holds out (drawn as rnnprobe draws them)."""
    if data.held_out is None:
        return ["trained = np.arange(len(y_data))  # every row trains"] if shuffles else []
    return [
        f"held_out = np.sort(np.random.default_rng([{seed}, 1]).permutation(len(y_data))"
        f"[: math.ceil({data.validation!r} * len(y_data))])  # --validation",
        "trained = np.setdiff1d(np.arange(len(y_data)), held_out)",
    ]


def _epochs(data: TrainData, seed: int, source: str, size: int, epochs: int,
            shuffles: bool) -> list[str]:  # fmt: skip
    """The training loop: each epoch's rows (shuffled from the seed, or in order), their
    batches, and the held-out rows measured after the epoch's updates."""
    if data.held_out is None and not shuffles:
        return [
            f"batch_size = {size}  # words per batch, in their order",
            f"for epoch in range(1, {epochs} + 1):",
            "    total = 0.0",
            "    for start in range(0, len(y_data), batch_size):",
            "        rows = slice(start, start + batch_size)",
            f"        loss = train_step({source}[rows], mask[rows], y_data[rows])",
            "        total += float(loss) * len(y_data[rows])  # each loss before its update",
            "    print(f'epoch {epoch} loss {total / len(y_data):.6f}')",
        ]
    found = [
        f"batch_size = {size}  # rows per batch",
        *([f"order = np.random.default_rng({seed})  # each epoch's order, in turn"]
          if shuffles else []),
        f"for epoch in range(1, {epochs} + 1):",
        ("    taken = trained[order.permutation(len(trained))]  # shuffled" if shuffles
         else "    taken = trained  # in their order"),
        "    total = 0.0",
        "    for start in range(0, len(taken), batch_size):",
        "        rows = taken[start : start + batch_size]",
        f"        loss = train_step({source}[rows], mask[rows], y_data[rows])",
        "        total += float(loss) * len(rows)  # each loss before its update",
    ]  # fmt: skip
    if data.held_out is None:
        return [*found, "    print(f'epoch {epoch} loss {total / len(taken):.6f}')"]
    return [
        *found,
        f"    held = loss_fn(model({source}[held_out], mask[held_out]), y_data[held_out], "
        "mask[held_out])",
        "    print(f'epoch {epoch} loss {total / len(taken):.6f} val_loss {float(held):.6f}')",
    ]


def script(
    data: TrainData,
    spec: ProbeSpec,
    seed: int,
    *,
    epochs: int,
    lr: float,
    batch_size: int | None,
    every: int | None = None,
    shuffle: bool | None = None,
) -> str:
    """A self-contained script (numpy and tensorflow.keras) that trains as `train` does:
    the same rows held out, each epoch's rows in the same order."""
    from rnnprobe.core.inputs.split import shuffled

    full = train_spec(spec, data)
    batch = data.batch
    network = full.network(batch.width)
    rows = len(data.trained_rows)
    size = rows if batch_size is None else min(batch_size, rows)
    shuffles = shuffled(shuffle, rows, size)
    inputs = input_lines(network.input, batch)
    mask = "mask = np.arange(max(lengths))[None, :] < np.array(lengths)[:, None]"
    calls = Calls(source="x", masked=True, make_mask=False, softmax=False)
    for stage in network.model.stages:
        call_code(stage, calls)
    source = "x_data" if batch.ids is None else "ids"
    layers = layer_lines(full, batch.width)
    names = [line.split(" = ")[0] for line in layers]
    lines = [
        f"# Written by rnnprobe {__version__}: this training, in the lecture's style: the same "
        "data, seed, layers, loss and optimizer.",
        *(["import math", ""] if data.held_out is not None else []),
        "import numpy as np",
        "import tensorflow as tf",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        TASK_LINES[data.task],
        f"given = {list(data.words)!r}",
        *inputs,
        *([] if any(line.startswith("mask = ") for line in inputs) else [mask]),
        *_targets(data),
        *_split(data, seed, shuffles),
        "",
        f"keras.utils.set_random_seed({seed})  # before the layers are built",
        *layers,
        "",
        "",
        "def model(x, mask):",
        *(f"    {line}" for line in calls.lines),
        "    return logits",
        "",
        "",
        *loss_function(network.loss),
        "",
        "",
        f"optimizer = keras.optimizers.Adam(learning_rate={lr!r})",
        f"model({source}, mask)  # builds the layers: their weights are the seed's",
        f"variables = [v for layer in ({', '.join(names)}{',' if len(names) == 1 else ''}) "
        "for v in layer.trainable_variables]",
        "",
        "",
        "@tf.function",
        "def train_step(x, mask, y):",
        "    with tf.GradientTape() as tape:",
        "        loss = loss_fn(model(x, mask), y, mask)",
        "    grads = tape.gradient(loss, variables)",
        "    grads = [tf.convert_to_tensor(g) for g in grads]  # dense: Adam's own step",
        "    optimizer.apply_gradients(zip(grads, variables))",
        "    return loss",
        "",
        "",
        *_epochs(data, seed, source, size, epochs, shuffles),
        "",
        f"predicted = np.argmax(model({source}, mask), axis=-1)",
        "for b, word in enumerate(given):",
    ]
    if data.per_step:
        joined = "''" if data.task is Task.next and batch.tokenizer.value == "char" else "' '"
        lines.append(f"    print(word, '->', {joined}.join(classes[c] for c in "
                     "predicted[b, : lengths[b]]))")  # fmt: skip
    else:
        lines.append("    print(word, '->', classes[predicted[b]])")
    return "\n".join(lines) + "\n"
