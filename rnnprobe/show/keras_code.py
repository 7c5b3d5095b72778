"""The Keras code a ProbeSpec stands for, as lines of Python: shown in tables and scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from rnnprobe import __version__
from rnnprobe.core.result import (
    Batch,
    Layer,
    ProbeResult,
    ProbeSpec,
    Style,
    Tokens,
    identifier,
)

if TYPE_CHECKING:  # only `seq2seq` loads it
    from rnnprobe.core.encdec import Seq2SeqResult, Seq2SeqSpec


def _returns(spec: ProbeSpec, layer: Layer, *, state: bool = True) -> str:
    flags = ["return_sequences=True"] if layer.return_sequences else []
    if spec.return_state and state:
        flags.append("return_state=True")
    return "".join(", " + f for f in flags)


def _wrap(spec: ProbeSpec, inner: str) -> str:
    if not spec.bidirectional:
        return inner
    merge = "" if spec.merge_mode.value == "concat" else f", merge_mode={spec.merge_mode.value!r}"
    return f"layers.Bidirectional({inner}{merge})"


def _recurrent(spec: ProbeSpec, *, state: bool = True) -> list[str]:
    """The constructor of each recurrent Keras layer, in order (one for cell style)."""
    cell, keras_layer = spec.cell.keras_cell, spec.cell.keras_layer
    planned = spec.layers(0)
    if spec.one_keras_layer:
        returns = _returns(spec, planned[-1], state=state)
        if spec.style is Style.cell:
            cells = [f"layers.{cell}({layer.units})" for layer in planned]
            inner = cells[0] if len(cells) == 1 else "[" + ", ".join(cells) + "]"
            return [_wrap(spec, f"layers.RNN({inner}{returns})")]
        return [_wrap(spec, f"layers.{keras_layer}({planned[0].units}{returns})")]
    found = []
    for layer in planned:
        returns = _returns(spec, layer, state=state)
        if spec.style is Style.cell:
            inner = f"layers.RNN(layers.{cell}({layer.units}){returns})"
        else:
            inner = f"layers.{keras_layer}({layer.units}{returns})"
        found.append(_wrap(spec, inner))
    return found


def embedding_code(spec: ProbeSpec, vocab_size: int) -> str | None:
    """`layers.Embedding(...)` as the lecture writes it, or None without `--embed`."""
    stage = spec.embedding(vocab_size)
    if stage is None:
        return None
    if stage.onehot:
        return (
            f"layers.Embedding({stage.vocab_size}, {stage.width}, "
            f"embeddings_initializer=keras.initializers.Constant(np.eye({stage.vocab_size})), "
            "trainable=False, mask_zero=True)"
        )
    return f"layers.Embedding({stage.vocab_size}, {stage.width}, mask_zero=True)"


def head_code(spec: ProbeSpec) -> str | None:
    """`layers.Dense(N)`, `layers.TimeDistributed(layers.Dense(N))`, or None."""
    if spec.head is None:
        return None
    dense = f"layers.Dense({spec.head})"
    return f"layers.TimeDistributed({dense})" if spec.each_step else dense


def layer_lines(spec: ProbeSpec, vocab_size: int = 0) -> list[str]:
    """`rnn = layers....` for one layer, `rnn_1 = ...`, `rnn_2 = ...` for a stack of layers,
    after `embed = layers.Embedding(...)` and before `head = layers.Dense(...)`."""
    built = _recurrent(spec)
    names = ["rnn"] if len(built) == 1 else [f"rnn_{n}" for n in range(1, len(built) + 1)]
    lines = [f"{name} = {code}" for name, code in zip(names, built, strict=True)]
    embedding, head = embedding_code(spec, vocab_size), head_code(spec)
    return [
        *([f"embed = {embedding}"] if embedding else []),
        *lines,
        *([f"head = {head}"] if head else []),
    ]


def call_lines(spec: ProbeSpec, *, masked: bool) -> list[str]:
    """The calls with the unpacking that matches what Keras returns."""
    embedded = spec.embed is not None
    mask = ", mask=mask" if masked else ""
    source = "embedding" if embedded else "x_data"
    lines = ["embedding = embed(ids)"] if embedded else []
    if embedded and masked:
        lines.append("mask = embed.compute_mask(ids)  # ids != 0: <pad> steps are masked")
    planned = spec.layers(0)
    per_layer = [
        [identifier(n) for n in layer.all_state_names] if spec.return_state else []
        for layer in planned
    ]
    if spec.one_keras_layer:
        if len(planned) > 1 and spec.return_state:  # StackedRNNCells: a list of states per cell
            targets = ["outputs", *("[" + ", ".join(names) + "]" for names in per_layer)]
        else:
            targets = ["outputs", *per_layer[0]]
        lines.append(f"{', '.join(targets)} = rnn({source}{mask})")
    else:
        for layer, names in zip(planned, per_layer, strict=True):
            out = "outputs" if layer.number == len(planned) else f"outputs_{layer.number}"
            lines.append(f"{', '.join([out, *names])} = rnn_{layer.number}({source}{mask})")
            source = out
    if spec.head is not None:
        lines += ["logits = head(outputs)", "probabilities = keras.ops.softmax(logits)"]
    return lines


def _inputs(batch: Batch, spec: ProbeSpec) -> list[str]:
    """Lines that rebuild the model's input from the words and the vocabulary."""
    words = [f"words = {list(batch.words or ())!r}", f"vocab = {list(batch.vocab or ())!r}"]
    if batch.tokenizer is Tokens.word:
        words.append("tokens = [sentence.split() for sentence in words]")
        sequences = "tokens"
    else:
        sequences = "words"
    words.append(f"lengths = [len(sequence) for sequence in {sequences}]")
    if spec.embed is not None:
        return [
            *words,
            f"ids = np.zeros((len({sequences}), max(lengths)), dtype=np.int32)  # <pad> is id 0",
            f"for b, sequence in enumerate({sequences}):",
            "    for t, token in enumerate(sequence):",
            "        ids[b, t] = vocab.index(token)",
        ]
    if batch.tokenizer is Tokens.char:  # the lecture's words, character by character
        words[-1] = "lengths = [len(word) for word in words]"
        loop = ["for b, word in enumerate(words):", "    for t, char in enumerate(word):",
                "        x_data[b, t, vocab.index(char)] = 1.0"]  # fmt: skip
    else:
        loop = ["for b, sequence in enumerate(tokens):", "    for t, token in enumerate(sequence):",
                "        x_data[b, t, vocab.index(token)] = 1.0"]  # fmt: skip
    lines = [
        *words,
        f"x_data = np.zeros((len({sequences}), max(lengths), len(vocab)), dtype=np.float32)",
        *loop,
    ]
    if batch.padded:
        lines.append("mask = np.arange(x_data.shape[1])[None, :] < np.array(lengths)[:, None]")
    return lines


