"""Elementwise arithmetic, one Function per op: + - * /, //, %, pow, abs, sign, rounding, casts.

forward() computes on backend arrays; backward() uses Ember ops on Tensors, so every gradient
is itself differentiable (create_graph=True). Binary ops promote dtypes as PyTorch does
(``promote``) and turn NumPy's broadcast error into PyTorch's (only on the error path, so the
hot ops pay nothing for it).

This module is the face of the elementwise family and re-exports its siblings: ``floatmath``
(exp, log, trig, erf, sigmoid, ...), ``combine`` (where, clamp, maximum, lerp, ...) and
``comparison`` (==, <, &, isnan, isclose, ...). They sit below it: none imports this module.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import DType, as_dtype, float64
from ember.ops import combine, comparison, floatmath
from ember.ops.combine import *  # noqa: F403
from ember.ops.combine import where
from ember.ops.common import cast, is_float_array, promote, to_float
from ember.ops.comparison import *  # noqa: F403
from ember.ops.comparison import (
    apply_broadcasting,
    check_broadcast,
    eq,
    ge,
    gt,
    logical_and,
    lt,
    type_name,
)
from ember.ops.floatmath import *  # noqa: F403
from ember.ops.floatmath import log
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "abs",
    "absolute",
    "add",
    "ceil",
    "clone",
    "div",
    "divide",
    "fix",
    "float_power",
    "floor",
    "floor_divide",
    "fmod",
    "frac",
    "mul",
    "multiply",
    "neg",
    "negative",
    "pow",
    "relu",
    "remainder",
    "round",
    "sgn",
    "sign",
    "square",
    "sub",
    "subtract",
    "to_dtype",
    "true_divide",
    "trunc",
    *combine.__all__,
    *comparison.__all__,
    *floatmath.__all__,
]


def _shape(x: Any) -> tuple:
    return getattr(x, "shape", ())


def _quiet(xp: Any) -> Any:
    """Silence NumPy's floating-point warnings where PyTorch returns inf/NaN silently."""
    return xp.errstate(all="ignore")


def _is_float(x: Any, y: Any = None) -> bool:
    """Whether the (promoted) operands compute in a floating dtype."""
    t = x if isinstance(x, Tensor) else y
    return is_float_array(t.data)


# -- + - * / -------------------------------------------------------------------------------
class Add(Function):
    """x + y with broadcasting."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.shapes = _shape(x), _shape(y)  # save the least you need: shapes, not arrays
        return x + y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x_shape, y_shape = ctx.shapes
        return (
            sum_to(grad, x_shape) if ctx.needs_input_grad[0] else None,
            sum_to(grad, y_shape) if ctx.needs_input_grad[1] else None,
        )


class Sub(Function):
    """x - y with broadcasting."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.shapes = _shape(x), _shape(y)
        return x - y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x_shape, y_shape = ctx.shapes
        return (
            sum_to(grad, x_shape) if ctx.needs_input_grad[0] else None,
            sum_to(-grad, y_shape) if ctx.needs_input_grad[1] else None,
        )


class Mul(Function):
    """x * y with broadcasting."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)  # inputs come back as their Tensors in backward
        return x * y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        grad_x = sum_to(grad * y, _shape(x)) if ctx.needs_input_grad[0] else None
        grad_y = sum_to(grad * x, _shape(y)) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Div(Function):
    """x / y with broadcasting (true division; x / 0 is inf or NaN, silently)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        with _quiet(array_module(x, y)):
            return x / y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        grad_x = sum_to(grad / y, _shape(x)) if ctx.needs_input_grad[0] else None
        grad_y = sum_to(-grad * x / (y * y), _shape(y)) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """Add other (times alpha) to input, with broadcasting. Mirrors ``torch.add``."""
    if alpha != 1:
        other = mul(other, alpha)
    input, other = promote(input, other)
    try:
        return Add.apply(input, other)
    except ValueError:
        check_broadcast(input, other)
        raise


def _check_bool_sub(input: Any, other: Any) -> None:
    """PyTorch refuses ``-`` with a bool operand (a bool tensor or a Python bool)."""
    a = isinstance(input, bool) or (isinstance(input, Tensor) and input.data.dtype.kind == "b")
    b = isinstance(other, bool) or (isinstance(other, Tensor) and other.data.dtype.kind == "b")
    if a and b:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. "
            "Use the `^` or `logical_xor()` operator instead."
        )
    if a or b:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """Subtract other (times alpha) from input. Mirrors ``torch.sub``."""
    _check_bool_sub(input, other)
    if alpha != 1:
        other = mul(other, alpha)
    input, other = promote(input, other)
    return apply_broadcasting(Sub, input, other)


