"""Elementwise predicates: comparisons, logical and bitwise ops, isnan and friends, isclose.

None of these is differentiable (their outputs are bool or integer), so they compute on the
arrays directly, with no Function. Binary ops promote their operands as PyTorch does first, so
``int_tensor < 2.5`` compares in float. ``broadcast_error`` builds PyTorch's message for
shapes that do not broadcast; every binary op in this module and in ``elementwise.py`` raises
it in place of NumPy's.
"""

from __future__ import annotations

from typing import Any

from ember.backend import array_module
from ember.backend.dtypes import SCALAR_NAMES, bfloat16, get_default_dtype
from ember.ops.common import promote, result_type
from ember.tensor import Tensor

__all__ = [
    "allclose",
    "bitwise_and",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "eq",
    "equal",
    "ge",
    "greater",
    "greater_equal",
    "gt",
    "isclose",
    "isfinite",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "le",
    "less",
    "less_equal",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "lt",
    "ne",
    "not_equal",
]

_BFLOAT16 = bfloat16.np


def type_name(x: Tensor) -> str:
    """PyTorch's name of a tensor's scalar type ('Float', 'Long', ...)."""
    return SCALAR_NAMES[x.dtype.name]


def _shape(x: Any) -> tuple:
    return getattr(x, "shape", ())


def broadcast_error(*operands: Any) -> RuntimeError | None:
    """Return PyTorch's error for operands whose shapes do not broadcast together, else None.

    Shapes are folded left to right and compared from the last dim, as PyTorch's
    ``infer_size`` does, so the message names the same sizes and dim as PyTorch's.
    """
    shape: tuple = ()
    for operand in operands:
        other = tuple(_shape(operand))
        ndim = max(len(shape), len(other))
        out = []
        for i in range(ndim - 1, -1, -1):
            offset = ndim - 1 - i
            a = shape[len(shape) - 1 - offset] if offset < len(shape) else 1
            b = other[len(other) - 1 - offset] if offset < len(other) else 1
            if a != b and a != 1 and b != 1:
                return RuntimeError(
                    f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                    f"non-singleton dimension {i}"
                )
            out.append(a if b == 1 else b)
        shape = tuple(reversed(out))
    return None


def check_broadcast(*operands: Any) -> None:
    """Raise PyTorch's RuntimeError when the operands' shapes do not broadcast together."""
    error = broadcast_error(*operands)
    if error is not None:
        raise error from None  # called on NumPy's error path: hide NumPy's traceback


def apply_broadcasting(fn: Any, *args: Any) -> Any:
    """Return fn.apply(*args), with PyTorch's error in place of NumPy's for unbroadcastable shapes.

    The check runs only on the error path, so a successful call pays nothing for it.
    """
    try:
        return fn.apply(*args)
    except ValueError:
        check_broadcast(*args)
        raise


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def _binary(op: Any, input: Any, other: Any) -> Tensor:
    """Promote, then apply an array function to both operands; PyTorch's broadcast error."""
    input, other = promote(input, other)
    x, y = _data(input), _data(other)
    try:
        if getattr(x, "dtype", None) == _BFLOAT16 or getattr(y, "dtype", None) == _BFLOAT16:
            with array_module(x, y).errstate(invalid="ignore"):  # ml_dtypes warns on NaN
                return Tensor(op(x, y))
        return Tensor(op(x, y))
    except ValueError:
        check_broadcast(input, other)
        raise