def _printed(names: list[str]) -> list[str]:
    return [
        f"print('{name}: {{}}, shape: {{}}'.format(np.asarray({name}), tuple({name}.shape)))"
        for name in names
    ]


def script(batch: Batch, spec: ProbeSpec, seed: int) -> str:
    """A self-contained script (numpy and tensorflow.keras) that rebuilds this probe."""
    header = [
        f"# Written by rnnprobe {__version__}: the same {'x_data' if spec.embed is None else 'ids'}"
        ", seed and layers as this probe.",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers",
        "",
        *_inputs(batch, spec),
        "",
        f"keras.utils.set_random_seed({seed})  # before the layers are built",
    ]
    if spec.embed is None and spec.head is None:
        names = ["outputs", *(identifier(n) for n in spec.state_names)]
        lines = [
            *layer_lines(spec),
            *call_lines(spec, masked=batch.padded),
            "",
            *_printed(["x_data", *names]),
        ]
    else:
        lines = _sequential(batch, spec)
    return "\n".join([*header, *lines]) + "\n"


def _sequential(batch: Batch, spec: ProbeSpec) -> list[str]:
    """The lecture's way: a `keras.Sequential` model, then each layer's output in turn."""
    embedding, head = embedding_code(spec, batch.width), head_code(spec)
    masking = spec.embed is None and batch.padded
    stack = [
        *([embedding] if embedding else []),
        *(["layers.Masking(),  # zero rows (after a word's end) are masked"] if masking else []),
        *(f"{code}," for code in _recurrent(spec, state=False)),
        *([f"{head},"] if head else []),
    ]
    stack = [code if code.endswith((",", "masked")) else f"{code}," for code in stack]
    source = "ids" if embedding else "x_data"
    lines = ["model = keras.Sequential([", *(f"    {code}" for code in stack)]
    lines += ["])", f"model_output = model({source})", ""]
    lines.append("# The same layers one by one: what each gives, as rnnprobe shows it.")
    recurrent = len(_recurrent(spec, state=False))
    names = ["embed"] if embedding else []
    names += ["masking"] if masking else []
    names += ["rnn"] if recurrent == 1 else [f"rnn_{n}" for n in range(1, recurrent + 1)]
    names += ["head"] if head else []
    lines.append(f"{', '.join(names)}{',' if len(names) == 1 else ''} = model.layers")
    flow = source
    shown = ["ids" if embedding else "x_data"]
    if embedding:
        lines += ["embedding = embed(ids)", "mask = embed.compute_mask(ids)"]
        flow = "embedding"
        shown += ["mask", "embedding"]
    elif masking:
        lines.append("mask = masking.compute_mask(x_data)")
    masked = ", mask=mask" if embedding or masking else ""
    rnn_names = names[len(names) - recurrent - (1 if head else 0) : len(names) - (1 if head else 0)]
    for number, name in enumerate(rnn_names, start=1):
        out = "outputs" if number == len(rnn_names) else f"outputs_{number}"
        lines.append(f"{out} = {name}({flow}{masked})")
        flow = out
    shown.append("outputs")
    if head:
        lines += [
            "logits = head(outputs)  # the same as model_output",
            "probabilities = keras.ops.softmax(logits)",
        ]
        shown += ["logits", "probabilities"]
    return [*lines, "", *_printed(shown)]


