"""``ember.special``: the ``torch.special`` namespace.

Aliases of Ember ops (erf, expit = sigmoid, gammaln = lgamma, psi = digamma, ...) and the
special functions of ``ember.ops.gamma`` and ``ember.ops.special_functions``, whose array math
needs SciPy (``pip install 'ember[special]'``). Same names, arguments and gradients as PyTorch.
"""

from __future__ import annotations

from typing import Any

from ember.ops.floatmath import erf, erfc, erfinv, exp2, expm1, log1p, logit
from ember.ops.floatmath import sigmoid as expit
from ember.ops.gamma import digamma, orthogonal_polynomial, polygamma, zeta
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
    no_grad_special,
    sinc,
    xlog1py,
    xlogy,
)
from ember.tensor import Tensor

__all__ = [
    "airy_ai",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
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
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "sinc",
    "softmax",
    "spherical_bessel_j0",
    "xlog1py",
    "xlogy",
    "zeta",
]


# -- Bessel and Airy functions without gradients (as PyTorch) ------------------------------
def airy_ai(input: Tensor) -> Tensor:
    """Return the Airy function Ai. Mirrors ``torch.special.airy_ai``.

    The Airy function of the first kind. Not differentiable, as PyTorch's.
    """
    return no_grad_special("airy_ai", input)


def bessel_j0(input: Tensor) -> Tensor:
    """Return the Bessel function J0. Mirrors ``torch.special.bessel_j0``.

    Bessel function of the first kind of order 0. Not differentiable, as PyTorch's.
    """
    return no_grad_special("bessel_j0", input)


def bessel_j1(input: Tensor) -> Tensor:
    """Return the Bessel function J1. Mirrors ``torch.special.bessel_j1``.

    Bessel function of the first kind of order 1. Not differentiable, as PyTorch's.
    """
    return no_grad_special("bessel_j1", input)


def bessel_y0(input: Tensor) -> Tensor:
    """Return the Bessel function Y0. Mirrors ``torch.special.bessel_y0``.

    Bessel function of the second kind of order 0. Not differentiable, as PyTorch's.
    """
    return no_grad_special("bessel_y0", input)


def bessel_y1(input: Tensor) -> Tensor:
    """Return the Bessel function Y1. Mirrors ``torch.special.bessel_y1``.

    Bessel function of the second kind of order 1. Not differentiable, as PyTorch's.
    """
    return no_grad_special("bessel_y1", input)


def modified_bessel_i0(input: Tensor) -> Tensor:
    """Return the modified Bessel function I0. Mirrors ``torch.special.modified_bessel_i0``.

    Modified Bessel function of the first kind of order 0. Not differentiable, as PyTorch's.
    """
    return no_grad_special("modified_bessel_i0", input)


def modified_bessel_i1(input: Tensor) -> Tensor:
    """Return the modified Bessel function I1. Mirrors ``torch.special.modified_bessel_i1``.

    Modified Bessel function of the first kind of order 1. Not differentiable, as PyTorch's.
    """
    return no_grad_special("modified_bessel_i1", input)


def modified_bessel_k0(input: Tensor) -> Tensor:
    """Return the modified Bessel function K0. Mirrors ``torch.special.modified_bessel_k0``.

    Modified Bessel function of the second kind of order 0. Not differentiable, as PyTorch's.
    """
    return no_grad_special("modified_bessel_k0", input)


def modified_bessel_k1(input: Tensor) -> Tensor:
    """Return the modified Bessel function K1. Mirrors ``torch.special.modified_bessel_k1``.

    Modified Bessel function of the second kind of order 1. Not differentiable, as PyTorch's.
    """
    return no_grad_special("modified_bessel_k1", input)


def scaled_modified_bessel_k0(input: Tensor) -> Tensor:
    """Return exp(x) K0(x). Mirrors ``torch.special.scaled_modified_bessel_k0``.

    The exponentially scaled modified Bessel function K0. Not differentiable, as PyTorch's.
    """
    return no_grad_special("scaled_modified_bessel_k0", input)


def scaled_modified_bessel_k1(input: Tensor) -> Tensor:
    """Return exp(x) K1(x). Mirrors ``torch.special.scaled_modified_bessel_k1``.

    The exponentially scaled modified Bessel function K1. Not differentiable, as PyTorch's.
    """
    return no_grad_special("scaled_modified_bessel_k1", input)


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """Return sin(x) / x. Mirrors ``torch.special.spherical_bessel_j0``.

    The spherical Bessel function of the first kind of order 0. Not differentiable, as PyTorch's.
    """
    return no_grad_special("spherical_bessel_j0", input)


# -- orthogonal polynomials without gradients (as PyTorch) ---------------------------------
def chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:
    """Return the Chebyshev polynomial T_n(input). Mirrors ``torch.special.chebyshev_polynomial_t``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("chebyshev_polynomial_t", input, n)


def chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:
    """Return the Chebyshev polynomial U_n(input). Mirrors ``torch.special.chebyshev_polynomial_u``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("chebyshev_polynomial_u", input, n)


def chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:
    """Return the Chebyshev polynomial V_n(input). Mirrors ``torch.special.chebyshev_polynomial_v``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("chebyshev_polynomial_v", input, n)


def chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:
    """Return the Chebyshev polynomial W_n(input). Mirrors ``torch.special.chebyshev_polynomial_w``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("chebyshev_polynomial_w", input, n)


def shifted_chebyshev_polynomial_t(input: Any, n: Any) -> Tensor:
    """Return T_n(2x - 1)(input). Mirrors ``torch.special.shifted_chebyshev_polynomial_t``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("shifted_chebyshev_polynomial_t", input, n)


def shifted_chebyshev_polynomial_u(input: Any, n: Any) -> Tensor:
    """Return U_n(2x - 1)(input). Mirrors ``torch.special.shifted_chebyshev_polynomial_u``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("shifted_chebyshev_polynomial_u", input, n)


def shifted_chebyshev_polynomial_v(input: Any, n: Any) -> Tensor:
    """Return V_n(2x - 1)(input). Mirrors ``torch.special.shifted_chebyshev_polynomial_v``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("shifted_chebyshev_polynomial_v", input, n)


def shifted_chebyshev_polynomial_w(input: Any, n: Any) -> Tensor:
    """Return W_n(2x - 1)(input). Mirrors ``torch.special.shifted_chebyshev_polynomial_w``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("shifted_chebyshev_polynomial_w", input, n)


def hermite_polynomial_h(input: Any, n: Any) -> Tensor:
    """Return the Hermite polynomial H_n(input). Mirrors ``torch.special.hermite_polynomial_h``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("hermite_polynomial_h", input, n)


def hermite_polynomial_he(input: Any, n: Any) -> Tensor:
    """Return the Hermite polynomial He_n(input). Mirrors ``torch.special.hermite_polynomial_he``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("hermite_polynomial_he", input, n)


def laguerre_polynomial_l(input: Any, n: Any) -> Tensor:
    """Return the Laguerre polynomial L_n(input). Mirrors ``torch.special.laguerre_polynomial_l``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("laguerre_polynomial_l", input, n)


def legendre_polynomial_p(input: Any, n: Any) -> Tensor:
    """Return the Legendre polynomial P_n(input). Mirrors ``torch.special.legendre_polynomial_p``.

    n is truncated to an integer; n < 0 gives 0. Not differentiable, as PyTorch's.
    """
    return orthogonal_polynomial("legendre_polynomial_p", input, n)
