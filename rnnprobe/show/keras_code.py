"""The Keras code a network stands for, as lines of Python: shown in tables and scripts.

One function per stage kind for each part of the code: its constructor, its call, its
place in the lecture's `keras.Sequential`, and the lines that rebuild its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import singledispatch

from rnnprobe import __version__
from rnnprobe.core.kinds import UNK, Tokens, identifier
from rnnprobe.core.result import Batch, Tensor
from rnnprobe.core.stages import (
    Embedding,
    Head,
    Layer,
    Loss,
    Network,
    OneHotInput,
    ProbeSpec,
    Recurrent,
    Stage,
    StepLoss,
    TokenIds,
    ValueHead,
)


# -- constructors ----------------------------------------------------------------------------
@singledispatch
def constructor_lines(stage: Stage) -> list[str]:
    return []


@constructor_lines.register
def _(stage: Embedding) -> list[str]:
    return [f"embed = {stage.keras_code()}"]


@constructor_lines.register
def _(stage: Recurrent) -> list[str]:
    return [f"{n} = {c}" for n, c in zip(stage.keras_names, stage.keras_code(), strict=True)]


@constructor_lines.register
def _(stage: Head) -> list[str]:
    return [f"head = {stage.keras_code()}"]


@constructor_lines.register
def _(stage: ValueHead) -> list[str]:
    return [f"head = {stage.keras_code()}"]


def layer_lines(spec: ProbeSpec, vocab_size: int = 0) -> list[str]:
    """`rnn = layers....` for one layer, `rnn_1 = ...`, `rnn_2 = ...` for a stack of layers,
    after `embed = layers.Embedding(...)` and before `head = layers.Dense(...)`."""
    return [line for stage in spec.stages(vocab_size) for line in constructor_lines(stage)]


# -- calls -----------------------------------------------------------------------------------
@dataclass
class Calls:
    """What the calls so far left for the next: the variable that flows, and the mask."""

    source: str
    masked: bool
    lines: list[str] = field(default_factory=list)
    make_mask: bool = True  # an Embedding computes the mask (else it is given)
    softmax: bool = True  # the probabilities after the logits
    initial: bool = False  # `--initial-state`: each layer starts from `initial_<state>`

    @property
    def mask(self) -> str:
        return ", mask=mask" if self.masked else ""

    def starts(self, stage: Recurrent, group: tuple[Layer, ...]) -> str:
        return starts_code(group) if self.initial else ""


def starts_code(group: tuple[Layer, ...]) -> str:
    """`, initial_state=[...]` of the Keras layer holding `group` (a list per cell for a
    stack of cells)."""
    per_layer = [[f"initial_{identifier(n)}" for n in layer.all_state_names] for layer in group]
    if len(group) > 1:
        inner = ", ".join("[" + ", ".join(names) + "]" for names in per_layer)
    else:
        inner = ", ".join(per_layer[0])
    return f", initial_state=[{inner}]"


@singledispatch
def call_code(stage: Stage, calls: Calls) -> None:
    return None


@call_code.register
def _(stage: Embedding, calls: Calls) -> None:
    calls.lines.append(f"embedding = embed({calls.source})")
    if calls.masked and calls.make_mask:
        calls.lines.append(
            f"mask = embed.compute_mask({calls.source})  # ids != 0: <pad> steps are masked"
        )
    calls.source = "embedding"


@call_code.register
def _(stage: Recurrent, calls: Calls) -> None:
    per_layer = [
        [identifier(n) for n in layer.all_state_names] if stage.return_state else []
        for layer in stage.layers
    ]
    if stage.one_keras_layer:
        if len(stage.layers) > 1 and stage.return_state:  # StackedRNNCells: a list per cell
            targets = ["outputs", *("[" + ", ".join(names) + "]" for names in per_layer)]
        else:
            targets = ["outputs", *per_layer[0]]
        starts = calls.starts(stage, stage.layers)
        calls.lines.append(f"{', '.join(targets)} = rnn({calls.source}{calls.mask}{starts})")
        return
    for layer, names, keras_name in zip(stage.layers, per_layer, stage.keras_names, strict=True):
        out = "outputs" if layer.number == len(stage.layers) else f"outputs_{layer.number}"
        starts = calls.starts(stage, (layer,))
        calls.lines.append(
            f"{', '.join([out, *names])} = {keras_name}({calls.source}{calls.mask}{starts})"
        )
        calls.source = out


@call_code.register
def _(stage: Head, calls: Calls) -> None:
    calls.lines.append("logits = head(outputs)")
    if calls.softmax:
        calls.lines.append("probabilities = keras.ops.softmax(logits)")


@call_code.register
def _(stage: ValueHead, calls: Calls) -> None:
    calls.lines.append("predictions = head(outputs)")


def call_lines(spec: ProbeSpec, *, masked: bool, initial: bool = False) -> list[str]:
    """The calls with the unpacking that matches what Keras returns."""
    network = spec.network(0)
    calls = Calls(source=network.input.name, masked=masked, initial=initial)
    for stage in network.stages:
        call_code(stage, calls)
    return calls.lines


# -- the input, rebuilt from the words -------------------------------------------------------
def _words(batch: Batch) -> tuple[list[str], str]:
    lines = [f"words = {list(batch.words or ())!r}", f"vocab = {list(batch.vocab or ())!r}"]
    if batch.tokenizer is Tokens.word:
        lines.append("tokens = [sentence.split() for sentence in words]")
        return lines, "tokens"
    return lines, "words"


@singledispatch
def input_lines(stage: Stage, batch: Batch) -> list[str]:
    """Lines that rebuild the model's input from the words and the vocabulary."""
    return []


