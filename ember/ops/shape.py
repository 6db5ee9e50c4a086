"""Shape primitives: broadcasting and its reverse, reshapes and views, permutes.

Every op here returns a view of its input's array, as PyTorch does (reshape only when the
layout allows), so the output shares the input's version counter. ``SumTo`` and
``BroadcastTo`` are each other's backward, which is what lets gradients of gradients flow
through broadcasting. Ops that add, remove or move dims (squeeze, flatten, movedim, stack,
...) live in ``dims.py``; strided sub-views (narrow, diagonal, unfold) in ``strided.py``.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import DType
from ember.ops.common import shape_arg, wrap_dim
from ember.tensor import Size, Tensor

__all__ = [
    "broadcast_shapes",
    "broadcast_tensors",
    "broadcast_to",
    "expand",
    "expand_as",
    "permute",
    "reshape",
    "reshape_as",
    "sum_to",
    "sum_to_size",
    "swapaxes",
    "swapdims",
    "t",
    "transpose",
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


def broadcast_shape(a: tuple, b: tuple) -> tuple:
    """Broadcast two shapes, raising PyTorch's error (tensor a, tensor b) when they clash."""
    ndim = max(len(a), len(b))
    a_full = (1,) * (ndim - len(a)) + tuple(a)
    b_full = (1,) * (ndim - len(b)) + tuple(b)
    out = []
    for d, (m, n) in enumerate(zip(a_full, b_full)):
        if m != n and m != 1 and n != 1:
            raise RuntimeError(
                f"The size of tensor a ({m}) must match the size of tensor b ({n}) at "
                f"non-singleton dimension {d}"
            )
        out.append(n if m == 1 else m)
    return tuple(out)


# -- reshapes -------------------------------------------------------------------------------
def infer_shape(shape: tuple, numel: int) -> tuple:
    """Resolve a -1 in shape from numel, with PyTorch's errors for a shape that does not fit."""
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
    return Reshape.apply(input, infer_shape(shape_arg(shape), input.data.size))


def view(input: Tensor, *shape: Any) -> Tensor:
    """Return a view with another shape (or the same bytes as another dtype).

    Mirrors ``torch.Tensor.view``. Differences from PyTorch: a dtype view is not
    differentiable, and needs dtypes of the same size.
    """
    if len(shape) == 1 and isinstance(shape[0], DType):
        return _view_dtype(input, shape[0])
    shape = infer_shape(shape_arg(shape), input.data.size)
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
