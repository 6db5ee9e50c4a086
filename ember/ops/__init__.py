"""Ember's differentiable primitives and tensor factories, grouped by kind.

Each module lists its public functions in ``__all__``; this package re-exports them all (and
only them: its own ``__all__`` is their union), and ``ember`` re-exports this package.
"""

import sys

from ember.ops.common import result_type
from ember.ops.creation import *
from ember.ops.decomposition import *
from ember.ops.device import *
from ember.ops.einsum import *
from ember.ops.elementwise import *
from ember.ops.indexing import *
from ember.ops.inplace import *
from ember.ops.join import *
from ember.ops.linalg import *
from ember.ops.norms import *
from ember.ops.random import *
from ember.ops.random_inplace import *
from ember.ops.rearrange import *
from ember.ops.reduction import *
from ember.ops.scan import *
from ember.ops.scatter import *
from ember.ops.selection import *
from ember.ops.shape import *
from ember.ops.sorting import *
from ember.ops.strided import *

_MODULES = (
    "creation",
    "decomposition",
    "device",
    "einsum",
    "elementwise",
    "indexing",
    "inplace",
    "join",
    "linalg",
    "random",
    "random_inplace",
    "rearrange",
    "norms",
    "reduction",
    "scan",
    "selection",
    "scatter",
    "shape",
    "sorting",
    "strided",
)
# Module names such as `scatter` are shadowed by functions of the same name; read __all__ from
# sys.modules instead.
__all__ = [
    "result_type",
    *(name for module in _MODULES for name in sys.modules[f"ember.ops.{module}"].__all__),
]