def _rnn_code(spec: Seq2SeqSpec) -> str:
    return (
        f"layers.{spec.cell.keras_layer}({spec.hidden}, return_sequences=True, return_state=True)"
    )


def seq2seq_layer_lines(spec: Seq2SeqSpec, source_vocab: int, target_vocab: int) -> list[str]:
    """The layers of the encoder, the decoder, the head (and the attention), in order."""
    lines = [
        f"encoder_embed = layers.Embedding({source_vocab}, {spec.embed}, mask_zero=True)",
        f"encoder_rnn = {_rnn_code(spec)}",
        f"decoder_embed = layers.Embedding({target_vocab}, {spec.embed}, mask_zero=True)",
        f"decoder_rnn = {_rnn_code(spec)}",
        f"head = layers.TimeDistributed(layers.Dense({target_vocab}))",
    ]
    if spec.attention:
        lines.append(
            f"W1, W2, V = layers.Dense({spec.hidden}), layers.Dense({spec.hidden}), "
            "layers.Dense(1)  # additive attention"
        )
    return lines


def _state_names(spec: Seq2SeqSpec, side: str) -> list[str]:
    return [f"{side}_{name}" for name in spec.cell.state_names]


def seq2seq_call_lines(spec: Seq2SeqSpec) -> list[str]:
    """The calls, with the unpacking that works and the state handed over."""
    enc = _state_names(spec, "enc")
    dec = _state_names(spec, "dec")
    lines = [
        "source_emb = encoder_embed(source_ids)",
        "source_mask = encoder_embed.compute_mask(source_ids)",
        f"enc_outputs, {', '.join(enc)} = encoder_rnn(source_emb, mask=source_mask)",
        "target_emb = decoder_embed(decoder_input)",
        "target_mask = decoder_embed.compute_mask(decoder_input)",
    ]
    if not spec.attention:
        lines.append(
            f"dec_outputs, {', '.join(dec)} = decoder_rnn(target_emb, mask=target_mask, "
            f"initial_state=[{', '.join(enc)}])"
        )
    else:
        lines += [
            f"states = [{', '.join(enc)}]  # the decoder starts from the encoder's state",
            "for t in range(decoder_input.shape[1]):  # at each step, a context of enc_outputs",
            "    score = V(tanh(W1(enc_outputs) + W2(states[0][:, None])))  # (batch, source, 1)",
            "    weights_t = softmax(where(source_mask[..., None], score, -inf), axis=1)",
            "    context_t = sum(weights_t * enc_outputs, axis=1)  # (batch, hidden)",
            "    x_t = concat([target_emb[:, t], context_t])  # (batch, embedding + hidden)",
            "    output_t, states = decoder_rnn.cell(x_t, states)",
        ]
    lines.append("logits = head(dec_outputs)")
    return lines


