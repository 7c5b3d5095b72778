"""The numbers: words to one-hot, the Keras probe, rnnprobe's numpy engine, results."""
