"""Scans: cumulative sums, products, maxima and minima along one dim.

``Cumsum`` and ``ReverseCumsum`` are each other's backward (as SumTo and BroadcastTo are), so
gradients of gradients flow. ``cummax``/``cummin`` gather their values at the returned indices
(``TakeAlong``), whose backward scatter-adds the gradient to those indices.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import is_grad_enabled
from ember.backend import Array, array_module
from ember.backend.dtypes import as_dtype, int64
from ember.ops.common import cast, is_float_array, return_type, wrap_dim
from ember.ops.selection import TakeAlong
from ember.ops.shape import reshape
from ember.tensor import Tensor

__all__ = ["cummax", "cummin", "cumprod", "cumsum"]


class Cumsum(Function):
    """Running sum along dim; backward is the running sum from the end (ReverseCumsum)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> Array:
        ctx.dim = dim
        return array_module(x).cumsum(x, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return ReverseCumsum.apply(grad, ctx.dim), None


class ReverseCumsum(Function):
    """Running sum along dim from the end: out[i] = sum(x[i:]); backward is Cumsum."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> Array:
        ctx.dim = dim
        xp = array_module(x)
        return xp.ascontiguousarray(xp.flip(xp.cumsum(xp.flip(x, dim), axis=dim), dim))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Cumsum.apply(grad, ctx.dim), None


class Cumprod(Function):
    """Running product along dim; d out_k / d x_i = prod of x_j for j <= k, j != i.

    Exact with zeros, to every order: where x_i != 0, grad_i = rcumsum(grad * out)_i / x_i;
    at a zero, grad_i = rcumsum(grad * cumprod(x with x_i set to one))_i, a polynomial without
    division (PyTorch's "omitted products"). Each slice's r-th zero is handled in one batch.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> Array:
        ctx.dim = dim
        out = array_module(x).cumprod(x, axis=dim)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        dim, xp = ctx.dim, array_module(x.data)
        zeros = x.data == 0
        if not zeros.any():
            return ReverseCumsum.apply(grad * out, dim) / x, None
        mask = Tensor(zeros.astype(x.data.dtype))
        safe_x = x - x * mask + mask  # zeros -> 1
        # (1 - mask): a zero's own term is 0 and must stay 0 to every order.
        result = (1 - mask) * ReverseCumsum.apply(grad * out, dim) / safe_x
        rank = xp.cumsum(zeros, axis=dim) * zeros  # r at a slice's r-th zero, 0 elsewhere
        # NOTE: to first order the zeros after a slice's first one have gradient 0 (their
        # products hold the first zero); their terms only matter when a graph is being built.
        last = int(rank.max()) if is_grad_enabled() else 1
        for r in range(1, last + 1):
            hit = Tensor((rank == r).astype(x.data.dtype))
            omitted = Cumprod.apply(x - x * hit + hit, dim)  # the r-th zero -> 1
            result = result + hit * ReverseCumsum.apply(grad * omitted, dim)
        return result, None


def _scan(cls: type, input: Tensor, dim: int, dtype: Any, op: str) -> Tensor:
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    x = input.data
    dim = wrap_dim(dim, x.ndim, op)
    if not is_float_array(x):  # ints and bools accumulate in int64, without gradient
        x = x.reshape(-1) if x.ndim == 0 else x
        out = getattr(array_module(x), op)(x, axis=dim, dtype=int64.np)
        return Tensor(out.reshape(input.data.shape))
    if x.ndim == 0:
        return reshape(cls.apply(reshape(input, (1,)), 0), ())
    return cls.apply(input, dim)


def cumsum(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Return the running sum along dim. Mirrors ``torch.cumsum``; ints accumulate in int64."""
    return _scan(Cumsum, input, dim, dtype, "cumsum")


def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Return the running product along dim. Mirrors ``torch.cumprod``.

    The gradient is exact when the input holds zeros.
    """
    return _scan(Cumprod, input, dim, dtype, "cumprod")


def _cum_extreme(input: Tensor, dim: int, op: str) -> Any:
    x = input.data
    xp = array_module(x)
    dim = wrap_dim(dim, x.ndim, op)
    flat = x.reshape(-1) if x.ndim == 0 else x
    ufunc = xp.maximum if op == "cummax" else xp.minimum
    running = ufunc.accumulate(flat, axis=dim)
    hit = flat == running  # ties move the index to the latest, as in PyTorch
    if is_float_array(flat):
        hit |= xp.isnan(flat)  # NaN propagates, and its index with it
    pos = xp.arange(flat.shape[dim]).reshape((-1,) + (1,) * (flat.ndim - dim - 1))
    index = xp.maximum.accumulate(xp.where(hit, pos, 0), axis=dim).astype(int64.np)
    values = TakeAlong.apply(input if x.ndim else reshape(input, (1,)), index, dim)
    if x.ndim == 0:
        values, index = reshape(values, ()), index.reshape(())
    return return_type(op)(values, Tensor(index))


def cummax(input: Tensor, dim: int) -> Any:
    """Return (values, indices) of the running max along dim. Mirrors ``torch.cummax``.

    Ties take the latest index; the gradient goes to the indexed elements.
    """
    return _cum_extreme(input, dim, "cummax")


def cummin(input: Tensor, dim: int) -> Any:
    """Return (values, indices) of the running min along dim. Mirrors ``torch.cummin``."""
    return _cum_extreme(input, dim, "cummin")
