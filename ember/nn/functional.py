"""Functional forms of the layers. Mirrors ``torch.nn.functional``.

The math lives in ``ember.ops``; this namespace re-exports it under PyTorch's names.
"""

import sys

from ember.ops.activation import *
from ember.ops.attention import *
from ember.ops.conv import *
from ember.ops.dense import *
from ember.ops.distance import *
from ember.ops.dropout import *
from ember.ops.embedding import *
from ember.ops.fold import *
from ember.ops.fractional_pooling import *
from ember.ops.gumbel import *
from ember.ops.loss import *
from ember.ops.multihead import *
from ember.ops.normalization import *
from ember.ops.padding import pad
from ember.ops.pairwise import pdist
from ember.ops.pooling import *
from ember.ops.resampling import *
from ember.ops.softmax import *

_FAMILIES = (
    "activation",
    "attention",
    "conv",
    "dense",
    "distance",
    "dropout",
    "embedding",
    "fold",
    "fractional_pooling",
    "gumbel",
    "loss",
    "multihead",
    "normalization",
    "pooling",
    "resampling",
    "softmax",
)
__all__ = [
    "pad",
    "pdist",
    *(name for family in _FAMILIES for name in sys.modules[f"ember.ops.{family}"].__all__),
]
