"""Each column's scaling, fitted on the training rows (of every group at once, or of each
group) and applied to every row: minmax (the lab's, with its noise term), standard, or
none. Pure numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rnnprobe.core.errors import InputError, Param

MINMAX_EPSILON = 1e-7  # the lab's noise term: (x - min) / (max - min + 1e-7)


@dataclass(frozen=True)
class Scaler:
    """Each column's scaling, fitted on the training rows: x' = (x - shift) / span, one row
    of (shift, span) per group (one for all with a scaling shared by the groups)."""

    method: str  # minmax, standard or none
    shift: np.ndarray  # (groups, columns): the min, the mean, or 0
    span: np.ndarray  # (groups, columns): max - min + 1e-7, the standard deviation, or 1
    low: np.ndarray  # (groups, columns): the min on the training rows
    high: np.ndarray  # (groups, columns): the max on the training rows
    per_group: bool = False

    def apply(self, values: np.ndarray, group_of: np.ndarray) -> np.ndarray:
        row = group_of if self.per_group else np.zeros_like(group_of)
        scaled: np.ndarray = (values - self.shift[row]) / self.span[row]
        return scaled

    def fitted(self, column: int, group: int = 0) -> dict[str, float]:
        """What was fitted for one column, by name: min and max, or mean and std."""
        g = group if self.per_group else 0
        if self.method == "minmax":
            return {"min": float(self.low[g, column]), "max": float(self.high[g, column])}
        if self.method == "standard":
            return {"mean": float(self.shift[g, column]), "std": float(self.span[g, column])}
        return {}


def fit_scaler(
    method: str,
    values: np.ndarray,
    fitted: np.ndarray,
    group_rows: Sequence[slice],
    names: Sequence[str],
    *,
    per_group: bool,
    groups: Sequence[str],
) -> Scaler:
    """The scaling `method` fitted on the rows `fitted` marks (the training rows), per
    column, for all groups at once or for each group (`group_rows`: each one's rows)."""
    sets = [values[rows][fitted[rows]] for rows in group_rows] if per_group else [values[fitted]]
    shift, span, lows, highs = [], [], [], []
    for k, part in enumerate(sets):
        low, high = part.min(axis=0), part.max(axis=0)
        lows.append(low)
        highs.append(high)
        if method == "minmax":
            shift.append(low)
            span.append(high - low + MINMAX_EPSILON)
        elif method == "standard":
            std = part.std(axis=0)
            constant = [names[c] for c in range(values.shape[1]) if std[c] == 0]
            if constant:
                where = f" in group {groups[k]}" if per_group else ""
                raise InputError(
                    f"column {constant[0]} is constant on the training rows{where}: ",
                    Param("scale"),
                    " standard would divide by 0 (use minmax or none)",
                )
            shift.append(part.mean(axis=0))
            span.append(std)
        else:
            shift.append(np.zeros(values.shape[1]))
            span.append(np.ones(values.shape[1]))
    return Scaler(
        method, np.array(shift), np.array(span), np.array(lows), np.array(highs), per_group
    )
