"""`run`, `compare`, `vocab`, `rnnprobe.probe` and `seq2seq`'s probe: plain values in, a
result out.

The CLI, the batch runner, the server and the Python API call these and only parse and
print around them. Bad input raises `InputError` (a ValueError) naming the parameter.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from rnnprobe.core.batch import Batch
from rnnprobe.core.budget import check_probe_memory
from rnnprobe.core.errors import InputError, Param, RnnProbeError
from rnnprobe.core.inputs.vocab import build_batch, check_words, vocabulary
from rnnprobe.core.kinds import Tokens
from rnnprobe.core.options import check_seed, choice, resolve_seed

if TYPE_CHECKING:  # loaded where a model is described or run: `vocab` needs none of them
    from rnnprobe.core.commands.seq2seq import Seq2SeqResult
    from rnnprobe.core.result import CompareResult, ProbeResult
    from rnnprobe.core.stages import ProbeSpec
    from rnnprobe.core.stages.encdec import Seq2SeqSpec


def make_batch(
    words: Sequence[str], vocab: str | None = None, spec: ProbeSpec | None = None
) -> Batch:
    """The vocabulary and the model's input (one-hot x_data, or ids for an Embedding);
    with a spec, refused first if the probe won't fit."""
    kind = spec.tokens if spec is not None else Tokens.char
    tokens = vocabulary(words, vocab, kind)
    embedded = spec is not None and spec.network(0).input.name == "ids"  # <pad> gets an id
    if spec is not None:
        time = max(len(w.split()) for w in words) if kind is Tokens.word else max(map(len, words))
        check_probe_memory(spec, len(words), time, len(tokens) + embedded)
    return build_batch(words, tokens, tokens=kind, ids=embedded)


def loaded_batch(words: Sequence[str], loaded: Any, spec: ProbeSpec) -> Batch:
    """The words in a loaded network's vocabulary (a token outside it is `<unk>`)."""
    check_words(words)
    kind = loaded.tokens
    time = max(len(w.split()) for w in words) if kind is Tokens.word else max(map(len, words))
    check_probe_memory(spec, len(words), time, len(loaded.vocab) + loaded.embedded)
    return build_batch(words, loaded.vocab, tokens=kind, ids=loaded.embedded)


def vocab(
    words: Sequence[str], vocab: str | None = None, tokens: Tokens | str = Tokens.char
) -> Batch:
    """`rnnprobe vocab`: the vocabulary and x_data, without a model."""
    kind = choice(Tokens, "tokens", tokens)
    return build_batch(words, vocabulary(words, vocab, kind), tokens=kind)


def check_torch(*, steps: bool = False, diagram: bool = False) -> None:
    """`--torch` needs PyTorch, and shows no steps or diagram of the twin."""
    from rnnprobe.core.torch import twin

    for name, on in (("steps", steps), ("diagram", diagram)):
        if on:
            raise InputError(
                Param("torch"), " shows the PyTorch twin's tensors; it does not combine with ",
                Param(name),
            )  # fmt: skip
    twin.require()


def check_at(at: Any, batch: Batch, *, steps: bool) -> int | None:
    """The step of word 1 to work out: one of its real steps (default: its last)."""
    if at is None:
        return batch.lengths[0] - 1 if steps else None
    if not steps:
        raise InputError(Param("at"), " needs ", Param("steps"))
    last = batch.lengths[0] - 1
    if not isinstance(at, numbers.Integral) or isinstance(at, bool) or not 0 <= int(at) <= last:
        raise InputError(
            Param("at"),
            f" {at!r}: word 1 {(batch.words or ('',))[0]!r} has steps 0 to {last}",
        )
    return int(at)


