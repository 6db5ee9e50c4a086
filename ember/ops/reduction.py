"""Reductions: sums, means, products, variances, logsumexp and boolean reductions.

Each takes ``dim`` (an int, a tuple, or None for all dims) and ``keepdim``. The backward of a
sum or a mean is a broadcast view of the incoming gradient, never a materialised copy. Order
statistics (max, median, ...) live in ``selection.py``, scans in ``scan.py``, norms in
``norms.py``.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember.autograd.function import Context, Function
from ember.autograd.grad_mode import is_grad_enabled
from ember.backend import Array, array_module
from ember.backend.dtypes import as_dtype, get_default_dtype, int64
from ember.ops.common import cast, is_float_array, wrap_dims
from ember.ops.elementwise import mul, sub
from ember.ops.floatmath import exp
from ember.ops.shape import broadcast_to, reshape
from ember.tensor import Tensor

__all__ = [
    "all",
    "any",
    "count_nonzero",
    "logsumexp",
    "mean",
    "nanmean",
    "nansum",
    "prod",
    "std",
    "std_mean",
    "sum",
    "var",
    "var_mean",
]


def reduce_dims(dim: Any, ndim: int, op: str) -> tuple[int, ...]:
    """Normalise ``dim`` to a sorted tuple; None and () mean every dim, as in PyTorch."""
    if dim is None or (not isinstance(dim, int) and len(dim) == 0):
        return tuple(range(ndim))
    dims = wrap_dims(dim, ndim, op)
    return dims if ndim else ()  # a 0-d tensor accepts dim 0 and -1, and reduces nothing


def kept_shape(shape: tuple, dims: tuple) -> tuple:
    """Shape with the reduced dims kept as size 1 (what keepdim=True gives)."""
    return tuple(1 if i in dims else n for i, n in enumerate(shape))


def count(shape: tuple, dims: tuple) -> int:
    """Number of elements reduced into each output element."""
    n = 1
    for d in dims:
        n *= shape[d]
    return n


def _reduced_shape(shape: tuple, dims: tuple) -> tuple:
    return tuple(n for i, n in enumerate(shape) if i not in dims)


def expand_grad(grad: Tensor, shape: tuple, dims: tuple) -> Tensor:
    """Broadcast a reduction's gradient back to the input shape, as a view."""
    return broadcast_to(reshape(grad, kept_shape(shape, dims)), shape)


class Sum(Function):
    """Sum over dims; backward broadcasts the gradient back (a view)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        ctx.in_shape, ctx.dims = x.shape, dims
        return x.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return expand_grad(grad, ctx.in_shape, ctx.dims), None, None


class Mean(Function):
    """Mean over dims; backward broadcasts grad / count (a view)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        ctx.in_shape, ctx.dims = x.shape, dims
        if x.size == 0:  # the mean of nothing is NaN, without numpy's warning
            shape = kept_shape(x.shape, dims) if keepdim else _reduced_shape(x.shape, dims)
            return array_module(x).full(shape, float("nan"), dtype=x.dtype)
        return x.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        n = count(ctx.in_shape, ctx.dims)
        return (
            expand_grad(grad / n if n else grad * float("nan"), ctx.in_shape, ctx.dims),
            None,
            None,
        )


class NanSum(Function):
    """Sum over dims treating NaN as zero; NaN inputs get no gradient."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        ctx.save_for_backward(x)
        ctx.dims = dims
        return array_module(x).nansum(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        keep = Tensor(~array_module(x.data).isnan(x.data))
        return mul(expand_grad(grad, x.shape, ctx.dims), keep), None, None


class NanMean(Function):
    """Mean over the non-NaN elements of each slice; backward is grad / count on those."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        xp = array_module(x)
        ctx.save_for_backward(x)
        ctx.dims = dims
        n = (~xp.isnan(x)).sum(axis=dims, keepdims=keepdim).astype(x.dtype)
        with xp.errstate(invalid="ignore"):  # all-NaN slices: 0 / 0 = NaN, as in PyTorch
            return xp.nansum(x, axis=dims, keepdims=keepdim) / n

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        xp, dims = array_module(x.data), ctx.dims
        keep = ~xp.isnan(x.data)
        n = keep.sum(axis=dims, keepdims=True)
        with xp.errstate(invalid="ignore"):  # all-NaN slices get NaN, as in PyTorch
            weights = (keep / n).astype(x.data.dtype)
        return mul(expand_grad(grad, x.shape, dims), Tensor(weights)), None, None


