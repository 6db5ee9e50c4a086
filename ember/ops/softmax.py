"""softmax, log_softmax and softmin: fused, numerically stable, twice differentiable.

Each forward subtracts the max along ``dim`` before exp (so logits of 1e4 are fine) and keeps
only its output. Each backward is one fused op (``SoftmaxBackward``, ``LogSoftmaxBackward``)
whose own backward composes Ember ops, so gradients of gradients work. float16 and bfloat16
compute in float32 and round the result, as PyTorch's CPU kernels accumulate in float.
"""

from __future__ import annotations

import warnings
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import as_dtype
from ember.ops.common import cast, is_float_array, quiet, wrap_dim
from ember.ops.comparison import type_name
from ember.ops.floatmath import exp
from ember.ops.reduction import sum
from ember.tensor import Tensor

__all__ = ["log_softmax", "softmax", "softmin"]

_LOW_PRECISION = frozenset(("float16", "bfloat16"))


def row_sum(a: Array) -> Array:
    """Sum a 2-d float array over its last axis; one BLAS matrix-vector product when it can.

    NOTE: for float32/float64 a gemv is several times faster than NumPy's sum over axis 1.
    """
    if a.dtype.kind == "f" and a.dtype.itemsize >= 4:
        return a @ array_module(a).ones(a.shape[-1], a.dtype)
    return a.sum(axis=-1)


def _dim_sum(a: Array, dim: int) -> Array:
    """Sum over dim, keeping it; a matrix-vector product when dim is the last one."""
    if dim == a.ndim - 1 and a.ndim >= 1:
        return row_sum(a)[..., None]
    return a.sum(axis=dim, keepdims=True)


def _upcast(x: Array) -> Array:
    """float16/bfloat16 arrays as float32 (the accumulation type), others unchanged."""
    return x.astype("float32") if x.dtype.name in _LOW_PRECISION else x


class Softmax(Function):
    """exp(x - max) / sum(exp(x - max)) along dim; backward is ``SoftmaxBackward``."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> Array:
        xp = array_module(x)
        with quiet(xp):  # a slice of all -inf is NaN, silently, as PyTorch
            z = _upcast(x)
            out = z - z.max(axis=dim, keepdims=True) if z.size else z.copy()  # max: no identity
            xp.exp(out, out=out)
            out /= _dim_sum(out, dim)
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx.saved_tensors
        return SoftmaxBackward.apply(grad, out, ctx.dim), None


class SoftmaxBackward(Function):
    """out * (g - sum(g * out)) along dim, PyTorch's fused _softmax_backward_data."""

    @staticmethod
    def forward(ctx: Context, grad: Array, out: Array, dim: int) -> Array:
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        result = grad - _dim_sum(grad * out, dim)
        result *= out
        return result

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grad, out = ctx.saved_tensors
        dim = ctx.dim
        # d/dgrad is the same Jacobian-vector product; d/dout follows from the product rule.
        grad_grad = SoftmaxBackward.apply(gg, out, dim) if ctx.needs_input_grad[0] else None
        grad_out = None
        if ctx.needs_input_grad[1]:
            inner = sum(grad * out, dim, keepdim=True)
            grad_out = gg * (grad - inner) - grad * sum(gg * out, dim, keepdim=True)
        return grad_grad, grad_out, None


class LogSoftmax(Function):
    """x - max - log(sum(exp(x - max))) along dim; backward is ``LogSoftmaxBackward``."""

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> Array:
        xp = array_module(x)
        with quiet(xp):  # log(0) for a slice of all -inf: NaN/-inf silently, as PyTorch
            z = _upcast(x)
            out = z - z.max(axis=dim, keepdims=True) if z.size else z.copy()  # max: no identity
            out -= xp.log(_dim_sum(xp.exp(out), dim))
        out = out.astype(x.dtype, copy=False)
        ctx.save_for_backward(out)
        ctx.dim = dim
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx.saved_tensors
        return LogSoftmaxBackward.apply(grad, out, ctx.dim), None


class LogSoftmaxBackward(Function):
    """g - exp(out) * sum(g) along dim, PyTorch's fused _log_softmax_backward_data."""

    @staticmethod
    def forward(ctx: Context, grad: Array, out: Array, dim: int) -> Array:
        ctx.save_for_backward(grad, out)
        ctx.dim = dim
        result = array_module(out).exp(out)
        result *= -_dim_sum(grad, dim)
        result += grad
        return result

    @staticmethod
    def backward(ctx: Context, gg: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        grad, out = ctx.saved_tensors
        dim = ctx.dim
        probs = exp(out)
        grad_grad = gg - sum(gg * probs, dim, keepdim=True) if ctx.needs_input_grad[0] else None
        grad_out = -gg * probs * sum(grad, dim, keepdim=True) if ctx.needs_input_grad[1] else None
        return grad_grad, grad_out, None


def _softmax_dim(name: str, ndim: int, stacklevel: int) -> int:
    """PyTorch's legacy choice of dim when none is given (with its deprecation warning)."""
    warnings.warn(
        f"Implicit dimension choice for {name} has been deprecated. "
        "Change the call to include dim=X as an argument.",
        UserWarning,
        stacklevel=stacklevel,
    )
    return 0 if ndim in (0, 1, 3) else 1


def _apply(
    fn: type, name: str, input: Tensor, dim: int | None, stacklevel: int, dtype: Any
) -> Tensor:
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    ndim = input.data.ndim
    if dim is None:
        dim = _softmax_dim(name, ndim, stacklevel + 1)
    dim = wrap_dim(dim, ndim)
    if not is_float_array(input.data):
        kernel = "log_softmax" if fn is LogSoftmax else "softmax"
        impl = f"{kernel}_lastdim_kernel_impl" if dim == ndim - 1 else f"{kernel}_kernel_impl"
        raise NotImplementedError(f"\"{impl}\" not implemented for '{type_name(input)}'")
    if ndim == 0:  # a scalar is a one-element slice
        return fn.apply(input.reshape(1), 0).reshape(())
    return fn.apply(input, dim)


def softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """Return exp(input) normalised along dim. Mirrors ``torch.nn.functional.softmax``.

    The max along dim is subtracted first, so large logits do not overflow. ``dtype`` casts
    the input before the op. ``dim=None`` follows PyTorch's deprecated implicit choice (dim 0
    for 0-, 1- and 3-d inputs, else 1) with its warning.
    """
    return _apply(Softmax, "softmax", input, dim, _stacklevel, dtype)


def log_softmax(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """Return log(softmax(input)) along dim. Mirrors ``torch.nn.functional.log_softmax``.

    Computed as ``x - max - log(sum(exp(x - max)))``, never as log of a softmax, so it stays
    finite for logits of 1e4. The gradient is ``g - exp(out) * sum(g)``.
    """
    return _apply(LogSoftmax, "log_softmax", input, dim, _stacklevel, dtype)


def softmin(
    input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None
) -> Tensor:
    """Return softmax(-input) along dim. Mirrors ``torch.nn.functional.softmin``."""
    if dtype is not None:
        input = cast(input, as_dtype(dtype))
    return _apply(Softmax, "softmin", -input, dim, _stacklevel, None)
