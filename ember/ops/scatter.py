"""Gathers and scatters along a dim: gather, scatter*, index_select/add/copy/fill.

Each is written as an index into the two primitives of ``indexing.py`` (``GetItem`` and
``IndexPut``): ``gather(x, dim, index)`` is ``x[ar0, index, ar2]`` with broadcast ``arange``s
in the other dims, ``index_select`` is ``x[:, index]``, and so on. Their backwards (scatter-add
into zeros, and gather) then come for free and are differentiable to any order. Only
``scatter_reduce`` needs a Function of its own.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import cast, wrap_dim
from ember.ops.elementwise import div, mul
from ember.ops.indexing import ALL, GetItem, IndexPut, type_label
from ember.ops.shape import broadcast_shape, broadcast_to, reshape
from ember.tensor import Tensor

__all__ = [
    "gather",
    "index_add",
    "index_copy",
    "index_fill",
    "index_select",
    "scatter",
    "scatter_add",
    "scatter_reduce",
    "take_along_dim",
]

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


class ScatterReduce(Function):
    """x with src reduced into x[adv] by sum, prod, mean, amax or amin (include_self or not)."""

    @staticmethod
    def forward(
        ctx: Context, x: Array, src: Array, adv: tuple, reduce: str, include_self: bool
    ) -> Array:
        xp = array_module(x)
        ctx.adv, ctx.reduce, ctx.include_self = adv, reduce, include_self
        out = x.copy()
        if not include_self:  # start the reduced positions from the identity of the reduction
            out[adv] = _identity(xp, x.dtype, reduce)
        ufunc = {"prod": xp.multiply, "amax": xp.maximum, "amin": xp.minimum}.get(reduce, xp.add)
        ufunc.at(out, adv, src)
        if reduce == "mean":
            count = xp.zeros(x.shape, dtype=xp.int64)
            xp.add.at(count, adv, 1)
            count = xp.maximum(count + include_self, 1)
            out = out / count if x.dtype.kind in "fV" else out // count
            out = out.astype(x.dtype, copy=False)
            ctx.count = count
        ctx.save_for_backward(x, src, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, src, out = ctx.saved_tensors
        adv, reduce = ctx.adv, ctx.reduce
        if reduce == "mean":
            grad = div(grad, Tensor(ctx.count.astype(grad.data.dtype)))
        if reduce in ("sum", "mean"):
            return _self_grad(ctx, grad), GetItem.apply(grad, ALL, adv), None, None, None
        if reduce == "prod":
            return (*_prod_grads(ctx, grad, x, src, out), None, None, None)
        xd, sd, od = x.data, src.data, out.data
        xp = array_module(xd)
        tie_src = sd == od[adv]  # every element equal to the result shares its gradient
        tie_x = xd == od
        if not ctx.include_self:
            tie_x[adv] = False
        ties = tie_x.astype(xp.int64)
        xp.add.at(ties, adv, tie_src)
        ties = xp.maximum(ties, 1).astype(grad.data.dtype)
        grad_x = mul(grad, Tensor(tie_x / ties))
        grad_src = mul(GetItem.apply(div(grad, Tensor(ties)), ALL, adv), Tensor(tie_src))
        return grad_x, grad_src, None, None, None


def _identity(xp: Any, dtype: Any, reduce: str) -> Any:
    if reduce in ("sum", "mean"):
        return 0
    if reduce == "prod":
        return 1
    if dtype.kind in "fV":
        return -xp.inf if reduce == "amax" else xp.inf
    info = xp.iinfo(dtype) if dtype.kind != "b" else None
    if info is None:
        return reduce == "amin"
    return info.min if reduce == "amax" else info.max


def _self_grad(ctx: Context, grad: Tensor) -> Tensor:
    """The gradient to x of a sum-like scatter: zero where x was left out (include_self=False)."""
    return grad if ctx.include_self else IndexPut.apply(grad, 0, ALL, ctx.adv, False)


def _prod_grads(ctx: Context, grad: Tensor, x: Tensor, src: Tensor, out: Tensor) -> tuple:
    """Gradients of a product scatter: out / element, or (with zeros) the product of the rest.

    Without zeros this is built from Ember ops (so it is differentiable again); with zeros the
    product of the other factors is computed exactly but taken as a constant.
    """
    adv = ctx.adv
    xd, sd = x.data, src.data
    xp = array_module(xd)
    if (not ctx.include_self or xd.all()) and sd.all():
        grad_x = mul(grad, div(out, x)) if ctx.include_self else _self_grad(ctx, grad)
        grad_src = div(GetItem.apply(mul(grad, out), ALL, adv), src)
        return grad_x, grad_src
    nonzero_prod = xp.where(xd == 0, 1, xd) if ctx.include_self else xp.ones_like(xd)
    zeros = (xd == 0).astype(xp.int64) if ctx.include_self else xp.zeros(xd.shape, xp.int64)
    if not ctx.include_self:
        nonzero_prod[adv] = 1
    xp.multiply.at(nonzero_prod, adv, xp.where(sd == 0, 1, sd))
    xp.add.at(zeros, adv, sd == 0)

    def others(values: Array, prods: Array, n_zeros: Array) -> Array:
        safe = xp.where(values == 0, 1, values)
        return xp.where(values == 0, (n_zeros == 1) * prods, (n_zeros == 0) * prods / safe)

    if ctx.include_self:
        grad_x = mul(grad, Tensor(others(xd, nonzero_prod, zeros)))
    else:
        grad_x = _self_grad(ctx, grad)
    grad_src = mul(GetItem.apply(grad, ALL, adv), Tensor(others(sd, nonzero_prod[adv], zeros[adv])))
    return grad_x, grad_src


# -- validation ------------------------------------------------------------------------------
def along_index(index: Array, dim: int) -> tuple:
    """The advanced index that reads x at index along dim and at its own position elsewhere."""
    xp = array_module(index)
    out = []
    for d, n in enumerate(index.shape):
        if d == dim:
            out.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            out.append(xp.arange(n).reshape(shape))
    return tuple(out)


def _check_int_index(index: Tensor, message: str, error: type = RuntimeError) -> None:
    if not isinstance(index, Tensor):
        raise TypeError(f"expected index to be a Tensor, got {type(index).__name__}")
    if index.data.dtype.name not in ("int64", "int32"):
        raise error(message)


def _check_bounds(idx: Array, dim: int, size: int, negative: bool, prefix: str = "") -> None:
    """Raise PyTorch's out-of-bounds error; negative=True allows -size <= i < 0."""
    if idx.size:
        low = -size if negative else 0
        for value in (int(idx.min()), int(idx.max())):
            if not low <= value < size:
                error = IndexError if prefix or negative else RuntimeError
                raise error(
                    f"{prefix}index {value} is out of bounds for dimension {dim} with size {size}"
                )


