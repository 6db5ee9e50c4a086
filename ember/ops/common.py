"""Helpers every op module shares: PyTorch's type promotion, dim normalisation, dtype checks.

The dtype rules themselves live once, in ``backend/dtypes.py``; this module applies them to
Tensors and Python scalars.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Sequence
from typing import Any

import numpy as np

from ember.backend import array_module, ensure_array
from ember.backend.dtypes import (
    DType,
    from_numpy_dtype,
    get_default_dtype,
    result_type_of,
)
from ember.tensor import Tensor

_FLOAT_KINDS = frozenset("fV")  # 'V' is ml_dtypes' bfloat16


def is_float_array(array: Any) -> bool:
    """Whether a backend array has a floating dtype (bfloat16 included)."""
    return array.dtype.kind in _FLOAT_KINDS


def quiet(xp: Any) -> Any:
    """Silence NumPy's floating-point warnings where PyTorch returns inf/NaN silently."""
    return xp.errstate(all="ignore")


def no_bool(kernel: str, input: Tensor) -> None:
    """Refuse a bool tensor with PyTorch's error for a kernel that has no bool version."""
    if input.data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def as_tensor_arg(value: Any) -> Tensor:
    """Wrap a NumPy array or nested list operand into a Tensor; Tensors pass through."""
    if isinstance(value, Tensor):
        return value
    return Tensor(ensure_array(value))


def result_type(*operands: Any) -> DType:
    """Return the dtype an op on these operands computes in. Mirrors ``torch.result_type``."""
    dims, zeros, scalars = [], [], []
    for x in operands:
        if isinstance(x, Tensor):
            (dims if x.data.ndim else zeros).append(from_numpy_dtype(x.data.dtype))
        elif isinstance(x, (bool, int, float, np.generic)):
            scalars.append(x)
        elif x is not None:
            raise TypeError(f"result_type: unsupported operand of type {type(x).__name__}")
    return result_type_of(dims, zeros, scalars)


def cast(x: Tensor, dtype: DType) -> Tensor:
    """Return x in dtype, through the differentiable cast only when it changes."""
    if x.data.dtype == dtype.np:
        return x
    from ember.ops.elementwise import to_dtype

    return to_dtype(x, dtype)


def promote(x: Any, y: Any) -> tuple[Any, Any]:
    """Cast the Tensor operands of a binary op to their common dtype; scalars stay scalars.

    NumPy then keeps the dtype, since it treats Python scalars as weak (NEP 50).
    """
    if isinstance(x, Tensor):
        if isinstance(y, Tensor):
            if x.data.dtype == y.data.dtype:
                return x, y
        elif isinstance(y, (bool, int, float)):
            kind = x.data.dtype.kind
            if kind == "f":
                return x, y
            if kind == "V":  # NumPy does not treat scalars as weak for ml_dtypes' bfloat16
                return x, _bfloat16_scalar(x, y)
        else:
            y = as_tensor_arg(y)
    elif isinstance(y, Tensor):
        if not isinstance(x, (bool, int, float)):
            x = as_tensor_arg(x)
        elif y.data.dtype.kind == "f":
            return x, y
        elif y.data.dtype.kind == "V":
            return _bfloat16_scalar(y, x), y
    else:
        x, y = as_tensor_arg(x), as_tensor_arg(y)
    dtype = result_type(x, y)
    if isinstance(x, Tensor):
        x = cast(x, dtype)
    if isinstance(y, Tensor):
        y = cast(y, dtype)
    if dtype.np.kind == "V":  # a bfloat16 result: keep scalars from promoting it to float32
        if not isinstance(x, Tensor):
            x = _bfloat16_scalar(y, x)
        elif not isinstance(y, Tensor):
            y = _bfloat16_scalar(x, y)
    return x, y


def _bfloat16_scalar(like: Tensor, value: Any) -> Any:
    """A Python scalar as a 0-d bfloat16 array, so bfloat16 ops stay bfloat16.

    Differences from PyTorch: the scalar is rounded to bfloat16 first, where PyTorch computes
    in float32 and rounds the result.
    """
    return array_module(like.data).asarray(value, dtype=like.data.dtype)


def to_float(x: Tensor) -> Tensor:
    """Cast integer and bool tensors to the default float dtype (for exp, sqrt, true division)."""
    if x.data.dtype.kind in _FLOAT_KINDS:
        return x
    return cast(x, get_default_dtype())


def wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    """Turn a possibly negative dim into an index, with PyTorch's IndexError when out of range."""
    size = max(ndim, 1)
    if not -size <= dim < size:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-size}, {size - 1}], "
            f"but got {dim})" + (f" in {op}" if op else "")
        )
    return dim % size


def wrap_dims(dims: int | Sequence[int] | None, ndim: int, op: str = "") -> tuple[int, ...]:
    """Normalise an int, a sequence or None (all dims) to a sorted tuple of distinct indices."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        dims = (dims,)
    out = tuple(wrap_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {out} appears multiple times in the list of dims")
    return tuple(sorted(out))


def shape_arg(args: tuple) -> tuple[int, ...]:
    """Read a shape given as ints or as one sequence (``zeros(2, 3)`` and ``zeros((2, 3))``)."""
    if (len(args) == 1 and isinstance(args[0], (tuple, list, Tensor))) or (
        len(args) == 1 and hasattr(args[0], "__len__")
    ):
        args = tuple(args[0])
    return tuple(int(a) for a in args)


_RETURN_TYPES: dict[str, type] = {}


def return_type(name: str, fields: tuple[str, ...] = ("values", "indices")) -> type:
    """The named tuple an op returns (``ember.return_types.max(values=..., indices=...)``).

    Mirrors ``torch.return_types``; one class per op name, made once.
    """
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        cls = namedtuple(name, fields)
        cls.__module__ = "ember.return_types"
        cls.__qualname__ = name
        _RETURN_TYPES[name] = cls
    return cls
