"""Float-valued elementwise math, one Function per op: exp/log families, roots, sigmoid, erf.

Integer and bool inputs compute in the default float dtype, as PyTorch's (``to_float``).
forward() silences NumPy's warnings where PyTorch returns inf/NaN silently (log(0), sqrt(-1),
exp overflow); backward() composes Ember ops (Tensor operators, ``where``), so gradients are
differentiable again. Trigonometric and hyperbolic functions live in ``trig.py``.
"""

from __future__ import annotations

import math

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module, special
from ember.ops.combine import where
from ember.ops.common import quiet, to_float
from ember.ops.comparison import gt, logical_or, lt
from ember.tensor import Tensor

__all__ = [
    "erf",
    "erfc",
    "erfinv",
    "exp",
    "exp2",
    "expm1",
    "log",
    "log10",
    "log1p",
    "log2",
    "logit",
    "reciprocal",
    "rsqrt",
    "sigmoid",
    "sqrt",
]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# -- exponentials and logarithms -----------------------------------------------------------
class Exp(Function):
    """exp(x); d/dx = exp(x), so we keep the output."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = xp.exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out


class Exp2(Function):
    """2 ** x; d/dx = 2 ** x * ln 2."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = xp.exp2(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (out * _LN2)


class Expm1(Function):
    """exp(x) - 1, accurate near 0; d/dx = out + 1."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = xp.expm1(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (out + 1)


class Log(Function):
    """log(x); d/dx = 1 / x. log(0) = -inf and log(-1) = NaN, silently."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.log(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / x


