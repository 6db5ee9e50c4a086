"""Elementwise ops that choose between inputs or blend them, one Function per op.

where, clamp, maximum/minimum, fmax/fmin (choosing, with PyTorch's gradient rules at ties and
boundaries), lerp, addcmul, addcdiv (blending) and nan_to_num. Backward formulas use Tensor
operators and ``where``, so they are differentiable again.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import CPP_NAMES, finfo
from ember.ops.common import cast, is_float_array, promote, result_type
from ember.ops.comparison import (
    apply_broadcasting,
    eq,
    ge,
    gt,
    isfinite,
    isnan,
    le,
    logical_and,
    logical_or,
    lt,
    require_tensor,
    type_name,
)
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "addcdiv",
    "addcmul",
    "clamp",
    "clamp_max",
    "clamp_min",
    "clip",
    "fmax",
    "fmin",
    "lerp",
    "maximum",
    "minimum",
    "nan_to_num",
    "where",
]


# -- clamp, maximum, minimum ---------------------------------------------------------------
class Clamp(Function):
    """min(max(x, lo), hi), bounds numbers, tensors or None; grad passes where lo <= x <= hi."""

    @staticmethod
    def forward(ctx: Context, x: Array, lo: Any, hi: Any) -> Array:
        xp = array_module(x)
        out = x if lo is None else xp.maximum(x, lo)
        out = out if hi is None else xp.minimum(out, hi)
        ctx.save_for_backward(x, lo, hi)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, lo, hi = ctx.saved_tensors
        needs = ctx.needs_input_grad
        grad_x = grad_lo = grad_hi = None
        if needs[0]:
            inside = ge(x, lo) if lo is not None else None
            if hi is not None:
                inside = le(x, hi) if inside is None else logical_and(inside, le(x, hi))
            grad_x = sum_to(where(inside, grad, 0.0), x.shape)
        if needs[1]:  # lo wins where x < lo, unless lo > hi (then hi wins everywhere)
            below = lt(x, lo) if hi is None else logical_and(lt(x, lo), lt(lo, hi))
            grad_lo = sum_to(where(below, grad, 0.0), lo.shape)
        if needs[2]:
            above = gt(x, hi) if lo is None else logical_or(gt(x, hi), lt(hi, lo))
            grad_hi = sum_to(where(above, grad, 0.0), hi.shape)
        return grad_x, grad_lo, grad_hi


def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:
    """Clamp input into [min, max]; bounds are numbers, tensors or None. Mirrors ``torch.clamp``.

    The result dtype promotes input with the bounds (an int tensor clamped by 0.5 is float).
    The gradient passes where min <= input <= max (boundaries included); where min > max every
    element is max, as PyTorch.
    """
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    dtype = result_type(input, min, max)
    input = cast(input, dtype)
    min, max = _bound(min, dtype, input), _bound(max, dtype, input)
    return apply_broadcasting(Clamp, input, min, max)


def _bound(value: Any, dtype: Any, like: Tensor) -> Any:
    """Return a clamp bound in the result dtype: a number stays a number, except for bfloat16.

    NumPy would promote bfloat16 with a Python float to float32 (no weak scalars for ml_dtypes).
    """
    if isinstance(value, Tensor):
        return cast(value, dtype)
    if value is not None and dtype.np.kind == "V":
        return array_module(like.data).asarray(value, dtype=dtype.np)
    return value


def clamp_min(input: Tensor, min: Any) -> Tensor:
    """Clamp input from below. Mirrors ``torch.clamp_min``."""
    return clamp(input, min=min)


def clamp_max(input: Tensor, max: Any) -> Tensor:
    """Clamp input from above. Mirrors ``torch.clamp_max``."""
    return clamp(input, max=max)


clip = clamp


class Maximum(Function):
    """max(x, y), NaN-propagating; on ties each side gets half the gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return array_module(x, y).maximum(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        return _split_ties(ctx, grad, x, y, lt(x, y), gt(x, y))


class Minimum(Function):
    """min(x, y), NaN-propagating; on ties each side gets half the gradient (as PyTorch)."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return array_module(x, y).minimum(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        return _split_ties(ctx, grad, x, y, gt(x, y), lt(x, y))


def _split_ties(
    ctx: Context, grad: Tensor, x: Tensor, y: Tensor, x_loses: Tensor, y_loses: Tensor
) -> tuple[Tensor | None, Tensor | None]:
    shared = where(eq(x, y), grad / 2, grad)
    grad_x = sum_to(where(x_loses, 0.0, shared), x.shape) if ctx.needs_input_grad[0] else None
    grad_y = sum_to(where(y_loses, 0.0, shared), y.shape) if ctx.needs_input_grad[1] else None
    return grad_x, grad_y


class Fmax(Function):
    """max(x, y) ignoring NaN; the gradient goes to x where x >= y or y is NaN, else to y."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return array_module(x, y).fmax(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        return _pick(ctx, grad, x, y, logical_or(ge(x, y), isnan(y)))


class Fmin(Function):
    """min(x, y) ignoring NaN; the gradient goes to x where x <= y or y is NaN, else to y."""

    @staticmethod
    def forward(ctx: Context, x: Array, y: Array) -> Array:
        ctx.save_for_backward(x, y)
        return array_module(x, y).fmin(x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        x, y = ctx.saved_tensors
        return _pick(ctx, grad, x, y, logical_or(le(x, y), isnan(y)))


def _pick(
    ctx: Context, grad: Tensor, x: Tensor, y: Tensor, to_x: Tensor
) -> tuple[Tensor | None, Tensor | None]:
    grad_x = sum_to(where(to_x, grad, 0.0), x.shape) if ctx.needs_input_grad[0] else None
    grad_y = sum_to(where(to_x, 0.0, grad), y.shape) if ctx.needs_input_grad[1] else None
    return grad_x, grad_y


def _tensor_pair(op: str, fn: type, input: Tensor, other: Any) -> Tensor:
    require_tensor(op, other)
    input, other = promote(input, other)
    return apply_broadcasting(fn, input, other)


def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Return the elementwise maximum; NaN wins. Mirrors ``torch.maximum``."""
    return _tensor_pair("maximum", Maximum, input, other)


def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Return the elementwise minimum; NaN wins. Mirrors ``torch.minimum``."""
    return _tensor_pair("minimum", Minimum, input, other)


def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Return the elementwise maximum, ignoring a NaN on one side. Mirrors ``torch.fmax``."""
    return _tensor_pair("fmax", Fmax, input, other)


def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Return the elementwise minimum, ignoring a NaN on one side. Mirrors ``torch.fmin``."""
    return _tensor_pair("fmin", Fmin, input, other)


# -- where, lerp, addcmul, addcdiv ---------------------------------------------------------
class Where(Function):
    """condition ? x : y with broadcasting; each side's gradient is masked by the condition."""

    @staticmethod
    def forward(ctx: Context, condition: Array, x: Array, y: Array) -> Array:
        ctx.save_for_backward(condition)
        ctx.shapes = x.shape, y.shape
        return array_module(x, y).where(condition, x, y)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[None, Tensor | None, Tensor | None]:
        (condition,) = ctx.saved_tensors
        x_shape, y_shape = ctx.shapes
        grad_x = sum_to(where(condition, grad, 0.0), x_shape) if ctx.needs_input_grad[1] else None
        grad_y = sum_to(where(condition, 0.0, grad), y_shape) if ctx.needs_input_grad[2] else None
        return None, grad_x, grad_y


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """Pick input where condition holds, else other; numbers allowed. Mirrors ``torch.where``.

    ``where(condition)`` alone is ``nonzero(condition, as_tuple=True)``.
    """
    if input is None and other is None:
        from ember.ops.masking import nonzero  # masking sits beside this module

        return nonzero(condition, as_tuple=True)
    if condition.data.dtype.kind != "b":
        if condition.data.dtype.kind != "u":
            raise RuntimeError(
                "where expected condition to be a boolean tensor, but got a tensor with dtype "
                f"{type_name(condition)}"
            )
        condition = Tensor(condition.data.astype(bool))  # uint8: deprecated in PyTorch
    dtype = result_type(input, other)
    xp = array_module(condition.data)
    input = cast(input, dtype) if isinstance(input, Tensor) else Tensor(xp.asarray(input, dtype.np))
    other = cast(other, dtype) if isinstance(other, Tensor) else Tensor(xp.asarray(other, dtype.np))
    return apply_broadcasting(Where, condition, input, other)


class Lerp(Function):
    """start + weight * (end - start), computed from the nearer end as PyTorch's kernel."""

    @staticmethod
    def forward(ctx: Context, start: Array, end: Array, weight: Any) -> Array:
        ctx.save_for_backward(start, end, weight)
        xp = array_module(start, end)
        diff = end - start
        if isinstance(weight, (int, float)):
            return start + weight * diff if weight < 0.5 else end - diff * (1 - weight)
        return xp.where(weight < 0.5, start + weight * diff, end - diff * (1 - weight))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, ...]:
        start, end, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (
            sum_to(grad * (1 - weight), start.shape) if needs[0] else None,
            sum_to(grad * weight, end.shape) if needs[1] else None,
            sum_to(grad * (end - start), weight.shape) if needs[2] else None,
        )


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """Interpolate linearly: input + weight * (end - input). Mirrors ``torch.lerp``.

    input, end (and a tensor weight) must share one floating dtype, as in PyTorch.
    """
    for name, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t.dtype is not input.dtype:
            raise RuntimeError(
                f"expected dtype {CPP_NAMES[input.dtype.name]} for `{name}` but got dtype "
                f"{CPP_NAMES[t.dtype.name]}"
            )
    if not is_float_array(input.data):
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{type_name(input)}'")
    if not isinstance(weight, Tensor) and input.data.dtype.kind == "V":
        weight = _bound(weight, input.dtype, input)  # keep bfloat16 bfloat16
    return apply_broadcasting(Lerp, input, end, weight)


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """Return input + value * tensor1 * tensor2. Mirrors ``torch.addcmul``."""
    if value != 1 and not result_type(input, tensor1, tensor2).is_floating_point:
        value = int(value)  # PyTorch casts value to the integer result type
    product = tensor1 * tensor2
    return input + (product if value == 1 else product * value)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """Return input + value * tensor1 / tensor2. Mirrors ``torch.addcdiv``."""
    if not (is_float_array(tensor1.data) or is_float_array(tensor2.data)):
        raise RuntimeError(
            "Integer division with addcdiv is no longer supported, and in a future  release "
            "addcdiv will perform a true division of tensor1 and tensor2. The historic addcdiv "
            "behavior can be implemented as (input + value * torch.trunc(tensor1 / "
            "tensor2)).to(input.dtype) for integer inputs and as (input + value * tensor1 / "
            "tensor2) for float inputs. The future addcdiv behavior is just the latter "
            "implementation: (input + value * tensor1 / tensor2), for all dtypes."
        )
    quotient = tensor1 / tensor2
    return input + (quotient if value == 1 else quotient * value)


# -- nan_to_num ----------------------------------------------------------------------------
class NanToNum(Function):
    """x with NaN, +inf and -inf replaced; the gradient passes where x is finite."""

    @staticmethod
    def forward(ctx: Context, x: Array, nan: float, posinf: float, neginf: float) -> Array:
        ctx.save_for_backward(x)
        xp = array_module(x)
        out = xp.where(xp.isnan(x), nan, x)
        out = xp.where(x == xp.inf, posinf, out)
        return xp.where(x == -xp.inf, neginf, out).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None, None, None]:
        (x,) = ctx.saved_tensors
        return grad * isfinite(x), None, None, None


def nan_to_num(
    input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None
) -> Tensor:
    """Replace NaN by nan, +inf by posinf, -inf by neginf. Mirrors ``torch.nan_to_num``.

    posinf and neginf default to the largest and lowest finite values of input's dtype.
    """
    if not is_float_array(input.data):
        return Tensor(input.data.copy())
    info = finfo(input.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    return NanToNum.apply(input, nan, posinf, neginf)
