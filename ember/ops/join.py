"""Joining and splitting: cat and its stacking variants; split, chunk and tensor_split.

``Cat`` and ``Split`` are each other's backward. Split's outputs are views of the input, as
in PyTorch; cat copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import cast, result_type, wrap_dim
from ember.ops.dims import atleast_1d, atleast_2d, atleast_3d
from ember.ops.shape import Reshape
from ember.ops.strided import Slice
from ember.tensor import Tensor

__all__ = [
    "cat",
    "chunk",
    "column_stack",
    "concat",
    "concatenate",
    "dsplit",
    "dstack",
    "hsplit",
    "hstack",
    "split",
    "tensor_split",
    "vsplit",
    "vstack",
]


def _skipped(shape: tuple) -> bool:
    # PyTorch's legacy rule: a 1-D empty tensor joins any cat (it only takes part in promotion).
    return len(shape) == 1 and shape[0] == 0


class Cat(Function):
    """The inputs joined along an existing dim; backward slices the gradient (views)."""

    @staticmethod
    def forward(ctx: Context, dim: int, *xs: Array) -> Array:
        ctx.dim, ctx.sizes = dim, [None if _skipped(x.shape) else x.shape[dim] for x in xs]
        parts = [x for x in xs if not _skipped(x.shape)] or list(xs)
        return array_module(*xs).concatenate(parts, axis=dim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        grads: list = [None]
        start, lead = 0, (slice(None),) * ctx.dim
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad[1:]):
            if size is None:  # a skipped empty input: its gradient is empty too
                empty = Slice.apply(Reshape.apply(grad, (-1,)), (slice(0, 0),))
                grads.append(empty if needed else None)
                continue
            grads.append(Slice.apply(grad, (*lead, slice(start, start + size))) if needed else None)
            start += size
        return tuple(grads)


class Split(Function):
    """Consecutive pieces of x along dim, as views; backward concatenates the gradients."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int, bounds: tuple) -> tuple:
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[(*lead, slice(a, b))] for a, b in pairwise(bounds))

    @staticmethod
    def backward(ctx: Context, *grads: Tensor) -> tuple:
        return Cat.apply(ctx.dim, *grads), None, None


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim, promoting dtypes. Mirrors ``torch.cat``.

    As in PyTorch, 1-D empty tensors are skipped whatever the other shapes.
    """
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat(): expected a non-empty list of Tensors")
    ref = None
    for i, t in enumerate(tensors):
        shape = t.data.shape
        if not shape:
            raise RuntimeError(f"zero-dimensional tensor (at position {i}) cannot be concatenated")
        if ref is None and not _skipped(shape):
            ref = shape
    if ref is None:  # only 1-D empty tensors: the result is one too
        dim = 0
    else:
        dim = wrap_dim(dim, len(ref))
        _check_cat_shapes(tensors, ref, dim)
    dtype = result_type(*tensors)
    return Cat.apply(dim, *(cast(t, dtype) for t in tensors))


def _check_cat_shapes(tensors: list, ref: tuple, dim: int) -> None:
    for i, t in enumerate(tensors):
        shape = t.data.shape
        if _skipped(shape):
            continue
        if len(shape) != len(ref):
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {len(ref)} and {len(shape)}"
            )
        for d, (m, n) in enumerate(zip(ref, shape)):
            if d != dim and m != n:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {dim}. Expected size {m} "
                    f"but got size {n} for tensor number {i} in the list."
                )


def concat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dim. Mirrors ``torch.concat`` (an alias of cat)."""
    return cat(tensors, dim)


def concatenate(tensors: Sequence[Tensor], axis: int = 0, *, dim: int | None = None) -> Tensor:
    """Join tensors along an existing dim. Mirrors ``torch.concatenate`` (an alias of cat)."""
    return cat(tensors, axis if dim is None else dim)


