"""``ember.special``: the ``torch.special`` namespace.

Aliases of Ember ops (erf, expit = sigmoid, gammaln = lgamma, psi = digamma, ...) and the
special functions of ``ember.ops.gamma`` and ``ember.ops.special_functions``, whose array math
needs SciPy (``pip install 'ember[special]'``). Same names, arguments and gradients as PyTorch.
"""

from __future__ import annotations

from ember.ops.floatmath import erf, erfc, erfinv, exp2, expm1, log1p, logit
from ember.ops.floatmath import sigmoid as expit
from ember.ops.gamma import digamma, polygamma, zeta
from ember.ops.gamma import digamma as psi
from ember.ops.gamma import igamma as gammainc
from ember.ops.gamma import igammac as gammaincc
from ember.ops.gamma import lgamma as gammaln
from ember.ops.gamma import mvlgamma as multigammaln
from ember.ops.reduction import logsumexp
from ember.ops.rounding import round
from ember.ops.softmax import log_softmax, softmax
from ember.ops.special_functions import (
    entr,
    erfcx,
    i0,
    i0e,
    i1,
    i1e,
    log_ndtr,
    ndtr,
    ndtri,
    sinc,
    xlog1py,
    xlogy,
)

__all__ = [
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]
