"""`python -m rnnprobe`: the same entry point as the `rnnprobe` command."""

from rnnprobe.client import main

main()
