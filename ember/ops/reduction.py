"""Reductions: sums, means and friends over one or more dims, with ``keepdim``."""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array
from ember.backend.dtypes import as_dtype, int64
from ember.ops.common import cast, wrap_dims
from ember.ops.shape import broadcast_to, reshape
from ember.tensor import Tensor

__all__ = ["mean", "sum"]


def _kept_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


class Sum(Function):
    """Sum over dims; backward broadcasts the gradient back."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        ctx.in_shape, ctx.dims = x.shape, dims
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        grad = reshape(grad, _kept_shape(ctx.in_shape, ctx.dims))
        return broadcast_to(grad, ctx.in_shape), None, None


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over dims (all by default). Mirrors ``torch.sum``; bools and ints sum to int64."""
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    elif not input.dtype.is_floating_point:
        input = cast(input, int64)
    dims = wrap_dims(dim, input.data.ndim, "sum")
    return Sum.apply(input, dims, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Average over dims (all by default). Mirrors ``torch.mean``."""
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    if not input.dtype.is_floating_point:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name.capitalize()}"
        )
    dims = wrap_dims(dim, input.data.ndim, "mean")
    count = 1
    for d in dims:
        count *= input.data.shape[d]
    return (
        Sum.apply(input, dims, keepdim) / count
        if count
        else Sum.apply(input, dims, keepdim) * float("nan")
    )
