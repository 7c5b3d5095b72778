"""What the user gives, as the model reads it: words to a vocabulary and a batch (one-hot
x_data or token ids), pairs of sentences for an encoder-decoder, and each task's targets.
Pure numpy, checked before TensorFlow loads."""
