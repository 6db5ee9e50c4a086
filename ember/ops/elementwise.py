"""Elementwise arithmetic, one Function per op: + - * /, //, %, fmod, negation and dtype casts.

forward() computes on backend arrays; backward() uses Ember ops on Tensors, so every gradient
is itself differentiable (create_graph=True). Binary ops promote dtypes as PyTorch does
(``promote``) and turn NumPy's broadcast error into PyTorch's (only on the error path, so the
hot ops pay nothing for it).

The rest of the elementwise family sits in sibling modules: ``powers`` (pow, square),
``rounding`` (floor, round, ...), ``magnitude`` (abs, sign, relu), ``floatmath`` (exp, log,
sigmoid, erf, ...), ``trig`` (sin, tanh, atan2, ...), ``combine`` (where, clamp, maximum, lerp,
...) and ``comparison`` (==, <, &, isnan, isclose, ...).
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import DType, as_dtype
from ember.ops.common import is_float_array, promote, quiet, to_float
from ember.ops.comparison import apply_broadcasting, check_broadcast
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "add",
    "clone",
    "div",
    "divide",
    "floor_divide",
    "fmod",
    "mul",
    "multiply",
    "neg",
    "negative",
    "remainder",
    "sub",
    "subtract",
    "to_dtype",
    "true_divide",
]


def _shape(x: Any) -> tuple:
    return getattr(x, "shape", ())


def _is_float(x: Any, y: Any = None) -> bool:
    """Whether the (promoted) operands compute in a floating dtype."""
    t = x if isinstance(x, Tensor) else y
    return is_float_array(t.data)


# -- + - * / -------------------------------------------------------------------------------
class Add(Function):
    """x + y with broadcasting."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        if ctx.needs_input_grad:  # save the least you need, and only when recording
            ctx.shapes = _shape(x), _shape(y)
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
        if ctx.needs_input_grad:
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
        with quiet(array_module(x, y)):
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
        with quiet(xp):
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
        with quiet(array_module(x, y)):
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
        with quiet(array_module(x, y)):
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


# -- negation ------------------------------------------------------------------------------
class Neg(Function):
    """-x."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return -grad


def neg(input: Tensor) -> Tensor:
    """Return -input. Mirrors ``torch.neg``."""
    if input.data.dtype.kind == "b":
        raise RuntimeError(
            "Negation, the `-` operator, on a bool tensor is not supported. If you are trying "
            "to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    return Neg.apply(input)


negative = neg


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
