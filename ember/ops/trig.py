"""Trigonometric and hyperbolic functions, one Function per op, with atan2 and hypot.

Integer and bool inputs compute in the default float dtype, as PyTorch's (``to_float``).
forward() silences NumPy's warnings where PyTorch returns NaN silently (sin(inf), asin(2));
backward() composes Ember ops, so gradients are differentiable again.
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.combine import where
from ember.ops.common import is_float_array, promote, quiet, to_float
from ember.ops.comparison import apply_broadcasting, eq, require_tensor, type_name
from ember.ops.floatmath import rsqrt
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "acos",
    "acosh",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "cos",
    "cosh",
    "hypot",
    "sin",
    "sinh",
    "tan",
    "tanh",
]


# -- trigonometric -------------------------------------------------------------------------
class Sin(Function):
    """sin(x); d/dx = cos(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):  # sin(inf) is NaN, silently
            return xp.sin(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * cos(x)


class Cos(Function):
    """cos(x); d/dx = -sin(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):  # cos(inf) is NaN, silently
            return xp.cos(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return -grad * sin(x)


class Tan(Function):
    """tan(x); d/dx = 1 + tan(x)^2, so we keep the output."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            out = xp.tan(x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (out,) = ctx.saved_tensors
        return grad * (1 + out * out)


class Asin(Function):
    """asin(x); d/dx = 1 / sqrt(1 - x^2). NaN outside [-1, 1]."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.arcsin(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * rsqrt(1 - x * x)


class Acos(Function):
    """acos(x); d/dx = -1 / sqrt(1 - x^2). NaN outside [-1, 1]."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.arccos(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return -grad * rsqrt(1 - x * x)


class Atan(Function):
    """atan(x); d/dx = 1 / (1 + x^2)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return array_module(x).arctan(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (x * x + 1)


def sin(input: Tensor) -> Tensor:
    """Return the sine. Mirrors ``torch.sin``."""
    return Sin.apply(to_float(input))


def cos(input: Tensor) -> Tensor:
    """Return the cosine. Mirrors ``torch.cos``."""
    return Cos.apply(to_float(input))


def tan(input: Tensor) -> Tensor:
    """Return the tangent. Mirrors ``torch.tan``."""
    return Tan.apply(to_float(input))


def asin(input: Tensor) -> Tensor:
    """Return the arcsine. Mirrors ``torch.asin``."""
    return Asin.apply(to_float(input))


def acos(input: Tensor) -> Tensor:
    """Return the arccosine. Mirrors ``torch.acos``."""
    return Acos.apply(to_float(input))


def atan(input: Tensor) -> Tensor:
    """Return the arctangent. Mirrors ``torch.atan``."""
    return Atan.apply(to_float(input))


class Atan2(Function):
    """atan2(x, y), the angle of the point (y, x); d/dx = y / (x^2 + y^2), 0 where that is 0/0."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return array_module(x, y).arctan2(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        square_norm = x * x + y * y
        inverse = where(eq(square_norm, 0), 0.0, 1 / square_norm)
        grad_x = sum_to(grad * y * inverse, x.shape) if ctx.needs_input_grad[0] else None
        grad_y = sum_to(-grad * x * inverse, y.shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


class Hypot(Function):
    """sqrt(x^2 + y^2) without overflow; d/dx = x / out (NaN at the origin, as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        out = array_module(x, y).hypot(x, y)
        ctx.save_for_backward(x, y, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y, out = ctx.saved_tensors
        grad_x = sum_to(grad * x / out, x.shape) if ctx.needs_input_grad[0] else None
        grad_y = sum_to(grad * y / out, y.shape) if ctx.needs_input_grad[1] else None
        return grad_x, grad_y


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """Return the angle of the point (other, input); ints give floats. Mirrors ``torch.atan2``."""
    require_tensor("atan2", other)
    input, other = promote(to_float(input), to_float(other))
    return apply_broadcasting(Atan2, input, other)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """Return sqrt(input^2 + other^2). Mirrors ``torch.hypot``."""
    require_tensor("hypot", other)
    input, other = promote(input, other)
    if not is_float_array(input.data):
        raise NotImplementedError(f"\"hypot_cpu\" not implemented for '{type_name(input)}'")
    return apply_broadcasting(Hypot, input, other)


arcsin, arccos, arctan, arctan2 = asin, acos, atan, atan2


# -- hyperbolic ----------------------------------------------------------------------------
class Sinh(Function):
    """sinh(x); d/dx = cosh(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.sinh(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * cosh(x)


class Cosh(Function):
    """cosh(x); d/dx = sinh(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.cosh(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * sinh(x)


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
        return TanhBackward.apply(grad, out)


class TanhBackward(Function):
    """grad * (1 - out^2) in one op (PyTorch's fused tanh_backward); differentiable again."""

    @staticmethod
    def forward(ctx: Context, grad: Array, out: Array) -> Array:
        ctx.save_for_backward(grad, out)
        return grad * (1 - out * out)

    @staticmethod
    def backward(ctx: Context, g: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, out = ctx.saved_tensors
        grad_grad = g * (1 - out * out) if ctx.needs_input_grad[0] else None
        grad_out = g * grad * out * -2 if ctx.needs_input_grad[1] else None
        return grad_grad, grad_out


class Asinh(Function):
    """asinh(x); d/dx = 1 / sqrt(x^2 + 1)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        return array_module(x).arcsinh(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * rsqrt(x * x + 1)


class Acosh(Function):
    """acosh(x); d/dx = 1 / sqrt(x^2 - 1). NaN below 1."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.arccosh(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad * rsqrt(x * x - 1)


class Atanh(Function):
    """atanh(x); d/dx = 1 / (1 - x^2). +-inf at +-1, NaN beyond."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        with quiet(xp):
            return xp.arctanh(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (x,) = ctx.saved_tensors
        return grad / (1 - x * x)


def sinh(input: Tensor) -> Tensor:
    """Return the hyperbolic sine. Mirrors ``torch.sinh``."""
    return Sinh.apply(to_float(input))


def cosh(input: Tensor) -> Tensor:
    """Return the hyperbolic cosine. Mirrors ``torch.cosh``."""
    return Cosh.apply(to_float(input))


def tanh(input: Tensor) -> Tensor:
    """Return the hyperbolic tangent. Mirrors ``torch.tanh``."""
    return Tanh.apply(to_float(input))


def asinh(input: Tensor) -> Tensor:
    """Return the inverse hyperbolic sine. Mirrors ``torch.asinh``."""
    return Asinh.apply(to_float(input))


def acosh(input: Tensor) -> Tensor:
    """Return the inverse hyperbolic cosine. Mirrors ``torch.acosh``."""
    return Acosh.apply(to_float(input))


def atanh(input: Tensor) -> Tensor:
    """Return the inverse hyperbolic tangent. Mirrors ``torch.atanh``."""
    return Atanh.apply(to_float(input))


arcsinh, arccosh, arctanh = asinh, acosh, atanh