class Prod(Function):
    """Product over dims; d/dx_i = product of the others, exact with zeros in the input."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        ctx.dims = dims
        out = array_module(x).asarray(x.prod(axis=dims, keepdims=keepdim))  # no numpy scalars
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        dims = ctx.dims
        grad = expand_grad(grad, x.shape, dims)
        out = expand_grad(out, x.shape, dims)
        zeros = x.data == 0
        if not zeros.any():
            return grad * out / x, None, None
        # NOTE: out / x is exact where x != 0; a zero gets the product of the others (the
        # product with that zero set to one), a polynomial, so every order is exact. To first
        # order only a slice's first zero can have a nonzero gradient.
        mask = Tensor(zeros.astype(x.data.dtype))
        safe_x = x - x * mask + mask  # x with its zeros replaced by ones
        result = (1 - mask) * out / safe_x
        rank = _zero_rank(zeros, dims)
        last = int(rank.max()) if is_grad_enabled() else 1
        for r in range(1, last + 1):
            hit = Tensor((rank == r).astype(x.data.dtype))
            others = expand_grad(Prod.apply(x - x * hit + hit, dims, True), x.shape, dims)
            result = result + hit * others
        return grad * result, None, None


def _zero_rank(zeros: Array, dims: tuple) -> Array:
    """Number each slice's zeros 1, 2, ... in row-major order over dims; 0 elsewhere."""
    xp, n = array_module(zeros), len(dims)
    moved = xp.moveaxis(zeros, dims, tuple(range(-n, 0)))
    flat = moved.reshape((*moved.shape[: moved.ndim - n], -1))
    rank = xp.cumsum(flat, axis=-1).reshape(moved.shape)
    return xp.moveaxis(rank, tuple(range(-n, 0)), dims) * zeros


def _var_args(dim: Any, unbiased: Any, keepdim: bool, correction: Any) -> tuple:
    """Read var/std arguments in all of PyTorch's forms: var(x, True), var(x, 1, True), ..."""
    if isinstance(dim, bool):  # var(input, unbiased)
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    elif unbiased is not None:
        raise RuntimeError("var/std: can't pass both unbiased and correction")
    return dim, correction


def _divisor(shape: tuple, dims: tuple, correction: float, op: str) -> float:
    divisor = count(shape, dims) - correction
    if divisor <= 0:
        warnings.warn(
            f"{op}(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "reduction factor (input numel divided by output numel).",
            UserWarning,
            stacklevel=3,
        )
        return 0.0
    return divisor


def _centered(x: Tensor, dims: tuple) -> Tensor:
    """Return x - mean(x) over dims, with Ember ops (so the second derivative flows through it)."""
    return x - Mean.apply(x, dims, True)


def _scaled(x: Array, divisor: float) -> Array:
    with array_module(x).errstate(invalid="ignore", divide="ignore"):
        return x / divisor if divisor else x * float("nan")