def _check_scatter_args(op: str, input: Tensor, dim: int, index: Tensor, src: Tensor | None) -> int:
    _check_int_index(index, f"{op}(): Expected dtype int32/int64 for index")
    ndim = max(input.data.ndim, 1)
    dim = wrap_dim(dim, input.data.ndim)
    if max(index.data.ndim, 1) != ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None:
        if max(src.data.ndim, 1) != ndim:
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        if src.dtype is not input.dtype:
            raise RuntimeError(f"{op}(): Expected self.dtype to be equal to src.dtype")
    shape, ishape = _shape1(input), _shape1(index)
    bad = any(n > m for d, (n, m) in enumerate(zip(ishape, shape)) if d != dim)
    if src is not None:
        bad = bad or any(n > m for n, m in zip(ishape, _shape1(src)))
    if bad:
        raise RuntimeError(
            f"Expected index {list(index.shape)} to be no larger than self {list(input.shape)} "
            f"apart from dimension {dim}"
            + (f" and to be no larger size than src {list(src.shape)}" if src is not None else "")
        )
    _check_bounds(index.data, dim, shape[dim], negative=False)
    return dim


def _shape1(t: Tensor) -> tuple:
    return tuple(t.data.shape) or (1,)


def _fit_src(src: Tensor, index: Tensor) -> Tensor:
    """Return src cut down to index's shape (only that corner of src is scattered)."""
    if src.data.shape == index.data.shape:
        return src
    return GetItem.apply(src, tuple(slice(0, n) for n in index.data.shape), None)


def _as_1d(input: Tensor, index: Tensor) -> tuple[Tensor, Tensor]:
    return reshape(input, 1), Tensor(index.data.reshape(1))


