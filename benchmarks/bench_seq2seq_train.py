"""`seq2seq --train`: lab 12-5's recipe against the import floor and against a hand-written
Keras script of the same training; a served (warm) training against a cold one. Every ratio
is measured in the same run.

    python benchmarks/bench_seq2seq_train.py [ROUNDS]

Goals: the four pairs with `--hidden 32 --embed 32 --train 200 --json` at most 2.5x the
floor and at most 1.0x the Keras script (GRU encoder and decoder, the masked loss, a
`tf.function` GradientTape step, 200 epochs, then the greedy loop); served at most 0.5x
the cold run.
"""

from __future__ import annotations

import sys

from common import FLOOR, alternate, report, rnnprobe_command, warm_against_cold

PAIRS = [
    "i feel hungry", "나는 배가 고프다",
    "tensorflow is very difficult", "텐서플로우는 매우 어렵다",
    "tensorflow is a framework for deep learning", "텐서플로우는 딥러닝을 위한 프레임워크이다",
    "tensorflow is very fast changing", "텐서플로우는 매우 빠르게 변화한다",
]  # fmt: skip
RECIPE = ["--hidden", "32", "--embed", "32", "--train", "200", "--seed", "0", "--json"]

# The same training by hand, as a Keras user writes it after the lab: teacher forcing with
# the whole shifted target at once, the loss masked where the target is <pad>, a traced
# GradientTape step with Adam, then the greedy loop for each source.
KERAS = """
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

pairs = [
    ("i feel hungry", "나는 배가 고프다"),
    ("tensorflow is very difficult", "텐서플로우는 매우 어렵다"),
    ("tensorflow is a framework for deep learning", "텐서플로우는 딥러닝을 위한 프레임워크이다"),
    ("tensorflow is very fast changing", "텐서플로우는 매우 빠르게 변화한다"),
]
s_vocab = ["<pad>"] + sorted({w for s, _ in pairs for w in s.split()})
t_vocab = ["<pad>", "<bos>", "<eos>"] + sorted({w for _, t in pairs for w in t.split()})
s_len = max(len(s.split()) for s, _ in pairs)
t_len = max(len(t.split()) for _, t in pairs) + 1
source = np.zeros((4, s_len), np.int32)
t_in = np.zeros((4, t_len), np.int32)
t_out = np.zeros((4, t_len), np.int32)
for b, (s, t) in enumerate(pairs):
    ids = [s_vocab.index(w) for w in s.split()]
    source[b, : len(ids)] = ids
    ids = [t_vocab.index(w) for w in t.split()]
    t_in[b, : len(ids) + 1] = [1, *ids]
    t_out[b, : len(ids) + 1] = [*ids, 2]

keras.utils.set_random_seed(0)
enc_embed = layers.Embedding(len(s_vocab), 32, mask_zero=True)
enc_gru = layers.GRU(32, return_sequences=True, return_state=True)
dec_embed = layers.Embedding(len(t_vocab), 32, mask_zero=True)
dec_gru = layers.GRU(32, return_sequences=True, return_state=True)
head = layers.Dense(len(t_vocab))


def forward(source, t_in):
    x = enc_embed(source)
    _, h = enc_gru(x, mask=enc_embed.compute_mask(source))
    y = dec_embed(t_in)
    out, h = dec_gru(y, mask=dec_embed.compute_mask(t_in), initial_state=[h])
    return head(out), h


optimizer = keras.optimizers.Adam()


@tf.function
def step(source, t_in, t_out):
    with tf.GradientTape() as tape:
        logits, _ = forward(source, t_in)
        losses = keras.losses.sparse_categorical_crossentropy(t_out, logits, from_logits=True)
        real = tf.cast(t_out != 0, losses.dtype)
        loss = tf.reduce_sum(losses * real) / tf.reduce_sum(real)
    made = (enc_embed, enc_gru, dec_embed, dec_gru, head)
    variables = [v for layer in made for v in layer.trainable_variables]
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    optimizer.apply_gradients(zip(grads, variables))
    return loss


for epoch in range(200):
    loss = step(source, t_in, t_out)
print(float(loss))
for s, _ in pairs:
    ids = np.array([[s_vocab.index(w) for w in s.split()]], np.int32)
    _, h = enc_gru(enc_embed(ids))
    token, words = 1, []
    for _ in range(t_len):
        y = dec_embed(np.array([[token]], np.int32))
        out, h = dec_gru(y, initial_state=[h])
        token = int(np.argmax(head(out)[0, -1]))
        words.append(t_vocab[token])
        if token == 2:
            break
    print(s, "->", " ".join(words))
"""


if __name__ == "__main__":
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    ours = [*rnnprobe_command(), "seq2seq", *PAIRS, *RECIPE]
    floors, times = alternate(FLOOR, ours, rounds)
    report("seq2seq lab 12-5 --train 200 vs import floor", floors, times, goal=2.5)
    theirs, mine = alternate([sys.executable, "-c", KERAS], ours, rounds)
    report("seq2seq lab 12-5 --train 200 vs the Keras script", theirs, mine, goal=1.0,
           labels=("keras", "rnnprobe"))  # fmt: skip
    warm_against_cold(["seq2seq", *PAIRS, *RECIPE], max(3, rounds),
                      "warm (served) lab 12-5 training vs cold", goal=0.5)  # fmt: skip
