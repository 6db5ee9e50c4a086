"""Finite differences and integrals: diff, gradient, trapezoid and logcumsumexp.

All but logcumsumexp compose slices, arithmetic and cat as PyTorch's own composite
implementations do, so they are differentiable to any order. ``LogCumSumExp`` is a fused scan
(a running log-add-exp, stable for any magnitude) whose backward is itself made of
logcumsumexp calls, so gradients of gradients flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.combine import where
from ember.ops.common import wrap_dim
from ember.ops.comparison import logical_xor
from ember.ops.floatmath import exp, log
from ember.ops.join import cat
from ember.ops.magnitude import abs
from ember.ops.rearrange import flip
from ember.ops.reduction import sum
from ember.ops.scan import cumsum
from ember.ops.shape import reshape
from ember.ops.strided import Slice
from ember.tensor import Tensor

__all__ = ["cumulative_trapezoid", "diff", "gradient", "logcumsumexp", "trapezoid", "trapz"]


def _slice(x: Tensor, dim: int, start: int | None, stop: int | None = None) -> Tensor:
    """x[..., start:stop] along dim (a differentiable view)."""
    return Slice.apply(x, (slice(None),) * dim + (slice(start, stop),))


def _select(x: Tensor, dim: int, index: int) -> Tensor:
    """x[..., index] along dim, dropping that dim."""
    return Slice.apply(x, (slice(None),) * dim + (index,))


def _check_diff_operand(input: Tensor, other: Tensor | None, dim: int) -> None:
    if other is None:
        return
    shape, other_shape = input.data.shape, other.data.shape
    if len(other_shape) != len(shape):
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for i, (a, b) in enumerate(zip(shape, other_shape)):
        if i != dim and a != b:
            raise RuntimeError(
                "diff expects the shape of tensor to prepend or append to match that of input "
                f"except along the differencing dimension; input.size({i}) = {a}, but got "
                f"tensor.size({i}) = {b}"
            )


def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """Return the n-th forward difference along dim. Mirrors ``torch.diff``.

    prepend/append are concatenated along dim first; bool inputs use logical_xor.
    """
    ndim = input.data.ndim
    if ndim < 1:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = wrap_dim(dim, ndim)
    _check_diff_operand(input, prepend, dim)
    _check_diff_operand(input, append, dim)
    if prepend is not None or append is not None:
        parts = [t for t in (prepend, input, append) if t is not None]
        input = cat(parts, dim)
    if n == 0:
        return input * 1 if input.data.dtype.kind != "b" else Tensor(input.data.copy())
    out = input
    for _ in range(min(n, input.data.shape[dim])):
        later, earlier = _slice(out, dim, 1), _slice(out, dim, 0, -1)
        out = logical_xor(later, earlier) if out.data.dtype.kind == "b" else later - earlier
    return out


def _gradient_dims(input: Tensor, spacing: Any, dim: Any, edge_order: int) -> tuple:
    ndim = input.data.ndim
    if input.data.dtype.kind == "u" and input.data.dtype.itemsize == 1:
        raise RuntimeError("torch.gradient does not support uint8 input.")
    if dim is None:
        dims = list(range(ndim))
    else:
        dims = [wrap_dim(d, ndim) for d in ([dim] if isinstance(dim, int) else dim)]
        for d in dims:
            if dims.count(d) > 1:
                raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
    if isinstance(spacing, Sequence) and not isinstance(spacing, Tensor) and len(spacing) != 1:
        if dim is None and len(spacing) != ndim:
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar, or a list of "
                f"length equal to 'self.dim() = {ndim}', since dim argument was not given, but "
                f"got a list of length {len(spacing)}"
            )
        if dim is not None and len(spacing) != len(dims):
            raise RuntimeError(
                "torch.gradient expected spacing to be unspecified, a scalar or it's spacing "
                "and dim arguments to have the same length, but got a spacing argument of "
                f"length {len(spacing)} and a dim argument of length {len(dims)}."
            )
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    for d in dims:
        if input.data.shape[d] < edge_order + 1:
            raise RuntimeError(
                "torch.gradient expected each dimension size to be at least edge_order+1"
            )
    if isinstance(spacing, Sequence) and not isinstance(spacing, Tensor):
        spacing = list(spacing) * (len(dims) if len(spacing) == 1 else 1)
    else:
        spacing = [spacing] * len(dims)
    for h in spacing:
        if isinstance(h, Tensor) and h.data.ndim != 1:
            raise RuntimeError(
                "torch.gradient expected each element of spacing to have one dimension, but "
                f"got an element with {h.data.ndim} dimensions!"
            )
    return dims, spacing


def _uniform_gradient(x: Tensor, h: Any, d: int, edge_order: int) -> Tensor:
    center = (_slice(x, d, 2) - _slice(x, d, 0, -2)) / h
    s0, s1, s2 = _slice(x, d, 0, 1), _slice(x, d, 1, 2), _slice(x, d, 2, 3)
    e0, e1, e2 = _slice(x, d, -3, -2), _slice(x, d, -2, -1), _slice(x, d, -1)
    if edge_order == 1:
        first, last = (s1 - s0) / h, (e2 - e1) / h
    else:
        first = (s0 * -1.5 + s1 * 2 - s2 * 0.5) / h
        last = (e0 * 0.5 + e1 * -2 + e2 * 1.5) / h
    return cat([first, center / 2, last], d)


def _coordinate_gradient(x: Tensor, coords: Tensor, d: int, edge_order: int) -> Tensor:
    shape = [1] * x.data.ndim
    shape[d] = -1
    dx = diff(coords)
    dx1, dx2 = dx[:-1], dx[1:]
    a = reshape(-dx2 / (dx1 * (dx1 + dx2)), shape)
    b = reshape((dx2 - dx1) / (dx1 * dx2), shape)
    c = reshape(dx1 / (dx2 * (dx1 + dx2)), shape)
    center = a * _slice(x, d, 0, -2) + b * _slice(x, d, 1, -1) + c * _slice(x, d, 2)
    s0, s1, s2 = _slice(x, d, 0, 1), _slice(x, d, 1, 2), _slice(x, d, 2, 3)
    e0, e1, e2 = _slice(x, d, -3, -2), _slice(x, d, -2, -1), _slice(x, d, -1)
    if edge_order == 1:
        first, last = (s1 - s0) / dx[0], (e2 - e1) / dx[-1]
    else:
        h0, h1, g1, g2 = dx[0], dx[1], dx[-1], dx[-2]
        first = (
            -(2.0 * h0 + h1) / (h0 * (h0 + h1)) * s0
            + (h0 + h1) / (h0 * h1) * s1
            + -h0 / (h1 * (h0 + h1)) * s2
        )
        last = (
            g1 / (g2 * (g1 + g2)) * e0
            + -(g1 + g2) / (g1 * g2) * e1
            + (2 * g1 + g2) / (g1 * (g1 + g2)) * e2
        )
    return cat([first, center, last], d)


def gradient(
    input: Tensor, *, spacing: Any = 1, dim: int | Sequence[int] | None = None, edge_order: int = 1
) -> tuple[Tensor, ...]:
    """Estimate a sampled function's gradient along each dim. Mirrors ``torch.gradient``.

    Interior points use central differences. ``spacing`` is a scalar, a list of scalars (one
    per dim) or a list of 1-D coordinate tensors; the edges use one-sided differences of
    ``edge_order`` 1 or 2. Returns one tensor per dim.
    """
    dims, spacing = _gradient_dims(input, spacing, dim, edge_order)
    out = []
    for d, h in zip(dims, spacing):
        if isinstance(h, Tensor):
            out.append(_coordinate_gradient(input, h, d, edge_order))
        else:
            out.append(_uniform_gradient(input, h, d, edge_order))
    return tuple(out)


def _integrand_checks(op: str, y: Tensor, x: Any, dx: Any) -> None:
    if x is not None and dx is not None:
        raise TypeError(f"{op}() received an invalid combination of arguments: both x and dx")
    if isinstance(x, Tensor):
        if y.data.dtype.kind == "b" or x.data.dtype.kind == "b":
            raise RuntimeError(
                f"{op}: received a bool input for `x` or `y`, but bool is not supported"
            )
    elif y.data.dtype.kind == "b":
        raise RuntimeError(f"{op}: received a bool input for `y`, but bool is not supported")
    if isinstance(dx, (bool, complex)):
        raise RuntimeError(f"{op}: Currently, we only support dx as a real number.")


def _spacing(op: str, y: Tensor, x: Tensor, dim: int) -> Tensor:
    """The differences of x, viewed to broadcast against y's differences along dim."""
    ndim = y.data.ndim
    if x.data.ndim == 1:
        if x.data.shape[0] != y.data.shape[dim]:
            raise RuntimeError(f"{op}: There must be one `x` value for each sample point")
        shape = [1] * ndim
        shape[dim] = -1
        x = reshape(x, shape)
    elif x.data.ndim < ndim:
        x = reshape(x, (1,) * (ndim - x.data.ndim) + x.data.shape)
    return _slice(x, dim, 1) - _slice(x, dim, 0, -1)


