"""Range and grid factories: arange, linspace, logspace, eye, tri*_indices, meshgrid.

Values follow PyTorch's CPU kernels, not NumPy's: ``arange``'s length is
``ceil((end - start) / step)`` (in integers for int64), and ``linspace`` fills the first half
forwards from ``start`` and the second half backwards from ``end``, so both ends are exact.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ember.backend import as_device, module_for
from ember.backend.dtypes import SCALAR_NAMES, DType, as_dtype, get_default_dtype, int64
from ember.ops.shape import expand, reshape
from ember.tensor import Tensor

__all__ = [
    "arange",
    "eye",
    "linspace",
    "logspace",
    "meshgrid",
    "tril_indices",
    "triu_indices",
]


def make_leaf(array: Any, requires_grad: bool) -> Tensor:
    """Wrap a fresh array as a leaf, refusing requires_grad for non-float dtypes as PyTorch does."""
    out = Tensor(array)
    if requires_grad:
        if not out.dtype.is_floating_point:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        out._requires_grad = True
    return out


def _number(value: Any) -> Any:
    return value.item() if isinstance(value, Tensor) else value


def _not_implemented(op: str, dtype: DType) -> NotImplementedError:
    return NotImplementedError(f"\"{op}\" not implemented for '{SCALAR_NAMES[dtype.name]}'")


def arange(
    start: Any = 0,
    end: Any = None,
    step: Any = 1,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return the values start, start + step, ... below end. Mirrors ``torch.arange``.

    All-integer arguments give int64, any float the default dtype; the length is
    ``ceil((end - start) / step)``, with no float drift for integer ranges.
    """
    if end is None:
        start, end = 0, start
    start, end, step = _number(start), _number(end), _number(step)
    if dtype is None:
        is_float = any(isinstance(v, float) or hasattr(v, "is_integer") for v in (start, end, step))
        dtype = get_default_dtype() if is_float else int64
    dtype = as_dtype(dtype)
    if dtype.category == 0:
        raise _not_implemented("arange_cpu", dtype)
    if not (math.isfinite(start) and math.isfinite(end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    xp = module_for(as_device(device))
    _check_step(start, end, step)
    if dtype is int64:  # PyTorch truncates the bounds to int64 first, then counts exactly
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
        _check_step(start, end, step)
        sign = 1 if step > 0 else -1
        num = end - start + step - sign
        n = abs(num) // abs(step) * (1 if (num >= 0) == (step > 0) else -1)  # C division
        return make_leaf(xp.arange(n, dtype=dtype.np) * step + start, requires_grad)
    n = math.ceil((float(end) - float(start)) / float(step))
    acc = xp.float32 if dtype.itemsize == 2 and dtype.category == 2 else xp.float64
    if dtype.category == 1:  # the length from the float bounds, the values in int64
        values = xp.arange(n, dtype=xp.int64) * int(step) + int(start)
    else:
        values = acc(start) + acc(step) * xp.arange(n, dtype=acc)
    with xp.errstate(over="ignore", invalid="ignore"):
        return make_leaf(values.astype(dtype.np), requires_grad)


def _check_step(start: Any, end: Any, step: Any) -> None:
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (step > 0 and end < start) or (step < 0 and end > start):
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")


def _lin(op: str, start: Any, end: Any, steps: Any, dtype: DType, xp: Any) -> Any:
    """The linspace values before the final cast, computed as PyTorch's CPU kernel does."""
    for name, value in (("start", start), ("end", end)):
        if isinstance(value, Tensor) and value.data.ndim:
            raise RuntimeError(
                f"{op} only supports 0-dimensional start and end tensors, but got {name} with "
                f"{value.data.ndim} dimension(s)."
            )
    if not isinstance(steps, int) or isinstance(steps, bool):
        raise TypeError(f"{op}(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = _number(start), _number(end)
    if dtype.category == 2:
        # linspace steps in dtype itself; logspace in float32 for the half types (opmath)
        half = op == "logspace" and dtype.itemsize == 2
        step_t = xp.float32 if half else dtype.np.type
        start, end = step_t(dtype.np.type(start)), step_t(dtype.np.type(end))
    else:
        step_t = xp.float64
        start, end = int(start), int(end)
    if steps == 1:
        return xp.full((1,), start, dtype=step_t)
    idx = xp.arange(steps)
    step = (step_t(end) - step_t(start)) / step_t(max(steps - 1, 1))
    forward = step_t(start) + step * idx.astype(step_t)
    backward = step_t(end) - step * (steps - 1 - idx).astype(step_t)
    return xp.where(idx < steps // 2, forward, backward)


def linspace(
    start: Any,
    end: Any,
    steps: int,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return steps evenly spaced values from start to end. Mirrors ``torch.linspace``."""
    dtype = as_dtype(dtype)
    xp = module_for(as_device(device))
    with xp.errstate(over="ignore", invalid="ignore"):
        values = _lin("linspace", start, end, steps, dtype, xp).astype(dtype.np)
    return make_leaf(values, requires_grad)


def logspace(
    start: Any,
    end: Any,
    steps: int,
    base: float = 10.0,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return base ** linspace(start, end, steps). Mirrors ``torch.logspace``."""
    dtype = as_dtype(dtype)
    xp = module_for(as_device(device))
    exponents = _lin("logspace", start, end, steps, dtype, xp)
    with xp.errstate(over="ignore", invalid="ignore"):
        values = xp.power(exponents.dtype.type(base), exponents).astype(dtype.np)
    return make_leaf(values, requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return an n x m matrix with ones on the diagonal. Mirrors ``torch.eye``."""
    m = n if m is None else m
    for name, value in (("n", n), ("m", m)):
        if value < 0:
            raise RuntimeError(f"{name} must be greater or equal to 0, got {value}")
    xp = module_for(as_device(device))
    return make_leaf(xp.eye(n, m, dtype=as_dtype(dtype).np), requires_grad)


def _tri_indices(op: str, row: int, col: int, offset: int, dtype: Any, device: Any) -> Tensor:
    dtype = as_dtype(dtype)
    if dtype.category != 1:
        raise _not_implemented(op, dtype)
    for name, value in (("row", row), ("col", col)):
        if value < 0:
            raise RuntimeError(f"{name} must be non-negative, got{value}")
    xp = module_for(as_device(device))
    pick = xp.tril_indices if op == "tril_indices" else xp.triu_indices
    rows, cols = pick(row, offset, col)
    return Tensor(xp.stack([rows, cols]).astype(dtype.np))


def tril_indices(
    row: int, col: int, offset: int = 0, *, dtype: DType = int64, device: Any = None
) -> Tensor:
    """Return the (2, N) lower-triangle coordinates, row-major. Mirrors ``torch.tril_indices``."""
    return _tri_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(
    row: int, col: int, offset: int = 0, *, dtype: DType = int64, device: Any = None
) -> Tensor:
    """Return the (2, N) upper-triangle coordinates, row-major. Mirrors ``torch.triu_indices``."""
    return _tri_indices("triu_indices", row, col, offset, dtype, device)


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Return coordinate grids, as differentiable broadcast views. Mirrors ``torch.meshgrid``.

    ``indexing='ij'`` gives shape (len(t0), len(t1), ...); ``'xy'`` swaps the first two dims.
    Without ``indexing`` it warns and uses 'ij', as PyTorch does.
    """
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor "
                f"of shape {list(t.shape)}"
            )
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
        if t.device != tensors[0].device:
            raise RuntimeError("meshgrid expects all tensors to have the same device")
    order = list(range(len(tensors)))  # order[i]: the output dim of tensors[i]
    if indexing == "xy" and len(tensors) >= 2:
        order[0], order[1] = 1, 0
    shape = [0] * len(tensors)
    for t, d in zip(tensors, order):
        shape[d] = t.data.size
    outs = []
    for t, d in zip(tensors, order):
        view = [1] * len(tensors)
        view[d] = t.data.size
        outs.append(expand(reshape(t, view), shape))  # (n0, n1, ...) broadcast view of t
    return tuple(outs)