def mul(input: Any, other: Any) -> Tensor:
    """Multiply elementwise, with broadcasting and type promotion. Mirrors ``torch.mul``."""
    input, other = promote(input, other)
    try:
        return Mul.apply(input, other)
    except ValueError:
        check_broadcast(input, other)
        raise


def true_divide(input: Any, other: Any) -> Tensor:
    """Divide elementwise; integers give the default float dtype. Mirrors ``torch.true_divide``."""
    input, other = promote(input, other)
    if not _is_float(input, other):
        if isinstance(input, Tensor):
            input = to_float(input)
        if isinstance(other, Tensor):
            other = to_float(other)
    return apply_broadcasting(Div, input, other)


class DivRounded(Function):
    """x / y rounded toward zero ('trunc') or down ('floor'); piecewise constant: zero grad."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array, mode: str) -> Array:
        ctx.shapes = _shape(x), _shape(y)
        xp = array_module(x, y)
        with _quiet(xp):
            if mode == "floor":
                return xp.floor_divide(x, y)
            if is_float_array(xp.asarray(x)):
                return xp.trunc(x / y)
            out = xp.floor_divide(x, y)  # integers: floor, then step back up where it rounded
            return out + ((out * y != x) & ((x < 0) != (y < 0)))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        x_shape, y_shape = ctx.shapes
        zero = grad * 0  # as PyTorch: grad * 0, so a NaN gradient stays NaN
        return sum_to(zero, x_shape), sum_to(zero, y_shape), None


def _check_integer_division(kernel: str, input: Any, other: Any) -> None:
    """PyTorch has no bool kernel, and raises for an integer division by zero (not inf/NaN)."""
    t = input if isinstance(input, Tensor) else other
    if t.data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if isinstance(other, Tensor):
        if bool((other.data == 0).any()):
            raise RuntimeError("ZeroDivisionError")
    elif other == 0:
        raise RuntimeError("ZeroDivisionError")


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """Divide elementwise: true division, or rounded with 'trunc' or 'floor'. Mirrors ``torch.div``.

    With a rounding mode, integers stay integers and the gradient is zero.
    """
    if rounding_mode is None:
        return true_divide(input, other)
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(
            "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
            f"'{rounding_mode}'"
        )
    input, other = promote(input, other)
    if not _is_float(input, other):
        _check_integer_division(f"div_{rounding_mode}_cpu", input, other)
    return apply_broadcasting(DivRounded, input, other, rounding_mode)


def floor_divide(input: Any, other: Any) -> Tensor:
    """Divide and round down. Mirrors ``torch.floor_divide``.

    Differences from PyTorch: the gradient is zero (PyTorch raises in backward).
    """
    return div(input, other, rounding_mode="floor")


subtract, multiply, divide = sub, mul, div


class Fmod(Function):
    """C's fmod: x - trunc(x / y) * y, with the sign of x."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        with _quiet(array_module(x, y)):
            return array_module(x, y).fmod(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        grad_x = sum_to(grad, _shape(x)) if ctx.needs_input_grad[0] else None
        grad_y = None
        if ctx.needs_input_grad[1]:
            grad_y = sum_to(-grad * div(x, y, rounding_mode="trunc"), _shape(y))
        return grad_x, grad_y


class Remainder(Function):
    """Python's modulo: x - floor(x / y) * y, with the sign of y."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        with _quiet(array_module(x, y)):
            return array_module(x, y).remainder(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        grad_x = sum_to(grad, _shape(x)) if ctx.needs_input_grad[0] else None
        grad_y = None
        if ctx.needs_input_grad[1]:
            grad_y = sum_to(-grad * div(x, y, rounding_mode="floor"), _shape(y))
        return grad_x, grad_y


def fmod(input: Any, other: Any) -> Tensor:
    """Return the remainder of division with the sign of the dividend. Mirrors ``torch.fmod``."""
    input, other = promote(input, other)
    if not _is_float(input, other):
        _check_integer_division("fmod_cpu", input, other)
    return apply_broadcasting(Fmod, input, other)


def remainder(input: Any, other: Any) -> Tensor:
    """Return the remainder of division, with the sign of the divisor. Mirrors ``torch.remainder``.

    This is Python's ``%``: input - floor(input / other) * other.
    """
    input, other = promote(input, other)
    if not _is_float(input, other):
        _check_integer_division("remainder_cpu", input, other)
    return apply_broadcasting(Remainder, input, other)


# -- powers --------------------------------------------------------------------------------
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
        with _quiet(array_module(x)):
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
        with _quiet(xp):
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
        with _quiet(xp):
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
        _no_bool("pow", exponent)
        return RPowScalar.apply(exponent, input)
    input, exponent = promote(input, exponent)
    _no_bool("pow", input)
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


# -- sign and magnitude --------------------------------------------------------------------
class Neg(Function):
    """-x."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return -grad


class Abs(Function):
    """|x|; d/dx = sign(x), so abs'(0) = 0 (PyTorch's convention)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return array_module(x).abs(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * sign(x)


class Relu(Function):
    """max(x, 0); relu'(0) = 0 (PyTorch's convention)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        out = array_module(x).maximum(x, 0)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return where(gt(out, 0), grad, 0.0)


