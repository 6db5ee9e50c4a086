"""Sorting and counting: sort, argsort, topk, unique, searchsorted, bincount, histc.

The order itself is not differentiable; values are gathered from the input with the sorting
indices (``GetItem``), so their gradient is scattered back to where each value came from.
Sorts are always stable, which is one of the orders PyTorch's unstable sort may return.
"""

from __future__ import annotations

import math
from typing import Any

from ember.backend import Array, array_module
from ember.ops.common import return_type, wrap_dim
from ember.ops.indexing import ALL, GetItem, type_label
from ember.ops.scatter import along_index
from ember.ops.shape import reshape
from ember.tensor import Tensor

__all__ = [
    "argsort",
    "bincount",
    "histc",
    "msort",
    "searchsorted",
    "sort",
    "topk",
    "unique",
    "unique_consecutive",
]


def _argsort(data: Array, dim: int, descending: bool) -> Array:
    """Stable argsort along dim; descending keeps equal elements in their original order."""
    xp = array_module(data)
    if not descending:
        return xp.argsort(data, axis=dim, kind="stable")
    # Sort the reversed data ascending, then reverse back: ties stay first-come-first, and NaN
    # (sorted last ascending) comes first, as in PyTorch.
    order = xp.argsort(xp.flip(data, axis=dim), axis=dim, kind="stable")
    return (data.shape[dim] - 1) - xp.flip(order, axis=dim)


def _take_sorted(input: Tensor, order: Array, dim: int, name: str) -> tuple:
    values = GetItem.apply(input, ALL, along_index(order, dim))
    return return_type(name)(values, Tensor(order.astype(array_module(order).int64, copy=False)))


def sort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> tuple[Tensor, Tensor]:
    """Sort along dim; return (values, indices). Mirrors ``torch.sort``.

    NaN sorts as the largest value. Differences from PyTorch: the sort is always stable.
    """
    dim = wrap_dim(dim, input.data.ndim)
    if input.data.ndim == 0:
        values, indices = sort(reshape(input, 1), 0, descending)
        return return_type("sort")(reshape(values, ()), reshape(indices, ()))
    return _take_sorted(input, _argsort(input.data, dim, descending), dim, "sort")


def argsort(
    input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False
) -> Tensor:
    """Return the indices that sort input along dim (int64). Mirrors ``torch.argsort``."""
    dim = wrap_dim(dim, input.data.ndim)
    data = input.data.reshape(1) if input.data.ndim == 0 else input.data
    order = _argsort(data, dim, descending).reshape(input.data.shape)
    return Tensor(order.astype(array_module(order).int64, copy=False))


def msort(input: Tensor) -> Tensor:
    """Sort along the first dim and return the values. Mirrors ``torch.msort``."""
    return sort(input, 0).values


def topk(
    input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True
) -> tuple[Tensor, Tensor]:
    """Return the k largest (or smallest) elements along dim and their indices.

    Mirrors ``torch.topk``. Differences from PyTorch: the result is sorted even with
    ``sorted=False`` (PyTorch leaves that order unspecified).
    """
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"topk(): argument 'k' (position 2) must be int, not {type(k).__name__}")
    if input.data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    dim = wrap_dim(dim, input.data.ndim)
    size = input.data.shape[dim] if input.data.ndim else 1
    if not 0 <= k <= size:
        raise RuntimeError("selected index k out of range")
    if input.data.ndim == 0:
        values, indices = topk(reshape(input, 1), k, 0, largest)
        return return_type("topk")(reshape(values, ()), reshape(indices, ()))
    order = _argsort(input.data, dim, largest)
    order = order[(slice(None),) * dim + (slice(0, k),)]
    return _take_sorted(input, order, dim, "topk")


