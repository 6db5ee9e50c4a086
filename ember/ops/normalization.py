"""Batch, layer, group, instance, RMS and local-response normalisation.

Batch, layer, group and instance norm share one fused primitive, ``Normalize`` (in
``ember.ops.normalize_kernel``, with its backward and the notes on speed). RMS and
local-response norm are compositions of Ember ops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ember.backend import Array, array_module
from ember.backend.dtypes import float32
from ember.ops.common import cast, wrap_dim
from ember.ops.normalize_kernel import Normalize, group_size
from ember.ops.padding import pad
from ember.ops.shape import reshape
from ember.tensor import Tensor

__all__ = [
    "batch_norm",
    "group_norm",
    "instance_norm",
    "layer_norm",
    "local_response_norm",
    "rms_norm",
]


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
        n = group_size(shape, dims)
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
