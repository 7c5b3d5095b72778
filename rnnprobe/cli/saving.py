"""`--save FILE.keras` and `--load FILE.keras`: the options, and what the commands that
train (or read a trained network) share about them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from rnnprobe.cli.options import MODEL, OUTPUT, TRAINING
from rnnprobe.core.errors import InputError

SaveOpt = Annotated[
    str | None,
    typer.Option(
        "--save",
        metavar="FILE.keras",
        help="After training, write the network to FILE.keras: a Keras model that reads token "
        "strings (keras.models.load_model opens it), rnnprobe's description inside.",
        show_default=False,
        rich_help_panel=OUTPUT,
    ),
]
LoadOpt = Annotated[
    str | None,
    typer.Option(
        "--load",
        metavar="FILE.keras",
        help="Start from a network saved with --save: its layers, weights and vocabulary.",
        show_default=False,
        rich_help_panel=TRAINING,
    ),
]

# `run --load`: the network to probe, among the model's options.
RunLoadOpt = Annotated[
    str | None,
    typer.Option(
        "--load",
        metavar="FILE.keras",
        help="Probe a network saved with --save (train): its layers, weights and vocabulary.",
        show_default=False,
        rich_help_panel=MODEL,
    ),
]

# The network options a loaded file decides, with their defaults: one given otherwise must
# agree with the file.
NETWORK_DEFAULTS = {
    "hidden": "2",
    "style": "layer",
    "cell": "simple",
    "bidirectional": False,
    "merge_mode": None,
    "embed": None,
    "tokens": "char",
}


def given_network(args: Any, defaults: dict[str, Any] = NETWORK_DEFAULTS) -> dict[str, Any]:
    """The network options this command line sets to something else than their default,
    as the saved description spells them."""
    from rnnprobe.core import options

    found: dict[str, Any] = {}
    for name, default in defaults.items():
        value = getattr(args, name, default)
        plain = getattr(value, "value", value)
        if plain == default:
            continue
        if name == "hidden" and isinstance(default, str):
            plain = tuple(options.parse_hidden(value))
        elif name in ("embed", "head") and isinstance(value, str):
            plain = options.parse_embed(value) if name == "embed" else int(value)
        found[name] = plain
    return found


# The --save target of the command running now (None: none): an interrupt says it was kept.
PENDING: list[str] = []


def check_save(save: str | None, *, trains: bool, what: str = "--train N") -> str | None:
    """--save's file, checked before any work; it needs a training."""
    from rnnprobe.core.commands import saved

    if save is not None and not trains:
        raise InputError(f"--save writes a trained network: give {what}")
    found = saved.check_target(save)
    if found is not None:
        PENDING[:] = [found]
    return found


def interrupted_note() -> str | None:
    """What an interrupted command says of its --save target (then forgets it)."""
    note = f"--save wrote nothing ({PENDING[0]!r} is left as it was)" if PENDING else None
    PENDING.clear()
    return note


def load(path: str | None, kinds: tuple[str, ...], args: Any = None,
         defaults: dict[str, Any] = NETWORK_DEFAULTS) -> Any:  # fmt: skip
    """The network --load names (None without --load); options that contradict it refused."""
    if path is None:
        return None
    from rnnprobe.core.commands import saved

    meta = saved.read(path, kinds)  # a missing or foreign file: refused before TensorFlow
    if args is not None:
        from rnnprobe.core.stages import ProbeSpec
        from rnnprobe.core.stages.encdec import Seq2SeqSpec

        kind = Seq2SeqSpec if meta["kind"] == "seq2seq" else ProbeSpec
        saved.contradictions(saved.spec_from(meta["spec"], kind), given_network(args, defaults))
    return saved.load(path, kinds)


def _blocked(stopped: str | None, passed: bool) -> str | None:
    """Why a finished command writes no --save target: its training stopped (a loss that is
    not finite), or a check it was asked for failed (it exits 1). None: it may write."""
    if stopped:
        return stopped
    return None if passed else "a check found Keras's numbers off"


def save_finished(
    path: str | None, stopped: str | None, passed: bool, write: Callable[[], str]
) -> str | None:
    """--save after a training: the file written (`write()`), only when the command
    succeeds (its training not `stopped`, its checks `passed`); else nothing is written and
    an existing file is kept."""
    if path is None or _blocked(stopped, passed):
        return None
    try:
        return write()
    finally:
        PENDING.clear()  # written, or its failure said: an interrupt after this loses nothing


def stopped_line(stopped: str | None, path: str | None, passed: bool) -> str | None:
    """What stderr says after the output: why a training stopped, and that --save wrote
    nothing when it did not write (the stop, or a failed check)."""
    reason = _blocked(stopped, passed)
    if not reason or path is None:
        return stopped
    return f"{reason}; --save wrote nothing ({path!r} is left as it was)"
