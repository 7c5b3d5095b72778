"""The network as stages, in the order the data flows: the one description every face reads.

A probe is token ids or one-hot `x_data` -> an Embedding -> the recurrent stack -> a Dense
head; an encoder-decoder is two such networks joined by the state handed over (see
`encdec.py`). `ProbeSpec` is what the options ask for; `ProbeSpec.network()` turns it into
stages. Each face (the Keras builder, the numpy engine, the PyTorch twin, the code shown,
the diagram, the JSON, the tables) is one function per stage kind that walks the stages; a
stage owns the facts about itself here: its weights (names, shapes, axes), its Keras class
and constructor, its output's width and axis, its parameter count.

Plain dataclasses and no numpy: `vocab` and `--help` import this module.
"""

from __future__ import annotations

from rnnprobe.core.stages.around import (
    Attention,
    Embedding,
    Features,
    GivenInput,
    Head,
    OneHotEmbedding,
    OneHotInput,
    StepHead,
    TokenIds,
    ValueHead,
)
from rnnprobe.core.stages.base import KerasLayer, Stage, Weight
from rnnprobe.core.stages.loss import Loss, Objective, SquaredLoss, StepLoss
from rnnprobe.core.stages.network import Network, ProbeSpec
from rnnprobe.core.stages.recurrent import Layer, Recurrent

__all__ = [
    "Attention", "Embedding", "Features", "GivenInput", "Head", "KerasLayer", "Layer", "Loss",
    "Network", "Objective", "OneHotEmbedding", "OneHotInput", "ProbeSpec", "Recurrent",
    "SquaredLoss", "Stage", "StepHead", "StepLoss", "TokenIds", "ValueHead", "Weight",
]  # fmt: skip
