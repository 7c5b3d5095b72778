"""The commands a warm server runs: the one list `entry.py`, the client and the server read.

It imports nothing, so the served client path stays standard-library-only and cheap.
"""

SERVED_COMMANDS = ("run", "compare", "batch", "seq2seq", "train", "grads", "series", "inspect")
