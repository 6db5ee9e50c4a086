"""Neural-network building blocks. Mirrors ``torch.nn``.

Each family of layers lives in its own module with an ``__all__``; this package re-exports
them, with ``Module``, ``Parameter`` and ``Buffer``, as ``torch.nn`` does.
"""

from ember.nn import functional, init
from ember.nn.activation import *
from ember.nn.adaptive import *
from ember.nn.attention import *
from ember.nn.container import *
from ember.nn.conv import *
from ember.nn.distance import *
from ember.nn.dropout import *
from ember.nn.flatten import *
from ember.nn.fold import *
from ember.nn.fractional import *
from ember.nn.lazy import *
from ember.nn.linear import *
from ember.nn.loss import *
from ember.nn.module import Module
from ember.nn.normalization import *
from ember.nn.padding import *
from ember.nn.parameter import Buffer, Parameter, UninitializedParameter
from ember.nn.pooling import *
from ember.nn.positional import *
from ember.nn.resampling import *
from ember.nn.rnn import *
from ember.nn.sparse import *
from ember.nn.transformer import *

# isort: split
# nn.utils reads the layer classes (spectral_norm's dim for transposed convs): after them.
from ember.nn import utils
