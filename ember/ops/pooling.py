"""Max, average, adaptive and power-average pooling over 1, 2 or 3 trailing spatial dims.

The public functions of ``torch.nn.functional``'s pooling family: each checks its arguments
and calls the window machinery in ``pooling_windows.py`` (max: a gather at PyTorch's argmax;
average: window sums and their adjoint). Adaptive average pooling is one small averaging
matrix per dim, applied with ``matmul``; power-average pooling is composed from ``avg_pool``
as PyTorch composes it.
"""

from __future__ import annotations

import math
from typing import Any

from ember.backend import array_module
from ember.ops.linalg import matmul
from ember.ops.magnitude import abs, relu, sign
from ember.ops.pooling_windows import (
    AvgPool,
    PlaneScatter,
    Window,
    adaptive_bounds,
    adaptive_max,
    adaptive_sizes,
    avg_divisor,
    check_unpool,
    int_tuple,
    max_over_windows,
    unpool_size,
)
from ember.ops.powers import pow
from ember.ops.reduction import mean
from ember.ops.shape import transpose
from ember.tensor import Tensor

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool1d",
    "adaptive_max_pool1d_with_indices",
    "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
    "avg_pool1d",
    "avg_pool2d",
    "avg_pool3d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
    "max_pool1d",
    "max_pool1d_with_indices",
    "max_pool2d",
    "max_pool2d_with_indices",
    "max_pool3d",
    "max_pool3d_with_indices",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
]

_SizeArg = Any  # an int or a sequence of ints, as PyTorch's _size_any_t


def _max_pool(input: Tensor, d: int, args: tuple, ceil_mode: bool, return_indices: bool) -> Any:
    kernel_size, stride, padding, dilation = args
    window = Window(input, d, f"max_pool{d}d", kernel_size, stride, padding, dilation, ceil_mode)
    return max_over_windows(input, window.table(input.data), window.out_size, return_indices)


def max_pool1d(
    input: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    dilation: _SizeArg = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max-pool over the last dim. Mirrors ``torch.nn.functional.max_pool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, L_out). With ``return_indices`` also returns the
    int64 flat index in each plane of the first maximum (of the last NaN, if any), for
    ``max_unpool1d``; the gradient goes to that position, as in PyTorch.
    """
    args = (kernel_size, stride, padding, dilation)
    return _max_pool(input, 1, args, ceil_mode, return_indices)


def max_pool2d(
    input: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    dilation: _SizeArg = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max-pool over the last 2 dims. Mirrors ``torch.nn.functional.max_pool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out). See ``max_pool1d``.
    """
    args = (kernel_size, stride, padding, dilation)
    return _max_pool(input, 2, args, ceil_mode, return_indices)