LOOKED_UP_FROM = 100  # tokens in a vocabulary a script looks up in a dict, not a list


def lookup(vocab: Sequence[str], name: str = "vocab", prefix: str = "") -> tuple[list[str], str]:
    """How a script finds a token's index (`{}` stands for the token): `vocab.index(...)`
    for a short vocabulary, a dict for a long one, where a token outside it is `<unk>`
    (the dict and its `<unk>` id named with `prefix`, for a script with two vocabularies)."""
    if UNK not in vocab and len(vocab) < LOOKED_UP_FROM:
        return [], f"{name}.index({{}})"
    index, unknown = f"{prefix}index", f"{prefix}unknown"
    setup = [f"{index} = {{token: i for i, token in enumerate({name})}}"]
    if UNK in vocab:
        return [*setup, f"{unknown} = {index}['<unk>']  # a token outside the vocabulary"], (
            f"{index}.get({{}}, {unknown})"
        )
    return setup, f"{index}[{{}}]"


@input_lines.register
def _(stage: TokenIds, batch: Batch) -> list[str]:
    lines, sequences = _words(batch)
    setup, find = lookup(batch.vocab or ())
    return [
        *lines,
        *setup,
        f"lengths = [len(sequence) for sequence in {sequences}]",
        f"ids = np.zeros((len({sequences}), max(lengths)), dtype=np.int32)  # <pad> is id 0",
        f"for b, sequence in enumerate({sequences}):",
        "    for t, token in enumerate(sequence):",
        f"        ids[b, t] = {find.format('token')}",
    ]


@input_lines.register
def _(stage: OneHotInput, batch: Batch) -> list[str]:
    lines, sequences = _words(batch)
    setup, find = lookup(batch.vocab or ())
    lines += setup
    if batch.tokenizer is Tokens.char:  # the lecture's words, character by character
        lines.append("lengths = [len(word) for word in words]")
        loop = ["for b, word in enumerate(words):", "    for t, char in enumerate(word):",
                f"        x_data[b, t, {find.format('char')}] = 1.0"]  # fmt: skip
    else:
        lines.append(f"lengths = [len(sequence) for sequence in {sequences}]")
        loop = ["for b, sequence in enumerate(tokens):", "    for t, token in enumerate(sequence):",
                f"        x_data[b, t, {find.format('token')}] = 1.0"]  # fmt: skip
    lines += [
        f"x_data = np.zeros((len({sequences}), max(lengths), len(vocab)), dtype=np.float32)",
        *loop,
    ]
    if batch.padded:
        lines.append("mask = np.arange(x_data.shape[1])[None, :] < np.array(lengths)[:, None]")
    return lines


def printed(names: list[str]) -> list[str]:
    return [
        f"print('{name}: {{}}, shape: {{}}'.format(np.asarray({name}), tuple({name}.shape)))"
        for name in names
    ]


def initial_lines(initial: Sequence[Tensor]) -> list[str]:
    """`--initial-state`: each state's start, one row per word (all the same)."""
    lines = []
    for tensor in initial:
        row = ", ".join(str(v) for v in tensor.array[0])  # float32's shortest text
        rows = tensor.array.shape[0]
        lines.append(f"initial_{identifier(tensor.name)} = np.array([[{row}]] * {rows}, "
                     "dtype='float32')  # every word starts here")  # fmt: skip
    return lines


def script(batch: Batch, spec: ProbeSpec, seed: int,
           initial: Sequence[Tensor] | None = None) -> str:  # fmt: skip
    """A self-contained script (numpy and tensorflow.keras) that rebuilds this probe (and
    starts its layers from `initial`, `--initial-state`'s states)."""
    network = spec.network(batch.width)
    header = [
        f"# Written by rnnprobe {__version__}: the same {network.input.name}"
        ", seed and layers as this probe.",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        *input_lines(network.input, batch),
        "",
        f"keras.utils.set_random_seed({seed})  # before the layers are built",
        *initial_lines(initial or ()),
    ]
    if len(network.stages) == 2:  # the lecture's bare RNN on x_data
        names = ["outputs", *(identifier(n) for n in spec.state_names)]
        lines = [
            *layer_lines(spec),
            *call_lines(spec, masked=batch.padded, initial=initial is not None),
            "",
            *printed(["x_data", *names]),
        ]
    else:
        lines = _sequential(batch, network, initial=initial is not None)
    return "\n".join([*header, *lines]) + "\n"