def require_tensor(op: str, value: Any, name: str = "other", position: int = 2) -> None:
    """Raise PyTorch's TypeError when an argument that must be a Tensor is not one."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{op}(): argument '{name}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )


# -- comparisons ---------------------------------------------------------------------------
def eq(input: Tensor, other: Any) -> Tensor:
    """Return input == other elementwise, as a bool tensor. Mirrors ``torch.eq``."""
    return _binary(array_module(_data(input)).equal, input, other)


def ne(input: Tensor, other: Any) -> Tensor:
    """Return input != other elementwise, as a bool tensor. Mirrors ``torch.ne``."""
    return _binary(array_module(_data(input)).not_equal, input, other)


def lt(input: Tensor, other: Any) -> Tensor:
    """Return input < other elementwise, as a bool tensor. Mirrors ``torch.lt``."""
    return _binary(array_module(_data(input)).less, input, other)


def le(input: Tensor, other: Any) -> Tensor:
    """Return input <= other elementwise, as a bool tensor. Mirrors ``torch.le``."""
    return _binary(array_module(_data(input)).less_equal, input, other)


def gt(input: Tensor, other: Any) -> Tensor:
    """Return input > other elementwise, as a bool tensor. Mirrors ``torch.gt``."""
    return _binary(array_module(_data(input)).greater, input, other)


def ge(input: Tensor, other: Any) -> Tensor:
    """Return input >= other elementwise, as a bool tensor. Mirrors ``torch.ge``."""
    return _binary(array_module(_data(input)).greater_equal, input, other)


not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge


# -- logical -------------------------------------------------------------------------------
def _logical(op: str, input: Tensor, other: Any) -> Tensor:
    require_tensor(op, other)
    xp = array_module(input.data)
    try:
        return Tensor(getattr(xp, op)(input.data, other.data))
    except ValueError:
        check_broadcast(input, other)
        raise


def logical_and(input: Tensor, other: Tensor) -> Tensor:
    """Return the truth of input and other (nonzero is True). Mirrors ``torch.logical_and``."""
    return _logical("logical_and", input, other)


def logical_or(input: Tensor, other: Tensor) -> Tensor:
    """Return the truth of input or other (nonzero is True). Mirrors ``torch.logical_or``."""
    return _logical("logical_or", input, other)


def logical_xor(input: Tensor, other: Tensor) -> Tensor:
    """Return the truth of input xor other (nonzero is True). Mirrors ``torch.logical_xor``."""
    return _logical("logical_xor", input, other)


def logical_not(input: Tensor) -> Tensor:
    """Return the truth of not input (nonzero is True). Mirrors ``torch.logical_not``."""
    return Tensor(array_module(input.data).logical_not(input.data))


# -- bitwise -------------------------------------------------------------------------------
def _integral(kernel: str, *operands: Any) -> None:
    for x in operands:
        if isinstance(x, Tensor) and x.dtype.is_floating_point:
            raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(x)}'")


def _bitwise(op: str, kernel: str, input: Any, other: Any) -> Tensor:
    input, other = promote(input, other)
    if not isinstance(input, Tensor):  # a scalar first operand: give it other's dtype
        input = Tensor(array_module(other.data).asarray(input, dtype=other.data.dtype))
    _integral(kernel, input, other)
    try:
        return Tensor(getattr(array_module(input.data), op)(input.data, _data(other)))
    except ValueError:
        check_broadcast(input, other)
        raise


def bitwise_and(input: Any, other: Any) -> Tensor:
    """Return the bitwise AND of integer or bool tensors. Mirrors ``torch.bitwise_and``."""
    return _bitwise("bitwise_and", "bitwise_and_cpu", input, other)


def bitwise_or(input: Any, other: Any) -> Tensor:
    """Return the bitwise OR of integer or bool tensors. Mirrors ``torch.bitwise_or``."""
    return _bitwise("bitwise_or", "bitwise_or_cpu", input, other)


def bitwise_xor(input: Any, other: Any) -> Tensor:
    """Return the bitwise XOR of integer or bool tensors. Mirrors ``torch.bitwise_xor``."""
    return _bitwise("bitwise_xor", "bitwise_xor_cpu", input, other)


def bitwise_not(input: Tensor) -> Tensor:
    """Return the bitwise NOT (logical NOT for bools). Mirrors ``torch.bitwise_not``."""
    _integral("bitwise_not_cpu", input)
    return Tensor(array_module(input.data).invert(input.data))


def _shift(kernel: str, input: Any, other: Any, left: bool) -> Tensor:
    input, other = promote(input, other)
    if not isinstance(input, Tensor):
        input = Tensor(array_module(other.data).asarray(input, dtype=other.data.dtype))
    _integral(kernel, input, other)
    if input.data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    check_broadcast(input, other)
    x, s = input.data, _data(other)
    xp = array_module(x)
    bits = x.dtype.itemsize * 8
    out_of_range = (s < 0) | (s >= bits)  # C leaves these undefined; PyTorch defines them
    safe = xp.where(out_of_range, 0, s).astype(x.dtype)
    if left:
        out = xp.where(out_of_range, 0, xp.left_shift(x, safe))
    else:  # shifting right by >= bits fills with the sign bit
        out = xp.where(out_of_range, xp.right_shift(x, bits - 1), xp.right_shift(x, safe))
    return Tensor(xp.asarray(out, dtype=x.dtype))


def bitwise_left_shift(input: Any, other: Any) -> Tensor:
    """Shift integers left by other bits (0 when out of range).

    Mirrors ``torch.bitwise_left_shift``.
    """
    return _shift("lshift_cpu", input, other, left=True)


def bitwise_right_shift(input: Any, other: Any) -> Tensor:
    """Shift integers right by other bits, filling with the sign bit.

    Mirrors ``torch.bitwise_right_shift``.
    """
    return _shift("rshift_cpu", input, other, left=False)


# -- classification ------------------------------------------------------------------------
def isnan(input: Tensor) -> Tensor:
    """Return where input is NaN. Mirrors ``torch.isnan``."""
    return Tensor(array_module(input.data).isnan(input.data))


def isinf(input: Tensor) -> Tensor:
    """Return where input is +inf or -inf. Mirrors ``torch.isinf``."""
    return Tensor(array_module(input.data).isinf(input.data))


def isposinf(input: Tensor) -> Tensor:
    """Return where input is +inf. Mirrors ``torch.isposinf``."""
    x = input.data
    xp = array_module(x)
    return Tensor(xp.isinf(x) & ~xp.signbit(x))


def isneginf(input: Tensor) -> Tensor:
    """Return where input is -inf. Mirrors ``torch.isneginf``."""
    x = input.data
    xp = array_module(x)
    return Tensor(xp.isinf(x) & xp.signbit(x))


def isfinite(input: Tensor) -> Tensor:
    """Return where input is neither NaN nor infinite. Mirrors ``torch.isfinite``."""
    return Tensor(array_module(input.data).isfinite(input.data))


def isreal(input: Tensor) -> Tensor:
    """Return True everywhere: Ember has no complex dtypes. Mirrors ``torch.isreal``."""
    return Tensor(array_module(input.data).ones(input.data.shape, dtype=bool))


# -- closeness -----------------------------------------------------------------------------
def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """Return where |input - other| <= atol + rtol * |other|. Mirrors ``torch.isclose``.

    Equal values (infinities included) are close; NaNs are close to each other only when
    equal_nan. Both tensors must have the same dtype; integers compare in the default float.
    """
    require_tensor("isclose", other)
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{type_name(input)} did not match {type_name(other)}")
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    check_broadcast(input, other)
    x, y = input.data, other.data
    xp = array_module(x)
    close = x == y
    if x.dtype.kind == "b":
        return Tensor(close)
    if not input.dtype.is_floating_point:
        x, y = x.astype(get_default_dtype().np), y.astype(get_default_dtype().np)
    if equal_nan:
        close |= xp.isnan(x) & xp.isnan(y)
    with xp.errstate(invalid="ignore", over="ignore"):  # inf - inf is NaN: not close
        error = xp.abs(x - y)
        close |= xp.isfinite(error) & (error <= atol + xp.abs(rtol * y))
    return Tensor(close)


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Return whether all elements are close (see ``isclose``). Mirrors ``torch.allclose``."""
    return bool(isclose(input, other, rtol, atol, equal_nan).data.all())


def equal(input: Tensor, other: Tensor) -> bool:
    """Return whether both have the same shape and the same values. Mirrors ``torch.equal``.

    Values compare after type promotion; NaN is never equal to NaN.
    """
    require_tensor("equal", other)
    if input.data.shape != other.data.shape:
        return False
    dtype = result_type(input, other).np
    x, y = input.data.astype(dtype, copy=False), other.data.astype(dtype, copy=False)
    return bool((x == y).all())
