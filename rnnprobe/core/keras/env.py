"""TensorFlow's environment: loaded once and quietly, seeded per probe, one build at a time.

The only place `tensorflow.keras` is imported for a probe, lazily (`load_keras`).
"""

from __future__ import annotations

import contextlib
import os
import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np

from rnnprobe.core import progress

_keras: Any = None
_load_lock = threading.Lock()
# Keras keeps its random seed in process-wide state: one probe at a time seeds and builds.
build_lock = threading.Lock()


@contextlib.contextmanager
def stderr_fd_silenced() -> Iterator[None]:
    """Point file descriptor 2 at /dev/null: TensorFlow's C++ logging bypasses sys.stderr."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def tensorflow_logs_quiet() -> Iterator[None]:
    """Keep TensorFlow's Python warnings off stderr while a probe runs.

    Each probe that runs as a graph traces its own tf.function, and TensorFlow warns about
    "retracing" after a few; the warning is about TensorFlow's use, not the user's input.
    The logger's level is put back afterwards, so a notebook keeps its own settings.
    """
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def load_keras() -> Any:
    """Import `tensorflow.keras` once, silencing what TensorFlow logs while it starts."""
    global _keras
    with _load_lock:
        if _keras is None:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            with progress.spinner("Loading TensorFlow…"), stderr_fd_silenced():
                # Lazy on purpose: importing TensorFlow takes seconds, and `--help`,
                # `--version` and `vocab` must answer without paying for it.
                import tensorflow as tf
                from tensorflow import keras

                # The first device query and the first op log about CUDA and CPU features.
                tf.config.list_physical_devices()
                tf.zeros((1,)).numpy()
            _keras = keras
    return _keras


def keras() -> Any:
    """The loaded `tensorflow.keras` (load_keras has run)."""
    assert _keras is not None
    return _keras


def seed_keras(seed: int) -> None:
    """Seed what a probe's weights depend on, as `keras.utils.set_random_seed` would.

    Keras draws each initializer's seed from Python's `random` when a layer is constructed,
    so Python's and NumPy's generators are all a probe needs (a test pins the equivalence
    with `keras.utils.set_random_seed`, which the `--code` script calls). TensorFlow's
    global seed is left alone on purpose: `tf.random.set_seed` clears TensorFlow's kernel
    cache, which made every later probe in the same process about 40 % slower.
    """
    random.seed(seed)
    np.random.seed(seed)
