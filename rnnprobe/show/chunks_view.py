"""`run --chunks K`: each chunk's outputs and the state carried into the next, and how far
the chunked outputs are from the whole run's, step by step."""

from __future__ import annotations

from typing import Any

import numpy as np
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.kinds import TOLERANCE
from rnnprobe.show.cells import shape_text
from rnnprobe.show.widgets import BLANK, vector_text


def chunks_parts(result: Any) -> list[RenderableType]:
    """The chunks table, the differences step by step, and the verdict."""
    found = result.chunks
    if found is None:
        return []
    count = len(found.chunks)
    said = ("reset_states() between them: each starts from zeros" if found.reset
            else "the state each ends with is where the next starts")  # fmt: skip
    parts: list[RenderableType] = [
        BLANK,
        Text(
            f"{count} chunks through the same layers built stateful=True (batch size "
            f"{result.batch.rows}, fixed); {said}:",
            style="bold",
        ),
    ]
    table = Table(show_edge=False)
    for name, right in (("chunk", True), ("steps", False), ("outputs", True),
                        ("ends with (word 1)", False)):  # fmt: skip
        table.add_column(name, justify="right" if right else "left")
    for number, chunk in enumerate(found.chunks, start=1):
        ends = Text()
        for state in chunk.states:
            ends.append(f"{state.name} = ")
            ends.append_text(vector_text(state.array[0]))
            ends.append("  ")
        table.add_row(str(number), f"t={chunk.start}..{chunk.end - 1}",
                      shape_text(chunk.outputs.shape), ends)  # fmt: skip
    parts.append(table)
    diffs = found.step_diffs
    if found.reset:
        steps = Table(show_edge=False)
        steps.add_column("t", justify="right")
        steps.add_column("diff", justify="right")
        for t, value in enumerate(diffs):
            steps.add_row(str(t), "-" if np.isnan(value) else f"{value:.3g}")
        heading = Text("the largest |chunked - whole| at each step (over the words' real steps):")
        parts += [BLANK, heading, steps]
    if found.same:
        verdict = Text("✓ the chunked outputs equal the whole run's", style="bold green")
    elif found.reset:
        verdict = Text("✗ after the first chunk the outputs differ from the whole run's: the "
                       "state a reset throws away", style="bold yellow")  # fmt: skip
    else:
        verdict = Text("✗ the chunked outputs differ from the whole run's", style="bold red")
    verdict.append(f": max |diff| = {found.max_abs_diff:.3g} at real steps (tolerance "
                   f"{TOLERANCE:g})", style="")  # fmt: skip
    parts += [BLANK, verdict]
    if found.check is not None:
        check = found.check
        style = "bold green" if check.ok else "bold red"
        mark = "✓" if check.ok else "✗"
        parts.append(Text(f"{mark} chunks check: rnnprobe's numpy chunk by chunk vs Keras, max "
                          f"|diff| = {check.max_abs_diff:.3g}", style=style))  # fmt: skip
    return parts
