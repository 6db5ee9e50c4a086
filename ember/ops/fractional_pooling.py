"""Fractional max pooling (Graham, 2014) over 2 or 3 trailing spatial dims.

Each (sample, channel) plane pools over pseudo-random windows of a fixed size: along a dim
with input size n, kernel k and output size m, window i starts at
floor((i + u) * alpha) - floor(u * alpha) with alpha = (n - k) / (m - 1), and the last one at
n - k, where u in [0, 1) is the plane's sample for that dim (PyTorch's algorithm, computed in
the input's dtype as PyTorch does). The max is gathered at PyTorch's argmax (the first
maximum, the last NaN) with ``PlaneGather``, whose backward scatters the gradient back.
"""

from __future__ import annotations

import math
import operator
from typing import Any

from ember.backend import Array, array_module
from ember.ops.pooling_windows import PlaneGather, _first_argmax
from ember.ops.random import rand
from ember.tensor import Tensor

__all__ = [
    "fractional_max_pool2d",
    "fractional_max_pool2d_with_indices",
    "fractional_max_pool3d",
    "fractional_max_pool3d_with_indices",
]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}
_OP_NAMES = {2: "fractional_max_pool2d()", 3: "fractional_max_pool3d_out()"}


def _ints(value: Any, d: int, op: str, name: str) -> tuple[int, ...]:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(values) == 1:
        values = values * d
    if len(values) != d:
        raise RuntimeError(f"{op}: {name} must either be a single Int or tuple of Ints")
    try:
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints") from None


def _intervals(xp: Any, u: Array, size: int, out: int, k: int) -> Array:
    """(planes, out) window starts along one dim for the per-plane samples u."""
    starts = xp.empty((u.shape[0], out), dtype=xp.int64)
    if out > 1:
        alpha = u.dtype.type(size - k) / u.dtype.type(out - 1)
        i = xp.arange(out - 1, dtype=u.dtype)
        first = (u * alpha).astype(xp.int64)[:, None]
        starts[:, :-1] = ((i + u[:, None]) * alpha).astype(xp.int64) - first
    if out > 0:
        starts[:, -1] = size - k
    return starts


def _table(xp: Any, u: Array, in_size: tuple, out_size: tuple, kernel: tuple) -> Array:
    """(planes, window, outputs) flat plane positions of every window."""
    d, planes = len(kernel), u.shape[0]
    order = (1, 0) if d == 2 else (0, 1, 2)  # PyTorch's samples: (w, h) in 2d, (t, h, w) in 3d
    flat, step = 0, 1
    for i in reversed(range(d)):
        starts = _intervals(xp, u[:, order[i]], in_size[i], out_size[i], kernel[i])
        pos = starts[:, None, :] + xp.arange(kernel[i])[None, :, None]  # (planes, k, out)
        shape = [planes] + [1] * (2 * d)
        shape[1 + i], shape[1 + d + i] = kernel[i], out_size[i]
        flat = flat + pos.reshape(shape) * step
        step *= in_size[i]
    return flat.reshape(planes, math.prod(kernel), math.prod(out_size))


def _fractional_max(
    input: Tensor, d: int, kernel_size: Any, output_size: Any, output_ratio: Any, samples: Any
) -> tuple[Tensor, Tensor]:
    name = f"fractional_max_pool{d}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    shape = input.shape
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(
            f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got: {list(shape)}"
        )
    kernel = _ints(kernel_size, d, name, "kernel_size")
    in_size = tuple(shape[-d:])
    if output_size is None:
        ratio = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,)
        if len(ratio) not in (1, d):
            raise ValueError(
                f"{name} requires output_ratio to either be a single Int or tuple of Ints."
            )
        ratio = ratio * d if len(ratio) == 1 else ratio
        output_size = [int(n * r) for n, r in zip(in_size, ratio)]
    out_size = _ints(output_size, d, name, "output_size")
    slack = 0 if d == 2 else 1  # PyTorch's 3d check is strict: m + k - 1 < n
    for dim, n, k, m in zip(_DIM_NAMES[d], in_size, kernel, out_size):
        if k <= 0 or m < 0 or m + k - 1 + slack > n:
            raise RuntimeError(
                f"{_OP_NAMES[d]}: pool {dim} {k} too large relative to input {dim} {n}"
            )
    lead = shape[:-d]
    batch, channels = (1, lead[0]) if input.ndim == d + 1 else lead
    if samples is None:
        samples = rand(batch, channels, d, dtype=input.dtype, device=input.device)
    elif samples.shape[-1] != d:
        raise RuntimeError(
            f"Expect _random_samples.size(2) equals to {d}; got {samples.shape[-1]}."
        )
    elif samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    elif samples.ndim != 3 or samples.shape[0] < batch or samples.shape[1] < channels:
        raise RuntimeError(
            f"Expect _random_samples of shape at least ({batch}, {channels}, {d}); "
            f"got {list(samples.shape)}"
        )
    x = input.data
    xp = array_module(x)
    u = samples.data[:batch, :channels].reshape(batch * channels, d)
    table = _table(xp, u, in_size, out_size, kernel)
    planes = x.reshape(-1, math.prod(in_size))
    outputs = table.shape[2]
    windows = xp.take_along_axis(planes, table.reshape(planes.shape[0], -1), axis=1)
    windows = windows.reshape(table.shape)
    if windows.shape[1] and outputs:
        first = _first_argmax(xp, windows, windows.max(axis=1))  # (planes, outputs)
    else:
        first = xp.zeros((planes.shape[0], outputs), dtype=xp.int64)
    index = xp.take_along_axis(table, first[:, None, :], axis=1).reshape(*lead, *out_size)
    return PlaneGather.apply(input, index, d), Tensor(index)


def fractional_max_pool2d_with_indices(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Fractional max-pool the last 2 dims, returning (values, indices).

    Mirrors ``torch.nn.functional.fractional_max_pool2d_with_indices``; see
    ``fractional_max_pool2d``.
    """
    return _fractional_max(input, 2, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool2d(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Any:
    """Max-pool 2 dims over random windows. Mirrors ``torch.nn.functional.fractional_max_pool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size), output_size given or
    int(size * output_ratio). ``_random_samples`` (N, C, 2) holds each plane's u for
    (width, height), as PyTorch orders them; by default drawn from Ember's generator.
    ``return_indices`` also returns the flat int64 index of each maximum in its plane.
    Differences from PyTorch: a plain float output_ratio is accepted (PyTorch's functional
    form raises a TypeError for it).
    """
    out = _fractional_max(input, 2, kernel_size, output_size, output_ratio, _random_samples)
    return out if return_indices else out[0]


def fractional_max_pool3d_with_indices(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Fractional max-pool the last 3 dims, returning (values, indices).

    Mirrors ``torch.nn.functional.fractional_max_pool3d_with_indices``; see
    ``fractional_max_pool3d``.
    """
    return _fractional_max(input, 3, kernel_size, output_size, output_ratio, _random_samples)


def fractional_max_pool3d(
    input: Tensor,
    kernel_size: Any,
    output_size: Any = None,
    output_ratio: Any = None,
    return_indices: bool = False,
    _random_samples: Tensor | None = None,
) -> Any:
    """Max-pool 3 dims over random windows. Mirrors ``torch.nn.functional.fractional_max_pool3d``.

    Shapes: (N, C, T, H, W) or (C, T, H, W) -> (N, C, *output_size). ``_random_samples``
    (N, C, 3) holds each plane's u for (time, height, width). See ``fractional_max_pool2d``.
    """
    out = _fractional_max(input, 3, kernel_size, output_size, output_ratio, _random_samples)
    return out if return_indices else out[0]