class Var(Function):
    """sum((x - mean)^2) / (N - correction); d/dx = 2 (x - mean) / (N - correction)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool, divisor: float) -> Array:
        ctx.save_for_backward(x)
        ctx.dims, ctx.divisor = dims, divisor
        d = x - x.mean(axis=dims, keepdims=True)
        return _scaled((d * d).sum(axis=dims, keepdims=keepdim), divisor)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        (x,) = ctx.saved_tensors
        scale = 2.0 / ctx.divisor if ctx.divisor else float("nan")
        grad = expand_grad(grad, x.shape, ctx.dims)
        return grad * _centered(x, ctx.dims) * scale, None, None, None


class Std(Function):
    """sqrt(var); d/dx = (x - mean) / ((N - correction) * std), taken as 0 where std == 0."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool, divisor: float) -> Array:
        xp = array_module(x)
        d = x - x.mean(axis=dims, keepdims=True)
        out = xp.asarray(xp.sqrt(_scaled((d * d).sum(axis=dims, keepdims=keepdim), divisor)))
        ctx.save_for_backward(x, out)
        ctx.dims, ctx.divisor = dims, divisor
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        dims = ctx.dims
        if not ctx.divisor:
            return expand_grad(grad, x.shape, dims) * float("nan"), None, None, None
        safe_out = out + Tensor((out.data == 0).astype(out.data.dtype))  # x - mean is 0 there
        scale = expand_grad(grad / (safe_out * ctx.divisor), x.shape, dims)
        return scale * _centered(x, dims), None, None, None


class LogSumExp(Function):
    """log(sum(exp(x))), shifted by the max for stability; d/dx = exp(x - out) (softmax)."""

    @staticmethod
    def forward(ctx: Context, x: Array, dims: tuple, keepdim: bool) -> Array:
        xp = array_module(x)
        shift = x.max(axis=dims, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, x.dtype)
        shift = xp.where(xp.isfinite(shift), shift, 0)  # all -inf (or inf) slices: no shift
        with xp.errstate(divide="ignore"):  # log(0) = -inf for all -inf (or empty) slices
            out = xp.log(xp.exp(x - shift).sum(axis=dims, keepdims=True)) + shift
        if not keepdim:
            out = out.reshape(_reduced_shape(x.shape, dims))
        ctx.save_for_backward(x, out)  # the returned array, so it comes back wired to this node
        ctx.dims = dims
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        softmax = exp(sub(x, expand_grad(out, x.shape, ctx.dims)))
        return expand_grad(grad, x.shape, ctx.dims) * softmax, None, None


def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over dims (all by default). Mirrors ``torch.sum``; bools and ints sum to int64."""
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    dims = reduce_dims(dim, input.data.ndim, "sum")
    if not is_float_array(input.data):  # no gradient; numpy accumulates in int64 directly
        return Tensor(input.data.sum(axis=dims, keepdims=keepdim, dtype=int64.np))
    return Sum.apply(input, dims, keepdim)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum over dims, treating NaN as zero. Mirrors ``torch.nansum``."""
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    if not is_float_array(input.data):
        return sum(input, dim, keepdim)
    return NanSum.apply(input, reduce_dims(dim, input.data.ndim, "nansum"), keepdim)


def _mean_input(input: Tensor, dtype: Any, op: str) -> Tensor:
    if dtype is not None:
        dtype = as_dtype(dtype)
        if not dtype.is_floating_point:
            raise RuntimeError(
                f"{op}(): could not infer output dtype. Optional dtype must be either a "
                f"floating point or complex dtype. Got: {dtype.name.capitalize()}"
            )
        return cast(input, dtype)
    if not is_float_array(input.data):
        raise RuntimeError(
            f"{op}(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype.name.capitalize()}"
        )
    return input


def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Average over dims (all by default). Mirrors ``torch.mean``; ints raise, as in PyTorch."""
    input = _mean_input(input, dtype, "mean")
    return Mean.apply(input, reduce_dims(dim, input.data.ndim, "mean"), keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Average the non-NaN elements over dims. Mirrors ``torch.nanmean``."""
    if dtype is None and not is_float_array(input.data):
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{input.dtype.name.capitalize()}"
        )
    input = _mean_input(input, dtype, "nanmean")
    return NanMean.apply(input, reduce_dims(dim, input.data.ndim, "nanmean"), keepdim)


