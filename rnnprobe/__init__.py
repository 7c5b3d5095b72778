"""rnnprobe: make the shapes inside a Keras recurrent neural network visible."""

__version__ = "0.1.0"  # the one source of the version: pyproject.toml reads it from here