def max_pool3d(
    input: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    dilation: _SizeArg = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Max-pool over the last 3 dims. Mirrors ``torch.nn.functional.max_pool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out). See ``max_pool1d``.
    """
    args = (kernel_size, stride, padding, dilation)
    return _max_pool(input, 3, args, ceil_mode, return_indices)


def max_pool1d_with_indices(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """Max-pool, with indices. Mirrors ``torch.nn.functional.max_pool1d_with_indices``."""
    return max_pool1d(input, *args, **{**kwargs, "return_indices": True})


def max_pool2d_with_indices(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """Max-pool, with indices. Mirrors ``torch.nn.functional.max_pool2d_with_indices``."""
    return max_pool2d(input, *args, **{**kwargs, "return_indices": True})


def max_pool3d_with_indices(input: Tensor, *args: Any, **kwargs: Any) -> tuple[Tensor, Tensor]:
    """Max-pool, with indices. Mirrors ``torch.nn.functional.max_pool3d_with_indices``."""
    return max_pool3d(input, *args, **{**kwargs, "return_indices": True})


def _max_unpool(input: Tensor, indices: Tensor, d: int, args: tuple, output_size: Any) -> Tensor:
    kernel_size, stride, padding = args
    op = f"max_unpool{d}d"
    kernel = int_tuple(kernel_size, d, op, "kernel_size")
    stride = kernel if stride is None else int_tuple(stride, d, op, "stride")
    padding = int_tuple(padding, d, op, "padding")
    plane = unpool_size(input, d, kernel, stride, padding, output_size)
    check_unpool(input, indices, d, plane)
    return PlaneScatter.apply(input, indices.data, plane)


def max_unpool1d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    output_size: Any = None,
) -> Tensor:
    """Undo max_pool1d into zeros. Mirrors ``torch.nn.functional.max_unpool1d``.

    Shapes: (N, C, L_in) or (C, L_in) -> (N, C, L_out), L_out = (L_in - 1) * stride
    - 2 * padding + kernel_size unless ``output_size`` says otherwise. Repeated indices keep
    the last value; the gradient is the gather of the output gradient at ``indices``.
    """
    return _max_unpool(input, indices, 1, (kernel_size, stride, padding), output_size)


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    output_size: Any = None,
) -> Tensor:
    """Undo max_pool2d into zeros. Mirrors ``torch.nn.functional.max_unpool2d``.

    Shapes: (N, C, H_in, W_in) or (C, H_in, W_in) -> (N, C, H_out, W_out). See ``max_unpool1d``.
    """
    return _max_unpool(input, indices, 2, (kernel_size, stride, padding), output_size)


def max_unpool3d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    output_size: Any = None,
) -> Tensor:
    """Undo max_pool3d into zeros. Mirrors ``torch.nn.functional.max_unpool3d``.

    Shapes: (N, C, D_in, H_in, W_in) or (C, D_in, H_in, W_in) -> (N, C, D_out, H_out, W_out).
    See ``max_unpool1d``.
    """
    return _max_unpool(input, indices, 3, (kernel_size, stride, padding), output_size)


def _avg_pool(
    input: Tensor, d: int, args: tuple, count_include_pad: bool, divisor_override: Any
) -> Tensor:
    kernel_size, stride, padding, ceil_mode = args
    window = Window(input, d, f"avg_pool{d}d", kernel_size, stride, padding, 1, ceil_mode)
    divisor = avg_divisor(array_module(input.data), window, count_include_pad, divisor_override)
    return AvgPool.apply(input, window, divisor)


def avg_pool1d(
    input: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """Average over sliding windows of the last dim. Mirrors ``torch.nn.functional.avg_pool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, L_out). Zero padding counts in the divisor when
    ``count_include_pad``; windows that ceil_mode adds past the padding never count it.
    Integer inputs truncate, as PyTorch's do.
    """
    return _avg_pool(input, 1, (kernel_size, stride, padding, ceil_mode), count_include_pad, None)


def avg_pool2d(
    input: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average over sliding windows of the last 2 dims. Mirrors ``torch.nn.functional.avg_pool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out). ``divisor_override`` replaces
    the window size as divisor. See ``avg_pool1d``.
    """
    args = (kernel_size, stride, padding, ceil_mode)
    return _avg_pool(input, 2, args, count_include_pad, divisor_override)


