"""The fused kernel of batch, layer, group and instance norm: ``Normalize`` and its backward.

``Normalize`` normalises x over a tuple of dims (each slice over those dims is one group),
then scales and shifts it by a weight and bias that broadcast against x; it also returns the
mean and biased variance. Its backward is one fused op as well (``NormalizeBackward``, the
standard formula in a few array passes), whose own backward is written with Ember ops, so
gradients of any order exist. The public functions are in ``ember.ops.normalization``.

Speed: NumPy cannot fuse, so each full-size pass and each fresh full-size buffer counts. Sums
over trailing dims use ``einsum`` (3x faster than pairwise ``sum``; no BLAS, whose threads
keep spinning through the passes that follow); layer norm keeps its normalised input for the
backward (two passes fewer there for one buffer); batch, instance and group norm's backward
factor invstd (and the weight where constant) out of per-group sums.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__: list[str] = []

_LETTERS = "abcdefghijklmnopqrstuvwxyz"
# Longest rows summed by einsum (a plain running sum, no BLAS threads) rather than pairwise.
_EINSUM_COLS = 1 << 16


def _group_dot(xp: Any, a: Array, b: Array, dims: tuple, shape: tuple) -> Array:
    """sum(a * b) over dims, reshaped to shape, without a temporary the size of a."""
    subs = _LETTERS[: a.ndim]
    kept = "".join(s for i, s in enumerate(subs) if i not in dims)
    return xp.einsum(f"{subs},{subs}->{kept}", a, b).reshape(shape)


def _wide(xp: Any, *arrays: Array | None) -> list:
    """float16 and bfloat16 arrays as float32, where the statistics are computed."""
    return [a if a is None or a.dtype.itemsize >= 4 else a.astype(xp.float32) for a in arrays]


def group_size(shape: tuple, dims: tuple) -> int:
    return math.prod(shape[d] for d in dims)


def _broadcast_dims(shape: tuple, target: tuple) -> tuple:
    """The dims of an array of shape that a target shape (same ndim or fewer) broadcasts over."""
    lead = len(shape) - len(target)
    return tuple(i for i in range(len(shape)) if i < lead or target[i - lead] == 1)


def _rows(x: Array, dims: tuple) -> tuple[int, int] | None:
    """(rows, cols) of x as a matrix when dims are its trailing dims, else None.

    Trailing dims are layer, group and instance norm's; rows longer than ``_EINSUM_COLS`` (summed
    pairwise instead), batch norm's dims and empty inputs give None.
    """
    ndim, k = x.ndim, len(dims)
    if dims != tuple(range(ndim - k, ndim)) or not x.size:
        return None
    cols = math.prod(x.shape[ndim - k :])
    return (x.size // cols, cols) if cols <= _EINSUM_COLS else None


def _by_column(weight: Array | None, shape: tuple, dims: tuple) -> bool:
    """Whether weight is None or spans exactly the normalised trailing dims (layer norm)."""
    return weight is None or weight.shape == shape[len(shape) - len(dims) :]


def _mean(xp: Any, a: Array, dims: tuple) -> Array:
    """a.mean(axis=dims, keepdims=True), with the trailing run of dims summed by einsum.

    For batch norm that run is the spatial dims; the batch dim is then summed by NumPy on the
    much smaller result.
    """
    ndim, k = a.ndim, 0
    while k < len(dims) and dims[-1 - k] == ndim - 1 - k:
        k += 1
    cols = math.prod(a.shape[ndim - k :])
    if not k or not a.size or cols > _EINSUM_COLS or not a.flags.c_contiguous:
        return a.mean(axis=dims, keepdims=True)
    sums = xp.einsum("ij->i", a.reshape(-1, cols)).reshape(a.shape[: ndim - k] + (1,) * k)
    if k < len(dims):
        sums = sums.sum(axis=dims[: len(dims) - k], keepdims=True)
    sums /= group_size(a.shape, dims)
    return sums


def _row_stats(xp: Any, x: Array, dims: tuple, rows: tuple) -> tuple[Array, Array, Array]:
    """Mean, x - mean and biased var over trailing dims, x seen as a (rows, cols) matrix."""
    n_rows, cols = rows
    x2 = x.reshape(n_rows, cols)
    mean = xp.einsum("ij->i", x2)  # 3x faster than x2.sum(1) (pairwise summation)
    mean /= cols
    centred = x2 - mean[:, None]
    var = xp.einsum("ij,ij->i", centred, centred)  # two-pass variance, no temporary
    var /= cols
    stat = x.shape[: x.ndim - len(dims)] + (1,) * len(dims)
    return mean.reshape(stat), centred.reshape(x.shape), var.reshape(stat)


class Normalize(Function):
    """(x - mean) * invstd * weight + bias, stats over dims; also returns mean and biased var."""

    @staticmethod
    def forward(
        ctx: Context, x: Array, weight: Array | None, bias: Array | None, dims: tuple, eps: float
    ) -> tuple[Array, Array, Array]:
        xp = array_module(x)
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, weight)
        dtype = x.dtype
        x, weight, bias = _wide(xp, x, weight, bias)
        rows = _rows(x, dims)
        if rows is None:
            mean = _mean(xp, x, dims)
            out = x - mean
            var = _group_dot(xp, out, out, dims, mean.shape)
            var /= group_size(x.shape, dims)
        else:  # trailing dims: einsum row sums, one centred buffer, one sum of squares
            mean, out, var = _row_stats(xp, x, dims, rows)
        invstd = xp.sqrt(var + eps)
        xp.divide(1, invstd, out=invstd)
        by_column = rows is not None and _by_column(weight, x.shape, dims)  # layer norm
        if weight is None or by_column:
            out *= invstd
        else:  # a per-channel or per-group scale (batch, group, instance norm): a pass less
            scale = invstd * weight
            if scale.size < out.size:
                out *= scale
            else:
                out *= invstd
                out *= weight
            weight = None  # applied
        # Layer norm keeps xhat for its backward, the output getting a buffer of its own.
        affine = weight is not None or bias is not None
        xhat = out if by_column and affine and ctx.needs_input_grad else None
        if weight is not None:
            out = out * weight if xhat is not None else xp.multiply(out, weight, out=out)
        if bias is not None:
            out = out + bias if out is xhat else xp.add(out, bias, out=out)
        if ctx.needs_input_grad:
            ctx.dims, ctx.eps, ctx.mean, ctx.invstd, ctx.xhat = dims, eps, mean, invstd, xhat
            ctx.bias_shape = None if bias is None else bias.shape
        ctx.mark_non_differentiable(mean, var)
        return out.astype(dtype, copy=False), mean, var

    @staticmethod
    def backward(ctx: Context, grad: Tensor, _mean: Tensor, _var: Tensor) -> tuple:
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        grad_x = grad_w = grad_b = None
        if need_x or need_w:
            grads = NormalizeBackward.apply(
                grad, x, weight, ctx.mean, ctx.invstd, ctx.dims, ctx.eps, need_x, need_w, ctx.xhat
            )
            grad_x = grads[0] if need_x else None
            grad_w = grads[-1] if need_w else None
        if need_b:
            grad_b = sum_to(grad, ctx.bias_shape)
        return grad_x, grad_w, grad_b, None, None


def _row_grads(
    xp: Any,
    grad: Array,
    x: Array,
    weight: Array | None,
    mean: Array,
    invstd: Array,
    rows: tuple,
    need_x: bool,
    xhat: Array | None,
) -> tuple[Array | None, Array | None]:
    """NormalizeBackward over trailing dims with a per-column weight (layer norm), as matrices.

    With gh = grad * weight and n columns: grad_w = sum over rows of grad * xhat, and
    grad_x = invstd * (gh - sum(gh) / n - xhat * sum(gh * xhat) / n): three einsum sums (no
    BLAS: its threads would spin on through the NumPy passes) and four array passes.
    """
    n_rows, cols = rows
    invstd = invstd.reshape(n_rows, 1)
    if xhat is None:
        xhat = x.reshape(n_rows, cols) - mean.reshape(n_rows, 1)
        xhat *= invstd
    else:
        xhat = xhat.reshape(n_rows, cols)
    grad = grad.reshape(n_rows, cols)
    grad_w = None if weight is None else xp.einsum("ij,ij->j", grad, xhat)
    if not need_x:
        return None, grad_w
    gh = grad if weight is None else grad * weight.reshape(cols)
    gh_mean = xp.einsum("ij->i", gh)
    gh_mean /= cols
    coef = xp.einsum("ij,ij->i", gh, xhat)
    coef /= cols
    term = xhat * coef[:, None]
    grad_x = xp.subtract(gh, term, out=term if weight is None else gh)
    grad_x -= gh_mean[:, None]
    grad_x *= invstd
    return grad_x, grad_w


def _group_grads(
    xp: Any,
    grad: Array,
    x: Array,
    weight: Array | None,
    stats: tuple,
    need_x: bool,
    dtypes: tuple,
) -> tuple[Array, ...]:
    """NormalizeBackward when weight is constant over some of the normalised dims (or None).

    invstd, and weight where constant, factor out of sums over those "inner" dims: with
    c = x - mean and s = sum(grad * c) over them, grad_w = s * invstd (summed over the batch
    for instance and group norm) and, per group, grad_x =
    invstd * weight * (grad - mean(grad) - c * s * invstd**2 / n) (batch, instance norm: in
    c's buffer) or, the weight varying over the "outer" dims of a group (group norm's channels),
    invstd * weight * grad - invstd * mean(gh) - c * invstd**3 * sum(gh * c) / n.
    stats is (mean, invstd, dims, w_dims), dtypes those of grad_x and grad_w.
    """
    mean, invstd, dims, w_dims = stats
    inner = dims if weight is None else tuple(d for d in dims if d in w_dims)
    outer = tuple(d for d in dims if d not in inner)
    centred = x - mean
    kept = tuple(1 if i in inner else size for i, size in enumerate(x.shape))
    sums = _group_dot(xp, grad, centred, inner, kept)
    grad_w = None
    if weight is not None:
        grad_w = sums * invstd
        extra = tuple(d for d in w_dims if d not in inner)
        grad_w = (grad_w.sum(axis=extra, keepdims=True) if extra else grad_w).reshape(weight.shape)
    out = () if grad_w is None else (grad_w.astype(dtypes[1], copy=False),)
    if not need_x:
        return out
    n = group_size(x.shape, dims)
    if outer:
        coef = (sums * weight).sum(axis=outer, keepdims=True)  # sum(gh * c) per group
        coef *= invstd * invstd * invstd / n
        gh_mean = (_mean(xp, grad, inner) * weight).mean(axis=outer, keepdims=True)
        grad_x = grad * (invstd * weight)
        centred *= coef
        grad_x -= centred
        grad_x -= invstd * gh_mean
    else:
        sums *= invstd * invstd / n
        centred *= sums
        centred += _mean(xp, grad, dims)
        grad_x = xp.subtract(grad, centred, out=centred)
        grad_x *= invstd if weight is None else invstd * weight
    return (grad_x.astype(dtypes[0], copy=False), *out)


class NormalizeBackward(Function):
    """Normalize's gradients w.r.t. x and weight (those asked for), in a few array passes.

    With xhat = (x - mean) * invstd and gh = grad * weight, per group:
    grad_x = invstd * (gh - mean(gh) - xhat * mean(gh * xhat)), grad_w = sum(grad * xhat).
    """

    @staticmethod
    def forward(
        ctx: Context,
        grad: Array,
        x: Array,
        weight: Array | None,
        mean: Array,
        invstd: Array,
        dims: tuple,
        eps: float,
        need_x: bool,
        need_w: bool,
        xhat: Array | None = None,
    ) -> tuple[Array, ...]:
        xp = array_module(x)
        if ctx.needs_input_grad:
            ctx.dims, ctx.eps, ctx.need = dims, eps, (need_x, need_w)
            ctx.save_for_backward(grad, x, weight)
        x_dtype, w_dtype = x.dtype, None if weight is None else weight.dtype
        grad, x, weight = _wide(xp, grad, x, weight)
        rows = _rows(x, dims)
        if rows is not None and _by_column(weight, x.shape, dims):
            grad_x, grad_w = _row_grads(xp, grad, x, weight, mean, invstd, rows, need_x, xhat)
            out = (grad_x.reshape(x.shape).astype(x_dtype, copy=False),) if need_x else ()
            if need_w:
                out += (grad_w.reshape(weight.shape).astype(w_dtype, copy=False),)
            return out
        n = group_size(x.shape, dims)
        w_dims = () if weight is None else _broadcast_dims(x.shape, weight.shape)
        if weight is None or set(dims) & set(w_dims):  # batch, instance, group norm
            stats = (mean, invstd, dims, w_dims)
            return _group_grads(xp, grad, x, weight, stats, need_x, (x_dtype, w_dtype))
        # The weight varies over every normalised dim (layer norm over very long rows).
        xhat = x - mean
        xhat *= invstd
        grad_w = None
        if need_w:
            grad_w = _group_dot(xp, grad, xhat, w_dims, weight.shape)
            if not need_x:
                return (grad_w.astype(w_dtype, copy=False),)
        gh = grad * weight
        coef = _group_dot(xp, gh, xhat, dims, mean.shape)
        coef /= n
        # grad_x = invstd * (gh - mean(gh) - xhat * coef), built in xhat's buffer
        xhat *= coef
        xhat += _mean(xp, gh, dims)
        xp.subtract(gh, xhat, out=xhat)
        xhat *= invstd
        grad_x = xhat.astype(x_dtype, copy=False)
        return (grad_x,) if grad_w is None else (grad_x, grad_w.astype(w_dtype, copy=False))

    @staticmethod
    def backward(ctx: Context, *grads: Tensor) -> tuple:
        # Written with Ember ops on statistics recomputed from x, so it is differentiable again.
        grad, x, weight = ctx.saved_tensors
        dims, (need_x, need_w) = ctx.dims, ctx.need
        mu = x.mean(dims, keepdim=True)
        centered = x - mu
        r = ((centered * centered).mean(dims, keepdim=True) + ctx.eps).rsqrt()
        xhat = centered * r

        def project(v: Tensor) -> Tensor:  # grad_x as a function of gh: linear and symmetric
            return r * (v - v.mean(dims, keepdim=True) - xhat * (v * xhat).mean(dims, keepdim=True))

        d_grad = d_x = d_w = None
        if need_x:
            g_x = grads[0]
            gh = grad if weight is None else grad * weight
            proj_g = project(g_x)
            grad_x = project(gh)
            d_grad = proj_g if weight is None else proj_g * weight
            if weight is not None and ctx.needs_input_grad[2]:
                d_w = sum_to(grad * proj_g, weight.shape)
            d_x = -r * (
                (g_x * grad_x).mean(dims, keepdim=True) * xhat
                + (gh * xhat).mean(dims, keepdim=True) * proj_g
                + (g_x * xhat).mean(dims, keepdim=True) * grad_x
            )
        if need_w:
            g_w = grads[-1]
            d_grad = xhat * g_w if d_grad is None else d_grad + xhat * g_w
            d_x = project(grad * g_w) if d_x is None else d_x + project(grad * g_w)
        needs = ctx.needs_input_grad
        return (
            d_grad if needs[0] else None,
            d_x if needs[1] else None,
            d_w if needs[2] else None,
            *(None,) * 7,
        )
