"""Test helpers: ``assert_close`` and ``make_tensor``. Mirrors ``torch.testing``.

``assert_close`` follows PyTorch's comparison pipeline: the inputs are first paired up
(recursing through sequences and mappings, raising at once on a length or key mismatch or on
inputs no pair handles), then each pair is compared and the first failure is raised with
PyTorch's message text.

Differences from PyTorch: type names print as Ember's (``ember.float32``, ``ember.Size``);
there are no complex, sparse, quantized or 8-bit float tensors, so ``check_layout`` has nothing
to check and ``memory_format`` accepts only None.
"""

from __future__ import annotations

import cmath
import collections.abc
import contextlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ember.autograd.grad_mode import no_grad
from ember.backend.dtypes import (
    DType,
    bfloat16,
    bool_,
    finfo,
    float16,
    float32,
    float64,
    iinfo,
    int64,
    promote_types,
)
from ember.ops.comparison import isclose
from ember.ops.creation import as_tensor, empty
from ember.ops.random import randint
from ember.tensor import Tensor

__all__ = ["assert_close", "make_tensor"]

# {dtype: (rtol, atol)}, PyTorch's table; every other dtype compares exactly.
_DTYPE_PRECISIONS = {
    float16: (0.001, 1e-5),
    bfloat16: (0.016, 1e-5),
    float32: (1.3e-6, 1e-5),
    float64: (1e-7, 1e-7),
}
# Python numbers compare with the tolerances of the dtype PyTorch maps them to.
_NUMBER_DTYPES: dict[type, Any] = {bool: int64, int: int64, float: float64, complex: "complex128"}
_COMPLEX128_PRECISION = (1e-7, 1e-7)


class _ErrorMeta(Exception):
    """An error to raise later: its type, message and the item path where it occurred."""

    def __init__(self, type: type[Exception], msg: str, id: tuple = ()) -> None:
        super().__init__(msg)
        self.type, self.msg, self.id = type, msg, id

    def to_error(self, msg: str | Callable[[str], str] | None = None) -> Exception:
        if not isinstance(msg, str):
            generated = self.msg
            if self.id:
                generated += "\n\nThe failure occurred for item " + "".join(
                    str([item]) for item in self.id
                )
            msg = msg(generated) if callable(msg) else generated
        return self.type(msg)


def _tolerances(dtypes: list, rtol: float | None, atol: float | None, id: tuple) -> tuple:
    if (rtol is None) ^ (atol is None):
        raise _ErrorMeta(
            ValueError,
            "Both 'rtol' and 'atol' must be either specified or omitted, "
            f"but got no {'rtol' if rtol is None else 'atol'}.",
            id,
        )
    if rtol is not None:
        return rtol, atol
    pairs = [
        _COMPLEX128_PRECISION if d == "complex128" else _DTYPE_PRECISIONS.get(d, (0.0, 0.0))
        for d in dtypes
    ]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _mismatch_msg(
    identifier: str,
    extra: str,
    abs_diff: Any,
    abs_idx: Any,
    atol: float,
    rel_diff: Any,
    rel_idx: Any,
    rtol: float,
) -> str:
    equality = rtol == 0 and atol == 0

    def diff_msg(kind: str, diff: Any, idx: Any, tol: float) -> str:
        if idx is None:
            msg = f"{kind.title()} difference: {diff}"
        else:
            msg = f"Greatest {kind} difference: {diff} at index {idx}"
        return msg + ("" if equality else f" (up to {tol} allowed)") + "\n"

    msg = f"{identifier} are not {'equal' if equality else 'close'}!\n\n"
    msg += f"{extra.strip()}\n"
    msg += diff_msg("absolute", abs_diff, abs_idx, atol)
    msg += diff_msg("relative", rel_diff, rel_idx, rtol)
    return msg.strip()


