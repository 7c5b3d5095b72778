"""The windows Keras cuts: `keras.utils.timeseries_dataset_from_array` on the rows' and the
targets' own indices, so that the windows rnnprobe cuts can be compared with Keras's, batch
by batch, without copying a value.

Keras cuts one run of rows at a time: each segment (a group, or the rows between two dropped
ones) is its own call, every horizon at once (the targets of a window are a row of
indices, one per horizon). Keras makes each window in `tf.data` (about 80 microseconds a
window here, and 0.3 s for each dataset): the first and the last segment are compared, each
whole up to four batches of windows, else its first and its last batch. A batch holds
`BATCH` windows, fewer when the windows are long (`BATCH_ROWS` row indices at most), so that
the comparison's memory does not grow with the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from rnnprobe.core.keras import env

if TYPE_CHECKING:
    from rnnprobe.core.inputs.windows import Windows

BATCH = 1024  # windows per batch of the comparison
BATCH_ROWS = 1 << 20  # row indices in one batch of windows (8 MB)


@dataclass(frozen=True)
class Compared:
    """Whether Keras cut the same windows, and which of them were compared."""

    same: bool
    blocks: tuple[tuple[int, int], ...]  # [first, end) of each block of windows compared
    segments: int = 1  # the runs of rows the windows come from

    @property
    def count(self) -> int:
        return sum(end - first for first, end in self.blocks)


def _segment_blocks(windows: Windows) -> list[tuple[int, int, int, int]]:
    """(segment start row, segment end row, first window, end window) of each segment that
    holds windows: the windows of a segment are consecutive."""
    segments = list(windows.data.segments)
    bounds = np.asarray(segments, dtype=np.int64).reshape(-1, 2)
    # The starts are sorted: each segment's windows lie between two binary searches.
    firsts = np.searchsorted(windows.starts, bounds[:, 0], side="left")
    ends = np.searchsorted(windows.starts, bounds[:, 1], side="left")
    return [(int(start), int(end), int(first), int(last))
            for (start, end), first, last in zip(segments, firsts, ends, strict=True)
            if last > first]  # fmt: skip


def same_as_keras(windows: Windows) -> Compared:
    """Whether Keras's windows read the same rows and predict the same target rows.

    In a segment of rows [a, b), Keras pairs the window that starts at its row i with
    `targets[i]`: the data is the segment but its last `max(horizons)` rows, the targets of
    row i the rows i + T - 1 + h for each horizon h."""
    from rnnprobe.core import progress

    window, stride, horizons = windows.window, windows.stride, np.asarray(windows.horizons)
    reach = int(horizons.max())
    batch = max(1, min(BATCH, BATCH_ROWS // window))
    segments = _segment_blocks(windows)
    chosen = segments if len(segments) <= 2 else [segments[0], segments[-1]]
    keras = env.load_keras()
    same = True
    blocks: list[tuple[int, int]] = []
    with env.tensorflow_logs_quiet():
        for start, end, first, last in chosen:
            rows = end - start
            count = last - first
            parts = [(0, count)] if count <= 4 * batch else [(0, batch), (count - batch, count)]
            index = np.arange(rows, dtype=np.int64)
            data = index[: rows - reach, None]
            targets = index[: rows - reach, None] + window - 1 + horizons[None, :]
            for lo, hi in parts:
                dataset = keras.utils.timeseries_dataset_from_array(
                    data,
                    targets,
                    sequence_length=window,
                    sequence_stride=stride,
                    shuffle=False,
                    batch_size=batch,
                    start_index=lo * stride,
                    end_index=min((hi - 1) * stride + window, len(data) - 1)
                    if hi < count
                    else None,
                )
                done = lo
                for x, y in dataset.as_numpy_iterator():
                    progress.check()  # a served request whose client left stops here
                    found = len(x)
                    ours = windows.starts[first + done : first + done + found] - start
                    expected = ours[:, None] + np.arange(window)[None, :]
                    if (
                        done + found > hi
                        or not np.array_equal(x[..., 0], expected)
                        or not np.array_equal(
                            y, windows.target_rows[first + done : first + done + found] - start
                        )
                    ):
                        same = False
                    done += found
                same = same and done == hi
                blocks.append((first + lo, first + hi))
    return Compared(same, tuple(blocks), len(segments))