# -- public functions ------------------------------------------------------------------------
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """Return input's values at index along dim: out[i][j] = input[i][index[i][j]] (dim=1).

    Mirrors ``torch.gather``. The gradient scatter-adds (repeated indices accumulate).
    """
    _check_int_index(index, "gather(): Expected dtype int32/int64 for index")
    dim = wrap_dim(dim, input.data.ndim)
    if max(index.data.ndim, 1) != max(input.data.ndim, 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    shape, ishape = _shape1(input), _shape1(index)
    for d, (n, m) in enumerate(zip(ishape, shape)):
        if d != dim and n > m:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"no larger than self {list(input.shape)} apart from dimension {dim}"
            )
    _check_bounds(index.data, dim, shape[dim], negative=False)
    if input.data.ndim == 0 or index.data.ndim == 0:
        flat, flat_index = _as_1d(input, index) if input.data.ndim == 0 else (input, index)
        return reshape(GetItem.apply(flat, ALL, along_index(flat_index.data, 0)), index.shape)
    return GetItem.apply(input, ALL, along_index(index.data, dim))


def scatter(
    input: Tensor,
    dim: int,
    index: Tensor,
    src: Tensor | float | None = None,
    value: float | None = None,
    *,
    reduce: str | None = None,
) -> Tensor:
    """Return input with src (or value) written at index along dim. Mirrors ``torch.scatter``.

    ``reduce='add'`` or ``'multiply'`` combines instead of overwriting. Differences from
    PyTorch: those reductions are differentiable here (PyTorch raises in backward).
    """
    if src is not None and not isinstance(src, Tensor):
        src, value = None, src
    if src is None and value is None:
        raise TypeError("scatter() missing required argument 'src' or 'value'")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError("reduce argument must be either add or multiply.")
    dim = _check_scatter_args("scatter", input, dim, index, src)
    if input.data.ndim == 0:
        input1, index1 = _as_1d(input, index)
        src1 = reshape(src, 1) if src is not None else None
        return reshape(scatter(input1, 0, index1, src1, value, reduce=reduce), ())
    adv = along_index(index.data, dim)
    val = _fit_src(src, index) if src is not None else value
    if reduce == "multiply":
        if src is None:
            xp = array_module(input.data)
            val = Tensor(xp.full(index.data.shape, value, dtype=input.data.dtype))
        return ScatterReduce.apply(input, val, adv, "prod", True)
    return IndexPut.apply(input, val, ALL, adv, reduce == "add")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Return input with src added at index along dim (repeats accumulate).

    Mirrors ``torch.scatter_add``.
    """
    dim = _check_scatter_args("scatter", input, dim, index, src)
    if input.data.ndim == 0:
        input1, index1 = _as_1d(input, index)
        return reshape(scatter_add(input1, 0, index1, reshape(src, 1)), ())
    return IndexPut.apply(input, _fit_src(src, index), ALL, along_index(index.data, dim), True)


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """Return input with src reduced in at index along dim. Mirrors ``torch.scatter_reduce``.

    ``reduce`` is 'sum', 'prod', 'mean', 'amax' or 'amin'. amax/amin split the gradient evenly
    between tied elements, as PyTorch does; integer 'mean' rounds down.
    """
    if reduce not in _REDUCES:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    dim = _check_scatter_args("scatter", input, dim, index, src)
    if input.data.ndim == 0:
        input1, index1 = _as_1d(input, index)
        out = scatter_reduce(input1, 0, index1, reshape(src, 1), reduce, include_self=include_self)
        return reshape(out, ())
    src = _fit_src(src, index)
    return ScatterReduce.apply(input, src, along_index(index.data, dim), reduce, bool(include_self))


def _vector_index(index: Tensor, input: Tensor, dim: int) -> tuple:
    """The advanced index input[:, ..., index] for a 0-d or 1-D index along dim."""
    return (slice(None),) * dim + (index.data.reshape(-1),)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Return the slices of input at index along dim. Mirrors ``torch.index_select``."""
    _check_int_index(index, "index_select(): Expected dtype int32 or int64 for index")
    if index.data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    dim = wrap_dim(dim, input.data.ndim)
    size = _shape1(input)[dim]
    idx = index.data
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={size}")
    if input.data.ndim == 0:
        if idx.size != 1:
            raise RuntimeError(
                f"index_select(): Index to scalar can have only 1 value, got {idx.size} value(s)"
            )
        return reshape(input, ())
    return GetItem.apply(input, ALL, _vector_index(index, input, dim))


def _check_source(op: str, input: Tensor, dim: int, index: Tensor, source: Tensor) -> None:
    shape, sshape = list(input.shape), list(source.shape)
    if len(sshape) != len(shape) or any(
        n != m for d, (n, m) in enumerate(zip(sshape, shape)) if d != dim
    ):
        raise RuntimeError(
            "source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {shape} source.shape = {sshape}"
        )
    if sshape[dim] != index.data.size:
        raise RuntimeError(
            f"{op}(): Number of indices ({index.data.size}) should be equal to "
            f"source.size(dim): ({sshape[dim]}), for dim: {dim}"
        )


