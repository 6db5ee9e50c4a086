"""Float-bit and integer elementwise extras: copysign, frexp/ldexp, logaddexp, gcd/lcm, ...

Binary ops promote their operands as PyTorch does (``promote``) and raise PyTorch's errors
for dtypes its kernels lack. forward() computes on backend arrays; backward() composes Ember
ops, so the gradients that exist are differentiable again.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.combine import where
from ember.ops.common import is_float_array, promote, quiet, result_type, return_type, to_float
from ember.ops.comparison import _binary, apply_broadcasting, eq, require_tensor, type_name
from ember.ops.creation import zeros_like
from ember.ops.elementwise import div, mul, sub
from ember.ops.floatmath import exp2, sigmoid
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "copysign",
    "deg2rad",
    "frexp",
    "gcd",
    "heaviside",
    "lcm",
    "ldexp",
    "logaddexp",
    "logaddexp2",
    "nextafter",
    "positive",
    "rad2deg",
    "rsub",
    "signbit",
]

_frexp_result = return_type("frexp", ("mantissa", "exponent"))


def _not_implemented(kernel: str, x: Tensor) -> NotImplementedError:
    return NotImplementedError(f"\"{kernel}_cpu\" not implemented for '{type_name(x)}'")


def _shape(x: Any) -> tuple:
    return getattr(x, "shape", ())


# -- sign bits -------------------------------------------------------------------------------
class Copysign(Function):
    """|x| with the sign of y; d/dx = out / x (0 at x == 0), d/dy = 0."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Any) -> Array:
        out = array_module(x).copysign(x, y)
        ctx.save_for_backward(x, out)
        ctx.y_shape = _shape(y)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        grad_x = grad_y = None
        if ctx.needs_input_grad[0]:
            ratio = where(eq(x, 0), 0.0, div(out, x))
            grad_x = sum_to(grad * ratio, x.shape)
        if ctx.needs_input_grad[1]:
            grad_y = sum_to(zeros_like(grad), ctx.y_shape)
        return grad_x, grad_y


def copysign(input: Tensor, other: Any) -> Tensor:
    """Return the magnitude of input with the sign of other; ints give floats.

    Mirrors ``torch.copysign``. The gradient to other is zero.
    """
    input, other = promote(input, other)
    input = to_float(input)
    if isinstance(other, Tensor):
        other = to_float(other)
    return apply_broadcasting(Copysign, input, other)


def signbit(input: Tensor) -> Tensor:
    """Return whether the sign bit is set (True for -0.0). Mirrors ``torch.signbit``."""
    x = input.data
    xp = array_module(x)
    if x.dtype.kind == "b":
        return Tensor(xp.zeros(x.shape, dtype=bool))
    if x.dtype.kind == "V":  # ml_dtypes' bfloat16 has no signbit loop
        x = x.astype(xp.float32)
    return Tensor(xp.signbit(x))


class Heaviside(Function):
    """values where x == 0, else (x > 0); PyTorch defines no derivative."""

    @staticmethod
    def forward(ctx: Context, x: Array, values: Array) -> Array:
        xp = array_module(x)
        return xp.where(x == 0, values, x > 0).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        raise RuntimeError("derivative for aten::heaviside is not implemented")


def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """Return the Heaviside step of input, values where input is 0. Mirrors ``torch.heaviside``.

    Backward raises, as PyTorch has no derivative for it.
    """
    require_tensor("heaviside", values, "values")
    if values.dtype is not input.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    return apply_broadcasting(Heaviside, input, values)


class Nextafter(Function):
    """The next float after x towards y; as PyTorch, grad to x where x != y, zero to y."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.shapes = x.shape, y.shape
        ctx.moved = x != y
        return array_module(x, y).nextafter(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x_shape, y_shape = ctx.shapes
        grad_x = None
        if ctx.needs_input_grad[0]:
            grad_x = sum_to(mul(grad, Tensor(ctx.moved.astype(grad.data.dtype))), x_shape)
        grad_y = sum_to(zeros_like(grad), y_shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """Return the next representable float after input towards other. Mirrors ``torch.nextafter``.

    Differences from PyTorch: bfloat16 is not supported (NumPy has no loop for it).
    """
    require_tensor("nextafter", other)
    input, other = promote(input, other)
    if input.data.dtype.kind != "f":
        raise _not_implemented("nextafter", input)
    return apply_broadcasting(Nextafter, input, other)


# -- mantissa and exponent -------------------------------------------------------------------
class Frexp(Function):
    """(mantissa, exponent) with x = mantissa * 2**exponent; d mantissa/dx = 2**-exponent."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> tuple[Array, Array]:
        xp = array_module(x)
        source = x.astype(xp.float32) if x.dtype.kind == "V" else x
        mantissa, exponent = xp.frexp(source)
        ctx.scale = xp.ldexp(xp.ones((), dtype=x.dtype), -exponent)
        return mantissa.astype(x.dtype, copy=False), exponent.astype(xp.int32, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor, grad_exponent: Tensor) -> Tensor:
        return mul(grad, Tensor(ctx.scale))