def _empty_integral(y: Tensor, dim: int) -> Tensor:
    shape = y.data.shape[:dim] + y.data.shape[dim + 1 :]
    return Tensor(array_module(y.data).zeros(shape, dtype=y.data.dtype))


def trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """Integrate y along dim with the trapezoidal rule. Mirrors ``torch.trapezoid``.

    Samples sit at the points ``x`` (broadcast as NumPy does after differencing) or every
    ``dx`` (default 1). Zero samples give zeros.
    """
    _integrand_checks("trapezoid", y, x, dx)
    dim = wrap_dim(dim, y.data.ndim)
    if y.data.shape[dim] == 0:
        return _empty_integral(y, dim)
    if x is not None:
        spacing = _spacing("trapezoid", y, x, dim)
        return sum((_slice(y, dim, 0, -1) + _slice(y, dim, 1)) * spacing, dim) / 2.0
    dx = 1.0 if dx is None else float(dx)
    return (sum(y, dim) - (_select(y, dim, 0) + _select(y, dim, -1)) * 0.5) * dx


def trapz(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """Integrate y along dim with the trapezoidal rule. Mirrors ``torch.trapz``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """Integrate y cumulatively with the trapezoidal rule. Mirrors ``torch.cumulative_trapezoid``.

    The result has one element fewer along dim.
    """
    _integrand_checks("cumulative_trapezoid", y, x, dx)
    dim = wrap_dim(dim, y.data.ndim)
    pairs = _slice(y, dim, 0, -1) + _slice(y, dim, 1)
    if x is not None:
        spacing = _spacing("cumulative_trapezoid", y, x, dim)
        return cumsum(pairs * spacing, dim) / 2.0
    dx = 1.0 if dx is None else float(dx)
    return cumsum(dx / 2.0 * pairs, dim)


class LogCumSumExp(Function):
    """log(cumsum(exp(x))) along dim as a running log-add-exp (stable; -inf entries exact).

    d out_j / d x_i = exp(x_i - out_j) for i <= j, so grad_i = sum_{j >= i} g_j exp(x_i - out_j),
    computed in log space from the end, split by the sign of g (as PyTorch).
    """

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int) -> Array:
        xp = array_module(x)
        with xp.errstate(invalid="ignore"):  # NaN (and inf - inf) propagate silently
            out = xp.logaddexp.accumulate(x, axis=dim)
        ctx.dim = dim
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        x, out = ctx.saved_tensors
        dim, xp = ctx.dim, array_module(x.data)
        # Where out_j = -inf every x_i (i <= j) is -inf too: any finite out_j gives 0 there.
        out = where(Tensor(xp.isneginf(out.data)), 0.0, out)
        g = grad.data
        magnitude = log(where(Tensor(g != 0), abs(grad), 1.0))
        total = None
        for sign, mask in ((1, g > 0), (-1, g < 0)):
            if not mask.any():
                continue
            log_g = where(Tensor(mask), magnitude, float("-inf"))
            term = exp(_reverse_logcumsumexp(log_g - out, dim) + x)
            term = term if sign > 0 else -term
            total = term if total is None else total + term
        return (total if total is not None else grad * 0), None


def _reverse_logcumsumexp(x: Tensor, dim: int) -> Tensor:
    return flip(LogCumSumExp.apply(flip(x, dim), dim), dim)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """Return log(cumsum(exp(input))) along dim, computed stably. Mirrors ``torch.logcumsumexp``.

    Differences from PyTorch: the gradient at a -inf input whose running result is still -inf
    is 0 (the exact derivative), where PyTorch gives NaN.
    """
    if not input.dtype.is_floating_point:
        raise NotImplementedError(
            f"\"logcumsumexp_out_cpu\" not implemented for '{SCALAR_NAMES[input.dtype.name]}'"
        )
    ndim = input.data.ndim
    dim = wrap_dim(dim, ndim)
    if ndim == 0:
        return reshape(LogCumSumExp.apply(reshape(input, (1,)), 0), ())
    return LogCumSumExp.apply(input, dim)
