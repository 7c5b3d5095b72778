"""`seq2seq --load FILE --translate SOURCE...`: a saved encoder-decoder decodes new
sentences greedily, with no training: its vocabularies and weights as they were saved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rnnprobe.core.commands.decoding import Decoded
from rnnprobe.core.errors import InputError, Param


@dataclass(frozen=True)
class Translations:
    """New sentences decoded by a loaded encoder-decoder."""

    path: str  # the file read
    spec: Any  # Seq2SeqSpec
    seed: int  # the saved training's
    source_vocab: tuple[str, ...]
    target_vocab: tuple[str, ...]
    max_steps: int
    decoded: tuple[Decoded, ...]


def translate(loaded: Any, sentences: Sequence[str], max_steps: int | None = None,
              ) -> Translations:  # fmt: skip
    """Each sentence decoded by the loaded network (its unseen tokens read as `<unk>`)."""
    from rnnprobe.core.commands.seq2seq_train import decode_all
    from rnnprobe.core.inputs import pairs as pair_inputs
    from rnnprobe.core.keras import env, saving
    from rnnprobe.core.keras import pairs as keras_pairs
    from rnnprobe.core.options import positive_int

    if not sentences:
        raise InputError(Param("load"), " decodes new sentences: give ", Param("translate"),
                         " SOURCE (one or more)")  # fmt: skip
    meta, spec = loaded.meta, loaded.spec
    source, target = tuple(meta["source_vocab"]), tuple(meta["target_vocab"])
    limit = int(meta["max_steps"]) if max_steps is None else positive_int("max_steps", max_steps)
    unknown = pair_inputs.unseen(sentences, source, spec.tokens)
    given = pair_inputs.sources_batch(sentences, source, spec.tokens)
    network = spec.network(len(source), len(target))
    with env.build_lock, env.tensorflow_logs_quiet():
        _, pair = saving.pair_model(network, source, target, int(meta["target_time"]),
                                    loaded.weights)  # fmt: skip
    decoded = decode_all(
        lambda part: keras_pairs.Stepper(pair, part.input.array, part.mask), given, target,
        [None] * given.rows, limit, unknown,
    )  # fmt: skip
    return Translations(loaded.path, spec, int(meta["seed"]), source, target, limit, decoded)
