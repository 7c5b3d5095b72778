"""One long text cut into windows (the long-sentence lab): each window reads `window`
tokens and, to predict, the token after it. Pure Python."""

from __future__ import annotations

from collections.abc import Sequence

from rnnprobe.core.errors import InputError, Param
from rnnprobe.core.kinds import Tokens


def text_windows(
    text: str, window: int, stride: int, tokens: Tokens, *, predict: bool
) -> list[str]:
    """One long text cut into windows `stride` tokens apart, each with the token after it
    (the lab's 170 windows of 10 over its 180-character sentence): with `predict`, each
    window holds `window` + 1 tokens (it reads the first `window` and predicts the next at
    each step), else only the `window` it reads."""
    found = text.split() if tokens is Tokens.word else list(text)
    if len(found) < window + 1:
        what = "words" if tokens is Tokens.word else "characters"
        raise InputError(
            f"the text has {len(found)} {what}: a window of {window} (", Param("window"),
            f") and the token after it need at least {window + 1}",
        )  # fmt: skip
    joined = " ".join if tokens is Tokens.word else "".join
    size = window + 1 if predict else window
    count = -(-(len(found) - window) // stride)
    from rnnprobe.core import budget

    # Each window is a string of its own: about a byte a character and 60 bytes besides.
    need = count * (size * (2 if tokens is Tokens.word else 1) + 60)
    budget.ensure_fits(need, Param("window"), f" {window}: {count:,} windows of {size:,} tokens")
    return [joined(found[i : i + size]) for i in range(0, len(found) - window, stride)]


def rebuilt(windows: Sequence[Sequence[str]], stride: int) -> list[str]:
    """The text the windows' tokens (each window's, step by step) rebuild: every token of
    the first window, then the last `stride` of each next one (at most all of them): with
    a window's predictions, the text from its second token on, as the lab prints it."""
    if not windows:
        return []
    found = list(windows[0])
    for tokens in windows[1:]:
        found += list(tokens[max(0, len(tokens) - stride) :])
    return found
