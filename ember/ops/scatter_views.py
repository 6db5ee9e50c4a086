"""Out-of-place writes through a view: select/slice/diagonal_scatter, index_reduce and put.

Each is one ``IndexPut`` (or, for index_reduce, the ``ScatterReduce`` of ``scatter.py``) on an
index built here, so the gradients come from those ops' backwards: the gradient of input is
zero where it was overwritten, and src's gradient is the matching part of the incoming one.
Both are differentiable again.
"""

from __future__ import annotations

from typing import Any

from ember.backend import array_module
from ember.ops.common import cast, wrap_dim
from ember.ops.comparison import require_tensor
from ember.ops.indexing import ALL, IndexPut, type_label
from ember.ops.scatter import ScatterReduce, _check_source
from ember.ops.shape import reshape
from ember.tensor import Tensor

__all__ = ["diagonal_scatter", "index_reduce", "put", "select_scatter", "slice_scatter"]

_INDEX_REDUCES = ("prod", "mean", "amax", "amin")


def _scatter_into(input: Tensor, src: Tensor, target: tuple, basic: tuple, adv: Any) -> Tensor:
    """Return input with src written at [basic][adv], after PyTorch's exact-size check on src."""
    if tuple(src.data.shape) != target:
        raise RuntimeError(
            "expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(target)}"
        )
    return IndexPut.apply(input, cast(src, input.dtype), basic, adv, False)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """Return input with src written at the given index of dim.

    Mirrors ``torch.select_scatter``. Shapes: src has input's shape without dim; a src of
    another dtype is cast to input's.
    """
    if input.data.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    shape = tuple(input.data.shape)
    dim = wrap_dim(dim, len(shape))
    if not -shape[dim] <= index < shape[dim]:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(shape)} at "
            f"dimension {dim}"
        )
    basic = (slice(None),) * dim + (index,)
    return _scatter_into(input, src, shape[:dim] + shape[dim + 1 :], basic, None)


def slice_scatter(
    input: Tensor,
    src: Tensor,
    dim: int = 0,
    start: int | None = None,
    end: int | None = None,
    step: int = 1,
) -> Tensor:
    """Return input with src written into input[start:end:step] along dim.

    Mirrors ``torch.slice_scatter``. Out-of-range start and end are clamped, as in slicing.
    """
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    shape = tuple(input.data.shape)
    dim = wrap_dim(dim, len(shape))
    if not shape:
        raise IndexError("slice() cannot be applied to a 0-dim tensor.")
    part = slice(start, end, step)
    target = (*shape[:dim], len(range(*part.indices(shape[dim]))), *shape[dim + 1 :])
    return _scatter_into(input, src, target, (slice(None),) * dim + (part,), None)


def diagonal_scatter(
    input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1
) -> Tensor:
    """Return input with src written onto its diagonal (offset, dim1, dim2).

    Mirrors ``torch.diagonal_scatter``. Shapes: src is the shape ``torch.diagonal`` gives, the
    other dims first and the diagonal last.
    """
    shape = tuple(input.data.shape)
    ndim = len(shape)
    dim1, dim2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if dim1 == dim2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    row, col = (0, offset) if offset >= 0 else (-offset, 0)
    size = max(0, min(shape[dim1] - row, shape[dim2] - col))
    rest = [d for d in range(ndim) if d not in (dim1, dim2)]
    target = (*(shape[d] for d in rest), size)
    xp = array_module(input.data)
    out_ndim = len(target)
    index: list = [None] * ndim
    for position, d in enumerate(rest):  # every other dim, in its place in src
        index[d] = xp.arange(shape[d]).reshape(
            [-1 if i == position else 1 for i in range(out_ndim)]
        )
    steps = xp.arange(size).reshape([1] * (out_ndim - 1) + [-1])  # the diagonal, last
    index[dim1], index[dim2] = steps + row, steps + col
    return _scatter_into(input, src, target, ALL, tuple(index))


def index_reduce(
    input: Tensor,
    dim: int,
    index: Tensor,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """Return input with source's slices reduced into it at index along dim.

    Mirrors ``torch.index_reduce`` (reduce is 'prod', 'mean', 'amax' or 'amin'). Gradients as
    PyTorch's: ties of amax/amin share the gradient evenly; prod handles zeros exactly.
    Differences from PyTorch: no "beta" UserWarning; with include_self=False an amax/amin
    gradient is split among the tied sources only (PyTorch also counts the excluded self
    value among the ties, so its source gradients do not sum to the incoming gradient).
    """
    if reduce not in _INDEX_REDUCES:
        raise RuntimeError(
            "index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
            f"{reduce}."
        )
    require_tensor("index_reduce", index, "index", 3)
    if index.data.dtype.name not in ("int64", "int32"):
        raise RuntimeError(
            f"index_reduce_(): Expected dtype int32/int64 for index but got: {type_label(index)}"
        )
    if index.data.ndim > 1:
        raise IndexError(
            f"index_reduce_(): Index is supposed to be a vector, but got dim: "
            f"{index.data.ndim} with type: {type_label(index)} and size: {list(index.shape)}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_reduce_(): self ({type_label(input)}) and source ({type_label(source)}) "
            "must have the same scalar type"
        )
    if input.data.dtype.kind == "b":
        raise NotImplementedError("\"index_func_\" not implemented for 'Bool'")
    if input.data.ndim == 0 and source.data.ndim == 0:
        out = index_reduce(
            reshape(input, 1), 0, reshape(index, 1), reshape(source, 1), reduce,
            include_self=include_self,
        )  # fmt: skip
        return reshape(out, ())
    dim = wrap_dim(dim, input.data.ndim)
    _check_source("index_reduce_", input, dim, index, source)
    idx = index.data.reshape(-1)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= input.data.shape[dim]):
        raise IndexError("index out of range in self")
    adv = (slice(None),) * dim + (idx,)
    return ScatterReduce.apply(input, source, adv, reduce, bool(include_self))


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """Return input with source written (or added) at flat indices; negatives count from the end.

    Mirrors ``torch.put``: input is treated as 1-D, index and source as flat lists of equal
    length. With ``accumulate=True`` repeated indices add up.
    """
    require_tensor("put", index, "index", 2)
    require_tensor("put", source, "source", 3)
    if index.data.dtype.name != "int64":
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {type_label(index)}")
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{type_label(input)} and source.dtype = {type_label(source)}"
        )
    if source.data.size != index.data.size:
        raise IndexError(
            "put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.data.size}, index.numel() = {index.data.size}"
        )
    numel = input.data.size
    idx = index.data.reshape(-1)
    if idx.size:
        if numel == 0:
            raise IndexError("put_(): Tried to put elements into an empty tensor")
        for value in (int(idx.min()), int(idx.max())):
            if not -numel <= value < numel:
                raise IndexError(
                    f"out of range: tried to access index {value} on a tensor of {numel} elements."
                )
    flat = reshape(input, -1)
    out = IndexPut.apply(flat, reshape(source, -1), ALL, (idx % max(numel, 1),), bool(accumulate))
    return reshape(out, input.data.shape)
