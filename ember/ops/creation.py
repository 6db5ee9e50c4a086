"""Tensor factories: from data, filled, ranges and random draws. Mirrors ``torch``'s creation ops.

Factories are not differentiable ops; they build leaves (``requires_grad=`` makes a leaf that
records).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ember.backend import as_device, module_for
from ember.backend.dtypes import DType, as_dtype, from_numpy_dtype, get_default_dtype, scalar_dtype
from ember.ops.common import shape_arg
from ember.tensor import Tensor

__all__ = [
    "as_tensor",
    "empty",
    "empty_like",
    "from_numpy",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "tensor",
    "zeros",
    "zeros_like",
]


def _leaf(array: Any, requires_grad: bool) -> Tensor:
    out = Tensor(array)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _infer_dtype(data: Any) -> DType:
    """The dtype torch.tensor gives data: floats -> default dtype, ints -> int64, bools -> bool."""
    if isinstance(data, (bool, int, float)):
        return scalar_dtype(data)
    kinds = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Tensor):
            kinds.add(item.dtype)
        elif isinstance(item, np.generic):
            kinds.add(from_numpy_dtype(item.dtype))
        else:
            kinds.add(scalar_dtype(item))
    if any(k.is_floating_point for k in kinds):
        return get_default_dtype()
    if any(k.category == 1 for k in kinds):
        return as_dtype("int64")
    if kinds:
        return as_dtype("bool")
    return get_default_dtype()


def tensor(
    data: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """Build a new tensor that owns a copy of data. Mirrors ``torch.tensor``."""
    xp = module_for(as_device(device))
    if isinstance(data, Tensor):
        array = data.data
        dtype = as_dtype(dtype) if dtype is not None else data.dtype
    elif hasattr(data, "__array__") and not isinstance(data, (list, tuple)):
        array = np.asarray(data)
        dtype = as_dtype(dtype) if dtype is not None else from_numpy_dtype(array.dtype)
    else:
        dtype = as_dtype(dtype) if dtype is not None else _infer_dtype(data)
        array = _nested_to_array(data, dtype)
    return _leaf(xp.array(array, dtype=dtype.np, copy=True), requires_grad)


def _nested_to_array(data: Any, dtype: DType) -> Any:
    if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        data = [d.data if isinstance(d, Tensor) else d for d in data]
    try:
        return np.array(data, dtype=dtype.np)
    except ValueError as err:
        raise ValueError(f"tensor(): could not build a tensor from the data ({err})") from None


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Return data as a tensor, sharing memory when dtype and device allow. Mirrors ``torch.as_tensor``."""
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(as_dtype(dtype))
    if isinstance(data, np.ndarray) and (dtype is None or as_dtype(dtype).np == data.dtype):
        return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """Wrap a NumPy array without copying. Mirrors ``torch.from_numpy``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    from_numpy_dtype(ndarray.dtype)  # raises for dtypes Ember lacks
    return Tensor(ndarray)


def _filled(
    size: tuple, value: Any, dtype: Any, device: Any, requires_grad: bool, fill: str
) -> Tensor:
    shape = shape_arg(size)
    for n in shape:
        if n < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {n}: {list(shape)}"
            )
    dtype = as_dtype(dtype)
    xp = module_for(as_device(device))
    if fill == "zeros":
        array = xp.zeros(shape, dtype=dtype.np)
    elif fill == "ones":
        array = xp.ones(shape, dtype=dtype.np)
    elif fill == "empty":
        array = xp.empty(shape, dtype=dtype.np)
    else:
        array = xp.full(shape, value, dtype=dtype.np)
    return _leaf(array, requires_grad)


def zeros(
    *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False, out: Any = None
) -> Tensor:
    """Return a tensor of zeros. Mirrors ``torch.zeros``."""
    return _filled(size, 0, dtype, device, requires_grad, "zeros")


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Return a tensor of ones. Mirrors ``torch.ones``."""
    return _filled(size, 1, dtype, device, requires_grad, "ones")


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Return an uninitialised tensor. Mirrors ``torch.empty``."""
    return _filled(size, 0, dtype, device, requires_grad, "empty")


def full(
    size: Any,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return a tensor filled with fill_value (its dtype inferred from it). Mirrors ``torch.full``."""
    if dtype is None:
        dtype = scalar_dtype(fill_value) if not isinstance(fill_value, Tensor) else fill_value.dtype
    return _filled(
        (size,) if isinstance(size, int) else (tuple(size),),
        fill_value,
        dtype,
        device,
        requires_grad,
        "full",
    )


def _like(input: Tensor, dtype: Any) -> DType:
    return input.dtype if dtype is None else as_dtype(dtype)


def zeros_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return zeros shaped like input. Mirrors ``torch.zeros_like``."""
    return _filled(
        input.shape, 0, _like(input, dtype), device or input.device, requires_grad, "zeros"
    )


def ones_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return ones shaped like input. Mirrors ``torch.ones_like``."""
    return _filled(
        input.shape, 1, _like(input, dtype), device or input.device, requires_grad, "ones"
    )


def empty_like(
    input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return an uninitialised tensor shaped like input. Mirrors ``torch.empty_like``."""
    return _filled(
        input.shape, 0, _like(input, dtype), device or input.device, requires_grad, "empty"
    )


def full_like(
    input: Tensor,
    fill_value: Any,
    *,
    dtype: Any = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return a tensor shaped like input filled with fill_value. Mirrors ``torch.full_like``."""
    return _filled(
        input.shape, fill_value, _like(input, dtype), device or input.device, requires_grad, "full"
    )
