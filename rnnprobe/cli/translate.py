"""`seq2seq --load FILE --translate SOURCE...`: a saved encoder-decoder decodes new sentences
(no training, no pairs); and `seq2seq --train N --save FILE`."""

from __future__ import annotations

from typing import Any

from rnnprobe.core.errors import InputError

# `seq2seq`'s network options with their defaults: one given otherwise must agree with --load.
_DEFAULTS = {"cell": "gru", "hidden": 4, "embed": 4, "attention": False, "tokens": "word"}


def translate(args: Any) -> None:
    """Decode --translate's sentences with the network --load names; print the loops."""
    from rnnprobe.cli.options import print_result
    from rnnprobe.show import jsontrain, pairs_view

    kind = args.export_format()
    result = translated(args)
    print_result(lambda: jsontrain.translations_object(result),
                 lambda: pairs_view.translations_view(result), json_=args.json,
                 export=args.export, kind=kind)  # fmt: skip


def translated(args: Any) -> Any:
    """The sentences decoded by the loaded network, the options checked first."""
    from rnnprobe.cli import saving
    from rnnprobe.core.commands import translate as translating

    refused = {"--train": args.train, "--save": args.save, "pairs": args.sentences or None,
               "--from": args.source, "--code": args.code or None,
               "--check": args.check or None, "--diagram": args.diagram or None,
               "--shapes": args.shapes or None, "--weights": args.weights or None}  # fmt: skip
    given = [name for name, value in refused.items() if value]
    if given:
        raise InputError(f"--load decodes --translate's sentences with the saved network; it "
                         f"does not combine with {given[0]}")  # fmt: skip
    loaded = saving.load(args.load, ("seq2seq",), _network_args(args), _DEFAULTS)
    return translating.translate(loaded, args.translate or [], args.max_steps)


def _network_args(args: Any) -> Any:
    """The seq2seq options as the saved description spells them (whole numbers)."""
    from types import SimpleNamespace

    from rnnprobe.core import options

    return SimpleNamespace(
        cell=args.cell, attention=args.attention, tokens=args.tokens,
        hidden=options.positive_int("hidden", args.hidden),
        embed=options.positive_int("embed", args.embed),
    )  # fmt: skip


def show(args: Any, result: Any, kind: str | None, view: Any, body: Any, *,
         passed: bool) -> None:  # fmt: skip
    """`seq2seq`'s probe or training printed (JSON or the view, and --export's file), after
    --save wrote the trained network."""
    from rich.console import Group

    from rnnprobe.cli.options import print_result
    from rnnprobe.cli.saving import save_finished, stopped_line
    from rnnprobe.core.commands import saved as saving
    from rnnprobe.show.saved_view import saved_lines

    stopped = getattr(result, "stopped", None)
    saved = None
    if hasattr(result, "decoded"):  # a training (a probe has no trained network to save)
        saved = save_finished(
            args.save, stopped, passed, lambda: saving.save_pairs(result, args.save)
        )
    reads = "source and decoder-input token strings"
    print_result(lambda: {**body(), **({"saved": saved} if saved else {})},
                 lambda: Group(view(), *saved_lines(saved, reads)), json_=args.json,
                 export=args.export, kind=kind, stopped=stopped_line(stopped, args.save, passed),
                 passed=passed)  # fmt: skip