def _scalar_mismatch_msg(actual: Any, expected: Any, rtol: float, atol: float) -> str:
    abs_diff = abs(actual - expected)
    rel_diff = float("inf") if expected == 0 else abs_diff / abs(expected)
    extra = f"Expected {expected} but got {actual}."
    return _mismatch_msg("Scalars", extra, abs_diff, None, atol, rel_diff, None, rtol)


def _unravel(flat_index: int, shape: tuple) -> tuple:
    index = []
    for size in shape[::-1]:
        flat_index, mod = divmod(flat_index, size)
        index.append(mod)
    return tuple(index[::-1])


def _tensor_mismatch_msg(
    actual: Tensor, expected: Tensor, matches: Tensor, rtol: float, atol: float
) -> str:
    total = matches.numel()
    mismatches = total - int(matches.sum().item())
    extra = f"Mismatched elements: {mismatches} / {total} ({mismatches / total:.1%})"
    actual_flat, expected_flat, matches_flat = (
        actual.flatten(),
        expected.flatten(),
        matches.flatten(),
    )
    if not actual.dtype.is_floating_point:
        actual_flat, expected_flat = actual_flat.to(int64), expected_flat.to(int64)
    abs_diff = (actual_flat - expected_flat).abs()
    abs_diff[matches_flat] = 0
    max_abs, abs_idx = abs_diff.max(0)
    rel_diff = abs_diff / expected_flat.abs()
    rel_diff[matches_flat] = 0
    max_rel, rel_idx = rel_diff.max(0)
    shape = tuple(matches.shape)
    return _mismatch_msg(
        "Tensor-likes",
        extra,
        max_abs.item(),
        _unravel(int(abs_idx.item()), shape),
        atol,
        max_rel.item(),
        _unravel(int(rel_idx.item()), shape),
        rtol,
    )


def _compare_numbers(actual: Any, expected: Any, options: dict, id: tuple) -> None:
    rtol, atol = _tolerances(
        [_NUMBER_DTYPES[type(x)] for x in (actual, expected)], options["rtol"], options["atol"], id
    )
    if options["check_dtype"] and type(actual) is not type(expected):
        raise _ErrorMeta(
            AssertionError,
            f"The (d)types do not match: {type(actual)} != {type(expected)}.",
            id,
        )
    if actual == expected:
        return
    if options["equal_nan"] and cmath.isnan(actual) and cmath.isnan(expected):
        return
    abs_diff = abs(actual - expected)
    if cmath.isfinite(abs_diff) and abs_diff <= atol + rtol * abs(expected):
        return
    raise _ErrorMeta(AssertionError, _scalar_mismatch_msg(actual, expected, rtol, atol), id)


def _compare_tensors(actual: Tensor, expected: Tensor, options: dict, id: tuple) -> None:
    rtol, atol = _tolerances([actual.dtype, expected.dtype], options["rtol"], options["atol"], id)

    def fail(attribute: str, actual_value: Any, expected_value: Any) -> None:
        raise _ErrorMeta(
            AssertionError,
            f"The values for attribute '{attribute}' do not match: "
            f"{actual_value} != {expected_value}.",
            id,
        )

    if actual.shape != expected.shape:
        fail("shape", actual.shape, expected.shape)
    if options["check_stride"] and actual.stride() != expected.stride():
        fail("stride()", actual.stride(), expected.stride())
    if options["check_device"] and actual.device != expected.device:
        fail("device", actual.device, expected.device)
    if options["check_dtype"] and actual.dtype != expected.dtype:
        fail("dtype", actual.dtype, expected.dtype)
    with no_grad():
        actual, expected = actual.detach(), expected.detach()
        if actual.device != expected.device:
            actual, expected = actual.cpu(), expected.cpu()
        if actual.dtype != expected.dtype:
            dtype = promote_types(actual.dtype, expected.dtype)
            actual, expected = actual.to(dtype), expected.to(dtype)
        matches = isclose(actual, expected, rtol=rtol, atol=atol, equal_nan=options["equal_nan"])
        if bool(matches.all().item()):
            return
        if actual.dim() == 0:
            msg = _scalar_mismatch_msg(actual.item(), expected.item(), rtol, atol)
        else:
            msg = _tensor_mismatch_msg(actual, expected, matches, rtol, atol)
    raise _ErrorMeta(AssertionError, msg, id)


