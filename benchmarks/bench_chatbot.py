"""The chapter's chatbot lab (lab 12-7) at full size: all 11,823 rows of ChatbotData.csv
(songys/Chatbot_data, MIT), against hand-written Keras scripts of the same work, each
ratio measured in the same run.

    python benchmarks/bench_chatbot.py [ChatbotData.csv] [ROUNDS] [labels|seq2seq]

The file is taken from the argument, else from $RNNPROBE_LAB_DATA/ChatbotData.csv
(download: https://raw.githubusercontent.com/songys/Chatbot_data/master/ChatbotData.csv).

- labels: `train --columns Q,label --tokens word --embed 32 --hidden 32 --cell lstm
  --epochs 5 --batch-size 64 --lr 0.01 --validation 0.2` against the same network trained
  by `model.fit(shuffle=True, validation_data=...)` on a fifth held out. Goals: at most
  1.0x the script's time; the held-out accuracy within 0.03 of the script's.
- seq2seq: `seq2seq --columns Q,A --train 1 -H 128 --embed 64 --batch-size 64
  --attention` against a Keras script that does what the command reports: the loss and
  gradients of every pair at the seeded weights, one epoch of a traced GradientTape step
  (the lab's encoder and attention decoder, teacher forcing step by step, the masked loss)
  on the same batches (64 pairs, shuffled, the last one smaller), the loss of every pair
  after it, and every source decoded greedily. Goals: at most 1.0x the script; peak RSS
  at most 4 GB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from common import alternate, bench_env, peak_rss, report, rnnprobe_command

LABELS = ["--columns", "Q,label", "--tokens", "word", "--embed", "32", "--hidden", "32", "--cell",
          "lstm", "--epochs", "5", "--batch-size", "64", "--lr", "0.01", "--validation", "0.2",
          "--seed", "0"]  # fmt: skip
PAIRS = ["--columns", "Q,A", "--train", "1", "-H", "128", "--embed", "64", "--batch-size", "64",
         "--attention", "--seed", "0"]  # fmt: skip
GOAL_RSS = 4e9
PARTS = ("labels", "seq2seq")

# The labels network as a Keras user writes it: a fifth held out (drawn as rnnprobe and
# train_test_split draw it), the vocabulary of the training rows (others are <unk>), fit.
KERAS_LABELS = """
import csv, math, sys
import numpy as np
from tensorflow import keras
from tensorflow.keras import layers

with open(sys.argv[1], encoding="utf-8", newline="") as file:
    rows = list(csv.DictReader(file))
texts = [row["Q"].strip() for row in rows]
labels = np.array([int(row["label"]) for row in rows])
held = np.sort(np.random.default_rng([0, 1]).permutation(len(texts))[: math.ceil(0.2 * len(texts))])
trained = np.setdiff1d(np.arange(len(texts)), held)
vocab = {"<pad>": 0, "<unk>": 1}
for row in trained:
    for word in texts[row].split():
        vocab.setdefault(word, len(vocab))
ids = np.zeros((len(texts), max(len(t.split()) for t in texts)), np.int32)
for b, text in enumerate(texts):
    ids[b, : len(text.split())] = [vocab.get(word, 1) for word in text.split()]
keras.utils.set_random_seed(0)
model = keras.Sequential([layers.Embedding(len(vocab), 32, mask_zero=True), layers.LSTM(32),
                          layers.Dense(3)])
