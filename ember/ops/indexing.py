"""Indexing: ``x[index]`` and its writes, gathers and scatters."""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.tensor import Tensor

__all__ = ["getitem"]


def _raw_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index.data if isinstance(index, Tensor) else index


class GetItem(Function):
    """x[index]; backward scatters the gradient into zeros of x's shape."""

    @staticmethod
    def forward(ctx: Context, x: Array, index: Any) -> Array:
        ctx.in_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return IndexPutZeros.apply(grad, ctx.in_shape, ctx.index), None


class IndexPutZeros(Function):
    """zeros(shape) with grad added at index (accumulating repeats); backward is getitem."""

    @staticmethod
    def forward(ctx: Context, grad: Array, shape: tuple, index: Any) -> Array:
        ctx.index = index
        xp = array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        xp.add.at(out, index, grad)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return GetItem.apply(grad, ctx.index), None, None


def getitem(input: Tensor, index: Any) -> Tensor:
    """Return input[index]. Mirrors ``torch.Tensor.__getitem__``."""
    return GetItem.apply(input, _raw_index(index))