def run(
    words: Sequence[str],
    spec: ProbeSpec,
    *,
    vocab: str | None = None,
    seed: int | None = None,
    check: bool = False,
    steps: bool = False,
    at: int | None = None,
    batch: Batch | None = None,
    torch: bool = False,
    expected: int = 1,
    weights: Sequence[Any] | None = None,
    initial: Any = None,
    chunks: int | None = None,
    reset_between: bool = False,
) -> ProbeResult:
    """`rnnprobe run`: build the RNN, seed it, call it on the words.

    `check` compares Keras with rnnprobe's numpy engine; `steps` traces every step with it
    (word 1's step `at`, by default its last, written out) after checking that the trace
    gives what Keras returned. Without a seed one is drawn (and kept in the result). A
    `batch` already made from the same words and vocab saves making it again. `expected`:
    how many probes of this structure, this one included, are known to come (`batch`).
    `weights` (a loaded network's, by name) replace the seeded ones. `initial`
    (`--initial-state`, inputs/initial.py) is the state every layer starts from; `chunks`
    runs it again in that many chunks through stateful layers (`reset_between`: reset
    between them), compared with the whole run.
    """
    # The model's modules load with the first probe: `vocab` and `--help` never need them.
    import numpy as np

    from rnnprobe.core.keras import probe
    from rnnprobe.core.numpy import check as numpy_check
    from rnnprobe.core.numpy import engine
    from rnnprobe.core.numpy import steps as stepwise
    from rnnprobe.core.result import Steps

    seed = check_seed(seed)
    if torch:
        check_torch(steps=steps)
    batch = batch if batch is not None else make_batch(words, vocab, spec)
    at = check_at(at, batch, steps=steps)
    if chunks is not None or reset_between:
        from rnnprobe.core.commands.chunks import check_chunks

        check_chunks(chunks, reset_between, batch.time)
    given = None if weights is None else SimpleNamespace(weights=tuple(weights))
    drawn = resolve_seed(seed)
    starts = initial_states(initial, spec, batch.rows, drawn)
    result = probe.run_probe(batch, spec, drawn, expected=expected, weights_from=given,
                             initial=starts)  # fmt: skip
    if torch:
        from rnnprobe.core.torch import twin

        result = replace(result, torch=twin.twin(result))
    if chunks is not None:
        from rnnprobe.core.commands.chunks import chunked

        result = replace(result, chunks=chunked(result, chunks, reset=reset_between, check=check))
    if not (check or steps):
        return result
    traced = engine.trace(
        spec,
        batch.input.array,
        np.asarray(batch.lengths),
        {w.name: w.array for w in result.weights},
        keep_steps=steps,
        starts=None if result.initial_state is None else [t.array for t in result.initial_state],
    )
    if check:
        result = replace(result, check=numpy_check.verify(result, traced.computed))
    if steps:
        diff = numpy_check.max_abs_diff(result, traced.computed)
        if not diff < numpy_check.TOLERANCE:
            raise RnnProbeError(
                f"the step-by-step numpy trace differs from what Keras returned by {diff:.3g} "
                f"(tolerance {numpy_check.TOLERANCE:g}): not shown"
            )
        assert at is not None
        found = Steps(at=at, traces=stepwise.step_traces(traced, at), max_abs_diff=diff)
        result = replace(result, steps=found)
    return result


def read_initial(given: str | Sequence[str] | None, specs: Sequence[ProbeSpec]) -> Any:
    """`--initial-state` (`initial_state=`), read and checked against every network's
    states before any work (None when not given)."""
    from rnnprobe.core.inputs.initial import check_initial, parse_initial

    found = parse_initial([given] if isinstance(given, str) else given)
    for spec in specs:
        check_initial(found, spec.network(1).recurrent.initial_places)
    return found


def initial_states(initial: Any, spec: ProbeSpec, rows: int, seed: int) -> Any:
    """`--initial-state`'s arrays for this network and batch (None without it), checked."""
    if initial is None:
        return None
    from rnnprobe.core.inputs.initial import check_initial, initial_arrays

    places = spec.network(1).recurrent.initial_places
    check_initial(initial, places)
    return initial_arrays(initial, places, rows, seed)


def compare(
    words: Sequence[str],
    spec: ProbeSpec,
    *,
    vocab: str | None = None,
    seed: int | None = None,
    initial: Any = None,
) -> CompareResult:
    """`rnnprobe compare`: both styles with the same weights (and `initial`, the same
    initial state), tensor by tensor."""
    from rnnprobe.core.keras import probe

    seed = check_seed(seed)
    batch = make_batch(words, vocab, spec)
    drawn = resolve_seed(seed)
    starts = initial_states(initial, spec, batch.rows, drawn)
    return probe.compare_styles(batch, spec, drawn, starts)


def probe_layer(layer: Any, x_data: Any, mask: Any = None, reset: bool = False) -> ProbeResult:
    """`rnnprobe.probe`: call the user's own recurrent layer (or model) once on its input
    (a stateful layer: from the state it holds, or reset first)."""
    from rnnprobe.core.keras import env, models, user

    keras = env.load_keras()
    if isinstance(layer, keras.Model):
        if mask is not None:
            raise InputError(
                Param("mask"), " is for a recurrent layer: a model makes its own (Embedding)"
            )
        return models.probe_model(layer, x_data, reset=reset)
    return user.probe_layer(layer, x_data, mask, reset=reset)


def seq2seq(
    pairs: Sequence[tuple[str, str]],
    spec: Seq2SeqSpec,
    *,
    seed: int | None = None,
    check: bool = False,
    batches: tuple[Batch, Batch, Any] | None = None,
) -> Seq2SeqResult:
    """`rnnprobe seq2seq`: the encoder, the state handed over, the decoder (and attention)."""
    from rnnprobe.core.commands import seq2seq as encoder_decoder
    from rnnprobe.core.inputs import pairs as pair_inputs

    seed = check_seed(seed)
    batches = batches or pair_inputs.make_batches(pairs, spec)
    return encoder_decoder.run(pairs, spec, resolve_seed(seed), check=check, batches=batches)
