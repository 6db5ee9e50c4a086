"""Masks and flat indices: masked_fill, masked_select, masked_scatter, take, nonzero, argwhere.

The gathers and scatters reuse ``indexing.py``'s ``GetItem`` and ``IndexPutZeros`` (with the
mask as the advanced index), so their gradients flow as indexing's do. ``nonzero`` and
``argwhere`` return int64 indices and are not differentiable.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import CPP_NAMES
from ember.ops.common import cast
from ember.ops.indexing import ALL, GetItem, IndexPutZeros, type_label
from ember.ops.shape import broadcast_shape, broadcast_to, reshape, sum_to
from ember.tensor import Tensor

__all__ = [
    "argwhere",
    "masked_fill",
    "masked_scatter",
    "masked_select",
    "nonzero",
    "take",
]


class MaskedFill(Function):
    """where(mask, value, x), broadcast; value a scalar or a 0-d array."""

    @staticmethod
    def forward(ctx: Context, x: Array, mask: Array, value: Any) -> Array:
        ctx.shape, ctx.mask = x.shape, mask
        xp = array_module(x)
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = sum_to(MaskedFill.apply(grad, ctx.mask, 0), ctx.shape)
        if ctx.needs_input_grad[2]:
            grad_value = sum_to(MaskedFill.apply(grad, ~ctx.mask, 0), ())
        return grad_x, None, grad_value


class MaskedScatter(Function):
    """x broadcast to mask, with the first count(mask) elements of source written at mask."""

    @staticmethod
    def forward(ctx: Context, x: Array, mask: Array, source: Array) -> Array:
        xp = array_module(x)
        shape = xp.broadcast_shapes(x.shape, mask.shape)
        mask = xp.broadcast_to(mask, shape)
        ctx.shape, ctx.mask, ctx.source_size = x.shape, mask, source.shape
        out = xp.array(xp.broadcast_to(x, shape), copy=True)
        out[mask] = source.reshape(-1)[: out[mask].size]
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        grad_x = grad_source = None
        if ctx.needs_input_grad[0]:
            grad_x = sum_to(MaskedFill.apply(grad, ctx.mask, 0), ctx.shape)
        if ctx.needs_input_grad[2]:
            picked = GetItem.apply(grad, ALL, (ctx.mask,))
            numel = 1
            for n in ctx.source_size:
                numel *= n
            flat = IndexPutZeros.apply(picked, (numel,), (slice(0, picked.data.size),), None)
            grad_source = reshape(flat, ctx.source_size)
        return grad_x, None, grad_source


def _check_bool_mask(mask: Tensor, op: str) -> None:
    if mask.data.dtype.kind != "b":
        raise RuntimeError(
            f"{op} only supports boolean masks, "
            f"but got mask with dtype {CPP_NAMES[mask.dtype.name]}"
        )


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """Return input with value where mask is True (mask broadcasts). Mirrors ``torch.masked_fill``.

    ``value`` is a number or a 0-d tensor; a tensor value gets the sum of the masked gradient.
    """
    _check_bool_mask(mask, "masked_fill_")
    if input.data.shape != mask.data.shape:
        broadcast_shape(mask.data.shape, input.data.shape)
    if isinstance(value, Tensor):
        if value.data.ndim:
            raise RuntimeError(
                "masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.data.ndim} dimension(s)."
            )
        value = cast(value, input.dtype)
    return MaskedFill.apply(input, mask.data, value)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """Return the 1-D tensor of input's elements where mask (broadcast) is True.

    Mirrors ``torch.masked_select``.
    """
    if mask.data.dtype.kind != "b":
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    shape = broadcast_shape(mask.data.shape, input.data.shape)
    xp = array_module(input.data)
    if input.data.shape != shape:
        input = broadcast_to(input, shape)
    return GetItem.apply(input, ALL, (xp.broadcast_to(mask.data, shape),))


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """Return input with source's elements, in order, written where mask is True.

    Mirrors ``torch.masked_scatter``.
    """
    if mask.data.dtype.kind != "b":
        raise RuntimeError(
            "masked_scatter_ only supports boolean masks, but got mask with dtype "
            f"{type_label(mask)}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{type_label(input)} and {type_label(source)}"
        )
    shape = broadcast_shape(mask.data.shape, input.data.shape)
    count = int(array_module(mask.data).broadcast_to(mask.data, shape).sum())
    if source.data.size < count:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, mask.data, source)


def take(input: Tensor, index: Tensor) -> Tensor:
    """Return input's elements at index, treating input as 1-D. Mirrors ``torch.take``."""
    if not isinstance(index, Tensor):
        raise TypeError(
            f"take(): argument 'index' (position 2) must be Tensor, not {type(index).__name__}"
        )
    if index.data.dtype.name != "int64":
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {type_label(index)}")
    numel = input.data.size
    idx = index.data
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        for bad in (low, high):
            if not -numel <= bad < numel:
                raise IndexError(
                    f"out of range: tried to access index {bad} on a tensor of {numel} elements."
                )
    return GetItem.apply(reshape(input, -1), ALL, (idx,))


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Tensor | tuple[Tensor, ...]:
    """Return the indices of the nonzero elements, (n, ndim) int64. Mirrors ``torch.nonzero``.

    With ``as_tuple=True``, one 1-D index tensor per dim (a 0-d input counts as 1-D).
    """
    data = input.data
    xp = array_module(data)
    if as_tuple:
        found = xp.nonzero(data.reshape(-1) if data.ndim == 0 else data)
        return tuple(Tensor(i.astype(xp.int64, copy=False)) for i in found)
    if data.ndim == 0:
        return Tensor(xp.zeros((int(data != 0), 0), dtype=xp.int64))
    return Tensor(xp.stack(xp.nonzero(data), axis=1).astype(xp.int64, copy=False))


def argwhere(input: Tensor) -> Tensor:
    """Return the indices of the nonzero elements, (n, ndim) int64. Mirrors ``torch.argwhere``."""
    return nonzero(input)
