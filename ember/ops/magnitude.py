"""Sign and magnitude, one Function per op: abs, sign and relu (the positive part).

Gradients at 0 follow PyTorch's convention: abs'(0) = relu'(0) = 0, and sign's is zero
everywhere.
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.combine import where
from ember.ops.common import no_bool
from ember.ops.comparison import gt
from ember.tensor import Tensor

__all__ = ["abs", "absolute", "relu", "sgn", "sign"]


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


class Sign(Function):
    """sign(x) in x's dtype; sign(NaN) = 0 as PyTorch. Piecewise constant: zero gradient."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        if x.dtype.kind == "b":
            return x.copy()
        return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad * 0


def abs(input: Tensor) -> Tensor:
    """Return |input|; the gradient at 0 is 0. Mirrors ``torch.abs``."""
    no_bool("abs_cpu", input)
    return Abs.apply(input)


def relu(input: Tensor) -> Tensor:
    """Return max(input, 0), keeping integer dtypes. Mirrors ``torch.relu``.

    The gradient at 0 is 0.
    """
    if input.data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


def sign(input: Tensor) -> Tensor:
    """Return -1, 0 or 1 by the sign of input (bools stay bool). Mirrors ``torch.sign``."""
    return Sign.apply(input)


absolute, sgn = abs, sign
