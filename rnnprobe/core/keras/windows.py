"""The windows Keras cuts: `keras.utils.timeseries_dataset_from_array` on the rows' and the
targets' own indices, so that the windows rnnprobe cuts can be compared with Keras's, batch
by batch, without copying a value.

Keras makes each window in `tf.data` (about 80 microseconds a window here, and 0.3 s for each
dataset): up to four batches of windows are all compared; more are compared in two blocks of
one batch, the first windows and the last, each made by Keras from its own `start_index`. A
batch holds `BATCH` windows, fewer when the windows are long (`BATCH_ROWS` row indices at
most), so that the comparison's memory does not grow with the window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnprobe.core.keras import env

BATCH = 1024  # windows per batch of the comparison
BATCH_ROWS = 1 << 20  # row indices in one batch of windows (8 MB)


@dataclass(frozen=True)
class Compared:
    """Whether Keras cut the same windows, and which of them were compared."""

    same: bool
    blocks: tuple[tuple[int, int], ...]  # [first, end) of each block of windows compared

    @property
    def count(self) -> int:
        return sum(end - first for first, end in self.blocks)


def same_as_keras(rows: int, window: int, stride: int, horizon: int, starts: np.ndarray,
                  target_rows: np.ndarray) -> Compared:  # fmt: skip
    """Whether Keras's windows read the same rows and predict the same target rows.

    Keras pairs the window that starts at row i with `targets[i]`: the data is every row but
    the last `horizon`, the targets the target column from row `window - 1 + horizon` on.
    """
    from rnnprobe.core import progress

    count = len(starts)
    batch = max(1, min(BATCH, BATCH_ROWS // window))
    if count <= 4 * batch:
        blocks: tuple[tuple[int, int], ...] = ((0, count),)
    else:
        blocks = ((0, batch), (count - batch, count))
    keras = env.load_keras()
    index = np.arange(rows, dtype=np.int64)
    data = index[: rows - horizon, None]
    targets = np.zeros(rows - horizon, dtype=np.int64)
    shifted = index[window - 1 + horizon :]
    targets[: len(shifted)] = shifted
    same = True
    with env.tensorflow_logs_quiet():
        for first, end in blocks:
            dataset = keras.utils.timeseries_dataset_from_array(
                data, targets, sequence_length=window, sequence_stride=stride, shuffle=False,
                batch_size=batch, start_index=first * stride,
                end_index=min((end - 1) * stride + window, len(data) - 1) if end < count else None,
            )  # fmt: skip
            done = first
            for x, y in dataset.as_numpy_iterator():
                progress.check()  # a served request whose client left stops here
                found = len(x)
                expected = starts[done : done + found, None] + np.arange(window)[None, :]
                if (
                    done + found > end
                    or not np.array_equal(x[..., 0], expected)
                    or not np.array_equal(y, target_rows[done : done + found])
                ):
                    same = False
                done += found
            same = same and done == end
    return Compared(same, blocks)
