"""Keras's side of a probe: the environment, the builder per stage kind, its private hooks,
the graph runner, a probe's orchestration, and probing a user's own layer or model."""