def prod(
    input: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Multiply the elements over one dim (all by default). Mirrors ``torch.prod``.

    The gradient is the product of the other elements, exact when the input holds zeros.
    """
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod(): argument 'dim' must be int, not {type(dim).__name__}")
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    dims = reduce_dims(dim, input.data.ndim, "prod")
    if not is_float_array(input.data):
        return Tensor(input.data.prod(axis=dims, keepdims=keepdim, dtype=int64.np))
    return Prod.apply(input, dims, keepdim)


def _var_setup(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, op: str):
    if not is_float_array(input.data):
        raise RuntimeError("std and var only support floating point and complex dtypes")
    dim, correction = _var_args(dim, unbiased, keepdim, correction)
    dims = reduce_dims(dim, input.data.ndim, op)
    return dims, _divisor(input.data.shape, dims, correction, op)


def var(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Variance over dims with Bessel's ``correction`` (1 by default). Mirrors ``torch.var``.

    Accepts PyTorch's older forms too: ``var(x, unbiased)`` and ``var(x, dim, unbiased, keepdim)``.
    """
    dims, divisor = _var_setup(input, dim, unbiased, keepdim, correction, "var")
    return Var.apply(input, dims, keepdim, divisor)


def std(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> Tensor:
    """Standard deviation over dims. Mirrors ``torch.std`` (arguments as ``var``).

    The gradient where the standard deviation is 0 is 0, as in PyTorch.
    """
    dims, divisor = _var_setup(input, dim, unbiased, keepdim, correction, "std")
    return Std.apply(input, dims, keepdim, divisor)


def var_mean(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Return (variance, mean) over dims. Mirrors ``torch.var_mean``."""
    dims, divisor = _var_setup(input, dim, unbiased, keepdim, correction, "var_mean")
    return Var.apply(input, dims, keepdim, divisor), Mean.apply(input, dims, keepdim)


def std_mean(
    input: Tensor,
    dim: Any = None,
    unbiased: bool | None = None,
    keepdim: bool = False,
    *,
    correction: float | None = None,
) -> tuple[Tensor, Tensor]:
    """Return (standard deviation, mean) over dims. Mirrors ``torch.std_mean``."""
    dims, divisor = _var_setup(input, dim, unbiased, keepdim, correction, "std_mean")
    return Std.apply(input, dims, keepdim, divisor), Mean.apply(input, dims, keepdim)


def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """Return log(sum(exp(input))) over dims, computed stably. Mirrors ``torch.logsumexp``.

    The max over the dims is subtracted before exp and added back; the gradient is the softmax.
    Integer inputs compute in the default float dtype.
    """
    if not is_float_array(input.data):
        input = cast(input, get_default_dtype())
    return LogSumExp.apply(input, reduce_dims(dim, input.data.ndim, "logsumexp"), keepdim)


def _bool_reduce(input: Tensor, dim: Any, keepdim: bool, op: str) -> Tensor:
    x = input.data
    xp = array_module(x)
    # NOTE: unlike the other reductions, all/any over dim=() reduce nothing (as PyTorch).
    dims = () if isinstance(dim, (tuple, list)) and not dim else reduce_dims(dim, x.ndim, op)
    out = getattr(xp, op)(x, axis=dims, keepdims=keepdim)
    return Tensor(out.astype(x.dtype) if x.dtype == xp.uint8 else out)


def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Test whether all elements over dims are true (nonzero). Mirrors ``torch.all``.

    Returns bool, or uint8 for a uint8 input, as PyTorch does.
    """
    return _bool_reduce(input, dim, keepdim, "all")


def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Test whether any element over dims is true (nonzero). Mirrors ``torch.any``."""
    return _bool_reduce(input, dim, keepdim, "any")


def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Count the nonzero elements over dims, as int64. Mirrors ``torch.count_nonzero``."""
    x = input.data
    dims = reduce_dims(dim, x.ndim, "count_nonzero")
    return Tensor((x != 0).sum(axis=dims, dtype=int64.np))
