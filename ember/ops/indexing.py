"""Indexing: ``x[index]`` and its functional writes, ``index_put_value`` and ``index_put``.

An index is parsed once into two steps that NumPy runs: a *basic* step (ints, slices, None;
a view) and, when tensors or lists appear, an *advanced* step on that view. Ints go in the
basic step, as PyTorch applies them first (``x[0, :, [0, 1]]`` has shape (3, 2) in PyTorch,
(2, 3) in NumPy). Every gather here is ``GetItem`` and every scatter ``IndexPut``, each the
other's backward, so gradients of any order flow through indexing. Masks, ``take`` and
``nonzero`` live in ``masking.py``; gather and scatter along a dim in ``scatter.py``.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import as_tensor_arg, cast
from ember.ops.shape import reshape, sum_to
from ember.tensor import Tensor

__all__ = ["getitem", "index_put", "index_put_value"]

ALL = (Ellipsis,)  # the basic step that selects everything (a view, even of a 0-d array)
_BASIC_TYPES = frozenset((int, slice, type(None), type(Ellipsis)))
_INDEX_KINDS = frozenset("biu")
_BAD_TENSOR = "tensors used as indices must be long, int, byte or bool tensors"


class GetItem(Function):
    """x[basic][adv]; backward scatters (adding repeats) the gradient into zeros."""

    @staticmethod
    def forward(ctx: Context, x: Array, basic: tuple, adv: tuple | None) -> Array:
        ctx.shape, ctx.basic, ctx.adv = x.shape, basic, adv
        out = x[basic]
        return out if adv is None else out[adv]

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return IndexPutZeros.apply(grad, ctx.shape, ctx.basic, ctx.adv), None, None


class IndexPutZeros(Function):
    """zeros(shape) with grad added at [basic][adv] (repeats accumulate); backward is GetItem."""

    @staticmethod
    def forward(ctx: Context, grad: Array, shape: tuple, basic: tuple, adv: tuple | None) -> Array:
        ctx.basic, ctx.adv = basic, adv
        xp = array_module(grad)
        out = xp.zeros(shape, dtype=grad.dtype)
        if adv is None:
            out[basic] = grad
        else:
            xp.add.at(out[basic], adv, grad)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return GetItem.apply(grad, ctx.basic, ctx.adv), None, None, None


class IndexPut(Function):
    """x with x[basic][adv] replaced by (or, accumulating, added to) value, as a new array."""

    @staticmethod
    def forward(
        ctx: Context, x: Array, value: Any, basic: tuple, adv: tuple | None, accumulate: bool
    ) -> Array:
        ctx.basic, ctx.adv, ctx.accumulate = basic, adv, accumulate
        ctx.value_shape = getattr(value, "shape", None)
        out = x.copy()
        if adv is None:
            if accumulate:
                out[basic] += value
            else:
                out[basic] = value
        elif accumulate:
            array_module(x).add.at(out[basic], adv, value)
        else:
            out[basic][adv] = value
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        basic, adv = ctx.basic, ctx.adv
        grad_x = grad_value = None
        if ctx.needs_input_grad[0]:
            grad_x = grad if ctx.accumulate else IndexPut.apply(grad, 0, basic, adv, False)
        if ctx.needs_input_grad[1]:
            grad_value = sum_to(GetItem.apply(grad, basic, adv), ctx.value_shape)
        return grad_x, grad_value, None, None, None


# -- index parsing ---------------------------------------------------------------------------
def _to_item(item: Any, xp: Any) -> Any:
    """Turn one index entry into an int, slice, None, Ellipsis, bool or backend array."""
    if isinstance(item, Tensor):
        data = item.data
        if data.dtype.kind not in _INDEX_KINDS or data.dtype.name in ("int8", "int16"):
            raise IndexError(_BAD_TENSOR)
        if data.ndim == 0 and data.dtype.kind != "b":
            return int(data)  # a 0-d integer tensor indexes like an int
        if data.dtype.kind == "u":
            data = data.astype(bool)  # uint8 indices are masks (deprecated in PyTorch)
        return data
    if isinstance(item, (list, tuple)):
        data = xp.asarray([i.item() if isinstance(i, Tensor) else i for i in item])
        if data.size == 0:
            return data.astype(xp.int64)
        if data.dtype.kind not in "bi":
            raise IndexError(_BAD_TENSOR)
        return data
    if isinstance(item, bool) or type(item) in _BASIC_TYPES:
        return item
    if hasattr(item, "__array__") and hasattr(item, "dtype"):
        return item
    if hasattr(item, "__index__"):
        return item.__index__()
    raise IndexError(
        "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables are "
        f"valid indices (got {type(item).__name__})"
    )


def _out_of_bounds(value: int, dim: int, size: int) -> IndexError:
    return IndexError(f"index {value} is out of bounds for dimension {dim} with size {size}")


def _check_range(idx: Array, dim: int, size: int) -> None:
    if idx.size:
        low, high = int(idx.min()), int(idx.max())
        if low < -size:
            raise _out_of_bounds(low, dim, size)
        if high >= size:
            raise _out_of_bounds(high, dim, size)


def parse_index(shape: tuple, index: Any, xp: Any) -> tuple[tuple, tuple | None]:
    """Split a PyTorch index into (basic, advanced) NumPy indices, validated against shape."""
    items = index if type(index) is tuple else (index,)
    ndim = len(shape)
    used = ellipses = 0
    for item in items:  # the hot path: ints, slices, None and Ellipsis only
        kind = type(item)
        if kind is int or kind is slice:
            used += 1
        elif item is Ellipsis:
            ellipses += 1
        elif item is not None:
            return _parse_advanced(shape, items, xp)
    _check_counts(used, ellipses, ndim)
    dim = 0
    for item in items:
        kind = type(item)
        if kind is int:
            size = shape[dim]
            if not -size <= item < size:
                raise _out_of_bounds(item, dim, size)
            dim += 1
        elif kind is slice:
            if item.step is not None and item.step <= 0:
                _bad_step(item.step)
            dim += 1
        elif item is Ellipsis:
            dim += ndim - used
    return (items if ellipses else (*items, Ellipsis)), None  # "..." keeps x[0, 0] a 0-d view


def _check_counts(used: int, ellipses: int, ndim: int) -> None:
    if used > ndim:
        raise IndexError(f"too many indices for tensor of dimension {ndim}")
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")


def _bad_step(step: int) -> None:
    if step == 0:
        raise ValueError("slice step cannot be zero")
    raise ValueError("step must be greater than zero")


def _parse_advanced(shape: tuple, items: tuple, xp: Any) -> tuple[tuple, tuple | None]:
    # One walk over the entries, kept whole (~50 lines) so the dim bookkeeping reads in one go.
    items = tuple(_to_item(item, xp) for item in items)
    ndim = len(shape)
    used, ellipses = 0, 0
    for item in items:
        if type(item) in (int, slice):
            used += 1
        elif item is Ellipsis:
            ellipses += 1
        elif item is not None and not isinstance(item, bool):
            used += item.ndim if item.dtype.kind == "b" else 1
    _check_counts(used, ellipses, ndim)
    simple = True
    basic, adv = [], []
    dim = 0
    for item in items:
        kind = type(item)
        if kind is int:
            size = shape[dim]
            if not -size <= item < size:
                raise _out_of_bounds(item, dim, size)
            basic.append(item)
            dim += 1
        elif kind is slice:
            if item.step is not None and item.step <= 0:
                _bad_step(item.step)
            basic.append(item)
            adv.append(slice(None))
            dim += 1
        elif item is None:
            basic.append(None)
            adv.append(slice(None))
        elif item is Ellipsis:
            span = ndim - used
            basic.extend([slice(None)] * span)
            adv.extend([slice(None)] * span)
            dim += span
        elif kind is bool:
            adv.append(item)
            simple = False
        elif item.dtype.kind == "b":
            _check_mask(item, shape, dim)
            basic.extend([slice(None)] * item.ndim)
            adv.append(item)
            dim += item.ndim
            simple = False
        else:
            _check_range(item, dim, shape[dim])
            basic.append(slice(None))
            adv.append(item)
            dim += 1
            simple = False
    if simple:  # only 0-d integer tensors (now ints) besides basic entries: a view after all
        return (*basic, Ellipsis), None
    return tuple(basic), tuple(adv)


def _check_mask(mask: Array, shape: tuple, dim: int) -> None:
    for j, n in enumerate(mask.shape):
        if n != shape[dim + j]:
            raise IndexError(
                f"The shape of the mask {list(mask.shape)} at index {j} does not match the shape "
                f"of the indexed tensor {list(shape)} at index {dim + j}"
            )


def _indexed_shape(x: Array, basic: tuple, adv: tuple | None) -> tuple:
    view = x[basic]
    if adv is None:
        return view.shape
    xp = array_module(x)
    return xp.broadcast_to(xp.zeros((), dtype=bool), view.shape)[adv].shape  # 1 byte/elem


def _fit_value(value: Tensor, target: tuple, advanced: bool) -> Tensor:
    """Return value shaped to broadcast onto target (leading 1s dropped), or PyTorch's error."""
    shape = tuple(value.data.shape)
    extra = len(shape) - len(target)
    if extra > 0 and all(n == 1 for n in shape[:extra]):
        shape = shape[extra:]
        value = reshape(value, shape)
    ok = len(shape) <= len(target)
    if ok:
        ok = all(v in (1, t) for v, t in zip(shape[::-1], target[::-1]))
    if ok:
        return value
    if advanced:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
            f"indexing result of shape {list(target)}"
        )
    raise RuntimeError(
        f"The expanded size of the tensor ({target[-1] if target else 0}) must match the "
        f"existing size ({shape[-1]}) at non-singleton dimension {max(len(target) - 1, 0)}.  "
        f"Target sizes: {list(target)}.  Tensor sizes: {list(value.shape)}"
    )


