"""Order statistics: max, min, argmax, median, mode, kthvalue and friends.

Reductions that return one element of each slice (with or without its index). Those that
return indices route the gradient to the selected element (``TakeAlong``, whose backward
``PutAlong`` scatters into zeros); the full reductions (``amax``, ``max()``, ``median()``)
share it evenly among tied elements, as PyTorch does.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import int64
from ember.ops.common import is_float_array, return_type, wrap_dim
from ember.ops.elementwise import mul
from ember.ops.reduction import expand_grad, kept_shape, reduce_dims
from ember.ops.shape import reshape
from ember.tensor import Tensor

__all__ = [
    "amax",
    "amin",
    "aminmax",
    "argmax",
    "argmin",
    "kthvalue",
    "max",
    "median",
    "min",
    "mode",
    "nanmedian",
]


class TakeAlong(Function):
    """x at index along dim (``take_along_axis``); backward scatters into zeros (PutAlong)."""

    @staticmethod
    def forward(ctx: Context, x: Array, index: Array, dim: int) -> Array:
        ctx.in_shape, ctx.index, ctx.dim = x.shape, index, dim
        return array_module(x).take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return PutAlong.apply(grad, ctx.index, ctx.dim, ctx.in_shape), None, None


class PutAlong(Function):
    """zeros(shape) with x added at index along dim (repeats accumulate); backward is TakeAlong.

    index has shape's size on every dim but ``dim``.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, index: Array, dim: int, shape: tuple) -> Array:
        ctx.index, ctx.dim = index, dim
        xp = array_module(x)
        if index.shape[dim] == 1 or index.size == 0:  # one index per slice: a plain put
            out = xp.zeros(shape, dtype=x.dtype)
            xp.put_along_axis(out, index, x, axis=dim)
            return out
        # Repeated indices (cummax): one bincount over flat positions accumulates them.
        n = shape[dim]
        index = xp.moveaxis(index, dim, -1)
        rows = index.size // index.shape[-1]
        flat = xp.arange(rows).reshape(-1, 1) * n + index.reshape(rows, -1)
        weights = xp.moveaxis(x, dim, -1).reshape(-1).astype(xp.float64)
        out = xp.bincount(flat.reshape(-1), weights=weights, minlength=rows * n)
        out = out.astype(x.dtype).reshape((*index.shape[:-1], n))
        return xp.ascontiguousarray(xp.moveaxis(out, -1, dim))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return TakeAlong.apply(grad, ctx.index, ctx.dim), None, None, None


def take_along(input: Tensor, index: Array, dim: int, keepdim: bool) -> Tensor:
    """Gather input at index (size 1 along dim) along dim, dropping dim unless keepdim."""
    out = TakeAlong.apply(input, index, dim)
    if keepdim:
        return out
    return reshape(out, out.data.shape[:dim] + out.data.shape[dim + 1 :])


def _values_indices(name: str, input: Tensor, index: Array, dim: int, keepdim: bool) -> Any:
    indices = (index if keepdim else index.squeeze(dim)).astype(int64.np, copy=False)
    return return_type(name)(take_along(input, index, dim, keepdim), Tensor(indices))