def _unique_result(
    values: Array, inverse: Array, counts: Array, return_inverse: bool, return_counts: bool
) -> Tensor | tuple[Tensor, ...]:
    xp = array_module(values)
    out = [Tensor(values)]
    if return_inverse:
        out.append(Tensor(inverse.astype(xp.int64, copy=False)))
    if return_counts:
        out.append(Tensor(counts.astype(xp.int64, copy=False)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """Return the unique elements (or slices along dim), sorted. Mirrors ``torch.unique``.

    Also returns, on request, each element's position in the result and each value's count.
    Not differentiable. The result is sorted even with ``sorted=False``, as on PyTorch's CPU.
    """
    data = input.data
    xp = array_module(data)
    if dim is None:
        values, inverse, counts = xp.unique(
            data.reshape(-1), return_inverse=True, return_counts=True
        )
        return _unique_result(
            values, inverse.reshape(data.shape), counts, return_inverse, return_counts
        )
    dim = wrap_dim(dim, data.ndim)
    if data.shape[dim] == 0:
        empty = xp.zeros(0, dtype=xp.int64)
        return _unique_result(data, empty, empty, return_inverse, return_counts)
    values, inverse, counts = xp.unique(data, return_inverse=True, return_counts=True, axis=dim)
    return _unique_result(values, inverse.reshape(-1), counts, return_inverse, return_counts)


def unique_consecutive(
    input: Tensor,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
) -> Tensor | tuple[Tensor, ...]:
    """Collapse runs of equal consecutive elements (or slices along dim) to one.

    Mirrors ``torch.unique_consecutive``. Not differentiable.
    """
    data = input.data
    xp = array_module(data)
    if dim is None:
        rows = data.reshape(-1, 1)
    else:
        dim = wrap_dim(dim, data.ndim)
        rows = xp.moveaxis(data, dim, 0).reshape(data.shape[dim], -1)
    n = rows.shape[0]
    starts = xp.ones(n, dtype=bool)
    if n > 1:
        starts[1:] = (rows[1:] != rows[:-1]).any(axis=1)
    first = xp.nonzero(starts)[0]
    inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.append(first, n))
    if dim is None:
        values = data.reshape(-1)[first]
        inverse = inverse.reshape(data.shape)
    else:
        values = xp.take(data, first, axis=dim)
    return _unique_result(values, inverse, counts, return_inverse, return_counts)


def _searchsorted_checks(seq: Tensor, values: Any, sorter: Tensor | None) -> None:
    if seq.data.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension"
        )
    if not isinstance(values, Tensor):
        if seq.data.ndim != 1:
            raise RuntimeError(
                "torch.searchsorted(): input value can be a scalar only when boundaries tensor "
                f"dimension is 1, but we got boundaries tensor dim({seq.data.ndim}) and input "
                "value's dim(0) numel(1)"
            )
    elif seq.data.ndim > 1 and (
        values.data.ndim != seq.data.ndim or values.data.shape[:-1] != seq.data.shape[:-1]
    ):
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}"
        )
    if sorter is not None:
        if sorter.data.dtype.name != "int64":
            raise RuntimeError(
                "torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                f"{type_label(sorter)}"
            )
        if sorter.data.shape != seq.data.shape:
            raise RuntimeError(
                "torch.searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}"
            )
        size = seq.data.shape[-1]
        if sorter.data.size and (sorter.data.min() < 0 or sorter.data.max() >= size):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")


def searchsorted(
    sorted_sequence: Tensor,
    input: Tensor | float,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """Return where each value would be inserted to keep the last dim sorted.

    Mirrors ``torch.searchsorted``: 1-D boundaries serve every value; N-D boundaries pair
    row by row with input's leading dims. ``right=True`` (or ``side='right'``) puts a value
    after equal boundaries.
    """
    if side not in (None, "left", "right"):
        raise RuntimeError(
            f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
        )
    if side == "left" and right:
        raise RuntimeError(
            "torch.searchsorted(): side and right can't be set to opposites, got side of left "
            "while right was True"
        )
    _searchsorted_checks(sorted_sequence, input, sorter)
    seq = sorted_sequence.data
    xp = array_module(seq)
    if seq.dtype.kind == "b":
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter.data, axis=-1)
    values = input.data if isinstance(input, Tensor) else xp.asarray(input)
    where = "right" if right or side == "right" else "left"
    if seq.ndim == 1:
        out = xp.searchsorted(seq, values, side=where)
    else:
        rows = seq.reshape(-1, seq.shape[-1])
        queries = values.reshape(rows.shape[0], -1)
        out = xp.stack([xp.searchsorted(r, q, side=where) for r, q in zip(rows, queries)])
        out = out.reshape(values.shape)
    return Tensor(xp.asarray(out, dtype=xp.int32 if out_int32 else xp.int64))


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Count each non-negative integer in a 1-D tensor (or sum its weights).

    Mirrors ``torch.bincount``: int64 counts, or weights' dtype for float32/float64 weights
    (float64 otherwise). Not differentiable.
    """
    data = input.data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{type_label(input)}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    xp = array_module(data)
    if weights is None:
        return Tensor(xp.bincount(data, minlength=minlength).astype(xp.int64, copy=False))
    if weights.data.ndim != 1 or weights.data.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    dtype = weights.data.dtype if weights.dtype.name in ("float32", "float64") else xp.float64
    out = xp.bincount(data, weights=weights.data.astype(xp.float64), minlength=minlength)
    return Tensor(out.astype(dtype, copy=False))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:
    """Count input's elements in `bins` equal-width bins over [min, max] (outside: ignored).

    Mirrors ``torch.histc``: with min == max the data's own range is used. Not differentiable.
    """
    data = input.data
    if data.dtype.kind not in "fV":
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{type_label(input)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    xp = array_module(data)
    low, high = float(min), float(max)
    if low == high and data.size:
        low, high = float(data.min()), float(data.max())
    if low == high:
        low, high = low - 1, high + 1
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(f"torch.histc: range of [{low:g}, {high:g}] is not finite")
    flat = data.reshape(-1)
    inside = flat[(flat >= low) & (flat <= high)]
    # PyTorch's bin formula, in the input's dtype: (x - min) * bins / (max - min)
    pos = ((inside - low) * bins / (high - low)).astype(xp.int64)
    pos = xp.minimum(pos, bins - 1)  # x == max goes in the last bin
    return Tensor(xp.bincount(pos, minlength=bins).astype(data.dtype))
