"""Combinatoric builders and lookups: products, combinations, block matrices, bucketing.

cartesian_prod, combinations, block_diag, diagflat, vander, isin, bucketize, unravel_index.
The differentiable ones are written as indexing into, or concatenation of, existing ops
(``GetItem``, ``meshgrid``, ``cumprod``, ``cat``), so their gradients are differentiable again;
``block_diag`` has one small Function whose backward slices the gradient. isin, bucketize and
unravel_index return bool or integer tensors and compute on arrays directly.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import get_default_dtype, int64
from ember.ops.common import cast, result_type
from ember.ops.dims import flatten, stack
from ember.ops.indexing import ALL, GetItem
from ember.ops.join import cat
from ember.ops.ranges import meshgrid
from ember.ops.rearrange import diag, flip
from ember.ops.scan import cumprod
from ember.ops.shape import expand, reshape
from ember.ops.sorting import searchsorted
from ember.tensor import Tensor

__all__ = [
    "block_diag",
    "bucketize",
    "cartesian_prod",
    "combinations",
    "diagflat",
    "isin",
    "unravel_index",
    "vander",
]


def _check_vector(input: Tensor) -> None:
    if input.data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")


# -- products and combinations ---------------------------------------------------------------
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Return the Cartesian product of 1-D tensors, one row per tuple.

    Mirrors ``torch.cartesian_prod``. Shapes: (n0,), (n1,), ... -> (n0 * n1 * ..., k); a single
    tensor comes back as it is.
    """
    for t in tensors:
        _check_vector(t)
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(g) for g in grids], dim=1)


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Return the length-r combinations of a 1-D tensor's elements, one per row.

    Mirrors ``torch.combinations`` (itertools order). Shapes: (n,) -> (C, r); r = 0 gives an
    empty (0,) tensor.
    """
    _check_vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    xp = array_module(input.data)
    if r == 0:
        return GetItem.apply(input, ALL, (xp.zeros(0, dtype=xp.int64),))
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    rows = list(pick(range(input.data.shape[0]), r))
    index = xp.asarray(rows, dtype=xp.int64).reshape(len(rows), r)
    return GetItem.apply(input, ALL, (index,))


# -- block and diagonal matrices -------------------------------------------------------------
class BlockDiag(Function):
    """Blocks placed along the diagonal of a zero matrix; backward slices each block's grad."""

    @staticmethod
    def forward(ctx: Context, *blocks: Array) -> Array:
        xp = array_module(blocks[0])
        shapes = [b.shape for b in blocks]
        mats = [b.reshape(_as_matrix(b.shape)) for b in blocks]
        rows = sum(m.shape[0] for m in mats)
        cols = sum(m.shape[1] for m in mats)
        out = xp.zeros((rows, cols), dtype=blocks[0].dtype)
        spans, r, c = [], 0, 0
        for m in mats:
            span = (slice(r, r + m.shape[0]), slice(c, c + m.shape[1]))
            out[span] = m
            spans.append(span)
            r, c = r + m.shape[0], c + m.shape[1]
        ctx.spans, ctx.shapes = spans, shapes
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return tuple(
            reshape(GetItem.apply(grad, span, None), shape) if needed else None
            for span, shape, needed in zip(ctx.spans, ctx.shapes, ctx.needs_input_grad)
        )


def _as_matrix(shape: tuple) -> tuple:
    return (1, 1) if not shape else (1, shape[0]) if len(shape) == 1 else shape


