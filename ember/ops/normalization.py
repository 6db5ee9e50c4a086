"""Batch, layer, group, instance, RMS and local-response normalisation.

Batch, layer, group and instance norm share one fused primitive, ``Normalize``: x is
normalised over a tuple of dims (each slice over those dims is one group), then scaled and
shifted by a weight and bias that broadcast against x. Its backward is one fused op as well
(``NormalizeBackward``, the standard formula in a few array passes), whose own backward is
written with Ember ops, so gradients of any order exist. RMS and local-response norm are
compositions of Ember ops.

Speed: NumPy cannot fuse, so each full-size pass and each fresh full-size buffer counts. Sums
over trailing dims use ``einsum`` (3x faster than pairwise ``sum``; no BLAS, whose threads
keep spinning through the passes that follow); layer norm keeps its normalised input for the
backward (two passes fewer there for one buffer); batch norm's backward factors invstd and
weight out of its per-channel sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import float32
from ember.ops.common import cast, wrap_dim
from ember.ops.padding import pad
from ember.ops.shape import reshape, sum_to
from ember.tensor import Tensor

__all__ = [
    "batch_norm",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "local_response_norm",
    "rms_norm",
]

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


def _count(shape: tuple, dims: tuple) -> int:
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
    sums /= _count(a.shape, dims)
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
            var /= _count(x.shape, dims)
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
    n = _count(x.shape, dims)
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
        n = _count(x.shape, dims)
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


# -- checks shared by the public functions ---------------------------------------------------
def _verify_batch_size(shape: tuple) -> None:
    if math.prod(shape[2:], start=shape[0]) == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {shape}"
        )


def _check_numel(name: str, t: Tensor | None, expected: int, scale: int = 1) -> None:
    if t is not None and t.numel() != expected:
        raise RuntimeError(
            f"{name} should contain {expected * scale} elements not {t.numel() * scale}"
        )


def _view(t: Tensor | None, shape: tuple) -> Tensor | None:
    return None if t is None else reshape(t, shape)


def _update_running(running: Tensor | None, stat: Array, momentum: float) -> None:
    """Set running to (1 - momentum) * running + momentum * stat, in place (no graph)."""
    if running is None:
        return
    data = running.data
    data *= 1 - momentum
    data += momentum * stat.reshape(data.shape).astype(data.dtype, copy=False)
    running._version[0] += 1


def _apply_stats(
    input: Tensor,
    mean: Tensor,
    var: Tensor,
    weight: Tensor | None,
    bias: Tensor | None,
    eps: float,
    shape: tuple,
) -> Tensor:
    """Normalise with given per-channel statistics: x * scale + shift (Ember ops)."""
    scale = (var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    if bias is not None:
        shift = shift + bias
    return input * reshape(scale, shape) + reshape(shift, shape)


def _check_eps(eps: float, training: bool) -> None:
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")


# -- public functions ------------------------------------------------------------------------
def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims. Mirrors ``F.batch_norm``.

    In training the batch statistics normalise (biased variance) and the running statistics,
    when given, are updated in place with the unbiased variance; otherwise the running
    statistics normalise. Shapes: input (N, C, *); running stats, weight, bias (C,).
    """
    shape = tuple(input.shape)
    if training:
        _verify_batch_size(shape)
    _check_eps(eps, training)
    if momentum is None:
        raise TypeError("batch_norm(): argument 'momentum' must be float, not NoneType")
    channels = shape[wrap_dim(1, len(shape))]
    for name, t in (("running_mean", running_mean), ("running_var", running_var)):
        _check_numel(name, t, channels)
    for name, t in (("weight", weight), ("bias", bias)):
        _check_numel(name, t, channels)
    param_shape = (channels,) + (1,) * (len(shape) - 2)
    if not training:
        for name, t in (("running_mean", running_mean), ("running_var", running_var)):
            if t is None:
                raise RuntimeError(f"{name} must be defined in evaluation mode")
        return _apply_stats(input, running_mean, running_var, weight, bias, eps, param_shape)
    dims = (0, *range(2, len(shape)))
    out, mean, var = Normalize.apply(
        input, _view(weight, param_shape), _view(bias, param_shape), dims, eps
    )
    if running_mean is not None or running_var is not None:
        n = input.numel() // channels
        _update_running(running_mean, mean.data, momentum)
        _update_running(running_var, var.data * (n / (n - 1)), momentum)
    return out


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel of each sample over its spatial dims. Mirrors ``F.instance_norm``.

    With running statistics and ``use_input_stats`` they are updated in place with the batch
    mean of the per-sample statistics. Shapes: input (N, C, *); weight, bias, stats (C,).
    """
    shape = tuple(input.shape)
    if use_input_stats and math.prod(shape[2:]) == 1:
        raise ValueError(
            f"Expected more than 1 spatial element when training, got input size {shape}"
        )
    batch, channels = shape[0], shape[wrap_dim(1, len(shape))]
    if (running_mean is None) != (running_var is None):
        raise RuntimeError(
            "running_mean and running_var must either both be None or neither be None"
        )
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean)):
        _check_numel(name, t, channels, batch)
    _check_numel("running_var", running_var, channels, batch)
    param_shape = (channels,) + (1,) * (len(shape) - 2)
    if not use_input_stats:
        if running_mean is None:
            raise RuntimeError(
                "Expected running_mean and running_var to be defined when use_input_stats is false"
            )
        return _apply_stats(input, running_mean, running_var, weight, bias, eps, param_shape)
    dims = tuple(range(2, len(shape)))
    out, mean, var = Normalize.apply(
        input, _view(weight, param_shape), _view(bias, param_shape), dims, eps
    )
    if running_mean is not None:
        n = _count(shape, dims)
        _update_running(running_mean, mean.data.mean(axis=0), momentum)
        _update_running(running_var, (var.data * (n / (n - 1))).mean(axis=0), momentum)
    return out


def _normalized_shape(normalized_shape: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(normalized_shape, int):
        return (normalized_shape,)
    return tuple(int(n) for n in normalized_shape)


def _check_normalized(
    input: Tensor, normalized: tuple, params: tuple, rms: bool = False
) -> tuple[int, ...]:
    """Check the normalized_shape, weight and bias; return the dims to normalise over."""
    if not normalized:
        raise RuntimeError(
            "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least "
            f"one element, but got normalized_shape = {list(normalized)}"
        )
    for name, t in params:
        if t is not None and tuple(t.shape) != normalized:
            raise RuntimeError(
                f"Expected {name} to be of same shape as normalized_shape, but got {name} of "
                f"shape {list(t.shape)} and normalized_shape = {list(normalized)}"
            )
    shape, k = tuple(input.shape), len(normalized)
    if len(shape) < k or shape[len(shape) - k :] != normalized:
        expected = ", ".join(map(str, normalized))
        raise RuntimeError(
            f"Given normalized_shape={list(normalized)}, expected input with shape "
            f"[*{'' if rms else ', '}{expected}], but got input of size{list(shape)}"
        )
    return tuple(range(len(shape) - k, len(shape)))


def layer_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dims. Mirrors ``F.layer_norm``.

    Shapes: input (*, *normalized_shape); weight, bias normalized_shape.
    """
    normalized = _normalized_shape(normalized_shape)
    dims = _check_normalized(input, normalized, (("weight", weight), ("bias", bias)))
    return Normalize.apply(input, weight, bias, dims, eps)[0]


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each group of channels of each sample. Mirrors ``F.group_norm``.

    Shapes: input (N, C, *) with C divisible by num_groups; weight, bias (C,).
    """
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {len(shape)}"
        )
    batch, channels = shape[:2]
    _verify_batch_size((batch * channels // num_groups, num_groups, *shape[2:]))
    if channels % num_groups:
        raise RuntimeError(
            "Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(shape)} and num_groups={num_groups}"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t.dim() != 1 or t.numel() != channels):
            raise RuntimeError(
                f"Expected {name} to be a vector of size equal to the number of channels in "
                f"input, but got {name} of shape {list(t.shape)} and input of shape {list(shape)}"
            )
    per_group = channels // num_groups
    x = reshape(input, (batch, num_groups, per_group, -1))  # (N, G, C/G, S)
    param_shape = (num_groups, per_group, 1)
    out = Normalize.apply(x, _view(weight, param_shape), _view(bias, param_shape), (2, 3), eps)
    return reshape(out[0], shape)


def rms_norm(
    input: Tensor,
    normalized_shape: int | Sequence[int],
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """Scale by the reciprocal root mean square over trailing dims. Mirrors ``F.rms_norm``.

    ``eps=None`` means the machine epsilon of the input's dtype. float16 and bfloat16 inputs
    are computed in float32 and cast back, as PyTorch does.
    """
    normalized = _normalized_shape(normalized_shape)
    dims = _check_normalized(input, normalized, (("weight", weight),), rms=True)
    dtype = input.dtype
    if eps is None:
        eps = float(array_module(input.data).finfo(input.data.dtype).eps)
    x = cast(input, float32) if input.data.dtype.itemsize < 4 else input
    out = x * ((x * x).mean(dims, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return cast(out, dtype)


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """Divide by (k + alpha * mean of squares over a window of channels) ** beta.

    Mirrors ``F.local_response_norm``: the window of ``size`` channels is zero-padded at the
    edges and averaged over ``size`` (padding included), as PyTorch's avg-pool version.
    """
    ndim = input.dim()
    if ndim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality                          input (got {ndim} "
            "dimensions)"
        )
    if input.numel() == 0:
        return input
    channels = input.shape[1]
    square = input * input
    padded = pad(square, (0, 0) * (ndim - 2) + (size // 2, (size - 1) // 2))
    window = padded.narrow(1, 0, channels)
    for i in range(1, size):
        window = window + padded.narrow(1, i, channels)
    div = (window * (alpha / size) + k) ** beta
    return input / div
