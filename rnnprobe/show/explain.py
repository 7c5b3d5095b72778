"""Where each tensor's numbers come from, and how many parameters each layer holds.

Text only, from the spec and the shapes the tensors carry: nothing is recomputed here.
"""

from __future__ import annotations

from rnnprobe.core.result import ProbeSpec, Tensor


def _gates(spec: ProbeSpec) -> str:
    """`4 gates (i, f, c, o) x ` for an LSTM, nothing for a simple cell."""
    names = spec.cell.gate_names
    return f"{len(names)} gates ({', '.join(names)}) x " if names else ""


def weight_note(spec: ProbeSpec, tensor: Tensor) -> str:
    """e.g. `vocab x 4 gates (i, f, c, o) x hidden` for an LSTM kernel."""
    gates = _gates(spec)
    if tensor.name == "embedding/embeddings":
        if spec.embed == "onehot":
            return "vocab x embedding: the identity, row i is e_i (constant, not trained)"
        return "vocab x embedding: row i is token i's vector (random, trainable); row 0 is <pad>'s"
    if tensor.name == "head/kernel":
        return f"{tensor.dims[0]} x class: outputs to each class's logit"
    if tensor.name == "head/bias":
        return "class: added to each logit"
    short = tensor.name.rpartition("/")[2]
    if short == "kernel":
        return f"{tensor.dims[0]} x {gates}hidden: input to every gate"
    if short == "recurrent_kernel":
        return f"hidden x {gates}hidden: h(t-1) to every gate"
    if tensor.array.ndim == 2:
        return f"input/recurrent rows x {gates}hidden (reset_after=True)"
    return f"{gates}hidden: added to every gate"


def tensor_note(spec: ProbeSpec, tensor: Tensor) -> str:
    """Where an input, output or state comes from."""
    token = "words of each sentence" if spec.tokens.value == "word" else "characters of each word"
    if tensor.name == "x_data":
        return f"one-hot rows of the {token}; zero rows after its end"
    if tensor.name == "ids":
        return f"the index of each of the {token} in the vocabulary; 0 (<pad>) after its end"
    if tensor.name == "mask":
        return "ids != 0, from the Embedding (mask_zero=True): False on <pad> steps"
    if tensor.name == "embedding":
        return "row ids[b, t] of the embeddings table: <pad> steps get row 0, not zeros"
    if tensor.name == "logits":
        where = "every step's outputs" if spec.each_step else "outputs"
        return (
            f"head: {where}·kernel + bias; padded steps too (Dense has no mask)"
            if spec.each_step
            else f"head: {where}·kernel + bias"
        )
    if tensor.name == "probabilities":
        return "softmax of the logits over the classes: each row sums to 1"
    if tensor.name == "outputs":
        if spec.bidirectional:
            joined = f"forward and backward h joined by {spec.merge_mode.value}"
            return joined + (" at every step" if spec.return_sequences else " at the last step")
        if spec.return_sequences:
            return "h at every step; a padded step repeats the word's last h"
        return "h at each word's last real step"
    name = tensor.name.rpartition("/")[2]
    kind = "cell state c" if name.endswith("c") else "hidden state h"
    backward = name.startswith("backward")
    where = "after reading the word backwards" if backward else "after the word's last real step"
    return f"{kind} {where}"
