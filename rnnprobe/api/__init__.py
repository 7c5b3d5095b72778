"""The Python API: `rnnprobe.run`, `compare`, `vocab`, `probe`, `seq2seq`, `to_torch`,
`train`, `grads`, `series`, `load` and `inspect`, for scripts and notebooks.

Each function does what the command of the same name does (through the same core
functions) and returns a result that holds the numbers as numpy arrays, converts to the
command's JSON (`to_dict`, `to_json`) and shows itself as the command's tables: through
rich in a terminal (`rich.print(result)` or `result.show()`), as HTML in Jupyter,
JupyterLab and Colab (rich's Jupyter support, with text/plain beside it).

Bad input raises ValueError with the message the command prints (parameters named as
keywords: `hidden`, not `--hidden`). Nothing here prints or exits by itself, and
TensorFlow loads with the first call that runs a model.
"""

from __future__ import annotations

from rnnprobe.api.gradients import Grads, GradsCells, grads
from rnnprobe.api.pairs import Seq2Seq, Seq2SeqTraining, seq2seq
from rnnprobe.api.probes import (
    Comparison,
    Run,
    Vocabulary,
    compare,
    probe,
    run,
    to_torch,
    vocab,
)
from rnnprobe.api.saved import Inspection, Loaded, Translations, inspect, load
from rnnprobe.api.shown import Picture
from rnnprobe.api.timeseries import Series, series
from rnnprobe.api.training import Train, train

__all__ = [
    "Comparison", "Grads", "GradsCells", "Inspection", "Loaded", "Picture", "Run", "Seq2Seq",
    "Seq2SeqTraining", "Series", "Train", "Translations", "Vocabulary",
    "compare", "grads", "inspect", "load", "probe", "run", "seq2seq", "series", "to_torch",
    "train", "vocab",
]  # fmt: skip
