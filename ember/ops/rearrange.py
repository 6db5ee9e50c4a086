"""Ops that copy elements into a new arrangement: repeats, flips, rolls, triangles, diagonals.

Unlike the views in ``shape.py`` these return new arrays, as in PyTorch. Each backward is
the adjoint rearrangement written with Ember ops (flip of flip, roll back, sum the repeats),
or a Function pair that are each other's backward (``TakeIndices``/``PutAddIndices``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import shape_arg, wrap_dim
from ember.ops.elementwise import clone
from ember.ops.shape import (
    Reshape,
    reshape,
    sum_to,
    transpose,
    wrap_dim_list,
)
from ember.ops.strided import DiagonalScatter
from ember.ops.strided import diagonal as _diagonal  # diag's argument shadows the name
from ember.tensor import Tensor

__all__ = [
    "diag",
    "diag_embed",
    "flip",
    "fliplr",
    "flipud",
    "repeat",
    "repeat_interleave",
    "roll",
    "rot90",
    "tile",
    "tril",
    "triu",
]


class TakeIndices(Function):
    """x.take(index, axis=dim): picks (and may repeat) slices along dim."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int, index: Array) -> Array:
        ctx.size, ctx.dim, ctx.index = x.shape[dim], dim, index
        return array_module(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return PutAddIndices.apply(grad, ctx.dim, ctx.index, ctx.size), None, None


class PutAddIndices(Function):
    """Zeros of length size along dim, with the slices of x added at index (repeats add up)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int, index: Array, size: int) -> Array:
        ctx.dim, ctx.index = dim, index
        xp = array_module(x)
        out = xp.zeros((*x.shape[:dim], size, *x.shape[dim + 1 :]), dtype=x.dtype)
        xp.add.at(xp.moveaxis(out, dim, 0), index, xp.moveaxis(x, dim, 0))
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return TakeIndices.apply(grad, ctx.dim, ctx.index), None, None, None


class Repeat(Function):
    """x tiled reps times along each dim (leading reps add dims); backward sums the tiles."""

    @staticmethod
    def forward(ctx: Context, x: Array, reps: tuple) -> Array:
        ctx.in_shape, ctx.reps = x.shape, reps
        return array_module(x).tile(x, reps)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        reps, in_shape = ctx.reps, ctx.in_shape
        padded = (1,) * (len(reps) - len(in_shape)) + tuple(in_shape)
        tiles = [n for pair in zip(reps, padded) for n in pair]  # (r0, s0, r1, s1, ...)
        ones = [n for s in padded for n in (1, s)]
        return reshape(sum_to(reshape(grad, tiles), tuple(ones)), in_shape), None


class RepeatEach(Function):
    """Each slice along dim repeated count times in place; backward sums the copies."""

    @staticmethod
    def forward(ctx: Context, x: Array, count: int, dim: int) -> Array:
        ctx.in_shape, ctx.count, ctx.dim = x.shape, count, dim
        return array_module(x).repeat(x, count, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        shape, dim = ctx.in_shape, ctx.dim
        split = (*shape[: dim + 1], ctx.count, *shape[dim + 1 :])  # (..., n, count, ...)
        kept = (*shape[: dim + 1], 1, *shape[dim + 1 :])
        return reshape(sum_to(reshape(grad, split), kept), shape), None, None


class Flip(Function):
    """x reversed along dims (a copy); backward flips back."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple) -> Array:
        ctx.dims = dims
        index = [slice(None)] * x.ndim
        for d in dims:
            index[d] = slice(None, None, -1)
        return x[tuple(index)].copy()

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Flip.apply(grad, ctx.dims), None


class Roll(Function):
    """x shifted cyclically along dims (a copy); backward rolls back."""

    @staticmethod
    def forward(ctx: Context, x: Array, shifts: tuple, dims: tuple) -> Array:
        ctx.shifts, ctx.dims = shifts, dims
        return array_module(x).roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Roll.apply(grad, tuple(-s for s in ctx.shifts), ctx.dims), None, None


class Triangle(Function):
    """The lower (tril) or upper (triu) triangle of the last two dims; backward masks grad."""

    @staticmethod
    def forward(ctx: Context, x: Array, diagonal: int, upper: bool) -> Array:
        ctx.args = diagonal, upper
        xp = array_module(x)
        return xp.triu(x, diagonal) if upper else xp.tril(x, diagonal)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Triangle.apply(grad, *ctx.args), None, None


# -- repeats --------------------------------------------------------------------------------
def repeat(input: Tensor, *repeats: Any) -> Tensor:
    """Tile input repeats[i] times along each dim. Mirrors ``torch.Tensor.repeat``."""
    reps = shape_arg(repeats)
    shape = input.data.shape
    if len(reps) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    padded = (1,) * (len(reps) - len(shape)) + tuple(shape)
    out = [r * n for r, n in zip(reps, padded)]
    for n in out:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {out}")
    return Repeat.apply(input, reps)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Tile input; fewer dims than input's are padded with leading 1s. Mirrors ``torch.tile``."""
    dims = shape_arg((dims,))
    return repeat(input, (1,) * (input.data.ndim - len(dims)) + dims)


def repeat_interleave(
    input: Tensor,
    repeats: int | Tensor | None = None,
    dim: int | None = None,
    *,
    output_size: int | None = None,
) -> Tensor:
    """Repeat each element (or slice along dim) repeats times. Mirrors ``torch.repeat_interleave``.

    With a tensor of repeats, element i is repeated repeats[i] times; ``repeat_interleave(r)``
    alone returns ``arange(len(r))`` repeated by r. dim=None flattens input first.
    """
    if repeats is None:
        return _repeat_indices(input)
    if dim is None:
        input, dim = Reshape.apply(input, (input.data.size,)), 0
    dim = wrap_dim(dim, input.data.ndim)
    size = input.data.shape[dim] if input.data.ndim else 1
    if isinstance(repeats, Tensor):
        if repeats.data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
        _check_repeats_dtype(repeats)
        if repeats.data.size != 1 and repeats.data.size != size:
            raise RuntimeError(
                "repeats must have the same size as input along dim, but got "
                f"repeats.size(0) = {repeats.data.size} and input.size({dim}) = {size}"
            )
        if (repeats.data < 0).any():
            raise RuntimeError("repeats can not be negative")
        if repeats.data.size == 1 and size != 1:
            repeats = int(repeats.item())
    elif repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    total = size * repeats if isinstance(repeats, int) else int(repeats.data.sum())
    if output_size is not None and output_size != total:
        raise RuntimeError(
            f"repeat_interleave: Invalid output_size, expected {total} but got {output_size}"
        )
    if input.data.ndim == 0:
        input = Reshape.apply(input, (1,))
    if isinstance(repeats, int):
        return RepeatEach.apply(input, repeats, dim)
    xp = array_module(input.data)
    index = xp.repeat(xp.arange(size), repeats.data.reshape(-1))
    return TakeIndices.apply(input, dim, index)


def _check_repeats_dtype(repeats: Tensor) -> None:
    if repeats.dtype.is_floating_point or repeats.dtype.name == "bool":
        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{SCALAR_NAMES[repeats.dtype.name]}'"
        )