# -- public functions ------------------------------------------------------------------------
def getitem(input: Tensor, index: Any) -> Tensor:
    """Return input[index]: basic indices give a view, tensors and lists a gathered copy.

    Mirrors ``torch.Tensor.__getitem__``. The gradient adds up over repeated indices.
    """
    basic, adv = parse_index(input.data.shape, index, array_module(input.data))
    return GetItem.apply(input, basic, adv)


def index_put_value(input: Tensor, index: Any, value: Any) -> Tensor:
    """Return a copy of input with input[index] replaced by value (broadcast, cast to its dtype).

    The functional form of ``input[index] = value`` (``Tensor.__setitem__`` writes it back).
    Gradients: zero on the replaced region for input; gathered and summed to value's shape for
    value.
    """
    basic, adv = parse_index(input.data.shape, index, array_module(input.data))
    if not isinstance(value, (bool, int, float)):
        value = cast(as_tensor_arg(value), input.dtype)  # a Tensor, or a list / array of numbers
        if value.data.ndim:
            value = _fit_value(value, _indexed_shape(input.data, basic, adv), adv is not None)
    return IndexPut.apply(input, value, basic, adv, False)


def index_put(
    input: Tensor, indices: tuple | list, values: Tensor, accumulate: bool = False
) -> Tensor:
    """Return input with values put (or added) at the positions of the index tensors.

    Mirrors ``torch.index_put``: ``indices`` is a tuple of integer or bool tensors, one per
    leading dim; with ``accumulate=True`` repeated positions add up.
    """
    if not isinstance(values, Tensor):
        raise TypeError(
            f"index_put(): argument 'values' (position 3) must be Tensor, not "
            f"{type(values).__name__}"
        )
    for i, t in enumerate(indices):
        if not isinstance(t, Tensor):
            raise TypeError(
                f"expected Tensor as element {i} in argument 1, but got {type(t).__name__}"
            )
    if len(indices) > input.data.ndim:
        raise IndexError(
            f"too many indices for tensor of dimension {input.data.ndim} (got {len(indices)})"
        )
    if values.dtype is not input.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got "
            f"{type_label(input)} for the destination and {type_label(values)} for the source."
        )
    basic, adv = parse_index(input.data.shape, tuple(indices), array_module(input.data))
    if values.data.ndim:
        values = _fit_value(values, _indexed_shape(input.data, basic, adv), True)
    return IndexPut.apply(input, values, basic, adv, bool(accumulate))


def type_label(t: Tensor) -> str:
    """PyTorch's scalar-type name of a tensor for messages: 'Float', 'Long', ..."""
    return SCALAR_NAMES[t.dtype.name]
