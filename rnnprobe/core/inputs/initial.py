"""`--initial-state`: the state the recurrent layers start from, instead of Keras's zeros.

Pure numpy. `zeros` (what Keras does without `initial_state`), `random` (drawn from the
seed, uniform in [-1, 1) as a tanh state is), or values per state, the same for every word:
`h=0.5,-0.2`, `c=1,-2`, `forward_h=...`, `2/h=...`, named as the states table names them. A
state not given starts at zeros.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnprobe.core.batch import Tensor
from rnnprobe.core.errors import InputError, Param, shown
from rnnprobe.core.inputs import numeral

KINDS = ("zeros", "random")


@dataclass(frozen=True)
class InitialState:
    """What `--initial-state` asked for: `kind` zeros, random or values (by state name)."""

    kind: str
    values: tuple[tuple[str, tuple[float, ...]], ...] = ()


def parse_initial(given: Sequence[str] | None) -> InitialState | None:
    """The options read (None when none is given): one kind, or one state per option."""
    if not given:
        return None
    if len(given) == 1 and given[0].strip() in KINDS:
        return InitialState(given[0].strip())
    values = []
    for item in given:
        name, equals, text = item.partition("=")
        if item.strip() in KINDS:
            raise InputError(Param("initial_state"), f" {item.strip()} stands alone: give it "
                             "once, or values per state (h=0.5,-0.2)")  # fmt: skip
        if not equals or not name.strip():
            raise InputError(Param("initial_state"), f" {item!r}: give zeros, random or "
                             "NAME=V,V,... (h=0.5,-0.2)")  # fmt: skip
        numbers = []
        for part in text.split(","):
            number, said = numeral.refusal(part, shown)
            if number is None:
                raise InputError(Param("initial_state"), f" {shown(item)}: {said}")
            numbers.append(number)
        values.append((name.strip(), tuple(numbers)))
    names = [name for name, _ in values]
    repeated = next((name for name in names if names.count(name) > 1), None)
    if repeated is not None:
        raise InputError(Param("initial_state"), f" gives {repeated} twice")
    return InitialState("values", tuple(values))


def check_initial(initial: InitialState | None, places: Sequence[tuple[str, int]]) -> None:
    """Each named state is one of the network's (`places`: name and size, in Keras's
    order), with as many values as it has units; before any work."""
    if initial is None or initial.kind != "values":
        return
    sizes = dict(places)
    for name, numbers in initial.values:
        if name not in sizes:
            known = ", ".join(sizes)
            raise InputError(Param("initial_state"), f" {name}: no such state; this network's "
                             f"states are {known}")  # fmt: skip
        if len(numbers) != sizes[name]:
            raise InputError(Param("initial_state"), f" {name} has {len(numbers)} values: the "
                             f"state {name} has {sizes[name]} units")  # fmt: skip


def initial_arrays(initial: InitialState, places: Sequence[tuple[str, int]], rows: int,
                   seed: int) -> tuple[Tensor, ...]:  # fmt: skip
    """Every state's starting value, (batch, units) float32, in Keras's order."""
    given = dict(initial.values)
    rng = np.random.default_rng(seed)
    found = []
    for name, units in places:
        if initial.kind == "random":  # one draw per state, every word starting there
            array = np.broadcast_to(rng.uniform(-1.0, 1.0, size=units), (rows, units))
        elif name in given:
            array = np.broadcast_to(np.asarray(given[name], dtype=np.float64), (rows, units))
        else:
            array = np.zeros((rows, units))
        found.append(Tensor(name, ("batch", "hidden"), np.array(array, dtype=np.float32)))
    return tuple(found)