def block_diag(*tensors: Tensor) -> Tensor:
    """Return a block-diagonal matrix of the inputs (0-d, 1-d as one row, or 2-d).

    Mirrors ``torch.block_diag``, with its type promotion.
    """
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}"
            )
        if t.data.ndim > 2:
            raise RuntimeError(
                "torch.block_diag: Input tensors must have 2 or fewer dimensions. Input "
                f"{i} has {t.data.ndim} dimensions"
            )
    if not tensors:
        xp = array_module()
        return Tensor(xp.zeros((1, 0), dtype=get_default_dtype().np))
    dtype = result_type(*tensors)
    return BlockDiag.apply(*(cast(t, dtype) for t in tensors))


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """Return a matrix with the flattened input on diagonal offset. Mirrors ``torch.diagflat``."""
    return diag(reshape(input, -1), offset)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """Return the Vandermonde matrix of a 1-D tensor: columns x**(N-1), ..., x**0.

    Mirrors ``torch.vander``: integer and bool inputs give int64; ``increasing=True`` orders
    the powers from x**0. Built from cumprod, so the gradient is exact at x = 0.
    """
    if x.data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    if N is None:
        N = x.data.shape[0]
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if not x.dtype.is_floating_point:
        x = cast(x, int64)
    n = x.data.shape[0]
    column = reshape(x, (n, 1))
    if N == 0:
        return expand(column, (n, 0))
    xp = array_module(x.data)
    ones = Tensor(xp.ones((n, 1), dtype=x.data.dtype))
    out = cat([ones, cumprod(expand(column, (n, N - 1)), 1)], 1)
    return out if increasing else flip(out, [1])


# -- lookups ---------------------------------------------------------------------------------
def isin(
    elements: Tensor | float,
    test_elements: Tensor | float,
    *,
    assume_unique: bool = False,
    invert: bool = False,
) -> Tensor:
    """Return whether each of elements is in test_elements (either may be a scalar).

    Mirrors ``torch.isin``; both sides are compared in their promoted dtype.
    """
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError(
            "isin() received an invalid combination of arguments - got "
            f"({type(elements).__name__}, {type(test_elements).__name__})"
        )
    for t in (elements, test_elements):
        if isinstance(t, Tensor) and t.data.dtype.kind == "b":
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    dtype = result_type(elements, test_elements).np
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = array_module(like.data)
    a = xp.asarray(elements.data if isinstance(elements, Tensor) else elements, dtype=dtype)
    b = xp.asarray(test_elements.data if isinstance(test_elements, Tensor) else test_elements)
    out = xp.isin(a, b.astype(dtype, copy=False), assume_unique=assume_unique, invert=invert)
    return Tensor(xp.asarray(out))


def bucketize(
    input: Tensor | float, boundaries: Tensor, *, out_int32: bool = False, right: bool = False
) -> Tensor:
    """Return the bucket index of each input value among sorted 1-D boundaries.

    Mirrors ``torch.bucketize``: right=False gives i with boundaries[i-1] < x <= boundaries[i]
    (searchsorted's left side), right=True gives boundaries[i-1] <= x < boundaries[i].
    """
    if boundaries.data.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries.data.ndim})"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def unravel_index(indices: Tensor, shape: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Turn flat indices into coordinate tensors for shape. Mirrors ``torch.unravel_index``.

    As PyTorch's, indices are not bounds-checked: coordinates are taken modulo each size (so
    -1 is the last element).
    """
    if not isinstance(indices, Tensor) or indices.data.dtype.kind not in "iu":
        got = f"ember.{indices.dtype.name}" if isinstance(indices, Tensor) else type(indices)
        raise TypeError(f"expected 'indices' to be integer dtype, but got {got}")
    if isinstance(shape, int) and not isinstance(shape, bool):
        shape = (shape,)
    elif not isinstance(shape, Sequence):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    for size in shape:
        if not isinstance(size, int):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(size)}")
    shape = tuple(shape)
    if any(size < 0 for size in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if 0 in shape:
        raise RuntimeError("ZeroDivisionError")
    xp = array_module(indices.data)
    flat = indices.data.astype(xp.int64, copy=False)
    out, stride = [], 1
    for size in reversed(shape):
        out.append(Tensor((flat // stride) % size))
        stride *= size
    return tuple(reversed(out))