def _make_pair(actual: Any, expected: Any, options: dict, id: tuple) -> Callable[[], None]:
    # The first comparison that handles both inputs, in PyTorch's order: None, bool, number,
    # tensor-like.
    if actual is None or expected is None:
        if actual is None and expected is None:
            return lambda: None
        msg = f"None mismatch: {actual} is not {expected}"
        return lambda: _raise(_ErrorMeta(AssertionError, msg, id))
    bools = (bool, np.bool_)
    if isinstance(actual, bools) and isinstance(expected, bools):
        a, e = bool(actual), bool(expected)
        msg = f"Booleans mismatch: {a} is not {e}"
        return lambda: None if a is e else _raise(_ErrorMeta(AssertionError, msg, id))
    numbers = (int, float, complex, np.number)
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        a, e = (x.item() if isinstance(x, np.number) else x for x in (actual, expected))
        _tolerances([_NUMBER_DTYPES[type(x)] for x in (a, e)], options["rtol"], options["atol"], id)
        return lambda: _compare_numbers(a, e, options, id)
    related = isinstance(actual, type(expected)) or isinstance(expected, type(actual))
    if related and (options["allow_subclasses"] or type(actual) is type(expected)):
        try:
            a, e = (x if isinstance(x, Tensor) else as_tensor(x) for x in (actual, expected))
        except Exception:
            a = None
        if a is not None:
            _tolerances([a.dtype, e.dtype], options["rtol"], options["atol"], id)
            return lambda: _compare_tensors(a, e, options, id)
    raise _ErrorMeta(
        TypeError,
        f"No comparison pair was able to handle inputs of type {type(actual)} and "
        f"{type(expected)}.",
        id,
    )


def _raise(error: Exception) -> None:
    raise error


def _originate(actual: Any, expected: Any, options: dict, id: tuple = ()) -> list:
    sequence, mapping = collections.abc.Sequence, collections.abc.Mapping
    if (
        isinstance(actual, sequence)
        and not isinstance(actual, str)
        and isinstance(expected, sequence)
        and not isinstance(expected, str)
    ):
        if len(actual) != len(expected):
            raise _ErrorMeta(
                AssertionError,
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}",
                id,
            )
        pairs = []
        for idx in range(len(actual)):
            pairs += _originate(actual[idx], expected[idx], options, (*id, idx))
        return pairs
    if isinstance(actual, mapping) and isinstance(expected, mapping):
        actual_keys, expected_keys = set(actual.keys()), set(expected.keys())
        if actual_keys != expected_keys:
            raise _ErrorMeta(
                AssertionError,
                "The keys of the mappings do not match:\n"
                f"Missing keys in the actual mapping: {sorted(expected_keys - actual_keys)}\n"
                f"Additional keys in the actual mapping: {sorted(actual_keys - expected_keys)}",
                id,
            )
        keys: Any = actual_keys
        with contextlib.suppress(Exception):
            keys = sorted(keys)
        pairs = []
        for key in keys:
            pairs += _originate(actual[key], expected[key], options, (*id, key))
        return pairs
    return [_make_pair(actual, expected, options, id)]


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | Callable[[str], str] | None = None,
) -> None:
    """Assert that actual and expected are close. Mirrors ``torch.testing.assert_close``.

    Tensors, Python/NumPy numbers, bools and None compare elementwise through nested sequences
    and mappings, with ``|actual - expected| <= atol + rtol * |expected|``. Default tolerances
    per dtype: float16 1e-3/1e-5, bfloat16 1.6e-2/1e-5, float32 1.3e-6/1e-5, float64
    1e-7/1e-7, integers and bool 0/0 (the loosest of the two inputs).

    Raises:
        AssertionError: on a mismatch, with PyTorch's message (or ``msg``: a string replaces it,
            a callable receives it).
    """
    __tracebackhide__ = True
    options = {
        "allow_subclasses": allow_subclasses,
        "rtol": rtol,
        "atol": atol,
        "equal_nan": equal_nan,
        "check_device": check_device,
        "check_dtype": check_dtype,
        "check_stride": check_stride,
    }
    try:
        pairs = _originate(actual, expected, options)
    except _ErrorMeta as error_meta:
        raise error_meta.to_error() from None
    for compare in pairs:
        try:
            compare()
        except _ErrorMeta as error_meta:
            raise error_meta.to_error(msg) from None


