"""`python -m rnnprobe`: the same entry point as the `rnnprobe` command."""

from rnnprobe.entry import main

main()
