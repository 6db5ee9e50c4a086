"""Shape primitives: broadcasting and its reverse, reshapes and views.

Every op here returns a view of its input's array, as PyTorch does (reshape only when the
layout allows), so the output shares the input's version counter. ``SumTo`` and
``BroadcastTo`` are each other's backward, which is what lets gradients of gradients flow
through broadcasting. Strided sub-views (narrow, diagonal, unfold) live in ``strided.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import DType
from ember.ops.common import shape_arg, wrap_dim
from ember.tensor import Size, Tensor

__all__ = [
    "atleast_1d",
    "atleast_2d",
    "atleast_3d",
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "expand",
    "expand_as",
    "flatten",
    "moveaxis",
    "movedim",
    "permute",
    "ravel",
    "reshape",
    "reshape_as",
    "squeeze",
    "stack",
    "sum_to",
    "sum_to_size",
    "swapaxes",
    "swapdims",
    "t",
    "transpose",
    "unbind",
    "unflatten",
    "unsqueeze",
    "view",
    "view_as",
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
        return Reshape.apply(grad, ctx.in_shape), None


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
        return Permute.apply(grad, tuple(inverse)), None


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


def tie_view(out: Tensor, input: Tensor) -> Tensor:
    """Make out a view of input (shared version counter) when the machinery could not tell.

    An as_strided array's ``.base`` is a helper object, not the input's array, so
    ``Function.apply`` cannot see the aliasing itself.
    """
    if out._base is None:
        out._version, out._base = input._version, input
    return out


def wrap_dim_list(dims: Any, ndim: int) -> tuple[int, ...]:
    """Wrap an int or a sequence of dims, refusing repeats with PyTorch's message."""
    if isinstance(dims, int):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim) for d in dims)
    seen = set()
    for d in out:
        if d in seen:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        seen.add(d)
    return out


# -- broadcasting ---------------------------------------------------------------------------
def sum_to(input: Tensor, shape: tuple) -> Tensor:
    """Sum input down to shape, undoing broadcasting (the one place that does)."""
    if tuple(input.data.shape) == tuple(shape):
        return input
    return SumTo.apply(input, tuple(shape))


def sum_to_size(input: Tensor, *size: Any) -> Tensor:
    """Sum input down to size, which must broadcast to input. Mirrors ``Tensor.sum_to_size``."""
    shape = shape_arg(size)
    lead = input.data.ndim - len(shape)
    if lead < 0 or any(n != 1 and n != input.data.shape[lead + i] for i, n in enumerate(shape)):
        raise RuntimeError(
            f"size {{{list(shape)}}} is not expandable to size {{{list(input.shape)}}}."
        )
    return sum_to(input, shape)


def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Return a broadcast view; -1 keeps a dim's size. Mirrors ``torch.Tensor.expand``.

    Differences from PyTorch: returns input itself when the shape does not change.
    """
    target = shape_arg(sizes)
    in_shape = input.data.shape
    if target == in_shape:
        return input
    lead = len(target) - len(in_shape)
    if lead < 0:
        raise RuntimeError(
            f"expand({input.type()}{{{list(in_shape)}}}, size={list(target)}): the number of "
            f"sizes provided ({len(target)}) must be greater or equal to the number of "
            f"dimensions in the tensor ({len(in_shape)})"
        )
    shape = list(target)
    for i, n in enumerate(target):
        if i < lead:
            if n < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({n}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            continue
        old = in_shape[i - lead]
        if n == -1:
            shape[i] = old
        elif n != old and old != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({n}) must match the existing size ({old}) "
                f"at non-singleton dimension {i}.  Target sizes: {list(target)}.  "
                f"Tensor sizes: {list(in_shape)}"
            )
    return BroadcastTo.apply(input, tuple(shape))


def broadcast_to(input: Tensor, size: Any) -> Tensor:
    """Return a broadcast view of input with the given shape. Mirrors ``torch.broadcast_to``."""
    shape = tuple(size)
    if input.data.shape == shape:
        return input
    return expand(input, shape)


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    """Return input broadcast to other's shape. Mirrors ``torch.Tensor.expand_as``."""
    return expand(input, other.data.shape)


def _broadcast_pair(a: tuple, b: tuple, on_mismatch: Any) -> tuple:
    ndim = max(len(a), len(b))
    a, b = (1,) * (ndim - len(a)) + a, (1,) * (ndim - len(b)) + b
    out = []
    for i, (m, n) in enumerate(zip(a, b)):
        if m != n and m != 1 and n != 1:
            on_mismatch(i - ndim, i)
        out.append(m if n == 1 else n)
    return tuple(out)