def avg_pool3d(
    input: Tensor,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    padding: _SizeArg = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Average over sliding windows of the last 3 dims. Mirrors ``torch.nn.functional.avg_pool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out). See ``avg_pool2d``.
    """
    args = (kernel_size, stride, padding, ceil_mode)
    return _avg_pool(input, 3, args, count_include_pad, divisor_override)


def _adaptive_avg(input: Tensor, d: int, output_size: Any) -> Tensor:
    sizes = adaptive_sizes(input, d, output_size, f"adaptive_avg_pool{d}d")
    if all(n == 1 for n in sizes):  # global average pooling
        return mean(input, tuple(range(-d, 0)), keepdim=True)
    x = input
    xp = array_module(input.data)
    for i, (size, out) in enumerate(zip(input.shape[-d:], sizes)):
        if size == out:
            continue
        start, end = adaptive_bounds(xp, size, out)
        cols = xp.arange(size)
        inside = (cols >= start[:, None]) & (cols < end[:, None])
        weights = Tensor((inside / (end - start)[:, None]).astype(input.data.dtype))  # (out, size)
        if i == d - 1:
            x = matmul(x, weights.T)
        elif i == d - 2:
            x = matmul(weights, x)
        else:  # depth of a 3-d pool: bring it next to last
            x = transpose(matmul(weights, transpose(x, -3, -2)), -3, -2)
    return x


def adaptive_avg_pool1d(input: Tensor, output_size: _SizeArg) -> Tensor:
    """Average-pool the last dim to a size. Mirrors ``torch.nn.functional.adaptive_avg_pool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, output_size). Output i averages
    [floor(i * L / out), ceil((i + 1) * L / out)).
    """
    return _adaptive_avg(input, 1, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size: _SizeArg) -> Tensor:
    """Average-pool the last 2 dims to a size. Mirrors ``torch.nn.functional.adaptive_avg_pool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size); a None entry keeps that size.
    """
    return _adaptive_avg(input, 2, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size: _SizeArg) -> Tensor:
    """Average-pool the last 3 dims to a size. Mirrors ``torch.nn.functional.adaptive_avg_pool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size).
    """
    return _adaptive_avg(input, 3, output_size)


def adaptive_max_pool1d(input: Tensor, output_size: _SizeArg, return_indices: bool = False) -> Any:
    """Max-pool the last dim to a size. Mirrors ``torch.nn.functional.adaptive_max_pool1d``.

    Shapes: (N, C, L) or (C, L) -> (N, C, output_size); windows as ``adaptive_avg_pool1d``.
    ``return_indices`` also returns the flat int64 index of each (first) maximum.
    """
    return adaptive_max(input, 1, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size: _SizeArg, return_indices: bool = False) -> Any:
    """Max-pool the last 2 dims to a size. Mirrors ``torch.nn.functional.adaptive_max_pool2d``.

    Shapes: (N, C, H, W) or (C, H, W) -> (N, C, *output_size). See ``adaptive_max_pool1d``.
    """
    return adaptive_max(input, 2, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size: _SizeArg, return_indices: bool = False) -> Any:
    """Max-pool the last 3 dims to a size. Mirrors ``torch.nn.functional.adaptive_max_pool3d``.

    Shapes: (N, C, D, H, W) or (C, D, H, W) -> (N, C, *output_size). See ``adaptive_max_pool1d``.
    """
    return adaptive_max(input, 3, output_size, return_indices)


def adaptive_max_pool1d_with_indices(
    input: Tensor, output_size: _SizeArg, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max-pool, returning (values, indices).

    Mirrors ``torch.nn.functional.adaptive_max_pool1d_with_indices``.
    """
    return adaptive_max(input, 1, output_size, True)


def adaptive_max_pool2d_with_indices(
    input: Tensor, output_size: _SizeArg, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max-pool, returning (values, indices).

    Mirrors ``torch.nn.functional.adaptive_max_pool2d_with_indices``.
    """
    return adaptive_max(input, 2, output_size, True)


def adaptive_max_pool3d_with_indices(
    input: Tensor, output_size: _SizeArg, return_indices: bool = False
) -> tuple[Tensor, Tensor]:
    """Adaptive max-pool, returning (values, indices).

    Mirrors ``torch.nn.functional.adaptive_max_pool3d_with_indices``.
    """
    return adaptive_max(input, 3, output_size, True)


# -- power-average pooling -------------------------------------------------------------------
def _lp_pool(
    input: Tensor, d: int, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool
) -> Tensor:
    if norm_type == math.inf:
        return _max_pool(abs(input), d, (kernel_size, stride, 0, 1), ceil_mode, False)
    if norm_type == -math.inf:
        return -_max_pool(-abs(input), d, (kernel_size, stride, 0, 1), ceil_mode, False)
    out = _avg_pool(pow(input, norm_type), d, (kernel_size, stride, 0, ceil_mode), True, None)
    kernel = math.prod(int_tuple(kernel_size, d, f"lp_pool{d}d", "kernel_size"))
    # As PyTorch: sign * relu(|out|) zeroes the gradient where the window sum is 0.
    return pow((sign(out) * relu(abs(out))) * kernel, 1.0 / norm_type)


def lp_pool1d(
    input: Tensor,
    norm_type: float,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average-pool the last dim. Mirrors ``torch.nn.functional.lp_pool1d``.

    Computed as PyTorch does, from ``avg_pool1d(x ** p)`` times the kernel size (so ceil_mode's
    partial windows are rescaled the same way); p = inf is max pooling of |x|.
    """
    return _lp_pool(input, 1, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: Tensor,
    norm_type: float,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average-pool the last 2 dims. Mirrors ``torch.nn.functional.lp_pool2d``.

    See ``lp_pool1d``.
    """
    return _lp_pool(input, 2, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(
    input: Tensor,
    norm_type: float,
    kernel_size: _SizeArg,
    stride: _SizeArg | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    """Power-average-pool the last 3 dims. Mirrors ``torch.nn.functional.lp_pool3d``.

    See ``lp_pool1d``.
    """
    return _lp_pool(input, 3, norm_type, kernel_size, stride, ceil_mode)