def _repeat_indices(repeats: Tensor) -> Tensor:
    if repeats.data.ndim != 1:
        raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
    _check_repeats_dtype(repeats)
    if (repeats.data < 0).any():
        raise RuntimeError("repeats can not be negative")
    xp = array_module(repeats.data)
    return Tensor(xp.repeat(xp.arange(repeats.data.size, dtype=repeats.data.dtype), repeats.data))


# -- flips and rotations --------------------------------------------------------------------
def flip(input: Tensor, *dims: Any) -> Tensor:
    """Reverse the order of elements along dims (a copy). Mirrors ``torch.flip``."""
    dims = dims[0] if len(dims) == 1 and not isinstance(dims[0], int) else dims
    return Flip.apply(input, wrap_dim_list(tuple(dims), input.data.ndim))


def fliplr(input: Tensor) -> Tensor:
    """Flip left to right (dim 1). Mirrors ``torch.fliplr``."""
    if input.data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return Flip.apply(input, (1,))


def flipud(input: Tensor) -> Tensor:
    """Flip up to down (dim 0). Mirrors ``torch.flipud``."""
    if input.data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return Flip.apply(input, (0,))


def roll(
    input: Tensor, shifts: int | Sequence[int], dims: int | Sequence[int] | None = None
) -> Tensor:
    """Shift elements cyclically along dims (all elements, flattened, when dims is None).

    Mirrors ``torch.roll``.
    """
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = () if dims is None else (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims) and not (not dims and len(shifts) == 1):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    if not dims:
        flat = Roll.apply(Reshape.apply(input, (input.data.size,)), shifts, (0,))
        return Reshape.apply(flat, input.data.shape)
    ndim = input.data.ndim
    return Roll.apply(input, shifts, tuple(wrap_dim(d, ndim) for d in dims))


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:
    """Rotate by 90 degrees k times, from dims[0] towards dims[1]. Mirrors ``torch.rot90``."""
    dims = tuple(dims)
    ndim = input.data.ndim
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {ndim}")
    d0, d1 = wrap_dim(dims[0], ndim), wrap_dim(dims[1], ndim)
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        )
    k %= 4
    if k == 1:
        return transpose(Flip.apply(input, (d1,)), d0, d1)
    if k == 2:
        return Flip.apply(input, (d0, d1))
    if k == 3:
        return transpose(Flip.apply(input, (d0,)), d0, d1)
    return clone(input)


# -- triangles and diagonals ----------------------------------------------------------------
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Keep the lower triangle of the last two dims, zero the rest. Mirrors ``torch.tril``."""
    if input.data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, diagonal, False)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Keep the upper triangle of the last two dims, zero the rest. Mirrors ``torch.triu``."""
    if input.data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triangle.apply(input, diagonal, True)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Place the last dim of input on diagonals of new (dim1, dim2) matrices, zeros elsewhere.

    Mirrors ``torch.diag_embed``. Shapes: (*, n) -> matrices of size n + abs(offset).
    """
    ndim = input.data.ndim + 1
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    n = input.data.shape[-1] + abs(offset)
    shape = list(input.data.shape[:-1])
    for d in sorted((d1, d2)):
        shape.insert(d, n)
    return DiagonalScatter.apply(input, tuple(shape), offset, d1, d2)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """Build a matrix from a 1-D diagonal, or copy a matrix's diagonal. Mirrors ``torch.diag``."""
    ndim = input.data.ndim
    if ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if ndim == 2:
        return clone(_diagonal(input, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {ndim}D")