def broadcast_shapes(*shapes: Any) -> Size:
    """Return the shape that the given shapes broadcast to. Mirrors ``torch.broadcast_shapes``."""
    shapes = [(shape,) if isinstance(shape, int) else tuple(shape) for shape in shapes]
    result = [1] * max(map(len, shapes), default=0)
    for index, dims in enumerate(shapes):
        for i in range(-1, -len(dims) - 1, -1):  # from the last dim, updating as we go
            n = dims[i]
            if n < 0:
                raise ValueError("Attempting to broadcast a dimension with negative length!")
            if n == 1 or n == result[i]:
                continue
            if result[i] != 1:
                raise RuntimeError(
                    f"Attempting to broadcast a dimension of length {n} at {i}! Mismatching "
                    f"argument at index {index} had {dims}; but expected shape should be "
                    f"broadcastable to {result}"
                )
            result[i] = n
    return Size(result)


def broadcast_tensors(*tensors: Tensor) -> tuple[Tensor, ...]:
    """Broadcast tensors to one shape, as views. Mirrors ``torch.broadcast_tensors``."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape: tuple = ()
    for t in tensors:

        def fail(neg: int, pos: int, a: tuple = shape, b: tuple = t.data.shape) -> None:
            raise RuntimeError(
                f"The size of tensor a ({a[neg]}) must match the size of tensor b ({b[neg]}) "
                f"at non-singleton dimension {pos}"
            )

        shape = _broadcast_pair(shape, t.data.shape, fail)
    return tuple(broadcast_to(t, shape) for t in tensors)


# -- reshapes -------------------------------------------------------------------------------
def _infer_shape(shape: tuple, numel: int) -> tuple:
    known = 1
    unknown = None
    for i, n in enumerate(shape):
        if n == -1:
            if unknown is not None:
                raise RuntimeError("only one dimension can be inferred")
            unknown = i
        elif n < 0:
            raise RuntimeError(f"invalid shape dimension {n} at index {i} of shape {list(shape)}")
        else:
            known *= n
    if unknown is not None:
        if known == 0:
            if numel == 0:
                raise RuntimeError(
                    f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
                    "unspecified dimension size -1 can be any value and is ambiguous"
                )
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        if numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = (*shape[:unknown], numel // known, *shape[unknown + 1 :])
    elif known != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _viewable(x: Array, shape: tuple) -> bool:
    """Whether x can take shape without a copy (PyTorch's computeStride, in bytes)."""
    old_shape, old_strides = x.shape, x.strides
    if x.size == 0 or not old_shape:
        return True
    view_d = len(shape) - 1
    base_stride = old_strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        # a chunk ends where the next-outer dim does not continue it contiguously
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * base_stride):
            while view_d >= 0 and (view_numel < tensor_numel or shape[view_d] == 1):
                view_numel *= shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if d > 0:
                base_stride = old_strides[d - 1]
                tensor_numel = view_numel = 1
    return view_d == -1


def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Return input with another shape, a view when possible. Mirrors ``torch.reshape``."""
    return Reshape.apply(input, _infer_shape(shape_arg(shape), input.data.size))


def view(input: Tensor, *shape: Any) -> Tensor:
    """Return a view with another shape (or the same bytes as another dtype).

    Mirrors ``torch.Tensor.view``. Differences from PyTorch: a dtype view is not
    differentiable, and needs dtypes of the same size.
    """
    if len(shape) == 1 and isinstance(shape[0], DType):
        return _view_dtype(input, shape[0])
    shape = _infer_shape(shape_arg(shape), input.data.size)
    if not _viewable(input.data, shape):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        )
    return Reshape.apply(input, shape)


def _view_dtype(input: Tensor, dtype: DType) -> Tensor:
    if dtype.np.itemsize != input.data.itemsize:
        raise NotImplementedError(
            f"view({dtype}): viewing as a dtype of another element size is not supported yet"
        )
    return tie_view(Tensor(input.data.view(dtype.np)), input)


def view_as(input: Tensor, other: Tensor) -> Tensor:
    """Return a view with other's shape. Mirrors ``torch.Tensor.view_as``."""
    return view(input, other.data.shape)


def reshape_as(input: Tensor, other: Tensor) -> Tensor:
    """Return input reshaped to other's shape. Mirrors ``torch.Tensor.reshape_as``."""
    return reshape(input, other.data.shape)


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
    sizes = _infer_shape(sizes, shape[dim])
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


# -- dim reordering -------------------------------------------------------------------------
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
    dims = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Return a view with two dims swapped. Mirrors ``torch.transpose``."""
    ndim = input.data.ndim
    a, b = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    dims = list(range(ndim))
    if ndim:
        dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, tuple(dims))


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """Return a view with two dims swapped. Mirrors ``torch.swapaxes``."""
    return transpose(input, axis0, axis1)


def swapdims(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Return a view with two dims swapped. Mirrors ``torch.swapdims``."""
    return transpose(input, dim0, dim1)


def t(input: Tensor) -> Tensor:
    """Return the transpose of a matrix (<= 2-D input; 0-D and 1-D as is). Mirrors ``torch.t``."""
    ndim = input.data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return Permute.apply(input, (1, 0) if ndim == 2 else tuple(range(ndim)))


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
