"""The one hook into Typer's private internals: parameters coerced without pydantic.

A hook into Typer's private `_runtime_param` and `type_descriptor`, written for Typer 0.29
(kept here, in this one place): Typer 0.29 coerces parameters through pydantic
TypeAdapters, and importing pydantic takes longer than all the rest of `rnnprobe vocab`,
`--help` or a TAB completion. Words, --vocab, --hidden, --seed, socket paths and flags are
what Click read already. A Typer without the hook (0.15 to 0.2x) uses its own coercion,
with the same results: tests/test_typer_hook.py runs both ways.
"""

from __future__ import annotations

from typing import Any


class _AsParsed:
    """Typer's coercion of a text or flag parameter, without pydantic: the value as parsed."""

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        many = param.multiple or param.nargs == -1
        if value is None:
            return () if many else None
        return list(value) if many else value


class _WhenGiven(_AsParsed):
    """Typer's own coercion (choices, numbers, paths), built only for a value given.

    Defaults are written in their type already (`Style.layer`, `900.0`).
    """

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        if value is None or value is param.default:
            return super().coerce(value, param, ctx)
        param._runtime_param = None
        return param.get_runtime_param().coerce(value, param=param, ctx=ctx)


def _as_parsed(params: list[Any]) -> list[Any]:
    """Give each parameter the coercion above (where Typer has the hook for it)."""
    for param in params:
        described = getattr(param, "type_descriptor", None)
        if described is None or getattr(param, "_runtime_param", False) is not None:
            continue  # another Typer, or already set
        text = described.annotation in (str, list[str], bool)
        param._runtime_param = _AsParsed() if text else _WhenGiven()
    return params