class Log2(Function):
    """log2(x); d/dx = 1 / (x ln 2)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.log2(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (x * _LN2)


class Log10(Function):
    """log10(x); d/dx = 1 / (x ln 10)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.log10(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (x * _LN10)


class Log1p(Function):
    """log(1 + x), accurate near 0; d/dx = 1 / (1 + x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.log1p(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (x + 1)


def exp(input: Tensor) -> Tensor:
    """Return e ** input. Mirrors ``torch.exp``."""
    return Exp.apply(to_float(input))


def exp2(input: Tensor) -> Tensor:
    """Return 2 ** input. Mirrors ``torch.exp2``."""
    return Exp2.apply(to_float(input))


def expm1(input: Tensor) -> Tensor:
    """Return e ** input - 1. Mirrors ``torch.expm1``."""
    return Expm1.apply(to_float(input))


def log(input: Tensor) -> Tensor:
    """Return the natural logarithm. Mirrors ``torch.log``."""
    return Log.apply(to_float(input))


def log2(input: Tensor) -> Tensor:
    """Return the base-2 logarithm. Mirrors ``torch.log2``."""
    return Log2.apply(to_float(input))


def log10(input: Tensor) -> Tensor:
    """Return the base-10 logarithm. Mirrors ``torch.log10``."""
    return Log10.apply(to_float(input))


def log1p(input: Tensor) -> Tensor:
    """Return log(1 + input). Mirrors ``torch.log1p``."""
    return Log1p.apply(to_float(input))


# -- roots and reciprocals -----------------------------------------------------------------
class Sqrt(Function):
    """sqrt(x); d/dx = 1 / (2 sqrt(x)), so we keep the output."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad / (2 * out)


class Rsqrt(Function):
    """1 / sqrt(x); d/dx = -out^3 / 2."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = 1 / xp.sqrt(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return -0.5 * grad * out**3


class Reciprocal(Function):
    """1 / x; d/dx = -out^2."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = xp.reciprocal(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return -grad * (out * out)


def sqrt(input: Tensor) -> Tensor:
    """Return the square root (NaN below 0). Mirrors ``torch.sqrt``."""
    return Sqrt.apply(to_float(input))


def rsqrt(input: Tensor) -> Tensor:
    """Return 1 / sqrt(input). Mirrors ``torch.rsqrt``."""
    return Rsqrt.apply(to_float(input))


def reciprocal(input: Tensor) -> Tensor:
    """Return 1 / input; integers give floats. Mirrors ``torch.reciprocal``."""
    return Reciprocal.apply(to_float(input))


# -- sigmoid, logit ------------------------------------------------------------------------
class Sigmoid(Function):
    """1 / (1 + exp(-x)); d/dx = out * (1 - out), so we keep the output."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        # NOTE: exp(-|x|) never overflows; for x < 0, sigmoid(x) = e / (1 + e) with e = exp(x).
        e = xp.exp(-xp.abs(x))
        r = 1 / (1 + e)
        out = xp.where(x >= 0, r, e * r)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return SigmoidBackward.apply(grad, out)


class SigmoidBackward(Function):
    """grad * out * (1 - out) in one op (PyTorch's fused sigmoid_backward); differentiable."""

    @staticmethod
    def forward(ctx: Context, grad: Array, out: Array) -> Array:
        ctx.save_for_backward(grad, out)
        return grad * (out * (1 - out))

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, out = ctx.saved_tensors
        grad_grad = g * (out * (1 - out)) if ctx.needs_input_grad[0] else None
        grad_out = g * grad * (1 - 2 * out) if ctx.needs_input_grad[1] else None
        return grad_grad, grad_out


class Logit(Function):
    """log(x / (1 - x)) of x clamped to [eps, 1 - eps]; d/dx = 1 / (x (1 - x)) inside."""

    @staticmethod
    def forward(ctx: Context, x: Array, eps: float | None) -> Array:
        ctx.save_for_backward(x)
        ctx.eps = eps
        xp = array_module(x)
        if eps is not None:  # as PyTorch's kernel: x < eps wins over x > 1 - eps when eps > 0.5
            x = xp.where(x < eps, eps, xp.where(x > 1 - eps, 1 - eps, x)).astype(x.dtype)
        with quiet(xp):
            return xp.log(x / (1 - x))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        eps = ctx.eps
        slope = grad / (x * (1 - x))
        if eps is None:  # as PyTorch: NaN outside [0, 1]
            return where(logical_or(lt(x, 0), gt(x, 1)), math.nan, slope), None
        return where(logical_or(lt(x, eps), gt(x, 1 - eps)), 0.0, slope), None


def sigmoid(input: Tensor) -> Tensor:
    """Return 1 / (1 + exp(-input)), without overflow for any input. Mirrors ``torch.sigmoid``."""
    return Sigmoid.apply(to_float(input))


def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """Return log(p / (1 - p)) with p = input clamped to [eps, 1 - eps]. Mirrors ``torch.logit``.

    With eps, the gradient is 0 where input was clamped; without, it is NaN outside [0, 1].
    """
    return Logit.apply(to_float(input), eps)


# -- error function ------------------------------------------------------------------------
class Erf(Function):
    """erf(x); d/dx = 2 / sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return special.erf(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * (_TWO_OVER_SQRT_PI * exp(-(x * x)))


class Erfc(Function):
    """1 - erf(x); d/dx = -2 / sqrt(pi) * exp(-x^2)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return special.erfc(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * (-_TWO_OVER_SQRT_PI * exp(-(x * x)))


class Erfinv(Function):
    """erfinv(y); d/dy = sqrt(pi) / 2 * exp(erfinv(y)^2), so we keep the output."""

    @staticmethod
    def forward(ctx: Context, y: Array) -> Array:
        out = special.erfinv(y)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (exp(out * out) / _TWO_OVER_SQRT_PI)


def erf(input: Tensor) -> Tensor:
    """Return the error function. Mirrors ``torch.erf``."""
    return Erf.apply(to_float(input))


def erfc(input: Tensor) -> Tensor:
    """Return the complementary error function, 1 - erf(input). Mirrors ``torch.erfc``."""
    return Erfc.apply(to_float(input))


def erfinv(input: Tensor) -> Tensor:
    """Return the inverse error function (+-inf at +-1, NaN beyond). Mirrors ``torch.erfinv``."""
    return Erfinv.apply(to_float(input))