# -- the lecture's keras.Sequential, then its layers one by one ------------------------------
@dataclass
class Sequential:
    """The model's items, the names its layers are unpacked into, the calls one by one and
    what is printed; `flow` is the variable that flows, `masked` whether a mask exists."""

    batch: Batch
    items: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)
    flow: str = "x_data"
    masked: bool = False
    initial: bool = False  # `--initial-state`: the layers one by one start from it


@singledispatch
def sequential_part(stage: Stage, model: Sequential) -> None:
    return None


@sequential_part.register
def _(stage: OneHotInput, model: Sequential) -> None:
    model.shown.append("x_data")
    if model.batch.padded:
        model.items.append("layers.Masking(),  # zero rows (after a word's end) are masked")
        model.names.append("masking")
        model.calls.append("mask = masking.compute_mask(x_data)")
        model.masked = True


@sequential_part.register
def _(stage: TokenIds, model: Sequential) -> None:
    model.flow = "ids"
    model.shown.append("ids")


@sequential_part.register
def _(stage: Embedding, model: Sequential) -> None:
    model.items.append(f"{stage.keras_code()},")
    model.names.append("embed")
    model.calls += ["embedding = embed(ids)", "mask = embed.compute_mask(ids)"]
    model.shown += ["mask", "embedding"]
    model.flow, model.masked = "embedding", True


@sequential_part.register
def _(stage: Recurrent, model: Sequential) -> None:
    model.items += [f"{code}," for code in stage.keras_code(state=False)]
    masked = ", mask=mask" if model.masked else ""
    groups = stage.keras_groups
    for number, (name, group) in enumerate(zip(stage.keras_names, groups, strict=True), start=1):
        out = "outputs" if number == len(stage.keras_names) else f"outputs_{number}"
        starts = starts_code(group) if model.initial else ""
        model.calls.append(f"{out} = {name}({model.flow}{masked}{starts})")
        model.flow = out
    model.names += list(stage.keras_names)
    model.shown.append("outputs")


@sequential_part.register
def _(stage: Head, model: Sequential) -> None:
    model.items.append(f"{stage.keras_code()},")
    model.names.append("head")
    same = "" if model.initial else "  # the same as model_output"
    model.calls += [f"logits = head(outputs){same}", "probabilities = keras.ops.softmax(logits)"]
    model.shown += ["logits", "probabilities"]


def _sequential(batch: Batch, network: Network, initial: bool = False) -> list[str]:
    """The lecture's way: a `keras.Sequential` model, then each layer's output in turn
    (with `initial`, the layers one by one from `initial_state`: a Sequential starts from
    zeros)."""
    model = Sequential(batch, initial=initial)
    source = network.input.name
    for stage in network.stages:
        sequential_part(stage, model)
    lines = ["model = keras.Sequential([", *(f"    {item}" for item in model.items)]
    if initial:
        lines += ["])", f"# model({source}) would start from zeros: the layers one by one below "
                  "start from initial_state", ""]  # fmt: skip
    else:
        lines += ["])", f"model_output = model({source})", ""]
    lines.append("# The same layers one by one: what each gives, as rnnprobe shows it.")
    names = model.names
    lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = model.layers")
    return [*lines, *model.calls, "", *printed(model.shown)]


# -- the loss (a trained network's last stage) -----------------------------------------------
@singledispatch
def loss_lines(stage: Stage) -> list[str]:
    """The loss as code, from `logits`, the targets `y` and the `mask` of the real steps."""
    return []


@loss_lines.register
def _(stage: Loss) -> list[str]:
    return [
        "losses = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)",
        "loss = keras.ops.mean(losses)  # the mean over the words",
    ]


@loss_lines.register
def _(stage: StepLoss) -> list[str]:
    return [
        "losses = keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True)",
        "real = keras.ops.cast(mask, losses.dtype)  # padded steps: 0",
        "loss = keras.ops.sum(losses * real) / keras.ops.sum(real)  # masked: over the real steps",
    ]


def loss_function(stage: Stage) -> list[str]:
    """The loss as a function of `logits`, the targets `y` and the `mask` of real steps."""
    return ["def loss_fn(logits, y, mask):", *(f"    {line}" for line in loss_lines(stage)),
            "    return loss"]  # fmt: skip
