"""The app's plumbing: its group of commands, each loaded when asked for, help pages, and
every failure mapped to one line on stderr and an exit code."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from typing import Any, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command

import rnnprobe.cli.typer_hook as typer_hook  # looked up per call: tests switch the hook off
from rnnprobe.cli.options import CLI_NAMES
from rnnprobe.core.errors import InputError, RnnProbeError, click_message


def error_message(error: RnnProbeError) -> str:
    """A core error in the CLI's words: parameters spelled as options."""
    return error.message(CLI_NAMES) if isinstance(error, InputError) else str(error)


class ProbeCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        return typer_hook._as_parsed(super().get_params(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from rnnprobe.show import helptext

        helptext.show_help(self, ctx)


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands by name, each built from its module when first looked up.

    Names, their order and membership need no import: `rnnprobe vocab` imports and builds
    the `vocab` command alone, `rnnprobe --help` (which lists them all) every one. A
    module's `command` is a Typer holding that one command.
    """

    def __init__(self, modules: Mapping[str, str]) -> None:
        self._entries: dict[str, Any] = dict(modules)  # a module's name until built

    def __getitem__(self, name: str) -> Any:
        entry = self._entries[name]
        if isinstance(entry, str):
            entry = self._entries[name] = get_command(importlib.import_module(entry).command)
        return entry

    def __setitem__(self, name: str, command: Any) -> None:
        self._entries[name] = command

    def __delitem__(self, name: str) -> None:
        del self._entries[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


class ProbeGroup(TyperGroup):
    """Every failure ends as one line on stderr and an exit code, never a traceback.

    The commands are `command_modules` (name -> module), loaded as Click's documented lazy
    group does: `list_commands` gives the names, `get_command` imports only the module of
    the command asked for.
    """

    command_modules: ClassVar[Mapping[str, str]] = {}

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.commands = LazyCommands(self.command_modules)

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        # Not `.get()`: a KeyError raised while a command is built is no unknown command.
        return self.commands[cmd_name] if cmd_name in self.commands else None  # noqa: SIM401

    def get_params(self, ctx: Any) -> list[Any]:
        return typer_hook._as_parsed(super().get_params(ctx))

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from rnnprobe.show import helptext

        helptext.show_help(self, ctx)

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:  # a bare `rnnprobe`: its help, exit 2
            self.format_help(ctx, None)
            ctx.exit(2)
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(
                args=args,
                prog_name=prog_name,
                complete_var=complete_var,
                standalone_mode=False,
                **extra,
            )
        except RnnProbeError as error:
            code = _fail(f"rnnprobe: error: {error_message(error)}", error.exit_code)
        except BrokenPipeError:
            code = _quiet_broken_pipe()
        except typer.Abort:  # end of input while prompting (older Typers: Ctrl-C too)
            code = 130
        except Exception as error:
            code = _click_failure(error)
        saving = sys.modules.get("rnnprobe.cli.saving")
        if saving is not None:  # Ctrl-C (Typer's exit 130) after --save was asked for
            note = saving.interrupted_note()  # and forgotten: the next served command's own
            if note is not None and code == 130:
                typer.echo(f"rnnprobe: interrupted: {note}", err=True)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else 0)


def _click_failure(error: Exception) -> int:
    """Map a Click usage error (Typer may vendor its own Click) to a message and a code."""
    message = click_message(error)
    if message is None:
        raise error
    ctx = getattr(error, "ctx", None)
    path = ctx.command_path if ctx is not None else "rnnprobe"
    return _fail(f"{path}: error: {message}", error.exit_code)  # type: ignore[attr-defined]


def _fail(message: str, code: int) -> int:
    """One line on stderr: the message with any line breaks folded."""
    typer.echo(" ".join(message.split()), err=True)
    return code


def _quiet_broken_pipe() -> int:
    """The reader went away: say nothing, and keep Python from complaining at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (tests)
        pass
    return 1


class ProbeApp(typer.Typer):
    """The entry point. Once TensorFlow is loaded, skip the interpreter's slow teardown."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except SystemExit as done:
            if "tensorflow" not in sys.modules:
                raise
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            except BrokenPipeError:
                pass
            # Unloading TensorFlow's modules costs about half a second and changes nothing:
            # the output is written and flushed, so the process can end here.
            os._exit(code)
