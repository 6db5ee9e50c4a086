"""Ops that add, remove, merge, split or move dims: squeeze, flatten, atleast_*, movedim, stack.

Each is a ``Reshape`` or ``Permute`` of its input (a view, as in PyTorch), except ``stack``,
which copies, and ``unbind``, whose outputs are views; the two are each other's backward.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import wrap_dim
from ember.ops.shape import Permute, Reshape, infer_shape, wrap_dim_list
from ember.tensor import Tensor

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "flatten",
    "moveaxis",
    "movedim",
    "ravel",
    "squeeze",
    "stack",
    "unbind",
    "unflatten",
    "unsqueeze",
]


class Unbind(Function):
    """The slices of x along dim, as a tuple of views."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> tuple:
        ctx.dim = dim
        xp = array_module(x)
        return tuple(xp.moveaxis(x, dim, 0))

    @staticmethod
    def backward(ctx: Context, *grads: Tensor) -> tuple[Tensor, None]:
        return stack(grads, ctx.dim), None


class Stack(Function):
    """The inputs joined along a new dim; backward unbinds the gradient."""

    @staticmethod
    def forward(ctx: Context, dim: int, *xs: Array) -> Array:
        ctx.dim = dim
        return array_module(*xs).stack(xs, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return (None, *unbind(grad, ctx.dim))


# -- merging and splitting dims -------------------------------------------------------------
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one (a view when possible). Mirrors ``torch.flatten``."""
    shape = input.data.shape
    start, end = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if not shape:
        return Reshape.apply(input, (1,))
    if start == end:
        return input
    merged = 1
    for n in shape[start : end + 1]:
        merged *= n
    return Reshape.apply(input, (*shape[:start], merged, *shape[end + 1 :]))


def ravel(input: Tensor) -> Tensor:
    """Return input flattened to 1-D (a view when possible). Mirrors ``torch.ravel``."""
    return Reshape.apply(input, (input.data.size,))


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dim into sizes (one may be -1). Mirrors ``torch.unflatten``."""
    shape = input.data.shape
    dim = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if -1 not in sizes:
        product = 1
        for n in sizes:
            product *= n
        if product != shape[dim]:
            raise RuntimeError(
                f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
                f"{dim} ({shape[dim]}) in the input tensor"
            )
    sizes = infer_shape(sizes, shape[dim])
    return Reshape.apply(input, (*shape[:dim], *sizes, *shape[dim + 1 :]))


def squeeze(input: Tensor, dim: int | Sequence[int] | None = None) -> Tensor:
    """Remove dims of size 1 (all, or those in dim). Mirrors ``torch.squeeze``."""
    shape = input.data.shape
    if dim is None:
        out = tuple(n for n in shape if n != 1)
    else:
        dims = wrap_dim_list(dim, len(shape))
        out = tuple(n for i, n in enumerate(shape) if n != 1 or i not in dims)
    return Reshape.apply(input, out)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at dim. Mirrors ``torch.unsqueeze``."""
    shape = input.data.shape
    dim = wrap_dim(dim, len(shape) + 1)
    return Reshape.apply(input, (*shape[:dim], 1, *shape[dim:]))


def atleast_1d(*tensors: Any) -> Any:
    """Return views with at least 1 dim (a tuple for several). Mirrors ``torch.atleast_1d``."""
    return _atleast(tensors, lambda t: Reshape.apply(t, (1,)) if t.data.ndim == 0 else t)


def atleast_2d(*tensors: Any) -> Any:
    """Return views with at least 2 dims (a tuple for several). Mirrors ``torch.atleast_2d``."""
    return _atleast(tensors, lambda t: Reshape.apply(t, (1,) * (2 - t.data.ndim) + t.data.shape))


def atleast_3d(*tensors: Any) -> Any:
    """Return views with at least 3 dims (a tuple for several). Mirrors ``torch.atleast_3d``.

    Shapes: () -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1).
    """

    def lift(t: Tensor) -> Tensor:
        shape = t.data.shape
        if len(shape) >= 3:
            return t
        return Reshape.apply(t, {0: (1, 1, 1), 1: (1, *shape, 1), 2: (*shape, 1)}[len(shape)])

    return _atleast(tensors, lift)


def _atleast(tensors: tuple, lift: Any) -> Any:
    if len(tensors) == 1:
        if isinstance(tensors[0], Tensor):
            return lift(tensors[0])
        tensors = tuple(tensors[0])
    return tuple(lift(t) for t in tensors)


# -- moving dims, unbind and stack ----------------------------------------------------------
def movedim(input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """Return a view with dims moved from source to destination. Mirrors ``torch.movedim``."""
    ndim = input.data.ndim
    src = (source,) if isinstance(source, int) else tuple(source)
    dst = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(src) != len(dst):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(src)} dims) should "
            f"contain the same number of dims as destination ({list(dst)} dims)"
        )
    src = tuple(wrap_dim(d, ndim) for d in src)
    dst = tuple(wrap_dim(d, ndim) for d in dst)
    for name, dims in (("source", src), ("destination", dst)):
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
    order = [None] * ndim
    for s, d in zip(src, dst):
        order[d] = s
    rest = iter(d for d in range(ndim) if d not in src)
    dims = tuple(d if d is not None else next(rest) for d in order)
    return Permute.apply(input, dims)


def moveaxis(
    input: Tensor, source: int | Sequence[int], destination: int | Sequence[int]
) -> Tensor:
    """Return a view with dims moved from source to destination. Mirrors ``torch.moveaxis``."""
    return movedim(input, source, destination)


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Return the slices along dim, as views. Mirrors ``torch.unbind``."""
    if input.data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return Unbind.apply(input, wrap_dim(dim, input.data.ndim))


def stack(tensors: Any, dim: int = 0) -> Tensor:
    """Join tensors along a new dim. Mirrors ``torch.stack``."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for i, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 "
                f"and {list(t.shape)} at entry {i}"
            )
    dim = wrap_dim(dim, len(shape) + 1)
    return Stack.apply(dim, *tensors)
