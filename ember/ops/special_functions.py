"""Special functions of ``torch.special`` beyond the gamma family, as Ember ops.

Bessel functions (i0, i0e, i1, i1e), the normal distribution (ndtr, ndtri, log_ndtr), erfcx,
entr, xlogy, xlog1py and sinc. The array math is SciPy's (``gamma.compute``, lazily imported);
backward() composes Ember ops with PyTorch's formulas, so gradients are differentiable again.
Only the names torch also has at top level (i0, sinc, xlogy) are in ``__all__``; the others
are reached through ``ember.special``.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import finfo, get_default_dtype
from ember.ops.combine import where
from ember.ops.common import cast, promote, quiet, to_float
from ember.ops.comparison import apply_broadcasting, eq, gt, le, logical_and
from ember.ops.floatmath import exp, log
from ember.ops.gamma import compute, no_kernel, special_module
from ember.ops.magnitude import abs, sign
from ember.ops.shape import sum_to
from ember.ops.trig import cos, sin
from ember.tensor import Tensor

__all__ = ["i0", "sinc", "xlogy"]

_SQRT_2PI = math.sqrt(2 * math.pi)
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)
_HALF = ("float16", "bfloat16")


class _Unary(Function):
    """A scipy.special kernel on one float array; subclasses write backward(ctx, grad).

    forward keeps the input and the output (backward reads them as ``x, out``).
    """

    op = kernel = ""

    @classmethod
    def forward(cls, ctx: Context, x: Array) -> Array:
        out = compute(cls.op, cls.kernel, x)
        ctx.save_for_backward(x, out)
        return out


# -- modified Bessel functions of the first kind -------------------------------------------
class I0(_Unary):
    """I0(x); d/dx = I1(x)."""

    op, kernel = "i0", "i0"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, _ = ctx.saved_tensors
        return grad * I1.apply(x)


class I0e(_Unary):
    """exp(-|x|) I0(x); d/dx = i1e(x) - sign(x) i0e(x)."""

    op, kernel = "special.i0e", "i0e"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        return grad * (I1e.apply(x) - sign(x) * out)


def _safe(x: Tensor) -> tuple[Tensor, Tensor]:
    """(|x| > eps, x with the tiny entries replaced by eps), as PyTorch's i1_backward."""
    eps = finfo(x.dtype).eps
    not_tiny = gt(abs(x), eps)
    return not_tiny, where(not_tiny, x, eps)


class I1(_Unary):
    """I1(x); d/dx = I0(x) - I1(x) / x, which is 1/2 at 0."""

    op, kernel = "special.i1", "i1"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        not_tiny, safe = _safe(x)
        return grad * where(not_tiny, I0.apply(safe) - out / safe, 0.5)


class I1e(_Unary):
    """exp(-|x|) I1(x); d/dx = i0e(x) - i1e(x) (sign(x) + 1 / x), which is 1/2 at 0."""

    op, kernel = "special.i1e", "i1e"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        not_tiny, safe = _safe(x)
        return grad * where(not_tiny, I0e.apply(safe) - out * (sign(safe) + 1 / safe), 0.5)


def i0(input: Tensor) -> Tensor:
    """Return the modified Bessel function of the first kind, order 0. Mirrors ``torch.i0``."""
    return I0.apply(to_float(input))


def i0e(input: Tensor) -> Tensor:
    """Return exp(-|input|) * i0(input). Mirrors ``torch.special.i0e``."""
    return I0e.apply(to_float(input))


def i1(input: Tensor) -> Tensor:
    """Return the modified Bessel function of the first kind, order 1.

    Mirrors ``torch.special.i1``.
    """
    return I1.apply(to_float(input))


def i1e(input: Tensor) -> Tensor:
    """Return exp(-|input|) * i1(input). Mirrors ``torch.special.i1e``."""
    return I1e.apply(to_float(input))


# -- the normal distribution, erfcx ----------------------------------------------------------
class Ndtr(_Unary):
    """Standard normal CDF; d/dx = the normal density."""

    op, kernel = "special.ndtr", "ndtr"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, _ = ctx.saved_tensors
        return grad * (exp(x * x * -0.5) / _SQRT_2PI)