def index_add(
    input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: float = 1
) -> Tensor:
    """Return input with alpha * source added at index along dim (repeats accumulate).

    Mirrors ``torch.index_add``.
    """
    _check_int_index(
        index, f"index_add_(): Expected dtype int32/int64 for index but got: {type_label(index)}"
    )
    if index.data.ndim > 1:
        raise IndexError(
            f"index_add_(): Index is supposed to be a vector, but got dim: {index.data.ndim} "
            f"with type: {type_label(index)} and size: {list(index.shape)}"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            f"index_add_(): self ({type_label(input)}) and source ({type_label(source)}) must "
            "have the same scalar type"
        )
    dim = wrap_dim(dim, input.data.ndim)
    _check_source("index_add_", input, dim, index, source)
    _check_bounds(index.data, dim, input.data.shape[dim], negative=False)
    if alpha != 1:
        source = mul(source, alpha)
    return IndexPut.apply(input, source, ALL, _vector_index(index, input, dim), True)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """Return input with source's slices copied to index along dim. Mirrors ``torch.index_copy``."""
    if not isinstance(index, Tensor) or index.data.dtype.name != "int64":
        raise RuntimeError(
            f"index_copy_(): Expected a long tensor for index, but got {type_label(index)}"
        )
    if index.data.ndim > 1:
        raise IndexError(
            f"index_copy_(): Index should have dimension 1 or 0 (got {index.data.ndim})"
        )
    if source.dtype is not input.dtype:
        raise RuntimeError(
            "index_copy_(): self and source expected to have the same dtype, but got (self) "
            f"{type_label(input)} and (source) {type_label(source)}"
        )
    dim = wrap_dim(dim, input.data.ndim)
    if source.data.ndim != input.data.ndim:
        raise IndexError(
            "index_copy_(): When source and destination are not scalars, their dimensionality "
            f"must match. Source dimensionality ({source.data.ndim}), destination "
            f"dimensionality ({input.data.ndim})"
        )
    if source.data.shape[dim] != index.data.size:
        raise IndexError(
            f"index_copy_(): Number of indices ({index.data.size}) should be equal to "
            f"source.size(dim) ({source.data.shape[dim]})"
        )
    _check_source("index_copy_", input, dim, index, source)
    _check_bounds(index.data, dim, input.data.shape[dim], False, prefix="index_copy_(): ")
    return IndexPut.apply(input, source, ALL, _vector_index(index, input, dim), False)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """Return input with value written at index along dim. Mirrors ``torch.index_fill``.

    A 0-d tensor value gets the sum of the gradient over the filled positions.
    """
    if not isinstance(index, Tensor) or index.data.dtype.name != "int64":
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.data.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if isinstance(value, Tensor):
        if value.data.ndim:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value.data.ndim} dimension(s)."
            )
        value = cast(value, input.dtype)
    dim = wrap_dim(dim, input.data.ndim)
    size = _shape1(input)[dim]
    _check_bounds(index.data, dim, size, negative=True)
    if input.data.ndim == 0:
        return reshape(index_fill(reshape(input, 1), 0, index, value), ())
    xp = array_module(index.data)
    idx = xp.unique(index.data.reshape(-1) % size)  # each position once: value's grad sums once
    return IndexPut.apply(input, value, ALL, (slice(None),) * dim + (idx,), False)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Return input's values at indices along dim, broadcasting the other dims.

    Mirrors ``torch.take_along_dim``; with ``dim=None`` both are flattened first.
    """
    if not isinstance(indices, Tensor) or indices.data.dtype.name != "int64":
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {type_label(indices)}"
        )
    if dim is None:
        return gather(reshape(input, -1), 0, reshape(indices, -1))
    dim = wrap_dim(dim, input.data.ndim)
    if input.data.ndim != indices.data.ndim:
        raise RuntimeError(
            "torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but got {input.data.ndim} dimensions for input, and "
            f"{indices.data.ndim} dimensions for indices"
        )
    shape, ishape = list(input.shape), list(indices.shape)
    shape[dim] = ishape[dim] = 1
    common = list(broadcast_shape(tuple(shape), tuple(ishape)))
    in_shape, idx_shape = list(common), list(common)
    in_shape[dim], idx_shape[dim] = input.data.shape[dim], indices.data.shape[dim]
    xp = array_module(indices.data)
    index = Tensor(xp.broadcast_to(indices.data, tuple(idx_shape)))
    return gather(broadcast_to(input, tuple(in_shape)), dim, index)