class EvenShare(Function):
    """Base of the full reductions that select a value: ties share the gradient evenly.

    Subclasses write ``select(x, dims, keepdim)``.
    """

    @classmethod
    def forward(cls, ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        out = array_module(x).asarray(cls.select(x, dims, keepdim))  # no numpy scalars
        ctx.save_for_backward(x, out)
        ctx.dims = dims
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        x, dims = x.data, ctx.dims
        xp = array_module(x)
        value = out.data.reshape(kept_shape(x.shape, dims))
        hit = (x == value) | (xp.isnan(x) & xp.isnan(value))
        weights = hit / hit.sum(axis=dims, keepdims=True).astype(x.dtype)
        return mul(expand_grad(grad, x.shape, dims), Tensor(weights.astype(x.dtype))), None, None


class Amax(EvenShare):
    """max over dims."""

    @staticmethod
    def select(x: Array, dims: tuple, keepdim: bool) -> Array:
        return x.max(axis=dims, keepdims=keepdim)


class Amin(EvenShare):
    """min over dims."""

    @staticmethod
    def select(x: Array, dims: tuple, keepdim: bool) -> Array:
        return x.min(axis=dims, keepdims=keepdim)


class MedianAll(EvenShare):
    """Lower median of all elements (NaN if any is NaN)."""

    @staticmethod
    def select(x: Array, dims: tuple, keepdim: bool) -> Array:
        xp = array_module(x)
        flat = x.reshape(-1)
        if flat.size == 0 or xp.isnan(flat).any():
            return xp.full((), xp.nan, dtype=x.dtype)
        k = (flat.size - 1) // 2
        return xp.partition(flat, k)[k]


class NanMedianAll(EvenShare):
    """Lower median of the non-NaN elements (NaN if there are none)."""

    @staticmethod
    def select(x: Array, dims: tuple, keepdim: bool) -> Array:
        xp = array_module(x)
        flat = x.reshape(-1)
        flat = flat[~xp.isnan(flat)]
        if flat.size == 0:
            return xp.full((), xp.nan, dtype=x.dtype)
        k = (flat.size - 1) // 2
        return xp.partition(flat, k)[k]


def _check_nonempty(x: Array, dims: tuple, op: str) -> None:
    if x.size == 0:
        for d in dims:
            if x.shape[d] == 0:
                raise IndexError(f"{op}(): Expected reduction dim {d} to have non-zero size.")


def _full_reduction(cls: type, input: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    x = input.data
    if x.size == 0 and (dim is None or dim == ()):
        raise RuntimeError(
            f"{op}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            "the reduction dim with the 'dim' argument."
        )
    dims = reduce_dims(dim, x.ndim, op)
    _check_nonempty(x, dims, op)
    if not is_float_array(x):
        return Tensor(cls.select(x, dims, keepdim))
    return cls.apply(input, dims, keepdim)


def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Return the max over dims (all by default). Mirrors ``torch.amax``.

    Tied maxima share the gradient evenly.
    """
    return _full_reduction(Amax, input, dim, keepdim, "amax")


def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Return the min over dims (all by default). Mirrors ``torch.amin``.

    Tied minima share the gradient evenly.
    """
    return _full_reduction(Amin, input, dim, keepdim, "amin")


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """Return (min, max) over one dim or all. Mirrors ``torch.aminmax``."""
    x = input.data
    if x.size == 0:
        if dim is None:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation "
                "has no identity."
            )
        _check_nonempty(x, (wrap_dim(dim, x.ndim, "aminmax"),), "aminmax")
    pair = return_type("aminmax", ("min", "max"))
    return pair(
        _full_reduction(Amin, input, dim, keepdim, "aminmax"),
        _full_reduction(Amax, input, dim, keepdim, "aminmax"),
    )


def _arg_index(x: Array, dim: int, op: str) -> Array:
    """argmax/argmin of x along dim, kept as size 1 (NaN counts as the extreme, as in PyTorch)."""
    xp = array_module(x)
    _check_nonempty(x, (dim,), op)
    if x.ndim == 0:
        return xp.zeros((), dtype=int64.np)
    return getattr(xp, op)(x, axis=dim, keepdims=True)


def _max_min(input: Tensor, dim: Any, keepdim: bool, other: Any, op: str) -> Any:
    if other is not None or isinstance(dim, Tensor):
        from ember.ops import combine

        return getattr(combine, "maximum" if op == "max" else "minimum")(
            input, dim if other is None else other
        )
    if dim is None:
        return _full_reduction(Amax if op == "max" else Amin, input, None, False, op)
    if not isinstance(dim, int):
        raise TypeError(f"{op}(): argument 'dim' must be int, not {type(dim).__name__}")
    x = input.data
    dim = wrap_dim(dim, x.ndim, op)
    index = _arg_index(x, dim, "arg" + op)
    if x.ndim == 0:
        return return_type(op)(input, Tensor(index))
    return _values_indices(op, input, index, dim, keepdim)


def max(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Tensor | None = None
) -> Any:
    """Return the max of all elements, (values, indices) along dim, or the elementwise max.

    Mirrors ``torch.max``. With no dim, tied maxima share the gradient evenly; with a dim, the
    gradient goes to the returned index (the first maximum).
    """
    return _max_min(input, dim, keepdim, other, "max")


def min(
    input: Tensor, dim: Any = None, keepdim: bool = False, *, other: Tensor | None = None
) -> Any:
    """Return the min of all elements, (values, indices) along dim, or the elementwise min.

    Mirrors ``torch.min``; gradients as ``max``.
    """
    return _max_min(input, dim, keepdim, other, "min")


def _arg(input: Tensor, dim: int | None, keepdim: bool, op: str) -> Tensor:
    x = input.data
    if x.dtype == bool:
        raise RuntimeError(f"{op}(): does not support bool input")
    if dim is None:
        if x.size == 0:
            raise IndexError(
                f"{op}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        out = getattr(array_module(x), op)(x.reshape(-1)).astype(int64.np)
        return Tensor(out.reshape((1,) * x.ndim) if keepdim else out)
    dim = wrap_dim(dim, x.ndim, op)
    index = _arg_index(x, dim, op).astype(int64.np, copy=False)
    return Tensor(index if keepdim or x.ndim == 0 else index.squeeze(dim))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Return the index of the max along dim (of the flattened input when dim is None).

    Mirrors ``torch.argmax``: the first maximum; NaN counts as the maximum.
    """
    return _arg(input, dim, keepdim, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Return the index of the min along dim (of the flattened input when dim is None).

    Mirrors ``torch.argmin``.
    """
    return _arg(input, dim, keepdim, "argmin")


def _sorted_pick(x: Array, dim: int, k: Array | int) -> Array:
    """Index (kept dim) of the k-th smallest along dim, in stable sorted order (NaN last)."""
    xp = array_module(x)
    order = xp.argsort(x, axis=dim, kind="stable")
    if isinstance(k, int):
        return xp.take(order, [k], axis=dim)
    return xp.take_along_axis(order, k, axis=dim)


def _dim_setup(input: Tensor, dim: int, op: str) -> tuple[Array, int]:
    x = input.data
    if x.dtype == bool:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for 'Bool'")
    dim = wrap_dim(dim, x.ndim, op)
    _check_nonempty(x, (dim,), op)
    return (x.reshape(1) if x.ndim == 0 else x), dim


def _select_along(name: str, input: Tensor, index: Array, dim: int, keepdim: bool) -> Any:
    if input.data.ndim == 0:
        return return_type(name)(input, Tensor(index.reshape(()).astype(int64.np)))
    return _values_indices(name, input, index, dim, keepdim)


def _median_all(cls: type, input: Tensor, op: str) -> Tensor:
    x = input.data
    if x.dtype == bool:
        raise NotImplementedError(f"\"{op}_cpu\" not implemented for 'Bool'")
    dims = tuple(range(x.ndim))
    if not is_float_array(x):
        return Tensor(cls.select(x, dims, False))
    return cls.apply(input, dims, False)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Return the lower median of all elements, or (values, indices) along dim.

    Mirrors ``torch.median``: NaN propagates. With no dim, tied medians share the gradient
    evenly; with a dim, it goes to the returned index.
    """
    if dim is None:
        return _median_all(MedianAll, input, "median")
    x, dim = _dim_setup(input, dim, "median")
    xp = array_module(x)
    index = _sorted_pick(x, dim, (x.shape[dim] - 1) // 2)
    nan = xp.isnan(x) if is_float_array(x) else None
    if nan is not None and nan.any():  # a slice with a NaN returns its first NaN
        has_nan = nan.any(axis=dim, keepdims=True)
        index = xp.where(has_nan, xp.argmax(nan, axis=dim, keepdims=True), index)
    return _select_along("median", input, index, dim, keepdim)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """Return the lower median ignoring NaN, of all elements or (values, indices) along dim.

    Mirrors ``torch.nanmedian``; an all-NaN slice gives NaN. Differences from PyTorch: the
    index of an all-NaN slice is 0 (PyTorch's depends on its nth_element).
    """
    if dim is None:
        return _median_all(
            NanMedianAll if is_float_array(input.data) else MedianAll, input, "nanmedian"
        )
    x, dim = _dim_setup(input, dim, "nanmedian")
    xp = array_module(x)
    if not is_float_array(x):
        return median(input, dim, keepdim)
    valid = (~xp.isnan(x)).sum(axis=dim, keepdims=True)
    k = xp.maximum(valid - 1, 0) // 2  # NaN sorts last, so position k skips them
    return _select_along("nanmedian", input, _sorted_pick(x, dim, k), dim, keepdim)


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """Return (values, indices) of the most frequent value along dim. Mirrors ``torch.mode``.

    Ties go to the smallest value; the index is its last occurrence, as in PyTorch.
    """
    x, dim = _dim_setup(input, dim, "mode")
    xp = array_module(x)
    moved = xp.moveaxis(x, dim, -1)  # (..., n)
    n = moved.shape[-1]
    s = xp.sort(moved, axis=-1)
    pos = xp.arange(n)
    starts = xp.ones(s.shape, dtype=bool)
    starts[..., 1:] = s[..., 1:] != s[..., :-1]
    ends = xp.ones(s.shape, dtype=bool)
    ends[..., :-1] = starts[..., 1:]
    first = xp.maximum.accumulate(xp.where(starts, pos, 0), axis=-1)
    last = xp.flip(xp.minimum.accumulate(xp.flip(xp.where(ends, pos, n), -1), axis=-1), -1)
    best = xp.argmax(last - first, axis=-1)[..., None]  # first longest run = smallest value
    value = xp.take_along_axis(s, best, axis=-1)
    hits = moved == value
    index = n - 1 - xp.argmax(xp.flip(hits, -1), axis=-1)[..., None]  # last occurrence
    return _select_along("mode", input, xp.moveaxis(index, -1, dim), dim, keepdim)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:
    """Return (values, indices) of the k-th smallest element along dim. Mirrors ``torch.kthvalue``.

    NaN sorts as the largest. Differences from PyTorch: among tied values the index is the
    first in stable sorted order; PyTorch's depends on its quickselect.
    """
    x, dim = _dim_setup(input, dim, "kthvalue")
    if not 1 <= k <= x.shape[dim]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {dim}")
    return _select_along("kthvalue", input, _sorted_pick(x, dim, k - 1), dim, keepdim)