def _no_bool(kernel: str, input: Tensor) -> None:
    if input.data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def neg(input: Tensor) -> Tensor:
    """Return -input. Mirrors ``torch.neg``."""
    if input.data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(input)


def abs(input: Tensor) -> Tensor:
    """Return |input|; the gradient at 0 is 0. Mirrors ``torch.abs``."""
    _no_bool("abs_cpu", input)
    return Abs.apply(input)


def relu(input: Tensor) -> Tensor:
    """Return max(input, 0), keeping integer dtypes. Mirrors ``torch.relu``.

    The gradient at 0 is 0.
    """
    if input.data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


negative, absolute = neg, abs


# -- piecewise-constant ops: zero gradient -------------------------------------------------
class _Stepwise(Function):
    """Base of the piecewise-constant ops; their gradient is zero everywhere, as PyTorch's."""

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        return grad * 0


class Sign(_Stepwise):
    """sign(x) in x's dtype; sign(NaN) = 0 as PyTorch."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        if x.dtype.kind == "b":
            return x.copy()
        return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


class Floor(_Stepwise):
    """floor(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).floor(x)


class Ceil(_Stepwise):
    """ceil(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).ceil(x)


class Trunc(_Stepwise):
    """trunc(x): round toward zero."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).trunc(x)


class Round(_Stepwise):
    """round(x, decimals), halves to even, computed as PyTorch's kernel (x * 10^d, rint, / 10^d)."""

    @staticmethod
    def forward(ctx: Context, x: Array, decimals: int) -> Array:
        xp = array_module(x)
        if decimals == 0:
            return xp.rint(x)
        dtype = x.dtype if x.dtype.itemsize >= 4 else xp.float32  # PyTorch's opmath type
        scale = xp.asarray(10.0 ** builtins.abs(decimals), dtype=dtype)
        y = x.astype(dtype, copy=False)
        with _quiet(xp):
            out = xp.rint(y / scale) * scale if decimals < 0 else xp.rint(y * scale) / scale
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return grad * 0, None


class Frac(Function):
    """x - trunc(x); d/dx = 1. frac(inf) is NaN, silently."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with _quiet(xp):
            return x - xp.trunc(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad


def _stepwise(cls: type, kernel: str, input: Tensor) -> Tensor:
    _no_bool(kernel, input)
    if not is_float_array(input.data):
        return clone(input)  # integers are already whole: a copy, as PyTorch returns
    return cls.apply(input)


def sign(input: Tensor) -> Tensor:
    """Return -1, 0 or 1 by the sign of input (bools stay bool). Mirrors ``torch.sign``."""
    return Sign.apply(input)


def floor(input: Tensor) -> Tensor:
    """Round down; integers pass through. Mirrors ``torch.floor``."""
    return _stepwise(Floor, "floor_vml_cpu", input)


def ceil(input: Tensor) -> Tensor:
    """Round up; integers pass through. Mirrors ``torch.ceil``."""
    return _stepwise(Ceil, "ceil_vml_cpu", input)


def trunc(input: Tensor) -> Tensor:
    """Round toward zero; integers pass through. Mirrors ``torch.trunc``."""
    return _stepwise(Trunc, "trunc_vml_cpu", input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even, to ``decimals`` decimal places. Mirrors ``torch.round``."""
    _no_bool("round_vml_cpu", input)
    if not is_float_array(input.data):
        if decimals != 0:
            raise NotImplementedError(f"\"round_cpu\" not implemented for '{type_name(input)}'")
        return clone(input)
    return Round.apply(input, decimals)


def frac(input: Tensor) -> Tensor:
    """Return the fractional part, input - trunc(input). Mirrors ``torch.frac``."""
    if not is_float_array(input.data):
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{type_name(input)}'")
    return Frac.apply(input)


sgn, fix = sign, trunc


# -- dtype casts and copies ----------------------------------------------------------------
class Cast(Function):
    """x converted to another dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx: Context, x: Array, dtype: DType) -> Array:
        ctx.dtype = x.dtype
        return x.astype(dtype.np)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return to_dtype(grad, as_dtype(ctx.dtype)), None


class Clone(Function):
    """A contiguous copy of x."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).array(x, copy=True, order="C")

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad


def to_dtype(input: Tensor, dtype: DType) -> Tensor:
    """Return input cast to dtype, differentiably (the cast behind ``Tensor.to``)."""
    return Cast.apply(input, as_dtype(dtype))


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """Return a differentiable contiguous copy. Mirrors ``torch.clone``."""
    return Clone.apply(input)