model.compile(keras.optimizers.Adam(0.01),
              keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
history = model.fit(ids[trained], labels[trained], epochs=5, batch_size=64, shuffle=True,
                    validation_data=(ids[held], labels[held]), verbose=0)
print(history.history["val_accuracy"][-1])
"""

# The encoder-decoder with attention as lab 12-7 writes it (Bahdanau attention, the decoder
# called step by step), every call traced once for any batch size, and the same report.
KERAS_PAIRS = """
import csv, sys
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

with open(sys.argv[1], encoding="utf-8", newline="") as file:
    pairs = [(row["Q"].strip(), row["A"].strip()) for row in csv.DictReader(file)]


def index(sentences, reserved):
    found = {token: i for i, token in enumerate(reserved)}
    for sentence in sentences:
        for word in sentence.split():
            found.setdefault(word, len(found))
    return found


src = index([s for s, _ in pairs], ["<pad>"])
tgt = index([t for _, t in pairs], ["<pad>", "<bos>", "<eos>"])
N, S = len(pairs), max(len(s.split()) for s, _ in pairs)
T = max(len(t.split()) for _, t in pairs) + 1
source = np.zeros((N, S), np.int32)
t_in, t_out = np.zeros((N, T), np.int32), np.zeros((N, T), np.int32)
for b, (s, t) in enumerate(pairs):
    source[b, : len(s.split())] = [src[w] for w in s.split()]
    ids = [tgt[w] for w in t.split()]
    t_in[b, : len(ids) + 1] = [1, *ids]
    t_out[b, : len(ids) + 1] = [*ids, 2]

keras.utils.set_random_seed(0)
H, E = 128, 64
enc_embed = layers.Embedding(len(src), E, mask_zero=True)
enc_gru = layers.GRU(H, return_sequences=True, return_state=True)
dec_embed = layers.Embedding(len(tgt), E)
dec_gru = layers.GRU(H, return_sequences=True, return_state=True)
W1, W2, V = layers.Dense(H), layers.Dense(H), layers.Dense(1)
head = layers.Dense(len(tgt))


def encode(ids):
    mask = ids != 0
    out, h = enc_gru(enc_embed(ids), mask=mask)
    return out, h, mask


def step(token, h, enc_out, mask):
    score = V(tf.tanh(W1(enc_out) + W2(h)[:, None, :]))
    score = tf.where(mask[:, :, None], score, -1e9)
    context = tf.reduce_sum(tf.nn.softmax(score, axis=1) * enc_out, axis=1)
    x = tf.concat([context[:, None, :], dec_embed(token)], axis=-1)
    out, h = dec_gru(x, initial_state=h)
    return head(out[:, 0]), h


def loss_of(ids, given, wanted):
    enc_out, h, mask = encode(ids)
    total, count = 0.0, 0.0
    for t in range(T):  # teacher forcing, step by step
        logits, new = step(given[:, t : t + 1], h, enc_out, mask)
        real = tf.cast(wanted[:, t] != 0, tf.float32)
        h = tf.where(real[:, None] > 0, new, h)
        losses = keras.losses.sparse_categorical_crossentropy(wanted[:, t], logits,
                                                              from_logits=True)
        total += tf.reduce_sum(losses * real)
        count += tf.reduce_sum(real)
    return total / count, count


made = (enc_embed, enc_gru, dec_embed, dec_gru, W1, W2, V, head)
loss_of(source[:2], t_in[:2], t_out[:2])  # builds the layers
variables = [v for layer in made for v in layer.trainable_variables]
optimizer = keras.optimizers.Adam(0.001)
spec = [tf.TensorSpec((None, S), tf.int32), tf.TensorSpec((None, T), tf.int32),
        tf.TensorSpec((None, T), tf.int32)]


@tf.function(input_signature=spec)
def with_gradients(ids, given, wanted):
    with tf.GradientTape() as tape:
        loss, count = loss_of(ids, given, wanted)
    grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, variables)]
    return loss, count, grads


@tf.function(input_signature=spec)
def train_step(ids, given, wanted):
    loss, _, grads = with_gradients(ids, given, wanted)
    optimizer.apply_gradients(zip(grads, variables))
    return loss


@tf.function(input_signature=spec)
def evaluate(ids, given, wanted):
    return loss_of(ids, given, wanted)


