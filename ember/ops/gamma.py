"""The gamma family as Ember ops: lgamma, digamma, polygamma, mvlgamma, igamma/igammac, zeta.

Also the orthogonal polynomial families of ``torch.special`` (Chebyshev, Hermite, Laguerre,
Legendre), which PyTorch gives no gradient, by their three-term recurrences.

The array math comes from SciPy's ``scipy.special``, imported lazily by ``special_module``, so
SciPy stays an optional dependency (``ember[special]``). Integer and bool inputs compute in the
default float dtype; float16 and bfloat16 compute in float32 and round back, as PyTorch's
kernels do. backward() composes Ember ops, so every gradient is differentiable again (the
derivative of lgamma is digamma, whose derivative is polygamma(1, x), and so on).
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES, get_default_dtype
from ember.ops.common import cast, promote, quiet, to_float
from ember.ops.comparison import apply_broadcasting, check_broadcast, require_tensor
from ember.ops.floatmath import exp, log
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = ["digamma", "igamma", "igammac", "lgamma", "mvlgamma", "polygamma"]

_MODULES: dict[str, Any] = {}


def special_module(xp: Any, op: str = "special") -> Any:
    """Return the special-function module for an array module (SciPy's for NumPy), cached.

    Raises ImportError naming the op and the extra to install when SciPy is missing. CuPy's
    ``cupyx.scipy.special`` is to come from ``backend/cuda.py`` (the one file that may import
    CuPy) when that backend lands.
    """
    module = _MODULES.get(xp.__name__)
    if module is None:
        try:
            import scipy.special as module
        except ImportError:
            raise ImportError(
                f"ember.{op} needs SciPy for special functions: pip install 'ember[special]' "
                "(or pip install scipy)"
            ) from None
        _MODULES[xp.__name__] = module
    return module


def compute(op: str, kernel: str, *arrays: Any, lead: tuple = ()) -> Array:
    """Return scipy.special's ``kernel(*lead, *arrays)`` in the first array's dtype.

    Half types (float16, bfloat16) compute in float32. NumPy's warnings are silenced:
    PyTorch returns inf/NaN at poles silently.
    """
    x = arrays[0]
    xp = array_module(x)
    fn = getattr(special_module(xp, op), kernel)
    dtype = x.dtype
    if dtype.itemsize < 4:
        arrays = tuple(a.astype(xp.float32) for a in arrays)
    with quiet(xp):
        out = fn(*lead, *arrays)
    return xp.asarray(out, dtype=dtype)


# -- lgamma, digamma, polygamma ------------------------------------------------------------
class Lgamma(Function):
    """log|Gamma(x)|; d/dx = digamma(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        out = compute("lgamma", "gammaln", x)
        return array_module(x).where(x == -math.inf, math.inf, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * digamma(x)


class Polygamma(Function):
    """The n-th derivative of digamma (n = 0 is digamma); d/dx = polygamma(n + 1, x)."""

    @staticmethod
    def forward(ctx: Context, x: Array, n: int) -> Array:
        ctx.save_for_backward(x)
        ctx.n = n
        if n == 0:
            return compute("digamma", "psi", x)
        return compute("polygamma", "polygamma", x, lead=(n,))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        return grad * Polygamma.apply(x, ctx.n + 1), None


class Digamma(Polygamma):
    """polygamma(0, x) under its own name (the graph shows DigammaBackward0, as PyTorch's)."""


def lgamma(input: Tensor) -> Tensor:
    """Return the log of the absolute value of the gamma function. Mirrors ``torch.lgamma``."""
    return Lgamma.apply(to_float(input))


def digamma(input: Tensor) -> Tensor:
    """Return the logarithmic derivative of the gamma function. Mirrors ``torch.digamma``.

    digamma(0) is -inf and digamma(-0.0) is inf, as PyTorch's; negative integers give NaN.
    """
    return Digamma.apply(to_float(input), 0)


def polygamma(n: int, input: Tensor) -> Tensor:
    """Return the n-th derivative of the digamma function. Mirrors ``torch.polygamma``."""
    if isinstance(n, bool) or not hasattr(n, "__index__"):
        raise TypeError(
            f"polygamma(): argument 'n' (position 1) must be int, not {type(n).__name__}"
        )
    n = n.__index__()
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    return Polygamma.apply(to_float(input), n)


def mvlgamma(input: Tensor, p: int) -> Tensor:
    """Return the multivariate log-gamma of dimension p. Mirrors ``torch.mvlgamma``.

    mvlgamma(x, p) = p (p - 1) / 4 log(pi) + sum_{j < p} lgamma(x - j / 2), a composition of
    Ember ops, so its gradients come from lgamma's.
    """
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    if input.data.dtype.kind == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    x = to_float(input)
    out = lgamma(x)
    for j in range(1, p):
        out = out + lgamma(x - j / 2)
    return out + p * (p - 1) / 4 * math.log(math.pi)


# -- incomplete gamma ----------------------------------------------------------------------
class Igamma(Function):
    """Regularised incomplete gamma P(a, x) (upper Q(a, x) when ``upper``); d/dx only.

    d/dx P(a, x) = exp((a - 1) log x - x - lgamma(a)); Q's is its negative. As PyTorch,
    the derivative in a is not implemented.
    """

    @staticmethod
    def forward(ctx: Context, a: Array, x: Array, upper: bool) -> Array:
        ctx.save_for_backward(a, x)
        ctx.upper = upper
        if a.shape != x.shape:
            xp = array_module(a)
            a, x = xp.broadcast_arrays(a, x)
        return compute("igammac" if upper else "igamma", "gammaincc" if upper else "gammainc", a, x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[None, Tensor | None, None]:
        if ctx.needs_input_grad[0]:
            raise NotImplementedError(
                f"the derivative for '{'igammac' if ctx.upper else 'igamma'}: input' is not "
                "implemented."
            )
        a, x = ctx.saved_tensors
        density = exp((a - 1) * log(x) - x - lgamma(a))
        grad_x = grad * (-density if ctx.upper else density)
        return None, sum_to(grad_x, x.shape), None


def _igamma(op: str, input: Tensor, other: Tensor, upper: bool) -> Tensor:
    require_tensor(op, input, "input", 1)
    require_tensor(op, other)
    input, other = promote(input, other)
    if input.data.dtype.kind not in "fV":
        no_kernel(op, input)
    return apply_broadcasting(Igamma, input, other, upper)


def no_kernel(op: str, x: Tensor) -> None:
    """Raise PyTorch's NotImplementedError for a dtype its CPU kernel of ``op`` lacks."""
    name = SCALAR_NAMES[x.data.dtype.name]
    raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{name}'")


def igamma(input: Tensor, other: Tensor) -> Tensor:
    """Return the regularised lower incomplete gamma P(input, other). Mirrors ``torch.igamma``.

    Differentiable in ``other`` only; the derivative in ``input`` raises NotImplementedError
    in backward, as PyTorch's.
    """
    return _igamma("igamma", input, other, False)


def igammac(input: Tensor, other: Tensor) -> Tensor:
    """Return the regularised upper incomplete gamma Q(input, other). Mirrors ``torch.igammac``.

    Differentiable in ``other`` only, as PyTorch's.
    """
    return _igamma("igammac", input, other, True)


# -- Hurwitz zeta --------------------------------------------------------------------------
class Zeta(Function):
    """Hurwitz zeta(x, q) = sum_k (k + q)^-x; d/dq = -x zeta(x + 1, q), none in x (PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Any, q: Any) -> Array:
        ctx.save_for_backward(x, q)
        dtype = x.dtype if hasattr(x, "dtype") else q.dtype  # promote() made them agree
        xp = array_module(x if hasattr(x, "dtype") else q)
        x, q = xp.broadcast_arrays(xp.asarray(x, dtype=dtype), xp.asarray(q, dtype=dtype))
        return compute("special.zeta", "zeta", x, q)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[None, Tensor | None]:
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        x, q = ctx.saved_tensors
        return None, sum_to(grad * -x * Zeta.apply(x + 1, q), q.shape)


def zeta(input: Any, other: Any) -> Tensor:
    """Return the Hurwitz zeta function of input at other. Mirrors ``torch.special.zeta``.

    Either argument may be a Python number (not both). Differentiable in ``other`` only.
    """
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            "special_zeta() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__})"
        )
    input, other = promote(input, other)
    dtype = get_default_dtype()
    if isinstance(input, Tensor) and input.data.dtype.kind not in "fV":
        input = cast(input, dtype)
    if isinstance(other, Tensor) and other.data.dtype.kind not in "fV":
        other = cast(other, dtype)
    like = input if isinstance(input, Tensor) else other
    if like.data.dtype.itemsize < 4:  # float16, bfloat16: as PyTorch, no kernel
        no_kernel("zeta", like)
    return apply_broadcasting(Zeta, input, other)


# -- orthogonal polynomials (no gradients, as PyTorch) --------------------------------------
def _chebyshev(k: int, x: Array, p: Array, q: Array) -> Array:
    return 2 * x * p - q


# name -> (shifted: evaluate at 2x - 1, P_1(x), P_{k+1} from (k, x, P_k, P_{k-1}))
_POLYNOMIALS: dict[str, tuple] = {
    "chebyshev_polynomial_t": (False, lambda x: x, _chebyshev),
    "chebyshev_polynomial_u": (False, lambda x: 2 * x, _chebyshev),
    "chebyshev_polynomial_v": (False, lambda x: 2 * x - 1, _chebyshev),
    "chebyshev_polynomial_w": (False, lambda x: 2 * x + 1, _chebyshev),
    "shifted_chebyshev_polynomial_t": (True, lambda x: x, _chebyshev),
    "shifted_chebyshev_polynomial_u": (True, lambda x: 2 * x, _chebyshev),
    "shifted_chebyshev_polynomial_v": (True, lambda x: 2 * x - 1, _chebyshev),
    "shifted_chebyshev_polynomial_w": (True, lambda x: 2 * x + 1, _chebyshev),
    "hermite_polynomial_h": (False, lambda x: 2 * x, lambda k, x, p, q: 2 * x * p - 2 * k * q),
    "hermite_polynomial_he": (False, lambda x: x, lambda k, x, p, q: x * p - k * q),
    "laguerre_polynomial_l": (
        False,
        lambda x: 1 - x,
        lambda k, x, p, q: ((2 * k + 1 - x) * p - k * q) / (k + 1),
    ),
    "legendre_polynomial_p": (
        False,
        lambda x: x,
        lambda k, x, p, q: ((2 * k + 1) * x * p - k * q) / (k + 1),
    ),
}


def orthogonal_polynomial(op: str, input: Any, n: Any) -> Tensor:
    """Evaluate the degree-n polynomial family ``op`` at input, elementwise with broadcasting.

    ``op`` is the ``torch.special`` name (``chebyshev_polynomial_t``, ...). n is truncated to
    an integer; n < 0 (or NaN) gives 0, as PyTorch. The result is a constant (PyTorch defines
    no derivative); float16/bfloat16 raise NotImplementedError, as PyTorch's kernels.
    """
    if not isinstance(input, Tensor) and not isinstance(n, Tensor):
        raise TypeError(
            f"special_{op}() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(n).__name__})"
        )
    input, n = promote(input, n)
    like = input if isinstance(input, Tensor) else n
    dtype = like.data.dtype
    if dtype.kind not in "fV":
        dtype = get_default_dtype().np
    elif dtype.itemsize < 4:
        no_kernel(op, like)
    check_broadcast(input, n)
    xp = array_module(like.data)
    x = xp.asarray(input.data if isinstance(input, Tensor) else input, dtype=dtype)
    degree = xp.asarray(n.data if isinstance(n, Tensor) else n, dtype=dtype)
    x, degree = xp.broadcast_arrays(x, degree)
    shifted, first, step = _POLYNOMIALS[op]
    if shifted:
        x = 2 * x - 1
    degree = xp.where(xp.isnan(degree), -1, xp.trunc(degree))
    out = xp.where(degree == 0, 1, 0).astype(dtype)
    top = int(degree.max()) if degree.size else 0
    q, p = xp.ones_like(x), first(x)
    with quiet(xp):
        for k in range(1, top + 1):
            out = xp.where(degree == k, p, out)
            if k < top:
                q, p = p, step(k, x, p, q)
    return Tensor(xp.asarray(out, dtype=dtype))
