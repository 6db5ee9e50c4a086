"""Ember's dtypes and PyTorch's type-promotion rules.

A ``DType`` names a backend dtype (NumPy's, which CuPy shares; bfloat16 through ``ml_dtypes``).
Promotion follows PyTorch, not NumPy: ``float16 + int16`` is float16, ``float16 + bfloat16`` is
float32, an int tensor times a Python float is the default float dtype, and zero-dim tensors and
Python scalars only raise the *category* (bool < integer < floating) of the result.
"""

from __future__ import annotations

import builtins
import math
from typing import Any

import ml_dtypes
import numpy as np


class DType:
    """A tensor element type. Mirrors ``torch.dtype`` (``ember.float32`` ~ ``torch.float32``)."""

    __slots__ = ("category", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(self, name: str, np_dtype: Any, category: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.category = category  # 0 bool, 1 integer, 2 floating
        self.is_floating_point = category == 2
        self.is_signed = name != "uint8" and name != "bool"
        self.itemsize = self.np.itemsize

    @property
    def is_complex(self) -> bool:
        """Whether the dtype is complex (never, for now). Mirrors ``torch.dtype.is_complex``."""
        return False

    def to_real(self) -> DType:
        """Return the real counterpart, which is itself. Mirrors ``torch.dtype.to_real``."""
        return self

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self) -> str:
        return self.name


float16 = DType("float16", np.float16, 2)
bfloat16 = DType("bfloat16", ml_dtypes.bfloat16, 2)
float32 = DType("float32", np.float32, 2)
float64 = DType("float64", np.float64, 2)
int8 = DType("int8", np.int8, 1)
int16 = DType("int16", np.int16, 1)
int32 = DType("int32", np.int32, 1)
int64 = DType("int64", np.int64, 1)
uint8 = DType("uint8", np.uint8, 1)
bool_ = DType("bool", np.bool_, 0)

# PyTorch's aliases.
half, float, double = float16, float32, float64
short, int, long = int16, int32, int64

ALL_DTYPES = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NP: dict[Any, DType] = {d.np: d for d in ALL_DTYPES}
_BY_NAME: dict[str, DType] = {d.name: d for d in ALL_DTYPES}

_default_dtype = float32

# PyTorch's two spellings of dtype names in its error messages ("Float", and C++'s "float").
SCALAR_NAMES = {
    "float16": "Half",
    "bfloat16": "BFloat16",
    "float32": "Float",
    "float64": "Double",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "uint8": "Byte",
    "bool": "Bool",
}
CPP_NAMES = {
    "float16": "c10::Half",
    "bfloat16": "c10::BFloat16",
    "float32": "float",
    "float64": "double",
    "int8": "signed char",
    "int16": "short int",
    "int32": "int",
    "int64": "long int",
    "uint8": "unsigned char",
    "bool": "bool",
}


def from_numpy_dtype(np_dtype: Any) -> DType:
    """Return the Ember dtype of a backend dtype; TypeError for ones Ember lacks."""
    try:
        return _BY_NP[np_dtype]
    except KeyError:
        pass
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except (KeyError, TypeError):
        raise TypeError(
            f"can't convert np.ndarray of type {np_dtype}. The only supported types are: "
            + ", ".join(d.name for d in ALL_DTYPES)
        ) from None


def as_dtype(dtype: Any) -> DType:
    """Turn a DType, a dtype name, a NumPy dtype or a Python type into an Ember DType."""
    if type(dtype) is DType:
        return dtype
    if dtype is None:
        return _default_dtype
    if isinstance(dtype, str):
        name = dtype.removeprefix("ember.").removeprefix("torch.")
        found = _BY_NAME.get(name)
        if found is None:
            aliases = {"half": float16, "float": float32, "double": float64}
            aliases.update({"short": int16, "int": int32, "long": int64})
            found = aliases.get(name)
        if found is None:
            raise TypeError(f"invalid dtype {dtype!r}")
        return found
    if dtype is builtins.bool:
        return bool_
    if dtype is builtins.int:
        return int64
    if dtype is builtins.float:
        return _default_dtype
    return from_numpy_dtype(dtype)


def get_default_dtype() -> DType:
    """Return the default floating dtype. Mirrors ``torch.get_default_dtype``."""
    return _default_dtype


def set_default_dtype(dtype: DType) -> None:
    """Set the default floating dtype (float16, bfloat16, float32 or float64).

    Mirrors ``torch.set_default_dtype``.
    """
    global _default_dtype
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {dtype}")
    _default_dtype = dtype


def promote_types(a: DType, b: DType) -> DType:
    """Return the smallest dtype both promote to. Mirrors ``torch.promote_types``."""
    if a is b:
        return a
    if a.category != b.category:
        return a if a.category > b.category else b
    if a.category == 2:
        if {a.name, b.name} == {"float16", "bfloat16"}:
            return float32
        return a if a.itemsize > b.itemsize else b
    if a.category == 1:
        if a is uint8 or b is uint8:
            other = b if a is uint8 else a
            return int16 if other is int8 else other
        return a if a.itemsize > b.itemsize else b
    return a


def scalar_dtype(value: Any) -> DType:
    """The dtype a Python scalar gets on its own: bool, int64 or the default float."""
    if isinstance(value, builtins.bool):
        return bool_
    if isinstance(value, builtins.int):
        return int64
    if isinstance(value, builtins.float):
        return _default_dtype
    if isinstance(value, np.generic):
        return from_numpy_dtype(value.dtype)
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def combine_categories(higher: DType | None, lower: DType | None) -> DType | None:
    """Let a lower-priority operand raise the category of a higher-priority one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is None or higher.category == 2:
        return higher
    if higher is bool_ or lower.category == 2:
        return promote_types(higher, lower)
    return higher


def result_type_of(dim_dtypes: list, zero_dim_dtypes: list, scalars: list) -> DType:
    """Combine the three priority tiers of operands into PyTorch's result dtype."""
    dim = zero = wrapped = None
    for d in dim_dtypes:
        dim = d if dim is None else promote_types(dim, d)
    for d in zero_dim_dtypes:
        zero = d if zero is None else promote_types(zero, d)
    for s in scalars:
        d = scalar_dtype(s)
        wrapped = d if wrapped is None else promote_types(wrapped, d)
    out = combine_categories(dim, combine_categories(zero, wrapped))
    if out is None:
        raise TypeError("result_type needs at least one operand")
    return out


class finfo:
    """Machine limits of a floating dtype. Mirrors ``torch.finfo``."""

    def __init__(self, dtype: DType | None = None) -> None:
        dtype = as_dtype(dtype)
        if not dtype.is_floating_point:
            raise TypeError(
                f"finfo() requires a floating point input type. Use iinfo to handle '{dtype!r}'"
            )
        info = ml_dtypes.finfo(dtype.np) if dtype is bfloat16 else np.finfo(dtype.np)
        self.dtype = dtype.name
        self.bits = dtype.itemsize * 8
        self.eps = builtins.float(info.eps)
        self.max = builtins.float(info.max)
        self.min = builtins.float(info.min)
        self.tiny = builtins.float(info.tiny)
        self.smallest_normal = self.tiny
        # PyTorch's resolution is 10**-floor(-log10(eps)): 0.01 for bfloat16, 0.001 for float16.
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:
    """Machine limits of an integer dtype. Mirrors ``torch.iinfo``."""

    def __init__(self, dtype: DType) -> None:
        dtype = as_dtype(dtype)
        if dtype.is_floating_point:
            raise TypeError(
                f"iinfo() requires an integer input type. Use finfo to handle '{dtype!r}'"
            )
        if dtype is bool_:
            raise TypeError(f"{dtype!r} is not supported by iinfo")
        info = np.iinfo(dtype.np)
        self.bits, self.min, self.max = info.bits, builtins.int(info.min), builtins.int(info.max)
        self.dtype = dtype.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
