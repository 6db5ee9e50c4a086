"""Ember's differentiable primitives and tensor factories, grouped by kind.

Each module lists its public functions in ``__all__``; this package re-exports them all (and
only them: its own ``__all__`` is their union), and ``ember`` re-exports this package.
"""

import sys

from ember.ops.aliases import *
from ember.ops.bitmath import *
from ember.ops.calculus import *
from ember.ops.combinatorics import *
from ember.ops.combine import *
from ember.ops.common import result_type
from ember.ops.comparison import *
from ember.ops.creation import *
from ember.ops.decomposition import *
from ember.ops.device import *
from ember.ops.dims import *
from ember.ops.einsum import *
from ember.ops.elementwise import *
from ember.ops.floatmath import *
from ember.ops.gamma import *
from ember.ops.indexing import *
from ember.ops.inplace import *
from ember.ops.inplace_twins import *
from ember.ops.interop import *
from ember.ops.interop_extras import *
from ember.ops.join import *
from ember.ops.linalg import *
from ember.ops.lu import *
from ember.ops.magnitude import *
from ember.ops.masking import *
from ember.ops.matrix_functions import *
from ember.ops.nn_aliases import *
from ember.ops.norms import *
from ember.ops.pairwise import *
from ember.ops.powers import *
from ember.ops.random import *
from ember.ops.random_inplace import *
from ember.ops.ranges import *
from ember.ops.rearrange import *
from ember.ops.reduction import *
from ember.ops.rnn_cells import *
from ember.ops.rounding import *
from ember.ops.scan import *
from ember.ops.scatter import *
from ember.ops.scatter_views import *
from ember.ops.selection import *
from ember.ops.shape import *
from ember.ops.softmax import log_softmax, softmax
from ember.ops.solvers import *
from ember.ops.sorting import *
from ember.ops.special_functions import *
from ember.ops.statistics import *
from ember.ops.strided import *
from ember.ops.tensor_extras import *
from ember.ops.trig import *
from ember.ops.windows import *

_MODULES = (
    "aliases",
    "bitmath",
    "calculus",
    "combinatorics",
    "combine",
    "comparison",
    "creation",
    "decomposition",
    "device",
    "dims",
    "einsum",
    "elementwise",
    "floatmath",
    "gamma",
    "indexing",
    "inplace",
    "inplace_twins",
    "interop",
    "interop_extras",
    "join",
    "linalg",
    "lu",
    "magnitude",
    "masking",
    "matrix_functions",
    "nn_aliases",
    "norms",
    "pairwise",
    "powers",
    "random",
    "random_inplace",
    "ranges",
    "rearrange",
    "reduction",
    "rnn_cells",
    "rounding",
    "scan",
    "scatter",
    "scatter_views",
    "selection",
    "shape",
    "solvers",
    "sorting",
    "special_functions",
    "statistics",
    "strided",
    "tensor_extras",
    "trig",
    "windows",
)
# Module names such as `scatter` are shadowed by functions of the same name; read __all__ from
# sys.modules instead.
__all__ = [
    "log_softmax",
    "result_type",
    "softmax",
    *(name for module in _MODULES for name in sys.modules[f"ember.ops.{module}"].__all__),
]
