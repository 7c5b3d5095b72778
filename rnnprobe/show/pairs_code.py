"""`seq2seq --train --code`: a runnable script in the lab's style that rebuilds the same ids
and weights, trains the encoder and the decoder the same way (teacher forcing, the masked
loss, a `GradientTape` loop with Adam), prints `epoch E loss L` for every epoch, then decodes
every source greedily: `<bos>` in, a token out, fed back in, the state carried by hand.

Written from the two networks' stages, as `seq2seq --code` is: the encoder's calls become
`encoder()`, the decoder's `decoder()`, so that the training and the loop call the same code.
"""

from __future__ import annotations

from rnnprobe import __version__
from rnnprobe.core.commands.seq2seq_train import Plan
from rnnprobe.core.kinds import Tokens
from rnnprobe.show.keras_code import lookup, loss_function
from rnnprobe.show.seq2seq_code import data_lines, seq2seq_layer_lines, side_lines


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


def _epoch_lines(plan: Plan) -> list[str]:
    """Each epoch's batches: the pairs in their order, or shuffled every epoch by the
    generator rnnprobe draws the orders from."""
    if not plan.shuffle:
        return [
            f"batch_size = {plan.batch_size}  # pairs per batch, in their order",
            f"for epoch in range(1, {plan.epochs} + 1):",
            "    total = 0.0",
            "    for start in range(0, len(sources), batch_size):",
            "        rows = slice(start, start + batch_size)",
        ]
    return [
        f"batch_size = {plan.batch_size}  # pairs per batch",
        f"order = np.random.default_rng({plan.seed})  # each epoch's order, in turn",
        f"for epoch in range(1, {plan.epochs} + 1):",
        "    taken = order.permutation(len(sources))  # shuffled every epoch",
        "    total = 0.0",
        "    for start in range(0, len(sources), batch_size):",
        "        rows = taken[start : start + batch_size]",
    ]


def script(plan: Plan) -> str:
    """A self-contained script (numpy and tensorflow.keras) that trains as `seq2seq --train`
    does and decodes as it does."""
    spec, source, target, network = plan.spec, plan.source, plan.target, plan.network
    seed, lr, max_steps = plan.seed, plan.lr, plan.max_steps
    translate = list(plan.translate.words or ()) if plan.translate is not None else []
    handover = network.handover
    handed, kept = handover.variables("enc"), handover.variables("dec")
    sides = side_lines(network)
    layers = seq2seq_layer_lines(network)
    names = [name for line in layers for name in line.split(" = ")[0].split(", ")]
    attention = spec.attention
    find = lookup(source.vocab or (), "source_vocab", "source_")[1].format("token")
    returned = "logits, target_mask, [" + ", ".join(kept) + "]"
    returned += ", attention_weights" if attention else ", None"
    split = "sentence.split()" if spec.tokens is Tokens.word else "list(sentence)"
    joined = "' '" if spec.tokens is Tokens.word else "''"
    lines = [
        f"# Written by rnnprobe {__version__}: this training, in the lab's style: the same ids, "
        "seed, layers, masked loss and optimizer; then the greedy loop.",
        "import numpy as np",
        "import tensorflow as tf",
        "from tensorflow import keras",
        "from tensorflow.keras import layers, ops",
        "",
        *data_lines(source, target, spec.tokens),
        f"translate = {list(translate)!r}  # new sources to decode",
        "",
        f"keras.utils.set_random_seed({seed})  # before the layers are built",
        *layers,
        "",
        "",
        "def encoder(source_ids):",
        *_indented(sides["encoder"]),
        f"    return enc_outputs, source_mask, [{', '.join(handed)}]",
        "",
        "",
        "def decoder(decoder_input, states, enc_outputs, source_mask):",
        "    # teacher forcing: decoder_input is <bos> + the target, all steps at once;",
        "    # the greedy loop: one token, and the states the last step left",
        f"    {', '.join(handed)}{',' if len(handed) == 1 else ''} = states",
        *_indented(sides["decoder"]),
        f"    return {returned}",
        "",
        "",
        *loss_function(network.decoder.loss),
        "",
        "",
        f"optimizer = keras.optimizers.Adam(learning_rate={lr!r})",
        "enc_outputs, source_mask, states = encoder(source_ids)",
        "decoder(decoder_input, states, enc_outputs, source_mask)  # builds the layers",
        f"variables = [v for layer in ({', '.join(names)}) for v in layer.trainable_variables]",
        "",
        "",
        "@tf.function",
        "def train_step(source_ids, decoder_input, decoder_target):",
        "    with tf.GradientTape() as tape:",
        "        enc_outputs, source_mask, states = encoder(source_ids)",
        "        logits, target_mask, _, _ = decoder(decoder_input, states, enc_outputs, "
        "source_mask)",
        "        loss = loss_fn(logits, decoder_target, target_mask)",
        "    grads = tape.gradient(loss, variables)",
        "    grads = [tf.convert_to_tensor(g) for g in grads]  # dense: Adam's own step",
        "    optimizer.apply_gradients(zip(grads, variables))",
        "    return loss",
        "",
        "",
        *_epoch_lines(plan),
        "        loss = train_step(source_ids[rows], decoder_input[rows], decoder_target[rows])",
        "        total += float(loss) * len(source_ids[rows])  # each loss before its update",
        "    print(f'epoch {epoch} loss {total / len(sources):.6f}')",
        "",
        "",
        f"def greedy(sentence, max_steps={max_steps}):",
        "    # inference: <bos> in, a token out, fed back in, the state carried by hand",
        f"    ids = np.array([[{find} for token in {split}]], dtype=np.int32)",
        "    enc_outputs, source_mask, states = encoder(ids)",
        "    token, decoded = target_vocab.index('<bos>'), []",
        "    for _ in range(max_steps):",
        "        step = np.array([[token]], dtype=np.int32)",
        "        logits, _, states, _ = decoder(step, states, enc_outputs, source_mask)",
        "        token = int(np.argmax(logits[0, -1]))",
        "        decoded.append(target_vocab[token])",
        "        if decoded[-1] == '<eos>':",
        "            break",
        "    return decoded",
        "",
        "",
        "for sentence in sources + translate:",
        f"    print(sentence, '->', {joined}.join(greedy(sentence)))",
    ]
    return "\n".join(lines) + "\n"