def seq2seq_script(result: Seq2SeqResult) -> str:
    """A self-contained script (numpy and tensorflow.keras) that rebuilds this probe."""
    spec = result.spec
    source, target = result.source, result.target
    split = "sentence.split()" if spec.tokens.value == "word" else "list(sentence)"
    enc = _state_names(spec, "enc")
    dec = _state_names(spec, "dec")
    lines = [
        f"# Written by rnnprobe {__version__}: the same ids, seed and layers as this probe.",
        "import numpy as np",
        "from tensorflow import keras",
        "from tensorflow.keras import layers, ops",
        "",
        f"sources = {list(source.words or ())!r}",
        f"targets = {list(target.words or ())!r}",
        f"source_vocab = {list(source.vocab or ())!r}",
        f"target_vocab = {list(target.vocab or ())!r}",
        f"source_tokens = [{split} for sentence in sources]",
        f"target_tokens = [{split} for sentence in targets]",
        "source_ids = np.zeros((len(sources), max(map(len, source_tokens))), dtype=np.int32)",
        "for b, tokens in enumerate(source_tokens):",
        "    source_ids[b, : len(tokens)] = [source_vocab.index(token) for token in tokens]",
        "steps = max(map(len, target_tokens)) + 1",
        "decoder_input = np.zeros((len(targets), steps), dtype=np.int32)  # <bos> + target",
        "decoder_target = np.zeros_like(decoder_input)  # target + <eos>",
        "for b, tokens in enumerate(target_tokens):",
        "    ids = [target_vocab.index(token) for token in tokens]",
        "    decoder_input[b, : len(ids) + 1] = [target_vocab.index('<bos>'), *ids]",
        "    decoder_target[b, : len(ids) + 1] = [*ids, target_vocab.index('<eos>')]",
        "",
        f"keras.utils.set_random_seed({result.seed})  # before the layers are built",
        *seq2seq_layer_lines(spec, source.width, target.width),
        "",
        "source_emb = encoder_embed(source_ids)",
        "source_mask = encoder_embed.compute_mask(source_ids)",
        f"enc_outputs, {', '.join(enc)} = encoder_rnn(source_emb, mask=source_mask)",
        "target_emb = decoder_embed(decoder_input)",
        "target_mask = decoder_embed.compute_mask(decoder_input)",
    ]
    printed = ["source_ids", "decoder_input", "decoder_target", "enc_outputs", *enc]
    if not spec.attention:
        lines.append(
            f"dec_outputs, {', '.join(dec)} = decoder_rnn(target_emb, mask=target_mask, "
            f"initial_state=[{', '.join(enc)}])"
        )
    else:
        lines += [
            f"states = [{', '.join(enc)}]  # handed over: the decoder starts from them",
            "previous = ops.zeros_like(states[0])",
            "keys = W1(enc_outputs)",
            "outputs, weights, contexts = [], [], []",
            "for t in range(decoder_input.shape[1]):",
            "    score = V(ops.tanh(keys + W2(ops.expand_dims(states[0], 1))))",
            "    score = ops.where(source_mask[:, :, None], score, -np.inf)  # padding: no weight",
            "    weight = ops.softmax(score, axis=1)",
            "    context = ops.sum(weight * enc_outputs, axis=1)",
            "    output, new_states = decoder_rnn.cell(",
            "        ops.concatenate([target_emb[:, t], context], axis=-1), states",
            "    )",
            "    real = target_mask[:, t, None]  # a padded step keeps the state",
            "    states = [ops.where(real, new, old) for new, old in zip(new_states, states)]",
            "    previous = ops.where(real, output, previous)",
            "    outputs.append(previous)",
            "    weights.append(weight[..., 0])",
            "    contexts.append(context)",
            "dec_outputs = ops.stack(outputs, axis=1)",
            f"{', '.join(dec)}{',' if len(dec) == 1 else ''} = states",
            "attention_weights = ops.stack(weights, axis=1)",
            "context = ops.stack(contexts, axis=1)",
        ]
        printed += ["attention_weights", "context"]
    lines += ["logits = head(dec_outputs)", ""]
    printed += ["dec_outputs", *dec, "logits"]
    lines += _printed(printed)
    return "\n".join(lines) + "\n"


