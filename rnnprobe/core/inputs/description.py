"""rnnprobe's description inside a saved `.keras` file (`rnnprobe.json`), checked as a whole
before any of it is used: its layout, every key's type and range, by the kind of network.

A file is data from anywhere: a damaged or foreign description is refused in one line
naming the first key that is wrong and what it should hold, never a traceback later.
Pure Python, no TensorFlow.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from rnnprobe.core.kinds import ONEHOT, Cell, MergeMode, Style, Task, Tokens

# A rule says what a value should be (None: it is), in words that finish "... should be".
Rule = Callable[[Any], str | None]


def whole(low: int = 0) -> Rule:
    def rule(value: Any) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= low:
            return None
        return f"a whole number of at least {low}"

    return rule


def number(*, positive: bool = False) -> Rule:
    def rule(value: Any) -> str | None:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
            value
        ) and (not positive or value > 0):  # fmt: skip
            return None
        return "a finite number above 0" if positive else "a finite number"

    return rule


def text(value: Any) -> str | None:
    return None if isinstance(value, str) else "text"


def flag(value: Any) -> str | None:
    return None if isinstance(value, bool) else "true or false"


def one_of(*choices: Any) -> Rule:
    def rule(value: Any) -> str | None:
        if value in choices and type(value) in (type(c) for c in choices):
            return None
        return "one of " + ", ".join("null" if c is None else str(c) for c in choices)

    return rule


def either(*rules: Rule) -> Rule:
    def rule(value: Any) -> str | None:
        found = [r(value) for r in rules]
        return None if None in found else " or ".join(f for f in found if f)

    return rule


def nothing(value: Any) -> str | None:
    return None if value is None else "null"


def listed(item: Rule, *, least: int = 0) -> Rule:
    def rule(value: Any) -> str | None:
        wanted = f"a list of {least} or more" if least else "a list"
        if not isinstance(value, list) or len(value) < least:
            return f"{wanted} (each {item(object()) or 'any value'})"
        for entry in value:
            if item(entry) is not None:
                return f"{wanted}, each {item(entry)}"
        return None

    return rule


def enum(kind: type) -> Rule:
    return one_of(*(member.value for member in kind))  # type: ignore[attr-defined]


HISTORY_ENTRY: dict[str, Rule] = {"epoch": whole(1), "loss": either(number(), nothing)}

# ProbeSpec's fields (a network of `train` or `series`), as `spec_meta` writes them.
PROBE_SPEC: dict[str, Rule] = {
    "style": enum(Style),
    "cell": enum(Cell),
    "hidden": listed(whole(1), least=1),
    "return_sequences": flag,
    "return_state": flag,
    "bidirectional": flag,
    "merge_mode": either(enum(MergeMode), nothing),
    "tokens": enum(Tokens),
    "embed": either(nothing, whole(1), one_of(ONEHOT)),
    "head": either(nothing, whole(1)),
    "each_step": flag,
    "context": whole(0),
    "scope": text,
    "loss": flag,
    "features": flag,
    "value_head": either(nothing, text),
    "value_units": whole(1),
}
# Keys a later rnnprobe added, with the value a file saved before has for them.
OPTIONAL = {"spec.value_units": 1, "targets": None, "horizons": None, "difference": False,
            "scale.targets_shift": None, "scale.targets_span": None}  # fmt: skip
# Seq2SeqSpec's fields.
PAIRS_SPEC: dict[str, Rule] = {
    "cell": enum(Cell),
    "hidden": whole(1),
    "embed": whole(1),
    "attention": flag,
    "tokens": enum(Tokens),
    "loss": flag,
}
COMMON: dict[str, Rule] = {
    "rnnprobe": text,
    "format": whole(1),
    "kind": one_of("train", "seq2seq", "series"),
    "seed": whole(0),
    "epochs": whole(0),
    "history": listed(lambda entry: None if isinstance(entry, dict) else "an object"),
}
BY_KIND: dict[str, dict[str, Rule]] = {
    "train": {
        "task": enum(Task),
        "tokens": enum(Tokens),
        "embedded": flag,
        "vocab": listed(text, least=1),
        "classes": listed(text),
        "window": either(nothing, whole(1)),
        "stride": either(nothing, whole(1)),
    },
    "seq2seq": {
        "source_vocab": listed(text, least=2),
        "target_vocab": listed(text, least=3),
        "target_time": whole(1),
        "max_steps": whole(1),
    },
    "series": {
        "columns": listed(text, least=1),
        "target": text,
        "window": whole(1),
        "stride": whole(1),
        "horizon": whole(1),
        "scale": lambda value: None if isinstance(value, dict) else "an object",
        "targets": listed(text, least=1),
        "horizons": listed(whole(1), least=1),
        "difference": flag,
    },
}
SCALE: dict[str, Rule] = {
    "method": one_of("minmax", "standard", "none"),
    "shift": listed(number(), least=1),
    "span": listed(number(positive=True), least=1),
    "target_shift": number(),
    "target_span": number(positive=True),
    "targets_shift": listed(number(), least=1),
    "targets_span": listed(number(positive=True), least=1),
}


class Damaged(ValueError):
    """What is wrong with a description, in words: "spec.hidden is 'x', not ..."."""


def _shown(value: Any) -> str:
    found = repr(value) if not isinstance(value, bool | type(None)) else str(value).lower()
    if isinstance(value, bool):
        return found
    if value is None:
        return "null"
    return found if len(found) <= 40 else found[:37] + "..."


def _fields(found: Mapping[str, Any], rules: Mapping[str, Rule], where: str, *,
            exact: bool) -> None:  # fmt: skip
    """Every rule's key is there and holds what it says; with `exact`, no other key."""
    for key, rule in rules.items():
        if key not in found and f"{where}{key}" in OPTIONAL:
            continue
        if key not in found:
            raise Damaged(f"it has no {where}{key}")
        wanted = rule(found[key])
        if wanted is not None:
            raise Damaged(f"{where}{key} is {_shown(found[key])}, not {wanted}")
    if exact:
        for key in found:
            if key not in rules:
                raise Damaged(f"{where}{key} is not a key rnnprobe writes")


def check(meta: Any) -> dict[str, Any]:
    """The description, when it is whole and consistent; else `Damaged` naming what is
    wrong first."""
    if not isinstance(meta, dict):
        kinds = {list: "a list", str: "text", bool: "true or false", type(None): "null"}
        raise Damaged(f"it is {kinds.get(type(meta), 'a number')}, not an object")
    _fields(meta, COMMON, "", exact=False)
    kind = meta["kind"]
    spec = meta.get("spec")
    if not isinstance(spec, dict):
        raise Damaged("it has no spec object" if spec is None else "spec is not an object")
    _fields(spec, PAIRS_SPEC if kind == "seq2seq" else PROBE_SPEC, "spec.", exact=True)
    _fields(meta, BY_KIND[kind], "", exact=False)
    for number_, entry in enumerate(meta["history"], start=1):
        _fields(entry, HISTORY_ENTRY, f"history[{number_}].", exact=False)
    if kind == "series":
        scale = meta["scale"]
        _fields(scale, SCALE, "scale.", exact=False)
        for key in ("shift", "span"):
            if len(scale[key]) != len(meta["columns"]):
                raise Damaged(f"scale.{key} has {len(scale[key])} values for "
                              f"{len(meta['columns'])} columns")  # fmt: skip
    if kind == "train" and meta["vocab"][0] != "<unk>":
        raise Damaged(f"vocab starts with {_shown(meta['vocab'][0])}, not '<unk>'")
    return meta
