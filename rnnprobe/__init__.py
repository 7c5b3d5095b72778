"""rnnprobe: make the shapes inside a Keras recurrent neural network visible."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rnnprobe")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
