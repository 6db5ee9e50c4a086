"""Linear algebra: matrix products, decompositions and solvers."""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import promote
from ember.ops.shape import sum_to, transpose
from ember.tensor import Tensor

__all__ = ["matmul"]


class MatMul(Function):
    """x @ y for matrices and batches of matrices (broadcast batch dims)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return array_module(x).matmul(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, y = ctx.saved_tensors
        grad_x = (
            sum_to(matmul(grad, transpose(y, -1, -2)), x.shape) if ctx.needs_input_grad[0] else None
        )
        grad_y = (
            sum_to(matmul(transpose(x, -1, -2), grad), y.shape) if ctx.needs_input_grad[1] else None
        )
        return grad_x, grad_y


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with broadcasting. Mirrors ``torch.matmul``."""
    input, other = promote(input, other)
    return MatMul.apply(input, other)
