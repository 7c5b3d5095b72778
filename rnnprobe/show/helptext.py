"""`--help` pages: usage, description, options grouped in panels, examples.

Drawn with rich directly rather than through Typer's rich_utils, which imports markdown,
tracebacks and syntax highlighting and so takes longer than the rest of `rnnprobe --help`.
The panels follow each option's `rich_help_panel`, as Typer's own help pages do.
"""

from __future__ import annotations

import re
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

NAMES_WIDTH = 28  # widest option column: at 80 columns a description keeps >= 40 characters
DEFAULT = re.compile(r"\s*\[default: (.*)\]\s*$")
RANGE = re.compile(r"\s*\[[^\]]*<=x<=[^\]]*\]\s*$")  # a number's range: the help text says it


def _metavar(param: Any, ctx: Any) -> str:
    """`N`, `CHARS`, or the choices `layer|cell`."""
    if param.metavar:
        return str(param.metavar)
    display = getattr(param, "display_type", None)
    return str(display(ctx)).strip("<>") if display else param.name.upper()


def _names(param: Any, ctx: Any) -> Text:
    """`--hidden, -H N[,N...]`, `--[no-]return-state`, `WORD...`, styled."""
    text = Text()
    if param.param_type_name == "argument":
        text.append(f"{param.metavar or param.name.upper()}", style="bold cyan")
        text.append("..." if param.nargs == -1 else "", style="bold cyan")
        return text
    longs = [o for o in param.opts if o.startswith("--")]
    shorts = [o for o in param.opts if not o.startswith("--")]
    secondary = getattr(param, "secondary_opts", [])
    if secondary and longs and secondary == ["--no-" + longs[0][2:]]:
        longs = ["--[no-]" + longs[0][2:]]
    text.append(", ".join([*longs, *shorts, *secondary[1:]]), style="bold cyan")
    if not param.is_flag:
        text.append(f" {_metavar(param, ctx)}", style="bold yellow")
    return text


def _help(param: Any, record: str) -> Text:
    """The help text, and the default in dim where there is one to tell."""
    record = RANGE.sub("", record)
    found = DEFAULT.search(record)
    body = DEFAULT.sub("", record).strip()
    text = Text(body)
    if found and getattr(param, "secondary_opts", None):
        default = "on" if param.default else "off"
        text.append(f"  [default: {default}]", style="dim")
    elif found:
        text.append(f"  [default: {found.group(1)}]", style="dim")
    return text


def _panel(title: str, rows: list[tuple[Text, Text]]) -> Panel:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, max_width=NAMES_WIDTH)
    table.add_column(ratio=1)
    for names, text in rows:
        table.add_row(names, text)
    return Panel(table, title=title, title_align="left", border_style="dim", box=box.ROUNDED)


def _paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]


def help_view(command: Any, ctx: Any) -> Group:
    """The help page of a command (or of the group of commands)."""
    usage = Text("Usage: ", style="bold yellow")
    usage.append(" ".join([ctx.command_path, *command.collect_usage_pieces(ctx)]), style="bold")
    parts: list[RenderableType] = [Padding(usage, (1, 1, 0, 1))]
    if command.help:
        paragraphs = _paragraphs(command.help)
        parts.append(Padding(Text("\n\n".join(paragraphs)), (1, 1, 1, 1)))
    panels: dict[str, list[tuple[Text, Text]]] = {}
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None or getattr(param, "hidden", False):
            continue
        _, text = record
        default = "Arguments" if param.param_type_name == "argument" else "Options"
        title = getattr(param, "rich_help_panel", None) or default
        panels.setdefault(title, []).append((_names(param, ctx), _help(param, text)))
    commands = getattr(command, "commands", {})
    for name, sub in commands.items():
        title = getattr(sub, "rich_help_panel", None) or "Commands"
        short = sub.get_short_help_str(limit=200)
        panels.setdefault(title, []).append((Text(name, style="bold cyan"), Text(short)))
    parts += [_panel(title, rows) for title, rows in panels.items()]
    if command.epilog:
        parts.append(Padding(Text(command.epilog.strip("\n"), style="dim"), (0, 1, 1, 1)))
    return Group(*parts)


def show_help(command: Any, ctx: Any) -> None:
    Console().print(help_view(command, ctx))
