"""rnnprobe: make the shapes inside a Keras recurrent neural network visible.

    import rnnprobe
    result = rnnprobe.run("hello eolll lleel", hidden=2)   # tables in Jupyter
    result.outputs.shape, result.states["h"]

`run`, `compare`, `vocab`, `probe`, `seq2seq`, `to_torch`, `train`, `grads`, `series`, `load`
and `inspect` are loaded on first use (see `rnnprobe.api`), so that `import rnnprobe` imports
neither numpy nor TensorFlow.
"""

__version__ = "0.1.0"  # the one source of the version: pyproject.toml reads it from here

__all__ = [
    "Comparison", "Grads", "GradsCells", "Inspection", "Loaded", "Run", "Seq2Seq",
    "Seq2SeqTraining", "Series", "Train", "Translations", "Vocabulary", "__version__",
    "compare", "grads", "inspect", "load", "probe", "run", "seq2seq", "series", "to_torch",
    "train", "vocab",
]  # fmt: skip

TYPE_CHECKING = False  # `typing` would cost every start 2 ms; type checkers read this as True
if TYPE_CHECKING:
    from rnnprobe.api import (
        Comparison,
        Grads,
        GradsCells,
        Inspection,
        Loaded,
        Run,
        Seq2Seq,
        Seq2SeqTraining,
        Series,
        Train,
        Translations,
        Vocabulary,
        compare,
        grads,
        inspect,
        load,
        probe,
        run,
        seq2seq,
        series,
        to_torch,
        train,
        vocab,
    )

_API = {
    "Comparison", "Grads", "GradsCells", "Inspection", "Loaded", "Run", "Seq2Seq",
    "Seq2SeqTraining", "Series", "Train", "Translations", "Vocabulary", "compare", "grads",
    "inspect", "load", "probe", "run", "seq2seq", "series", "to_torch", "train", "vocab",
}  # fmt: skip


def __getattr__(name: str) -> object:
    if name in _API:
        from rnnprobe import api

        return getattr(api, name)
    raise AttributeError(f"module 'rnnprobe' has no attribute {name!r}")