def _nonempty(tensors: Any, op: str) -> list:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors column-wise (along dim 0 for 1-D inputs, else 1). Mirrors ``torch.hstack``."""
    tensors = atleast_1d(_nonempty(tensors, "hstack"))
    return cat(tensors, 0 if tensors[0].data.ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors row-wise, as at least 2-D. Mirrors ``torch.vstack``."""
    return cat(atleast_2d(_nonempty(tensors, "vstack")), 0)


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors depth-wise (dim 2), as at least 3-D. Mirrors ``torch.dstack``."""
    return cat(atleast_3d(_nonempty(tensors, "dstack")), 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """Join tensors side by side as columns. Mirrors ``torch.column_stack``.

    Shapes: 0-D and 1-D inputs of n elements become (n, 1) columns first.
    """
    tensors = _nonempty(tensors, "column_stack")
    columns = [Reshape.apply(t, (t.data.size, 1)) if t.data.ndim <= 1 else t for t in tensors]
    return cat(columns, 1)


# -- splitting --------------------------------------------------------------------------------
def _split_at(input: Tensor, dim: int, sizes: Any) -> tuple[Tensor, ...]:
    bounds = [0]
    for n in sizes:
        bounds.append(bounds[-1] + n)
    return Split.apply(input, dim, tuple(bounds))


def _dim_of(input: Tensor, dim: int, op: str) -> int:
    if input.data.ndim == 0:
        raise RuntimeError(f"{op} expects at least a 1-dimensional tensor")
    return wrap_dim(dim, input.data.ndim)


def split(
    tensor: Tensor, split_size_or_sections: int | Sequence[int], dim: int = 0
) -> tuple[Tensor, ...]:
    """Split into pieces of a size (the last may be smaller) or of given sizes, as views.

    Mirrors ``torch.split``.
    """
    dim = _dim_of(tensor, dim, "split")
    size = tensor.data.shape[dim]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        if step < 0:
            raise RuntimeError(
                f"split expects split_size be non-negative, but got split_size={step}"
            )
        if step == 0:
            if size:
                raise RuntimeError(
                    "split_size can only be 0 if dimension size is 0, but got dimension size "
                    f"of {size}"
                )
            return _split_at(tensor, dim, (0,))
        return _split_at(tensor, dim, [min(step, size - a) for a in range(0, max(size, 1), step)])
    sizes = [int(n) for n in split_size_or_sections]
    if any(n < 0 for n in sizes):
        raise RuntimeError(
            "split_with_sizes expects split_sizes have only non-negative entries, but got "
            f"split_sizes={sizes}"
        )
    if sum(sizes) != size:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's size "
            f"at dimension {dim}), but got split_sizes={sizes}"
        )
    return _split_at(tensor, dim, sizes)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into at most chunks pieces of equal size (the last may be smaller), as views.

    Mirrors ``torch.chunk``.
    """
    dim = _dim_of(input, dim, "chunk")
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    size = input.data.shape[dim]
    if size == 0:
        return _split_at(input, dim, (0,) * chunks)
    return split(input, -(-size // chunks), dim)


def tensor_split(
    input: Tensor, indices_or_sections: int | Sequence[int] | Tensor, dim: int = 0
) -> tuple[Tensor, ...]:
    """Split into n near-equal sections, or at the given indices, as views.

    Mirrors ``torch.tensor_split``; a 0-d int64 tensor means sections, a 1-D one indices.
    """
    arg = indices_or_sections
    if isinstance(arg, Tensor):
        if arg.dtype.name != "int64":
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to have dtype of long, but "
                f"got {arg.type().split('.')[-1].removesuffix('Tensor')}"
            )
        if arg.data.ndim > 1:
            raise RuntimeError(
                "tensor_split expected tensor_indices_or_sections to be a zero-dimensional or "
                f"one-dimensional tensor, but got a tensor with {arg.data.ndim} dims"
            )
        arg = int(arg.item()) if arg.data.ndim == 0 else [int(i) for i in arg.tolist()]
    dim = _dim_of(input, dim, "tensor_split")
    size = input.data.shape[dim]
    if isinstance(arg, int):
        if arg <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {arg}")
        small, extra = divmod(size, arg)
        return _split_at(input, dim, [small + (i < extra) for i in range(arg)])
    bounds = [0]
    for i in arg:
        i = int(i)
        i = min(max(i + size if i < 0 else i, 0), size)
        bounds.append(max(i, bounds[-1]))
    bounds.append(size)
    return Split.apply(input, dim, tuple(bounds))


def _split_dim(input: Tensor, arg: Any, dim: int, op: str, min_dims: int) -> tuple:
    ndim = input.data.ndim
    if ndim < min_dims:
        raise RuntimeError(
            f"torch.{op} requires a tensor with at least {min_dims} dimension, but got a tensor "
            f"with {ndim} dimensions!"
        )
    if isinstance(arg, int) and (arg == 0 or input.data.shape[dim] % arg):
        raise RuntimeError(
            f"torch.{op} attempted to split along dimension {dim}, but the size of the "
            f"dimension {input.data.shape[dim]} is not divisible by the split_size {arg}!"
        )
    return tensor_split(input, arg, dim)


def hsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Split column-wise (dim 1, or 0 for 1-D input). Mirrors ``torch.hsplit``."""
    dim = 0 if input.data.ndim == 1 else 1
    return _split_dim(input, indices_or_sections, dim, "hsplit", 1)


def vsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Split row-wise (dim 0). Mirrors ``torch.vsplit``."""
    return _split_dim(input, indices_or_sections, 0, "vsplit", 2)


def dsplit(input: Tensor, indices_or_sections: int | Sequence[int]) -> tuple[Tensor, ...]:
    """Split depth-wise (dim 2). Mirrors ``torch.dsplit``."""
    return _split_dim(input, indices_or_sections, 2, "dsplit", 3)
