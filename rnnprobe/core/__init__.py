"""The numbers, in layers that import only downwards:

- shared: `kinds` (the choices), `errors`, `progress`, `batch` (the named `Tensor` and the
  model's input), then `budget`, `options` and `result`, which read the description;
- `stages/`: the network as one description, stages in the order the data flows;
- `inputs/`: what the user gives, turned into the model's input and targets (pure numpy);
- the three faces, one function per stage kind each: `keras/` (the only package that
  imports TensorFlow), `numpy/` (rnnprobe's own engine and backpropagation), `torch/` (the
  PyTorch twin, the only package that imports torch);
- `commands/`: what each command computes from the faces (run, train, grads, seq2seq).

Nothing here imports `show/`, `cli/`, `api/` or `serve/` (tests/test_layout.py).
"""
