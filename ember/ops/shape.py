"""Shape primitives: broadcasting and its reverse, reshapes and views.

``SumTo`` and ``BroadcastTo`` are each other's backward, which is what lets gradients of
gradients flow through broadcasting.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import shape_arg, wrap_dim
from ember.tensor import Tensor

__all__ = [
    "broadcast_to",
    "expand",
    "permute",
    "reshape",
    "stack",
    "sum_to",
    "transpose",
    "unbind",
    "view",
]


class SumTo(Function):
    """Sum x down to shape (the reverse of broadcasting); backward is broadcast_to."""

    @staticmethod
    def forward(ctx: Context, x: Array, shape: tuple) -> Array:
        ctx.in_shape = x.shape
        lead = x.ndim - len(shape)
        dims = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1
        )
        out = x.sum(axis=dims, keepdims=True) if dims else x
        return out.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return broadcast_to(grad, ctx.in_shape), None


class BroadcastTo(Function):
    """x broadcast to shape, as a read-only view; backward is sum_to."""

    @staticmethod
    def forward(ctx: Context, x: Array, shape: tuple) -> Array:
        ctx.in_shape = x.shape
        return array_module(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return sum_to(grad, ctx.in_shape), None


class Reshape(Function):
    """x with another shape (a view when the layout allows)."""

    @staticmethod
    def forward(ctx: Context, x: Array, shape: tuple) -> Array:
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return reshape(grad, ctx.in_shape), None


class Permute(Function):
    """x with its dims reordered (a view)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple) -> Array:
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return permute(grad, *inverse), None


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
    dim = wrap_dim(dim, len(shape) + 1, "stack")
    return Stack.apply(dim, *tensors)


def sum_to(input: Tensor, shape: tuple) -> Tensor:
    """Sum input down to shape, undoing broadcasting (the one place that does)."""
    if tuple(input.data.shape) == tuple(shape):
        return input
    return SumTo.apply(input, tuple(shape))


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    """Return a broadcast view of input with the given shape. Mirrors ``torch.broadcast_to``."""
    shape = tuple(size)
    if input.data.shape == shape:
        return input
    try:
        array_module(input.data).broadcast_shapes(input.data.shape, shape)
    except ValueError:
        raise RuntimeError(
            f"The expanded size of the tensor ({shape[-1] if shape else 0}) must match the "
            f"existing size at non-singleton dimension: target sizes {list(shape)}, "
            f"tensor sizes {list(input.shape)}"
        ) from None
    return BroadcastTo.apply(input, shape)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Return a broadcast view; -1 keeps a dim's size. Mirrors ``torch.Tensor.expand``."""
    shape = list(shape_arg(sizes))
    lead = len(shape) - input.data.ndim
    if lead < 0:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal "
            f"to the number of dimensions in the tensor ({input.data.ndim})"
        )
    for i, n in enumerate(shape):
        if n == -1:
            shape[i] = input.data.shape[i - lead]
    return broadcast_to(input, tuple(shape))


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Return input with another shape, a view when possible. Mirrors ``torch.reshape``."""
    shape = shape_arg(shape)
    return Reshape.apply(input, _infer_shape(shape, input.data.size))


def view(input: Tensor, *shape: Any) -> Tensor:
    """Return a view with another shape. Mirrors ``torch.Tensor.view``."""
    return reshape(input, *shape)


def _infer_shape(shape: tuple, numel: int) -> tuple:
    known = 1
    unknown = None
    for i, n in enumerate(shape):
        if n == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        else:
            known *= n
    if unknown is not None:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = shape[:unknown] + (numel // known,) + shape[unknown + 1 :]
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def permute(input: Tensor, *dims: Any) -> Tensor:
    """Return a view with dims reordered. Mirrors ``torch.permute``."""
    dims = shape_arg(dims)
    ndim = input.data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match "
            f"the length of the desired ordering of dimensions i.e. input.dim() = {ndim} is "
            f"not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, ndim, "permute") for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Return a view with two dims swapped. Mirrors ``torch.transpose``."""
    ndim = input.data.ndim
    if ndim == 0:
        return input
    dims = list(range(ndim))
    a, b = wrap_dim(dim0, ndim, "transpose"), wrap_dim(dim1, ndim, "transpose")
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


def unbind(input: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """Return the slices along dim. Mirrors ``torch.unbind``."""
    dim = wrap_dim(dim, input.data.ndim, "unbind")
    return Unbind.apply(input, dim)
