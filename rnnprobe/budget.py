"""Memory estimates, so that a probe too big for this machine is refused before it allocates."""

from __future__ import annotations

import os

from rnnprobe.errors import InputError

FLOAT_BYTES = 4  # every tensor rnnprobe builds is float32


def available_bytes() -> int:
    """Memory this process could still use: MemAvailable on Linux, else physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 62  # unknown: do not refuse


def human(n_bytes: float) -> str:
    """`1.5 GB`, `320.0 MB`: decimal units, one decimal."""
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{int(n_bytes)} bytes"


def ensure_fits(need: int, what: str, detail: str = "") -> None:
    """Raise a usage error when `need` bytes would not fit in the memory available."""
    have = available_bytes()
    if need > have:
        extra = f" ({detail})" if detail else ""
        raise InputError(
            f"{what} needs about {human(need)} of memory{extra}, "
            f"more than the {human(have)} available"
        )