@tf.function(input_signature=[tf.TensorSpec((None, S), tf.int32)])
def greedy(ids):
    enc_out, h, mask = encode(ids)
    token = tf.fill((tf.shape(ids)[0], 1), 1)
    found = []
    for _ in range(T):
        logits, h = step(token, h, enc_out, mask)
        token = tf.cast(tf.argmax(logits, -1), tf.int32)[:, None]
        found.append(token)
    return tf.concat(found, axis=1)


def whole_set(gradients):
    total, counted, summed = 0.0, 0.0, None
    for start in range(0, N, 64):
        rows = slice(start, start + 64)
        if gradients:
            loss, count, grads = with_gradients(source[rows], t_in[rows], t_out[rows])
            grads = [g.numpy().astype(np.float64) * float(count) for g in grads]
            summed = grads if summed is None else [a + b for a, b in zip(summed, grads)]
        else:
            loss, count = evaluate(source[rows], t_in[rows], t_out[rows])
        total, counted = total + float(loss) * float(count), counted + float(count)
    return total / counted


before = whole_set(gradients=True)
order = np.random.default_rng(0).permutation(N)
for start in range(0, N, 64):
    rows = order[start : start + 64]
    train_step(source[rows], t_in[rows], t_out[rows])
after = whole_set(gradients=False)
decoded = np.concatenate([greedy(source[start : start + 1024]).numpy()
                          for start in range(0, N, 1024)])
print(before, after, decoded.shape)
"""


def chatbot_file() -> Path:
    given = next((a for a in sys.argv[1:] if not a.isdigit() and a not in PARTS), None)
    if given is None and os.environ.get("RNNPROBE_LAB_DATA"):
        given = str(Path(os.environ["RNNPROBE_LAB_DATA"]) / "ChatbotData.csv")
    if given is None or not Path(given).is_file():
        raise SystemExit("give ChatbotData.csv (or set RNNPROBE_LAB_DATA to its folder): "
                         "https://raw.githubusercontent.com/songys/Chatbot_data/master/"
                         "ChatbotData.csv")  # fmt: skip
    return Path(given)


def output(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, env=bench_env(), check=True, text=True)
    return done.stdout


def labels(path: Path, rounds: int, python: list[str]) -> None:
    ours = [*rnnprobe_command(), "train", "--from", str(path), *LABELS]
    theirs = [*python, KERAS_LABELS, str(path)]
    keras_times, our_times = alternate(theirs, ours, rounds)
    report("chatbot labels vs Keras fit", keras_times, our_times, goal=1.0,
           labels=("keras", "rnnprobe"))  # fmt: skip
    ours_accuracy = json.loads(output([*ours, "--json"]))["history"][-1]["val_accuracy"]
    keras_accuracy = float(output(theirs).split()[-1])
    print(f"held-out accuracy: rnnprobe {ours_accuracy:.4f}, Keras fit {keras_accuracy:.4f}, "
          f"difference {abs(ours_accuracy - keras_accuracy):.4f} (goal <= 0.03)")  # fmt: skip


def pairs(path: Path, rounds: int, python: list[str]) -> None:
    ours = [*rnnprobe_command(), "seq2seq", "--from", str(path), *PAIRS]
    theirs = [*python, KERAS_PAIRS, str(path)]
    keras_times, our_times = alternate(theirs, ours, rounds)
    report("chatbot seq2seq --attention --train 1 vs the Keras loop", keras_times, our_times,
           goal=1.0, labels=("keras", "rnnprobe"))  # fmt: skip
    rss, _ = peak_rss(ours)
    print(f"chatbot seq2seq peak RSS {rss / 1e9:.2f} GB (goal <= {GOAL_RSS / 1e9:.0f} GB)")


if __name__ == "__main__":
    path = chatbot_file()
    rounds = next((int(a) for a in sys.argv[1:] if a.isdigit()), 2)
    python = [sys.executable, "-c"]
    parts = [a for a in sys.argv[1:] if a in PARTS] or PARTS

    if "labels" in parts:
        labels(path, rounds, python)
    if "seq2seq" in parts:
        pairs(path, rounds, python)
