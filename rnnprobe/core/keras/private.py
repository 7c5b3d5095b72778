"""Every use of Keras's private internals, in one place (a debt, kept small).

Written for Keras 3 (tested with the Keras of tensorflow 2.16.1 and of 2.21): a probe's
weights are drawn by Keras's own initializers but never become TensorFlow variables, so
that a short probe costs a quarter less. Each hook says what it touches; tests pin the
public behaviour they stand for (the same weights as `keras.utils.set_random_seed` and a
plain build, nothing left pending in Keras's state, the same bits eagerly and as a graph).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

Named = Sequence[tuple[str, Any, Any]]  # (weight name, Keras variable, axis names)


@contextlib.contextmanager
def variables_deferred(keras: Any) -> Iterator[None]:
    """Layers built in here get Keras variables that hold no TensorFlow variable yet.

    A probe's weights are read once and then only passed in (`initial_values`,
    `with_values`): creating a TensorFlow variable for each, and reading it back at
    every step, would cost more than the eager call itself. Keras notes such variables
    for a later initialisation (private: `global_state`'s "uninitialized_variables"); that
    note is put back as it was, so nothing of a probe is left behind in Keras's state.
    """
    from keras.src.backend.common import global_state

    key = "uninitialized_variables"
    pending = list(global_state.get_global_attribute(key, []) or [])
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield
    finally:
        global_state.set_global_attribute(key, pending)


def initial_values(named: Named) -> list[Any]:
    """Each variable's initial value, drawn as Keras would draw it when creating it
    (private: a variable's `_initializer` and `_dtype`)."""
    return [
        variable._initializer(variable.shape, dtype=variable._dtype) for _, variable, _ in named
    ]


@contextlib.contextmanager
def with_values(keras: Any, named: Named, values: Sequence[Any]) -> Iterator[None]:
    """Calls in here read each variable as the value given for it (public StatelessScope)."""
    mapping = [(variable, value) for (_, variable, _), value in zip(named, values, strict=True)]
    with keras.StatelessScope(state_mapping=mapping, initialize_variables=False):
        yield


@contextlib.contextmanager
def borrowed(named: Named, values: Sequence[Any]) -> Iterator[None]:
    """While a graph is traced, its layers read the weights it is given as their variables
    (private: a variable's `_value`)."""
    kept = [variable._value for _, variable, _ in named]
    for (_, variable, _), value in zip(named, values, strict=True):
        variable._value = value
    try:
        yield
    finally:
        for (_, variable, _), value in zip(named, kept, strict=True):
            variable._value = value


def takes_mask(layer: Any) -> bool:
    """Whether a layer's `call` takes a mask (private: `_call_has_mask_arg`)."""
    return bool(getattr(layer, "_call_has_mask_arg", False))


def clipped(keras: Any, gradients: list[Any], *, clipnorm: float | None,
            global_clipnorm: float | None) -> list[Any]:  # fmt: skip
    """The gradients as Keras's optimizers clip them before an update (private: an
    optimizer's `_clip_gradients`, which `apply_gradients` calls): each to `clipnorm`, or
    all together to `global_clipnorm`."""
    optimizer = keras.optimizers.Adam(clipnorm=clipnorm, global_clipnorm=global_clipnorm)
    return list(optimizer._clip_gradients(list(gradients)))


def keras_mask(tensor: Any) -> Any:
    """The mask Keras attached to a layer's symbolic output, or None (private: a tensor's
    `_keras_mask`, which Keras 3 sets where a layer's `compute_mask` gives one)."""
    return getattr(tensor, "_keras_mask", None)
