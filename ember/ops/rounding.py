"""Rounding, one Function per op: floor, ceil, round, trunc (and fix), frac.

All but frac are piecewise constant, so their gradient is zero everywhere, as PyTorch's.
Integer inputs are already whole: they come back as a copy.
"""

from __future__ import annotations

import builtins
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.common import is_float_array, no_bool, quiet
from ember.ops.comparison import type_name
from ember.ops.elementwise import clone
from ember.tensor import Tensor

__all__ = ["ceil", "fix", "floor", "frac", "round", "trunc"]


# -- piecewise-constant ops: zero gradient -------------------------------------------------
class _Stepwise(Function):
    """Base of the piecewise-constant ops; their gradient is zero everywhere, as PyTorch's."""

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Any:
        return grad * 0


class Floor(_Stepwise):
    """floor(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).floor(x)


class Ceil(_Stepwise):
    """ceil(x)."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).ceil(x)


class Trunc(_Stepwise):
    """trunc(x): round toward zero."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        return array_module(x).trunc(x)


class Round(_Stepwise):
    """round(x, decimals), halves to even, computed as PyTorch's kernel (x * 10^d, rint, / 10^d)."""

    @staticmethod
    def forward(ctx: Context, x: Array, decimals: int) -> Array:
        xp = array_module(x)
        if decimals == 0:
            return xp.rint(x)
        dtype = x.dtype if x.dtype.itemsize >= 4 else xp.float32  # PyTorch's opmath type
        scale = xp.asarray(10.0 ** builtins.abs(decimals), dtype=dtype)
        y = x.astype(dtype, copy=False)
        with quiet(xp):
            out = xp.rint(y / scale) * scale if decimals < 0 else xp.rint(y * scale) / scale
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        return grad * 0, None


class Frac(Function):
    """x - trunc(x); d/dx = 1. frac(inf) is NaN, silently."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> Array:
        xp = array_module(x)
        with quiet(xp):
            return x - xp.trunc(x)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        return grad


def _stepwise(cls: type, kernel: str, input: Tensor) -> Tensor:
    no_bool(kernel, input)
    if not is_float_array(input.data):
        return clone(input)  # integers are already whole: a copy, as PyTorch returns
    return cls.apply(input)


def floor(input: Tensor) -> Tensor:
    """Round down; integers pass through. Mirrors ``torch.floor``."""
    return _stepwise(Floor, "floor_vml_cpu", input)


def ceil(input: Tensor) -> Tensor:
    """Round up; integers pass through. Mirrors ``torch.ceil``."""
    return _stepwise(Ceil, "ceil_vml_cpu", input)


def trunc(input: Tensor) -> Tensor:
    """Round toward zero; integers pass through. Mirrors ``torch.trunc``."""
    return _stepwise(Trunc, "trunc_vml_cpu", input)


def round(input: Tensor, *, decimals: int = 0) -> Tensor:
    """Round half to even, to ``decimals`` decimal places. Mirrors ``torch.round``."""
    no_bool("round_vml_cpu", input)
    if not is_float_array(input.data):
        if decimals != 0:
            raise NotImplementedError(f"\"round_cpu\" not implemented for '{type_name(input)}'")
        return clone(input)
    return Round.apply(input, decimals)


def frac(input: Tensor) -> Tensor:
    """Return the fractional part, input - trunc(input). Mirrors ``torch.frac``."""
    if not is_float_array(input.data):
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{type_name(input)}'")
    return Frac.apply(input)


fix = trunc
