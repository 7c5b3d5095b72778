"""The PyTorch face of the stages (`--torch`): weights converted from Keras, the twin run,
differentiated and trained. `twin.py` is the only module that imports torch."""
