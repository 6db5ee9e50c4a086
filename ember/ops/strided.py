"""Strided sub-views: slices (narrow), diagonals and sliding windows (unfold).

Each is a view of its input's array. Each view op and its scatter are each other's backward:
``Slice``/``SliceScatter``, ``Diagonal``/``DiagonalScatter``, ``Unfold``/``UnfoldBackward``,
so gradients of any order flow through them.
"""

from __future__ import annotations

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import wrap_dim
from ember.ops.shape import Reshape, tie_view
from ember.tensor import Tensor

__all__ = ["diagonal", "narrow", "unfold"]


class Slice(Function):
    """x[index] for a tuple of basic slices (a view); backward writes grad into zeros."""

    @staticmethod
    def forward(ctx: Context, x: Array, index: tuple) -> Array:
        ctx.in_shape, ctx.index = x.shape, index
        return x[index]

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return SliceScatter.apply(grad, ctx.in_shape, ctx.index), None


class SliceScatter(Function):
    """zeros(shape) with x written at a basic-slice index; backward is Slice."""

    @staticmethod
    def forward(ctx: Context, x: Array, shape: tuple, index: tuple) -> Array:
        ctx.index = index
        out = array_module(x).zeros(shape, dtype=x.dtype)
        out[index] = x
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None, None]:
        return Slice.apply(grad, ctx.index), None, None


def _diagonal_view(x: Array, offset: int, dim1: int, dim2: int) -> Array:
    """The diagonal of x over (dim1, dim2) as a writable strided view, last dim = diagonal."""
    n1, n2 = x.shape[dim1], x.shape[dim2]
    start = [slice(None)] * x.ndim
    if offset >= 0:
        length = max(0, min(n1, n2 - offset))
        start[dim2] = slice(min(offset, n2), None)
    else:
        length = max(0, min(n1 + offset, n2))
        start[dim1] = slice(min(-offset, n1), None)
    keep = [d for d in range(x.ndim) if d != dim1 and d != dim2]
    shape = (*(x.shape[d] for d in keep), length)
    strides = (*(x.strides[d] for d in keep), x.strides[dim1] + x.strides[dim2])
    return array_module(x).lib.stride_tricks.as_strided(x[tuple(start)], shape, strides)


class Diagonal(Function):
    """The diagonal of x over (dim1, dim2), appended as the last dim (a view)."""

    @staticmethod
    def forward(ctx: Context, x: Array, offset: int, dim1: int, dim2: int) -> Array:
        ctx.in_shape, ctx.args = x.shape, (offset, dim1, dim2)
        return _diagonal_view(x, offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return DiagonalScatter.apply(grad, ctx.in_shape, *ctx.args), None, None, None


class DiagonalScatter(Function):
    """zeros(shape) with x written on its (offset, dim1, dim2) diagonal; backward is Diagonal."""

    @staticmethod
    def forward(ctx: Context, x: Array, shape: tuple, offset: int, dim1: int, dim2: int) -> Array:
        ctx.args = offset, dim1, dim2
        out = array_module(x).zeros(shape, dtype=x.dtype)
        _diagonal_view(out, offset, dim1, dim2)[...] = x
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Diagonal.apply(grad, *ctx.args), None, None, None, None


class Unfold(Function):
    """Windows of length size every step along dim, as a new last dim (a strided view)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int, size: int, step: int) -> Array:
        ctx.in_shape, ctx.args = x.shape, (dim, size, step)
        count = (x.shape[dim] - size) // step + 1
        shape = (*x.shape[:dim], count, *x.shape[dim + 1 :], size)
        s = x.strides
        strides = (*s[:dim], s[dim] * step, *s[dim + 1 :], s[dim])
        # Overlapping windows alias memory: writing through them would be ill-defined.
        return array_module(x).lib.stride_tricks.as_strided(
            x, shape, strides, writeable=step >= size
        )

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return UnfoldBackward.apply(grad, ctx.in_shape, *ctx.args), None, None, None


class UnfoldBackward(Function):
    """Sum windows back into an array of the input's shape (overlaps add); backward is Unfold."""

    @staticmethod
    def forward(ctx: Context, grad: Array, shape: tuple, dim: int, size: int, step: int) -> Array:
        ctx.args = dim, size, step
        xp = array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        count = grad.shape[dim]
        windows = xp.moveaxis(grad, -1, 0)
        index = [slice(None)] * len(shape)
        for k in range(size):  # one strided add per window position, not per window
            index[dim] = slice(k, k + step * (count - 1) + 1, step)
            out[tuple(index)] += windows[k]
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Unfold.apply(grad, *ctx.args), None, None, None, None


def narrow(input: Tensor, dim: int, start: int | Tensor, length: int) -> Tensor:
    """Return the view input[..., start:start + length, ...] along dim. Mirrors ``torch.narrow``."""
    ndim = input.data.ndim
    if ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    if isinstance(start, Tensor):
        if start.data.ndim != 0 or start.dtype.is_floating_point:
            raise RuntimeError("start must be an 0-dim integral Tensor.")
        start = int(start.item())
    dim = wrap_dim(dim, ndim)
    size = input.data.shape[dim]
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if start < 0:
        start += size
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    index = (slice(None),) * dim + (slice(start, start + length),)
    return Slice.apply(input, index)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """Return a view of a diagonal, as the last dim. Mirrors ``torch.diagonal``."""
    ndim = input.data.ndim
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if ndim < 2:  # PyTorch's own message: dim 1 does not exist
        wrap_dim(1 if d1 == d2 == 0 else max(dim1, dim2, key=abs), 1)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return tie_view(Diagonal.apply(input, offset, d1, d2), input)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Return the windows of length size every step along a dim, as a new last dim.

    Mirrors ``torch.Tensor.unfold``; the result is a strided view of input.
    """
    ndim = input.data.ndim
    dim = wrap_dim(dimension, ndim)
    length = input.data.shape[dim] if ndim else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > length:
        raise RuntimeError(
            f"maximum size for tensor at dimension {dim} is {length} but size is {size}"
        )
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if ndim == 0:
        return Reshape.apply(input, (1,) if size else (0,))
    return tie_view(Unfold.apply(input, dim, size, step), input)
