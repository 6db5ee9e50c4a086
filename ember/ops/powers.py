"""Powers, one Function per case: ``x ** p`` for a number p, ``b ** y`` for a number b, tensors.

Integers stay integers, as PyTorch's (a negative exponent gives 0, except for bases 1 and -1);
``float_power`` computes in float64 and ``square`` is ``pow(input, 2)``.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import float64
from ember.ops.combine import where
from ember.ops.common import cast, is_float_array, no_bool, promote, quiet
from ember.ops.comparison import apply_broadcasting, eq, ge, logical_and, lt
from ember.ops.elementwise import clone
from ember.ops.floatmath import log
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = ["float_power", "pow", "square"]


def _int_pow(xp: Any, x: Any, y: Any) -> Array:
    """Integer power as PyTorch: a negative exponent gives 0, except for bases 1 and -1."""
    negative = y < 0
    out = xp.power(x, xp.abs(y))
    if xp.any(negative):
        out = xp.where(negative & (xp.abs(x) != 1), 0, out).astype(out.dtype)
    return out


class PowScalar(Function):
    """x ** p for a Python number p; d/dx = p * x ** (p - 1)."""

    @staticmethod
    def forward(ctx: Context, x: Array, p: float) -> Array:
        ctx.save_for_backward(x)
        ctx.p = p
        with quiet(array_module(x)):
            return x**p

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (x,) = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return grad * 0, None
        return grad * (p * x ** (p - 1)), None


class RPowScalar(Function):
    """b ** y for a Python number b; d/dy = b ** y * log(b) (0 where b == 0 and y >= 0)."""

    @staticmethod
    def forward(ctx: Context, y: Array, base: float) -> Array:
        xp = array_module(y)
        with quiet(xp):
            out = xp.power(base, y) if is_float_array(y) else _int_pow(xp, base, y)
        ctx.save_for_backward(y, out)
        ctx.base = base
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        y, out = ctx.saved_tensors
        base = ctx.base
        if base == 0:  # only negative exponents (out = inf) have a nonzero gradient: -inf
            return grad * where(lt(y, 0), -math.inf, 0.0), None
        log_base = math.log(base) if base > 0 else math.nan
        return grad * (out * log_base), None


class Pow(Function):
    """x ** y for tensors; d/dx = y * x ** (y - 1), d/dy = x ** y * log(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        xp = array_module(x, y)
        with quiet(xp):
            out = xp.power(x, y) if is_float_array(x) else _int_pow(xp, x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y, out = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:  # 0 where y == 0, as PyTorch (no 0 * inf)
            safe_y = where(eq(y, 0), 1.0, y)
            grad_x = sum_to(grad * (y * x ** (safe_y - 1)), x.shape)
        if ctx.needs_input_grad[1]:  # 0 where x == 0 and y >= 0; log(1) keeps it NaN-free
            zero = logical_and(eq(x, 0), ge(y, 0))
            grad_y = sum_to(grad * (out * log(where(zero, 1.0, x))), y.shape)
        return grad_x, grad_y


def pow(input: Any, exponent: Any) -> Tensor:
    """Raise input to exponent; either may be a Python number. Mirrors ``torch.pow``.

    Integers stay integers (a negative exponent then gives 0, except for bases 1 and -1).
    Gradients follow PyTorch at 0: d/dx is 0 where exponent == 0, and d/dexponent is 0 where
    input == 0 and exponent >= 0.
    """
    if isinstance(input, Tensor):
        if isinstance(exponent, (int, float)):
            input, exponent = promote(input, exponent)
            if input.data.dtype.kind == "b":  # bool ** True or False: PyTorch's special cases
                return clone(input) if exponent else Tensor(input.data | True)
            if exponent < 0 and not input.dtype.is_floating_point:
                raise RuntimeError("Integers to negative integer powers are not allowed.")
            return PowScalar.apply(input, exponent)
    elif isinstance(input, (int, float)) and isinstance(exponent, Tensor):
        exponent, input = promote(exponent, input)
        no_bool("pow", exponent)
        return RPowScalar.apply(exponent, input)
    input, exponent = promote(input, exponent)
    no_bool("pow", input)
    return apply_broadcasting(Pow, input, exponent)


def float_power(input: Any, exponent: Any) -> Tensor:
    """Raise input to exponent in float64. Mirrors ``torch.float_power``."""
    if isinstance(input, Tensor):
        input = cast(input, float64)
    elif isinstance(input, (int, float)):
        input = float(input)
    if isinstance(exponent, Tensor):
        exponent = cast(exponent, float64)
    elif isinstance(exponent, (int, float)):
        exponent = float(exponent)
    return pow(input, exponent)


def square(input: Tensor) -> Tensor:
    """Return input ** 2 (bools become int64, as pow). Mirrors ``torch.square``."""
    return pow(input, 2)
