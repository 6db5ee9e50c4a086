"""Tensor factories: from data, filled and ``*_like``. Mirrors ``torch``'s creation ops.

Factories are not differentiable ops: they build leaves (``requires_grad=True`` makes a leaf
that records). The range and grid factories live in ``ranges.py``.
"""

from __future__ import annotations

import operator
from typing import Any

from ember.backend import ARRAY_TYPES, as_device, device_of, module_for
from ember.backend.dtypes import (
    SCALAR_NAMES,
    DType,
    as_dtype,
    bool_,
    from_numpy_dtype,
    get_default_dtype,
    int64,
    promote_types,
    scalar_dtype,
)
from ember.ops.ranges import make_leaf
from ember.tensor import Tensor

__all__ = [
    "as_tensor",
    "asarray",
    "empty",
    "empty_like",
    "from_numpy",
    "full",
    "full_like",
    "ones",
    "ones_like",
    "scalar_tensor",
    "tensor",
    "zeros",
    "zeros_like",
]

_SEQUENCES = (list, tuple, range)


def _xp(device: Any) -> Any:
    return module_for(as_device(device))


# -- from data ---------------------------------------------------------------------------------
def _leaf_dtype(item: Any) -> DType:
    """The dtype one element of nested data contributes (torch.tensor's inference)."""
    if isinstance(item, Tensor):
        if item.data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return item.dtype
    if hasattr(item, "dtype") and getattr(item, "ndim", 1) == 0:  # NumPy scalar or 0-d array
        return from_numpy_dtype(item.dtype)
    if isinstance(item, str):
        raise TypeError("new(): invalid data type 'str'")
    try:
        return scalar_dtype(item)
    except TypeError:
        raise RuntimeError(f"Could not infer dtype of {type(item).__name__}") from None


_PY_KINDS = {float: None, int: int64, bool: bool_}


class _Scan:
    """One walk over nested sequences: checks the shape is regular and infers the dtype."""

    def __init__(self, data: Any) -> None:
        self.shape: list[int] = []
        x = data
        while True:
            if isinstance(x, _SEQUENCES):
                self.shape.append(len(x))
                if not x:
                    break
                x = x[0]
            else:
                if isinstance(x, ARRAY_TYPES):
                    self.shape.extend(x.shape)
                break
        self.dtype: DType | None = None
        self.has_tensor = False
        self.walk(data, 0)

    def add(self, dtype: DType) -> None:
        self.dtype = dtype if self.dtype is None else promote_types(self.dtype, dtype)

    def mismatch(self, dim: int, got: int) -> ValueError:
        return ValueError(f"expected sequence of length {self.shape[dim]} at dim {dim} (got {got})")

    def walk(self, seq: Any, dim: int) -> None:
        if isinstance(seq, ARRAY_TYPES):
            if seq.shape != tuple(self.shape[dim:]):
                raise self.mismatch(dim, len(seq))
            self.add(from_numpy_dtype(seq.dtype))
            return
        if len(seq) != self.shape[dim]:
            raise self.mismatch(dim, len(seq))
        if dim + 1 < len(self.shape):
            for item in seq:
                if not isinstance(item, (*_SEQUENCES, *ARRAY_TYPES)):
                    raise TypeError("not a sequence")
                self.walk(item, dim + 1)
            return
        for kind in set(map(type, seq)):  # the leaves: one check per Python type, not per item
            if kind in _PY_KINDS:
                self.add(_PY_KINDS[kind] or get_default_dtype())
                continue
            for item in seq:
                if type(item) is kind:
                    if isinstance(item, (*_SEQUENCES, *ARRAY_TYPES)) and len(item):
                        raise self.mismatch(dim, len(seq))  # a sequence among numbers
                    self.has_tensor = self.has_tensor or isinstance(item, Tensor)
                    self.add(_leaf_dtype(item))


def _untensor(data: Any) -> Any:
    if isinstance(data, Tensor):
        return data.item()
    if isinstance(data, _SEQUENCES):
        return [_untensor(d) for d in data]
    return data