class Ndtri(_Unary):
    """Inverse of ndtr; d/dp = sqrt(2 pi) exp(ndtri(p)^2 / 2)."""

    op, kernel = "special.ndtri", "ndtri"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        _, out = ctx.saved_tensors
        return grad * (_SQRT_2PI * exp(out * out * 0.5))


class LogNdtr(_Unary):
    """log(ndtr(x)), stable for very negative x; d/dx = pdf(x) / ndtr(x) = exp(-x^2/2 - out)."""

    op, kernel = "special.log_ndtr", "log_ndtr"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        return grad / _SQRT_2PI * exp(-(out + x * x * 0.5))


class Erfcx(_Unary):
    """exp(x^2) erfc(x); d/dx = 2 x erfcx(x) - 2 / sqrt(pi)."""

    op, kernel = "special.erfcx", "erfcx"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, out = ctx.saved_tensors
        return grad * (2 * x * out - _TWO_OVER_SQRT_PI)


class Entr(_Unary):
    """-x log(x) (0 at 0, -inf below); d/dx = -(1 + log(x))."""

    op, kernel = "special.entr", "entr"

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        x, _ = ctx.saved_tensors
        return grad * -(1 + log(x))


def ndtr(input: Tensor) -> Tensor:
    """Return the standard normal CDF. Mirrors ``torch.special.ndtr``.

    Differences from PyTorch: accurate in the left tail (SciPy's ndtr), where PyTorch's
    (1 + erf(x / sqrt(2))) / 2 loses relative accuracy below about -3 and is 0 below -8.3
    (float64) or -5.5 (float32).
    """
    return Ndtr.apply(to_float(input))


def ndtri(input: Tensor) -> Tensor:
    """Return the inverse of the standard normal CDF. Mirrors ``torch.special.ndtri``."""
    if input.data.dtype.name in _HALF:  # as PyTorch: no kernel
        no_kernel("ndtri", input)
    return Ndtri.apply(to_float(input))


def log_ndtr(input: Tensor) -> Tensor:
    """Return the log of the standard normal CDF, accurate in the tails.

    Mirrors ``torch.special.log_ndtr``.
    """
    if input.data.dtype.name in _HALF:  # as PyTorch: no kernel
        no_kernel("log_ndtr", input)
    return LogNdtr.apply(to_float(input))


def erfcx(input: Tensor) -> Tensor:
    """Return the scaled complementary error function exp(x^2) erfc(x).

    Mirrors ``torch.special.erfcx``.
    """
    if input.data.dtype.name in _HALF:  # as PyTorch: no kernel
        no_kernel("erfcx", input)
    return Erfcx.apply(to_float(input))


def entr(input: Tensor) -> Tensor:
    """Return the elementwise entropy -x log(x). Mirrors ``torch.special.entr``."""
    return Entr.apply(to_float(input))


