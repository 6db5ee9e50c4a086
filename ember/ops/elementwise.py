"""Elementwise primitives, one Function per op.

forward() computes on backend arrays; backward() uses Ember ops on Tensors, so every
gradient is itself differentiable (create_graph=True).
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import DType, as_dtype
from ember.ops.common import promote, to_float
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "add",
    "clone",
    "div",
    "exp",
    "log",
    "mul",
    "neg",
    "pow",
    "sub",
    "tanh",
    "to_dtype",
]


def _shape(x: Any) -> tuple:
    return getattr(x, "shape", ())


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
    """x / y with broadcasting (true division)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return x / y

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        grad_x = sum_to(grad / y, _shape(x)) if ctx.needs_input_grad[0] else None
        grad_y = sum_to(-grad * x / (y * y), _shape(y)) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Neg(Function):
    """-x."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return -x

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return -grad


class PowScalar(Function):
    """x ** p for a Python number p; d/dx = p * x ** (p - 1)."""

    @staticmethod
    def forward(ctx: Context, x: Array, p: float) -> Array:
        ctx.save_for_backward(x)
        ctx.p = p
        return x**p

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        p = ctx.p
        if p == 0:
            return grad * 0
        return grad * p * x ** (p - 1)


class Exp(Function):
    """exp(x); d/dx = exp(x), so we keep the output."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        out = array_module(x).exp(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * out


class Log(Function):
    """log(x); d/dx = 1 / x."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return array_module(x).log(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / x


class Tanh(Function):
    """tanh(x); d/dx = 1 - tanh(x)**2, so we keep the output rather than the input."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        out = array_module(x).tanh(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (1 - out * out)


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


def add(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """Add other (times alpha) to input, with broadcasting. Mirrors ``torch.add``."""
    if alpha != 1:
        other = mul(other, alpha)
    input, other = promote(input, other)
    return Add.apply(input, other)


def sub(input: Any, other: Any, *, alpha: Any = 1) -> Tensor:
    """Subtract other (times alpha) from input. Mirrors ``torch.sub``."""
    if alpha != 1:
        other = mul(other, alpha)
    input, other = promote(input, other)
    return Sub.apply(input, other)


def mul(input: Any, other: Any) -> Tensor:
    """Multiply elementwise, with broadcasting and type promotion. Mirrors ``torch.mul``."""
    input, other = promote(input, other)
    return Mul.apply(input, other)


def div(input: Any, other: Any, *, rounding_mode: str | None = None) -> Tensor:
    """Divide elementwise (true division: ints give floats). Mirrors ``torch.div``."""
    input, other = promote(input, other)
    if isinstance(input, Tensor):
        input = to_float(input)
    if isinstance(other, Tensor):
        other = to_float(other)
    return Div.apply(input, other)


def neg(input: Tensor) -> Tensor:
    """Return -input. Mirrors ``torch.neg``."""
    return Neg.apply(input)


def pow(input: Any, exponent: Any) -> Tensor:
    """Raise input to exponent elementwise. Mirrors ``torch.pow``."""
    if isinstance(input, Tensor) and isinstance(exponent, (int, float)):
        input, exponent = promote(input, exponent)
        return PowScalar.apply(input, exponent)
    raise NotImplementedError("pow with a tensor exponent: see the full elementwise module")


def exp(input: Tensor) -> Tensor:
    """Return e ** input. Mirrors ``torch.exp``."""
    return Exp.apply(to_float(input))


def log(input: Tensor) -> Tensor:
    """Return the natural logarithm. Mirrors ``torch.log``."""
    return Log.apply(to_float(input))


def tanh(input: Tensor) -> Tensor:
    """Return the hyperbolic tangent. Mirrors ``torch.tanh``."""
    return Tanh.apply(to_float(input))


def to_dtype(input: Tensor, dtype: DType) -> Tensor:
    """Return input cast to dtype, differentiably (the cast behind ``Tensor.to``)."""
    return Cast.apply(input, as_dtype(dtype))


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """Return a differentiable contiguous copy. Mirrors ``torch.clone``."""
    return Clone.apply(input)