def _literal(array: np.ndarray) -> str:
    """A float32 array as a Python list that reads back as the same float32 values."""
    return repr(np.asarray(array, dtype=np.float32).tolist())


def torch_script(result: ProbeResult) -> str:
    """A runnable PyTorch script: the twin's modules, the converted weights, the same input,
    and the same numbers printed."""
    twin = result.torch
    assert twin is not None
    batch, spec = result.batch, result.spec
    lines = [
        f"# Written by rnnprobe {__version__}: this probe's network in PyTorch, with the "
        "weights converted from Keras.",
        "import numpy as np",
        "import torch",
        "from torch import nn",
        "from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence",
        "",
        *_inputs(batch, spec),
        "",
    ]
    if spec.embed is not None:
        lines.append("ids = torch.from_numpy(ids.astype(np.int64))")
    else:
        lines.append("x_data = torch.from_numpy(x_data)")
    lines += [
        "lengths = torch.tensor(lengths)",
        f"T = {batch.time}",
        "",
        *twin.modules,
        "modules = {"
        + ", ".join(f"{m.split(' = ')[0]!r}: {m.split(' = ')[0]}" for m in twin.modules)
        + "}",
        "state_dict = {  # converted from the Keras weights",
        *(f"    {t.name!r}: {_literal(t.array)}," for t in twin.state_dict),
        "}",
        "with torch.no_grad():",
        "    for name, values in state_dict.items():",
        "        module, _, parameter = name.partition('.')",
        "        getattr(modules[module], parameter).copy_(torch.tensor(values))",
        *(f"    {line}" for line in twin.calls),
        "",
    ]
    printed = ["output", *(t.name.split(" ")[0] + _suffix(t.name) for t in twin.h_n)]
    printed += [t.name.split(" ")[0] + _suffix(t.name) for t in twin.c_n]
    printed += ["logits"] if twin.logits is not None else []
    lines += _printed(printed)
    return "\n".join(lines) + "\n"


def _suffix(name: str) -> str:
    """`h_n (rnn_2)` -> `_2`: the variable the calls unpack that module's h_n into."""
    if "(" not in name:
        return ""
    return "_" + name.rsplit("_", 1)[1].rstrip(")")