# -- sinc ----------------------------------------------------------------------------------
class Sinc(Function):
    """sin(pi x) / (pi x), 1 at 0; d/dx = (cos(pi x) - sinc(x)) / x, 0 at 0."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):  # sinc(+-inf) is NaN, silently as in PyTorch
            if x.dtype.itemsize < 4:
                return xp.sinc(x.astype(xp.float32)).astype(x.dtype)
            return xp.sinc(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        zero = eq(x * x, 0)  # as PyTorch: 0 where pi x^2 underflows, not only at 0
        safe = where(zero, 1.0, x)
        pix = math.pi * safe
        slope = (pix * cos(pix) - sin(pix)) / (pix * safe)
        return grad * where(zero, 0.0, slope)


def sinc(input: Tensor) -> Tensor:
    """Return the normalised sinc sin(pi x) / (pi x), 1 at 0. Mirrors ``torch.sinc``."""
    return Sinc.apply(to_float(input))


# -- xlogy, xlog1py ------------------------------------------------------------------------
class XLogY(Function):
    """x log(y) (x log1p(y) when ``log1p``), 0 where x == 0 unless y is NaN (as PyTorch).

    d/dx = log(y) (log1p(y)); d/dy = x / y (x / (1 + y)).
    """

    @staticmethod
    def forward(ctx: Context, x: Any, y: Any, log1p: bool) -> Array:
        ctx.save_for_backward(x, y)
        ctx.log1p = log1p
        like = x if hasattr(x, "dtype") else y
        xp = array_module(like)
        x, y = xp.asarray(x, dtype=like.dtype), xp.asarray(y, dtype=like.dtype)
        kernel = "xlog1py" if log1p else "xlogy"
        return compute("special.xlog1py" if log1p else "xlogy", kernel, x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        x, y = ctx.saved_tensors
        log1p = ctx.log1p
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            # PyTorch's formula: xlogy(grad, y), 0 where x == 0 and y is outside the domain
            grad_x = XLogY.apply(grad, y, log1p)
            bound = -1.0 if log1p else 0.0
            if isinstance(y, Tensor):
                grad_x = where(logical_and(eq(x, 0), le(y, bound)), 0.0, grad_x)
            elif y <= bound:
                grad_x = where(eq(x, 0), 0.0, grad_x)
            grad_x = sum_to(grad_x, x.shape)
        if ctx.needs_input_grad[1]:
            grad_y = sum_to(grad * x / ((y + 1) if log1p else y), y.shape)
        return grad_x, grad_y, None


def _xlogy(op: str, input: Any, other: Any, log1p: bool) -> Tensor:
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(
            f"{op}() received an invalid combination of arguments - got "
            f"({type(input).__name__}, {type(other).__name__})"
        )
    input, other = promote(input, other)
    dtype = get_default_dtype()
    if isinstance(input, Tensor) and input.data.dtype.kind not in "fV":
        input = cast(input, dtype)
    if isinstance(other, Tensor) and other.data.dtype.kind not in "fV":
        other = cast(other, dtype)
    return apply_broadcasting(XLogY, input, other, log1p)


def xlogy(input: Any, other: Any) -> Tensor:
    """Return input * log(other), 0 where input is 0. Mirrors ``torch.xlogy``.

    Either argument may be a Python number (not both); NaN in other gives NaN, as PyTorch.
    """
    return _xlogy("xlogy", input, other, False)


def xlog1py(input: Any, other: Any) -> Tensor:
    """Return input * log1p(other), 0 where input is 0. Mirrors ``torch.special.xlog1py``.

    Either argument may be a Python number (not both); NaN in other gives NaN, as PyTorch.
    """
    return _xlogy("special_xlog1py", input, other, True)


# -- Bessel and Airy functions without gradients (PyTorch defines none) ----------------------
def _spherical_j0(x: Array) -> Array:
    xp = array_module(x)
    with quiet(xp):
        out = xp.where(xp.abs(x) < 1e-4, 1 - x * x / 6, xp.sin(x) / x)
    return xp.where(xp.isinf(x), 0, out).astype(x.dtype, copy=False)  # PyTorch: 0 at +-inf


_NO_GRAD_KERNELS = {
    "airy_ai": lambda s, x: s.airy(x)[0],
    "bessel_j0": lambda s, x: s.j0(x),
    "bessel_j1": lambda s, x: s.j1(x),
    "bessel_y0": lambda s, x: s.y0(x),
    "bessel_y1": lambda s, x: s.y1(x),
    "modified_bessel_i0": lambda s, x: s.i0(x),
    "modified_bessel_i1": lambda s, x: s.i1(x),
    "modified_bessel_k0": lambda s, x: s.k0(x),
    "modified_bessel_k1": lambda s, x: s.k1(x),
    "scaled_modified_bessel_k0": lambda s, x: s.k0e(x),
    "scaled_modified_bessel_k1": lambda s, x: s.k1e(x),
}


def no_grad_special(op: str, input: Tensor) -> Tensor:
    """Evaluate one of the special functions PyTorch gives no derivative (a constant result).

    ``op`` is the ``torch.special`` name (``bessel_j0``, ``airy_ai``, ...). float16/bfloat16
    raise NotImplementedError, as PyTorch's kernels.
    """
    if input.data.dtype.name in _HALF:
        no_kernel(op, input)
    x = to_float(input).data
    if op == "spherical_bessel_j0":
        return Tensor(_spherical_j0(x))
    xp = array_module(x)
    module = special_module(xp, f"special.{op}")
    with quiet(xp):
        out = _NO_GRAD_KERNELS[op](module, x)
    return Tensor(xp.asarray(out, dtype=x.dtype))
