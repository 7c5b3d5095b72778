"""What each command computes from the faces: plain values in, a result out. `run.py` is
`run`, `compare`, `vocab` and `rnnprobe.probe`; `train.py` (and its result, `trained.py`),
`grads.py`, `seq2seq.py` and `seq2seq_train.py` (with the greedy loop, `decoding.py`)."""
