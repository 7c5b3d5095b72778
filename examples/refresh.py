"""Run the example notebooks again and save what they print, with the versions that made it.

    python examples/refresh.py

Each notebook is executed top to bottom in a fresh kernel (in a directory of its own) and
saved with its new outputs; its metadata names the TensorFlow and the Keras that made them,
which tests/test_notebook.py reads: the saved text is held to a fresh run's text for text
only under those versions (float noise in the last digits may differ with another).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent


def refresh(path: Path) -> None:
    import keras
    import tensorflow

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    with tempfile.TemporaryDirectory() as here:
        client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": here}})  # fmt: skip
        client.execute()
    notebook.metadata["rnnprobe"] = {
        "tensorflow": tensorflow.__version__,
        "keras": keras.__version__,
    }
    nbformat.write(notebook, path)
    print(f"refreshed {path.name} with TensorFlow {tensorflow.__version__}, "
          f"Keras {keras.__version__}")  # fmt: skip


if __name__ == "__main__":
    for found in sorted(HERE.glob("*.ipynb")):
        refresh(found)