def _low_high(
    low: Any,
    high: Any,
    dtype: DType,
    lowest: float,
    highest: float,
    default_low: float,
    default_high: float,
) -> tuple:
    low = default_low if low is None else low
    high = default_high if high is None else high
    if any(isinstance(value, float) and math.isnan(value) for value in (low, high)):
        raise ValueError(f"`low` and `high` cannot be NaN, but got {low=} and {high=}")
    if low == high and dtype.is_floating_point:
        pass  # PyTorch only warns (FutureWarning) and fills with that value
    elif low >= high:
        raise ValueError(f"`low` must be less than `high`, but got {low} >= {high}")
    elif high < lowest or low >= highest:
        raise ValueError(
            f"The value interval specified by `low` and `high` is [{low}, {high}), "
            f"but {dtype} only supports [{lowest}, {highest})"
        )
    low, high = min(max(low, lowest), highest), min(max(high, lowest), highest)
    if not dtype.is_floating_point:
        return math.ceil(low), math.ceil(high)
    return low, high


def make_tensor(
    *shape: Any,
    dtype: DType,
    device: Any,
    low: float | None = None,
    high: float | None = None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format: Any = None,
) -> Tensor:
    """Create a tensor of uniform values in [low, high). Mirrors ``torch.testing.make_tensor``.

    Default ranges: bool [0, 2), uint8 [0, 10), signed integers [-9, 10), floats [-9, 9); a
    bound outside the dtype's finite range is clamped to it. ``noncontiguous`` returns a strided
    view (every second element of a wider last dim); ``exclude_zero`` replaces zeros by 1 (bool,
    integers) or by ``finfo(dtype).tiny``. Values come from Ember's default generator.
    """
    if len(shape) == 1 and isinstance(shape[0], collections.abc.Sequence):
        shape = shape[0]
    shape = tuple(shape)
    if noncontiguous and memory_format is not None:
        raise ValueError(
            "The parameters `noncontiguous` and `memory_format` are mutually exclusive, "
            f"but got {noncontiguous=} and {memory_format=}"
        )
    if requires_grad and not dtype.is_floating_point:
        raise ValueError(
            "`requires_grad=True` is not supported for boolean and integral dtypes, "
            f"but got {dtype=}"
        )
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        shape = (*shape[:-1], 2 * shape[-1])
    if dtype == bool_:
        low, high = _low_high(low, high, dtype, 0, 2, 0, 2)
        result = randint(low, high, shape, dtype=dtype, device=device)
    elif not dtype.is_floating_point:
        info = iinfo(dtype)
        highest = info.max + (1 if dtype != int64 else 0)
        low, high = _low_high(low, high, dtype, info.min, highest, -9, 10)
        result = randint(low, high, shape, dtype=dtype, device=device)
    else:
        info = finfo(dtype)
        low, high = _low_high(low, high, dtype, info.min, info.max, -9, 9)
        result = empty(shape, dtype=dtype, device=device)
        if high - low >= info.max:  # keep the width of the range finite
            result.uniform_(low / 2, high / 2).mul_(2)
        else:
            result.uniform_(low, high)
    if noncontiguous:
        result = result[..., 1::2]
    elif memory_format is not None:
        result = result.clone(memory_format=memory_format)
    if exclude_zero:
        result[result == 0] = 1 if not dtype.is_floating_point else finfo(dtype).tiny
    if dtype.is_floating_point:
        result.requires_grad_(requires_grad)
    return result