def _to_array(xp: Any, data: Any, dtype: DType, inferred: bool) -> Any:
    try:
        with xp.errstate(over="ignore", invalid="ignore"):
            return xp.array(data, dtype=dtype.np, copy=True)
    except OverflowError:
        if inferred:
            raise ValueError("Overflow when unpacking long long") from None
        raise RuntimeError(
            f"value cannot be converted to type {dtype.name} without overflow"
        ) from None
    except ValueError:  # NaN or inf into an integer dtype
        raise RuntimeError(
            f"value cannot be converted to type {dtype.name} without overflow"
        ) from None


def tensor(
    data: Any,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """Build a new tensor that owns a copy of data. Mirrors ``torch.tensor``.

    Python floats give the default dtype, ints int64, bools bool; NumPy arrays and scalars and
    0-d tensors keep their dtype, and a mix promotes as ``torch.promote_types``.
    Differences from PyTorch: copying from a Tensor does not warn.
    """
    xp = _xp(device)
    inferred = dtype is None
    if type(data) in _PY_KINDS:
        out_dtype = scalar_dtype(data)
    elif isinstance(data, (list, tuple)):
        scan = _Scan(data)
        out_dtype = scan.dtype or get_default_dtype()
        if scan.has_tensor:
            data = _untensor(data)
    elif isinstance(data, Tensor):
        out_dtype, data = data.dtype, data.data
    elif hasattr(data, "__array__"):  # NumPy arrays and scalars, and other array-likes
        data = xp.asarray(data)
        out_dtype = from_numpy_dtype(data.dtype)
    elif isinstance(data, range):
        out_dtype = int64
    else:
        out_dtype = _leaf_dtype(data)
    out_dtype = out_dtype if inferred else as_dtype(dtype)
    return make_leaf(_to_array(xp, data, out_dtype, inferred), requires_grad)


def as_tensor(data: Any, dtype: DType | None = None, device: Any = None) -> Tensor:
    """Return data as a tensor, sharing memory when it can. Mirrors ``torch.as_tensor``."""
    if isinstance(data, Tensor):
        return data.to(dtype=dtype, device=device)
    if isinstance(data, ARRAY_TYPES):
        target = from_numpy_dtype(data.dtype) if dtype is None else as_dtype(dtype)
        same_device = device is None or as_device(device) == device_of(data)
        if same_device and target.np == data.dtype:
            return Tensor(data)
    return tensor(data, dtype=dtype, device=device)


def asarray(
    obj: Any,
    *,
    dtype: DType | None = None,
    device: Any = None,
    copy: bool | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Turn obj into a tensor, sharing memory unless told to copy. Mirrors ``torch.asarray``."""
    if copy:
        source = obj.detach() if isinstance(obj, Tensor) else obj
        out = tensor(source, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype=dtype, device=device)
        if copy is False and isinstance(obj, (Tensor, *ARRAY_TYPES)):
            data = obj.data if isinstance(obj, Tensor) else obj
            if out.data is not data:
                old, new = from_numpy_dtype(data.dtype), out.dtype
                raise ValueError(
                    f"can't alias tensor with dtype '{SCALAR_NAMES[old.name]}' "
                    f"into dtype '{SCALAR_NAMES[new.name]}'."
                )
    if requires_grad:
        out.requires_grad_(True)
    return out


def from_numpy(ndarray: Any) -> Tensor:
    """Wrap a NumPy array without copying. Mirrors ``torch.from_numpy``.

    Differences from PyTorch: a read-only array is shared without a warning.
    """
    if not isinstance(ndarray, ARRAY_TYPES) or device_of(ndarray).type != "cpu":
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    from_numpy_dtype(ndarray.dtype)  # raises for dtypes Ember lacks
    return Tensor(ndarray)


def scalar_tensor(
    s: Any, *, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return a 0-d tensor holding s (default dtype). Mirrors ``torch.scalar_tensor``."""
    if isinstance(s, Tensor):
        s = s.item()
    return tensor(s, dtype=as_dtype(dtype), device=device, requires_grad=requires_grad)


# -- filled ------------------------------------------------------------------------------------
def parse_size(size: tuple, op: str) -> tuple[int, ...]:
    """Read a shape given as ints or one sequence (``zeros(2, 3)``, ``zeros((2, 3))``)."""
    if not size:
        raise TypeError(f'{op}() missing 1 required positional arguments: "size"')
    loose = True  # ints given one by one, not in a sequence
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size, loose = size[0], False
    shape = []
    for i, n in enumerate(size):
        try:
            shape.append(operator.index(n))
        except TypeError:
            if loose and len(size) == 1:
                msg = f"not {type(n).__name__}"
            else:
                msg = f"but found element of type {type(n).__name__} at pos {i}"
            raise TypeError(
                f"{op}(): argument 'size' (position 1) must be tuple of ints, {msg}"
            ) from None
    for n in shape:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {shape}")
    return tuple(shape)


def _filled(shape: tuple, fill: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    dtype = as_dtype(dtype)
    xp = _xp(device)
    if fill is None:
        array = xp.empty(shape, dtype=dtype.np)
    elif fill == 0 and not isinstance(fill, Tensor):
        array = xp.zeros(shape, dtype=dtype.np)
    else:
        with xp.errstate(over="ignore", invalid="ignore"):
            array = xp.full(shape, fill, dtype=dtype.np)
    return make_leaf(array, requires_grad)


def zeros(
    *size: Any, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return a tensor of zeros. Mirrors ``torch.zeros``."""
    return _filled(parse_size(size, "zeros"), 0, dtype, device, requires_grad)


def ones(
    *size: Any, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return a tensor of ones. Mirrors ``torch.ones``."""
    return _filled(parse_size(size, "ones"), 1, dtype, device, requires_grad)


def empty(
    *size: Any, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return an uninitialised tensor. Mirrors ``torch.empty``."""
    return _filled(parse_size(size, "empty"), None, dtype, device, requires_grad)


def full(
    size: Any,
    fill_value: Any,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return a tensor filled with fill_value, its dtype inferred from it. Mirrors ``torch.full``.

    ``full((2,), 1)`` is int64, ``full((2,), 1.5)`` the default float, ``full((2,), True)`` bool.
    """
    if not isinstance(size, (list, tuple)):
        raise TypeError(
            f"full(): argument 'size' (position 1) must be tuple of ints, not {type(size).__name__}"
        )
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    if dtype is None:
        dtype = scalar_dtype(fill_value)
    return _filled(parse_size((size,), "full"), fill_value, dtype, device, requires_grad)


def _like(input: Any, op: str, dtype: Any, device: Any) -> tuple[tuple, DType, Any]:
    if not isinstance(input, Tensor):
        raise TypeError(
            f"{op}(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}"
        )
    return (
        input.data.shape,
        input.dtype if dtype is None else as_dtype(dtype),
        device or input.device,
    )


def zeros_like(
    input: Tensor, *, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return zeros shaped like input. Mirrors ``torch.zeros_like``."""
    shape, dtype, device = _like(input, "zeros_like", dtype, device)
    return _filled(shape, 0, dtype, device, requires_grad)


def ones_like(
    input: Tensor, *, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return ones shaped like input. Mirrors ``torch.ones_like``."""
    shape, dtype, device = _like(input, "ones_like", dtype, device)
    return _filled(shape, 1, dtype, device, requires_grad)


def empty_like(
    input: Tensor, *, dtype: DType | None = None, device: Any = None, requires_grad: bool = False
) -> Tensor:
    """Return an uninitialised tensor shaped like input. Mirrors ``torch.empty_like``."""
    shape, dtype, device = _like(input, "empty_like", dtype, device)
    return _filled(shape, None, dtype, device, requires_grad)


def full_like(
    input: Tensor,
    fill_value: Any,
    *,
    dtype: DType | None = None,
    device: Any = None,
    requires_grad: bool = False,
) -> Tensor:
    """Return a tensor shaped like input filled with fill_value. Mirrors ``torch.full_like``."""
    shape, dtype, device = _like(input, "full_like", dtype, device)
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _filled(shape, fill_value, dtype, device, requires_grad)
