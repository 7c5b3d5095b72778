"""`run --shapes`: every tensor's shape, axes, parameters and origin; no values."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from rnnprobe.core.result import ProbeResult
from rnnprobe.show import explain
from rnnprobe.show.cells import shape_text
from rnnprobe.show.steps_view import steps_shapes
from rnnprobe.show.tables import layers_table, roles, whole_model
from rnnprobe.show.views import call_code, header, result_check_line


def shapes_view(result: ProbeResult) -> Group:
    """Each stage's tensors and weights with their shapes and where their numbers come
    from; each stage's parameters with their formula; the code that makes them."""
    stages = result.network.stages
    table = Table(show_edge=False)
    for heading in ("tensor", "shape", "axes", "role", "params"):
        table.add_column(heading, justify="right" if heading in ("shape", "params") else "left")
    notes = Table.grid(padding=(0, 2))
    notes.add_column(style="bold")
    notes.add_column()
    for stage in stages:
        found = roles(stage, result)
        for (tensor, role), note in zip(found, explain.tensor_notes(stage, result), strict=True):
            table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims), role, "")
            notes.add_row(tensor.name, note)
    weights = {w.name: w for w in result.weights}
    for stage in result.network.construction_order:
        for weight, note in zip(stage.weights(), explain.weight_notes(stage), strict=True):
            tensor = weights[weight.name]
            size = f"{tensor.array.size:,}"
            table.add_row(tensor.name, shape_text(tensor.shape), " x ".join(tensor.dims),
                          "weight", size)  # fmt: skip
            notes.add_row(tensor.name, note)
    parts: list[RenderableType] = [*header(result), table]
    if whole_model(result):
        parts.append(layers_table(result))
    parts += [Text("where the numbers come from:", style="dim"), notes]
    # Plain strings: rich highlights their numbers, as it does for printed text.
    for stage in stages:
        parts += [f"{name}: {formula} = {params:,} parameters"
                  for name, formula, params in stage.counts()]  # fmt: skip
    parts.append(Text(f"total: {result.params:,} parameters", style="bold"))
    parts += call_code(result)
    if result.steps is not None:
        parts += [Text("steps (rnnprobe's numpy engine):", style="dim"), steps_shapes(result)]
    if result.check is not None:
        parts.append(result_check_line(result))
    return Group(*parts)
