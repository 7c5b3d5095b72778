"""Memory estimates, so that a probe too big for this machine is refused before it allocates."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from rnnprobe.core.errors import InputError, Param

if TYPE_CHECKING:  # only a model spec needs it; `vocab` never does
    from rnnprobe.core.stages import ProbeSpec
    from rnnprobe.core.stages.encdec import Seq2SeqSpec

FLOAT_BYTES = 4  # every tensor rnnprobe builds is float32
LIMIT_ENV = "RNNPROBE_MEMORY_LIMIT"  # bytes (or 4GB, 512MB): lowers what counts as available
_UNITS = (("PB", 1e15), ("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3))


def _limit() -> int | None:
    text = os.environ.get(LIMIT_ENV, "").strip()
    for unit, size in (*_UNITS, ("B", 1)):
        if text.upper().endswith(unit.upper()):
            text, scale = text[: -len(unit)].strip(), size
            break
    else:
        scale = 1
    try:
        return int(float(text) * scale) if text else None
    except ValueError:
        return None


def available_bytes() -> int:
    """Memory this process could still use: MemAvailable on Linux, else physical memory.

    $RNNPROBE_MEMORY_LIMIT can only lower the figure (tests use it to be machine-proof).
    """
    found = None
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    found = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            found = 1 << 62  # unknown: do not refuse
    limit = _limit()
    return found if limit is None else min(found, limit)


def human(n_bytes: float) -> str:
    """`1.5 GB`, `320.0 MB`: decimal units, one decimal; past a petabyte, `more than 1 PB`."""
    if n_bytes > 1e15:
        return "more than 1 PB"
    for unit, size in _UNITS[1:]:
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{int(n_bytes)} byte{'' if int(n_bytes) == 1 else 's'}"


def ensure_fits(need: int, *what: str, detail: str = "") -> None:
    """Refuse, as a usage error, `need` bytes that would not fit in the memory available.

    `what` names the thing (it may hold a `Param`), e.g. ("x_data (3, 5, 4)",).
    """
    have = available_bytes()
    if need > have:
        amount = human(need)
        amount = amount if amount.startswith("more") else f"about {amount}"
        extra = f" ({detail})" if detail and need <= 1e15 else ""
        raise InputError(
            *what, f" needs {amount} of memory{extra}, more than the {human(have)} available"
        )


def estimate_bytes(spec: ProbeSpec, batch: int, time: int, vocab: int) -> tuple[int, str]:
    """Rough peak memory of a probe, and its largest single weight, before anything exists.

    Weights count four times (the orthogonal initializer works on copies), tensors three
    times (the recurrent loop keeps every step, and results are copied once to numpy).
    """
    network = spec.network(vocab)
    largest = (0, "")
    for layer in network.layers:
        for name in ("recurrent_kernel", "kernel"):
            shape = layer.weight_shape(name)
            largest = max(largest, (shape[0] * shape[1], f"{name} {shape}"))
    tensors = sum(stage.floats(batch, time) for stage in network.stages)
    total = FLOAT_BYTES * (4 * network.params + 3 * tensors)
    return total, f"{largest[1]} alone is {human(FLOAT_BYTES * largest[0])}"


def _named(spec: ProbeSpec, batch: int, time: int, vocab: int,
           options: tuple[str, ...]) -> tuple[str, ...]:  # fmt: skip
    """What a refusal names: the option (of the command's `options`) that sized the stage
    needing the most memory (its weights and its output), else the data."""
    stages = spec.network(vocab).stages
    largest = max(stages, key=lambda s: 4 * s.params + 3 * s.floats(batch, time))
    if largest.option is not None and largest.option in options:
        return Param(largest.option), f" {largest.option_value}: this probe"
    if largest.option == "head":  # a training's head: as wide as its classes
        return (f"this probe's {int(largest.option_value):,} classes",)
    return (f"this probe of {batch:,} rows of {time:,} steps over {vocab:,} tokens",)


def check_probe_memory(spec: ProbeSpec, batch: int, time: int, vocab: int,
                       options: tuple[str, ...] = ("hidden", "embed", "head")) -> None:  # fmt: skip
    """Refuse, as a usage error naming the option that makes it too big, a probe that
    would not fit (`options`: those the command has)."""
    total, detail = estimate_bytes(spec, batch, time, vocab)
    if total > available_bytes():
        ensure_fits(total, *_named(spec, batch, time, vocab, options), detail=detail)


def check_pairs_memory(spec: Seq2SeqSpec, rows: int, source: tuple[int, int],
                       target: tuple[int, int], *, batched: bool) -> None:  # fmt: skip
    """Refuse an encoder-decoder that would not fit: `rows` pairs at once (a training's
    batch when `batched`, else every pair), each side (time, vocabulary). Names the hidden
    or embedding size when its weights are the most, else the pairs taken at once."""
    encoder, decoder = spec.encoder, spec.decoder(target[1])
    sides = ((encoder, source), (decoder, target))
    total = sum(estimate_bytes(side, rows, *dims)[0] for side, dims in sides)
    have = available_bytes()
    if total <= have:
        return
    costs = [(4 * stage.params + 3 * stage.floats(rows, dims[0]), stage)
             for side, dims in sides for stage in side.network(dims[1]).stages]  # fmt: skip
    largest = max(costs, key=lambda found: found[0])[1]
    if largest.option in ("hidden", "embed") and largest.params * 4 >= total // 2:
        ensure_fits(total, Param(largest.option), f" {largest.option_value}: this encoder-decoder")
    elif batched:
        ensure_fits(total, Param("batch_size"), f" {rows}: a batch over {target[1]:,} target "
                    "tokens (--max-vocab keeps fewer)")  # fmt: skip
    else:
        ensure_fits(total, f"{rows:,} pairs at once over {target[1]:,} target tokens (--limit "
                    "takes fewer pairs, --train trains in batches)")  # fmt: skip