def frexp(input: Tensor) -> tuple[Tensor, Tensor]:
    """Split input into a mantissa in [0.5, 1) and an int32 exponent. Mirrors ``torch.frexp``."""
    if not is_float_array(input.data):
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    return _frexp_result(*Frexp.apply(input))


def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """Return input * 2**other in a floating dtype. Mirrors ``torch.ldexp``.

    Differences from PyTorch: with an integer other, input's gradient is 2**other also for
    negative exponents (PyTorch's backward computes 2**other in integers and gives 0 there).
    """
    require_tensor("ldexp", other)
    dtype = result_type(input, other)
    input, other = promote(input, other)
    if not dtype.is_floating_point:
        input, other = to_float(input), to_float(other)
    return mul(input, exp2(other))


# -- log-sum of exponentials -----------------------------------------------------------------
class LogAddExp(Function):
    """log(e^x + e^y) = max + log1p(e^-|x - y|); d/dx = sigmoid(x - y) (base 2: scaled by ln 2)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array, base2: bool) -> Array:
        ctx.save_for_backward(x, y)
        ctx.base2 = base2
        xp = array_module(x, y)
        dtype = x.dtype
        if dtype.itemsize < 4:  # half precision computes in float32, as PyTorch's opmath
            x, y = x.astype(xp.float32), y.astype(xp.float32)
        with quiet(xp):
            big = xp.maximum(x, y)
            delta = -xp.abs(x - y)
            if base2:
                out = big + xp.log1p(xp.exp2(delta)) / math.log(2)
            else:
                out = big + xp.log1p(xp.exp(delta))
            out = xp.where(x == y, x + (1 if base2 else math.log(2)), out)
        return out.astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        diff = sub(x, y)
        if ctx.base2:
            diff = diff * math.log(2)
        grad_x = sum_to(grad * sigmoid(diff), x.shape) if ctx.needs_input_grad[0] else None
        grad_y = sum_to(grad * sigmoid(-diff), y.shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y, None


def _logaddexp(op: str, input: Tensor, other: Tensor, base2: bool) -> Tensor:
    require_tensor(op, input, "input", 1)
    require_tensor(op, other)
    input, other = promote(input, other)
    if not is_float_array(input.data):
        raise _not_implemented(op, input)
    return apply_broadcasting(LogAddExp, input, other, base2)


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """Return log(exp(input) + exp(other)), computed stably. Mirrors ``torch.logaddexp``."""
    return _logaddexp("logaddexp", input, other, False)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """Return log2(2**input + 2**other), computed stably. Mirrors ``torch.logaddexp2``."""
    return _logaddexp("logaddexp2", input, other, True)


# -- integer number theory -------------------------------------------------------------------
def _integer_binary(op: str, input: Tensor, other: Tensor) -> Tensor:
    require_tensor(op, other)
    dtype = result_type(input, other)
    if dtype.is_floating_point or dtype.name == "bool":
        probe = input if input.dtype is dtype else other
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for '{type_name(probe)}'")
    xp = array_module(input.data)
    return _binary(getattr(xp, op), input, other)


def gcd(input: Tensor, other: Tensor) -> Tensor:
    """Return the greatest common divisor, elementwise (integers only). Mirrors ``torch.gcd``."""
    return _integer_binary("gcd", input, other)


def lcm(input: Tensor, other: Tensor) -> Tensor:
    """Return the least common multiple, elementwise (integers only). Mirrors ``torch.lcm``."""
    return _integer_binary("lcm", input, other)


# -- angles and signs ------------------------------------------------------------------------
def deg2rad(input: Tensor) -> Tensor:
    """Convert degrees to radians; ints and bools give floats. Mirrors ``torch.deg2rad``."""
    return mul(to_float(input), math.pi / 180)


def rad2deg(input: Tensor) -> Tensor:
    """Convert radians to degrees; ints and bools give floats. Mirrors ``torch.rad2deg``."""
    return mul(to_float(input), 180 / math.pi)


def positive(input: Tensor) -> Tensor:
    """Return input itself (unary plus). Mirrors ``torch.positive``."""
    if input.data.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """Return other - alpha * input, with broadcasting. Mirrors ``torch.rsub``."""
    if (
        isinstance(alpha, float)
        and not input.dtype.is_floating_point
        and not (isinstance(other, Tensor) and other.dtype.is_floating_point)
        and not isinstance(other, float)
    ):
        raise RuntimeError(
            "For integral input tensors, argument alpha must not be a floating point number."
        )
    return sub(other, input, alpha=alpha)
