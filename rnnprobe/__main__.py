"""`python -m rnnprobe` runs the command-line interface."""

from rnnprobe.cli import app

app(prog_name="rnnprobe")
