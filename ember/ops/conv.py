"""Convolutions and transposed convolutions as one GEMM over an im2col view.

With ``A_w`` the convolution by weight w at a fixed geometry (stride, pads, dilation, groups),
three fused ops are each other's gradients, so gradients of any order flow through them:

- ``Conv``:          y = A_w x. im2col of x (one strided copy), then one GEMM.
- ``ConvTranspose``: x = A_w^T y. One GEMM, then col2im (a strided add per kernel offset).
- ``ConvWeight``:    d<g, A_w x>/dw, the weight gradient. im2col of x, then one GEMM with g.

The im2col buffer is laid out (groups, C/groups * prod(K), N * prod(Out)), so the GEMM of all
groups is one (batched) matmul and, with groups=1, a single BLAS sgemm over the whole batch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import CPP_NAMES
from ember.ops.fold import (
    DIM_NAMES,
    Geometry,
    add_windows,
    crop,
    pad_zeros,
    padded_size,
    windows,
)
from ember.tensor import Tensor

__all__ = [
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
]

_LOW_PRECISION = frozenset(("float16", "bfloat16"))
_CHUNK_ELEMENTS = 1 << 18  # im2col columns per chunk: 1 MiB of float32, about an L2 cache


def _upcast(*arrays: Array | None) -> list:
    """float16/bfloat16 arrays as float32: PyTorch's CPU kernels accumulate in float."""
    return [
        a.astype("float32") if a is not None and a.dtype.name in _LOW_PRECISION else a
        for a in arrays
    ]


def _step(n: int, per_sample: int) -> int:
    """Samples per chunk, so a chunk's columns (per_sample elements each) stay in cache."""
    return min(max(n, 1), max(1, _CHUNK_ELEMENTS // max(per_sample, 1)))


def _group_rows(y: Array, groups: int) -> Array:
    """(N, O, *Out) -> (N, g, O/g, prod(Out)); (N, O, prod(Out)) for a single group."""
    n, o = y.shape[:2]
    length = math.prod(y.shape[2:])
    return y.reshape(n, o, length) if groups == 1 else y.reshape(n, groups, o // groups, length)


def _weight_rows(w: Array, groups: int) -> Array:
    """(O, C/g, *K) -> (g, O/g, C/g * prod(K)); (O, C * prod(K)) for a single group."""
    rows = w.reshape(groups, w.shape[0] // groups, w.shape[1] * math.prod(w.shape[2:]))
    return rows[0] if groups == 1 else rows


class _Columns:
    """im2col of x in batch chunks, each copied into one reused buffer.

    Iterating yields (start, stop, cols) with cols (m, [g,] C/g * prod(K), prod(Out)) for
    samples start:stop. Chunks keep the columns in cache for the GEMM that reads them, instead
    of writing a prod(K)-times-larger copy of the whole batch to memory and reading it back.
    """

    def __init__(self, x: Array, geo: Geometry, ksize: tuple, out_size: tuple) -> None:
        self.view = windows(pad_zeros(x, geo.pads), ksize, geo, out_size)  # (N, C, *K, *Out)
        n, c = x.shape[:2]
        rows, self.length = c * math.prod(ksize), math.prod(out_size)
        self.shape = (
            (rows, self.length)
            if geo.groups == 1
            else (geo.groups, rows // geo.groups, self.length)
        )
        self.step = _step(n, rows * self.length)
        self.buffer = array_module(x).empty(self.view[: self.step].shape, dtype=x.dtype)

    def __iter__(self) -> Any:
        n = self.view.shape[0]
        for start in range(0, n, self.step):
            stop = min(start + self.step, n)
            cols = self.buffer[: stop - start]
            cols[...] = self.view[start:stop]
            yield start, stop, cols.reshape(stop - start, *self.shape)


def _apply(x: Array, w: Array, b: Array | None, geo: Geometry, out_size: tuple) -> Array:
    """Compute y = A_w x + b: per chunk, im2col then one (stacked) GEMM straight into y."""
    n, o = x.shape[0], w.shape[0]
    w_rows = _weight_rows(w, geo.groups)  # ([g,] O/g, C/g*K)
    y = array_module(x).empty((n, o, math.prod(out_size)), dtype=x.dtype)
    y_rows = _group_rows(y, geo.groups)  # (N, [g,] O/g, L), a view of y
    for start, stop, cols in _Columns(x, geo, w.shape[2:], out_size):
        array_module(x).matmul(w_rows, cols, out=y_rows[start:stop])
    if b is not None:
        y += b[:, None]
    return y.reshape(n, o, *out_size)


def _weight_grad(x: Array, gy: Array, geo: Geometry, ksize: tuple) -> Array:
    """d<gy, A_w x>/dw = sum over samples of gy_n @ im2col(x_n)^T, chunk by chunk."""
    g, o, rows = geo.groups, gy.shape[1], x.shape[1] * math.prod(ksize)
    gy_rows = _group_rows(gy, g)  # (N, [g,] O/g, L)
    gw = array_module(x).zeros((o, rows) if g == 1 else (g, o // g, rows // g), dtype=x.dtype)
    for start, stop, cols in _Columns(x, geo, ksize, gy.shape[2:]):
        gw += (gy_rows[start:stop] @ cols.swapaxes(-1, -2)).sum(0)
    return gw.reshape(o, x.shape[1] // g, *ksize)


def _outer_or_gemm(a: Array, b: Array) -> Array:
    """Compute a @ b; a broadcast product when the inner dim is 1 (depthwise: BLAS is slow)."""
    return a * b if a.shape[-1] == 1 else a @ b


def _adjoint(y: Array, w: Array, geo: Geometry, size: tuple) -> Array:
    """Compute x = A_w^T y: per chunk, one (stacked) GEMM to columns, then col2im adds."""
    xp = array_module(y)
    n, o, out_size = y.shape[0], y.shape[1], y.shape[2:]
    ksize, c = w.shape[2:], w.shape[1] * geo.groups
    w_t = _weight_rows(w, geo.groups).swapaxes(-1, -2)  # ([g,] C/g*K, O/g)
    padded = padded_size(size, geo.pads)
    if any(s != 1 for s in geo.stride):
        x = xp.zeros((n, c, *padded), dtype=y.dtype)
        y_rows = _group_rows(y, geo.groups)
        step = _step(n, c * math.prod(ksize) * math.prod(out_size))
        for start in range(0, n, step):
            cols = _outer_or_gemm(w_t, y_rows[start : start + step])  # (m, [g,] C/g*K, L)
            cols = cols.reshape(-1, c, *ksize, *out_size)
            add_windows(x[start : start + step], cols, geo)
        return crop(x, size, geo.pads)
    # Stride 1: lay y out on the padded input's pitch (zeros past its end in dims 2, 3, ...);
    # then the window at kernel offset k of every output position sits at one flat offset of
    # the padded input, and col2im is prod(K) long contiguous adds. Zero columns add zeros.
    pitch = (out_size[0], *padded[1:])
    length, total = math.prod(pitch), math.prod(padded)
    flat_strides = [math.prod(padded[i + 1 :]) for i in range(len(padded))]
    offsets = [
        sum(i * dl * s for i, dl, s in zip(k, geo.dilation, flat_strides))
        for k in itertools.product(*map(range, ksize))
    ]
    x = xp.zeros((n, c, max(total, offsets[-1] + length)), dtype=y.dtype)
    step = _step(n, c * len(offsets) * length)
    y_pitch = xp.zeros((step, o, *pitch), dtype=y.dtype)
    for start in range(0, n, step):
        stop = min(start + step, n)
        y_pitch[(slice(0, stop - start), slice(None), *map(slice, out_size))] = y[start:stop]
        cols = _outer_or_gemm(w_t, _group_rows(y_pitch[: stop - start], geo.groups))
        cols = cols.reshape(stop - start, c, len(offsets), length)
        for t, offset in enumerate(offsets):
            x[start:stop, :, offset : offset + length] += cols[:, :, t]
    return crop(x[:, :, :total].reshape(n, c, *padded), size, geo.pads)


def _sum_bias(grad: Tensor) -> Tensor:
    return grad.sum(dim=(0, *range(2, grad.ndim)))


# -- the three fused ops ---------------------------------------------------------------------
class Conv(Function):
    """y = A_w x + b; backward: ConvTranspose for x, ConvWeight for w, a sum for b."""

    @staticmethod
    def forward(
        ctx: Context, x: Array, w: Array, b: Array | None, geo: Geometry, out_size: tuple
    ) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, w)
            ctx.geo = geo
        dtype = x.dtype
        return _apply(*_upcast(x, w, b), geo, out_size).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, w = ctx.saved_tensors
        needs, geo = ctx.needs_input_grad, ctx.geo
        grad_x = ConvTranspose.apply(grad, w, None, geo, x.shape[2:]) if needs[0] else None
        grad_w = ConvWeight.apply(x, grad, geo, w.shape[2:]) if needs[1] else None
        grad_b = _sum_bias(grad) if needs[2] else None
        return grad_x, grad_w, grad_b, None, None


class ConvTranspose(Function):
    """x = A_w^T y + b for an x of spatial size `size`; backward: Conv for y, ConvWeight for w."""

    @staticmethod
    def forward(
        ctx: Context, y: Array, w: Array, b: Array | None, geo: Geometry, size: tuple
    ) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward(y, w)
            ctx.geo = geo
        dtype = y.dtype
        y, w, b = _upcast(y, w, b)
        x = _adjoint(y, w, geo, size)
        if b is not None:
            x = x + b.reshape(-1, *(1,) * len(size))
        return array_module(x).ascontiguousarray(x).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        y, w = ctx.saved_tensors
        needs, geo = ctx.needs_input_grad, ctx.geo
        grad_y = Conv.apply(grad, w, None, geo, y.shape[2:]) if needs[0] else None
        grad_w = ConvWeight.apply(grad, y, geo, w.shape[2:]) if needs[1] else None
        grad_b = _sum_bias(grad) if needs[2] else None
        return grad_y, grad_w, grad_b, None, None


class ConvWeight(Function):
    """The weight gradient d<g, A_w x>/dw of x and g; backward: ConvTranspose and Conv."""

    @staticmethod
    def forward(ctx: Context, x: Array, gy: Array, geo: Geometry, ksize: tuple) -> Array:
        if ctx.needs_input_grad:
            ctx.save_for_backward(x, gy)
            ctx.geo = geo
        dtype = x.dtype
        return _weight_grad(*_upcast(x, gy), geo, ksize).astype(dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, gy = ctx.saved_tensors
        needs, geo = ctx.needs_input_grad, ctx.geo
        grad_x = ConvTranspose.apply(gy, grad, None, geo, x.shape[2:]) if needs[0] else None
        grad_gy = Conv.apply(x, grad, None, geo, gy.shape[2:]) if needs[1] else None
        return grad_x, grad_gy, None, None


# -- argument checks -------------------------------------------------------------------------
def _int_tuple(value: Any, d: int, name: str) -> tuple[int, ...]:
    """An int or a sequence of 1 or d ints, as d ints (PyTorch's expand_param_if_needed)."""
    if isinstance(value, int):
        return (value,) * d
    values = tuple(value)
    if len(values) == 1:
        values = values * d
    if len(values) != d or not all(isinstance(v, int) for v in values):
        raise RuntimeError(
            f"expected {name} to be a single integer value or a list of {d} values to match "
            f"the convolution dimensions, but got {name}={list(values)}"
        )
    return values


def _check_arrays(input: Tensor, weight: Tensor, bias: Tensor | None, op: str, d: int) -> None:
    if input.ndim not in (d + 1, d + 2):
        raise RuntimeError(
            f"Expected {d + 1}D (unbatched) or {d + 2}D (batched) input to {op}, but got input "
            f"of size: {list(input.shape)}"
        )
    if weight.ndim != d + 2:
        raise RuntimeError(
            f"Expected {d + 2}-dimensional weight for {d + 2}-dimensional input "
            f"{list(input.shape)}, but got {weight.ndim}-dimensional weight of size "
            f"{list(weight.shape)} instead"
        )
    if weight.dtype is not input.dtype:
        raise RuntimeError(
            f"Input type ({input.type()}) and weight type ({weight.type()}) should be the same"
        )
    if bias is not None and bias.dtype is not input.dtype:
        names = CPP_NAMES[input.dtype.name], CPP_NAMES[bias.dtype.name]
        raise RuntimeError(f"Input type ({names[0]}) and bias type ({names[1]}) should be the same")
    if input.dtype.name == "bool":
        raise NotImplementedError(f"\"slow_conv{d}d_cpu\" not implemented for 'Bool'")


def _check_groups(weight: Tensor, groups: int, stride: tuple, pads: tuple, dilation: tuple) -> None:
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(lo < 0 or hi < 0 for lo, hi in pads):
        raise RuntimeError("negative padding is not supported")
    if any(dl <= 0 for dl in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[0] < 1 or weight.shape[0] % groups:
        what = "at least 1" if weight.shape[0] < 1 else f"divisible by {groups}"
        raise RuntimeError(
            f"Given groups={groups}, expected weight to be {what} at dimension 0, but got "
            f"weight of size [{list(weight.shape)}] instead"
        )


def _check_channels_and_bias(
    input: Tensor, weight: Tensor, bias: Tensor | None, groups: int, transposed: bool
) -> None:
    given = f"transposed=1, weight of size {list(weight.shape)}"
    expected = weight.shape[0] if transposed else weight.shape[1] * groups
    out_channels = weight.shape[1] * groups if transposed else weight.shape[0]
    if input.shape[1] != expected:
        head = given if transposed else f"groups={groups}, weight of size {list(weight.shape)}"
        raise RuntimeError(
            f"Given {head}, expected input{list(input.shape)} to have {expected} channels, but "
            f"got {input.shape[1]} channels instead"
        )
    if bias is not None and tuple(bias.shape) != (out_channels,):
        head = given if transposed else f"weight of size {list(weight.shape)}"
        raise RuntimeError(
            f"Given {head}, expected bias to be 1-dimensional with {out_channels} elements, but "
            f"got bias of size {list(bias.shape)} instead"
        )


def _sizes(values: Sequence[int]) -> str:
    return " x ".join(str(v) for v in values)


def _padding(padding: Any, weight: Tensor, stride: tuple, dilation: tuple) -> tuple:
    """Per-dim (before, after) pads from an int, a tuple, 'valid' or 'same'."""
    d = len(stride)
    if not isinstance(padding, str):
        return tuple((p, p) for p in _int_tuple(padding, d, "padding"))
    if padding == "valid":
        return ((0, 0),) * d
    if padding != "same":
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    # an odd total pads one more after than before, as PyTorch
    totals = [dl * (k - 1) for dl, k in zip(dilation, weight.shape[2:])]
    return tuple((t // 2, t - t // 2) for t in totals)


# -- public functions ------------------------------------------------------------------------
def _conv(
    input: Tensor,
    weight: Tensor,
    bias: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    d: int,
) -> Tensor:
    _check_arrays(input, weight, bias, f"conv{d}d", d)
    batched = input.ndim == d + 2
    x = input if batched else input.unsqueeze(0)
    stride, dilation = _int_tuple(stride, d, "stride"), _int_tuple(dilation, d, "dilation")
    pads = _padding(padding, weight, stride, dilation)
    _check_groups(weight, groups, stride, pads, dilation)
    _check_channels_and_bias(x, weight, bias, groups, transposed=False)
    padded = [n + lo + hi for n, (lo, hi) in zip(x.shape[2:], pads)]
    spans = [dl * (k - 1) + 1 for dl, k in zip(dilation, weight.shape[2:])]
    if any(p < k for p, k in zip(padded, spans)):
        raise RuntimeError(
            f"Calculated padded input size per channel: ({_sizes(padded)}). Kernel size: "
            f"({_sizes(spans)}). Kernel size can't be greater than actual input size"
        )
    out_size = tuple((p - k) // s + 1 for p, k, s in zip(padded, spans, stride))
    out = Conv.apply(x, weight, bias, Geometry(stride, pads, dilation, groups), out_size)
    return out if batched else out.squeeze(0)


def _conv_transpose(
    input: Tensor,
    weight: Tensor,
    bias: Any,
    stride: Any,
    padding: Any,
    output_padding: Any,
    groups: int,
    dilation: Any,
    d: int,
) -> Tensor:
    op = f"conv_transpose{d}d"
    if isinstance(padding, str):
        raise TypeError(f"{op}(): argument 'padding' must be tuple of ints, not str")
    _check_arrays(input, weight, bias, op, d)
    batched = input.ndim == d + 2
    y = input if batched else input.unsqueeze(0)
    stride, dilation = _int_tuple(stride, d, "stride"), _int_tuple(dilation, d, "dilation")
    pads = tuple((p, p) for p in _int_tuple(padding, d, "padding"))
    extra = _int_tuple(output_padding, d, "output_padding")
    _check_groups(weight, groups, stride, pads, dilation)
    if any(e < 0 for e in extra):
        raise RuntimeError("negative output_padding is not supported")
    if any(e >= s and e >= dl for e, s, dl in zip(extra, stride, dilation)):
        names = DIM_NAMES[d]
        parts = [
            f"{what}_{n}: {v}"
            for what, values in (
                ("output_padding", extra),
                ("stride", stride),
                ("dilation", dilation),
            )
            for n, v in zip(names, values)
        ]
        raise RuntimeError(
            "output padding must be smaller than either stride or dilation, but got "
            + " ".join(parts)
        )
    _check_channels_and_bias(y, weight, bias, groups, transposed=True)
    size = tuple(
        (n - 1) * s - 2 * p + dl * (k - 1) + e + 1
        for n, s, (p, _), dl, k, e in zip(
            y.shape[2:], stride, pads, dilation, weight.shape[2:], extra
        )
    )
    if any(n < 1 for n in size):
        raise RuntimeError(
            f"Given input size per channel: ({_sizes(y.shape[2:])}). Calculated output size per "
            f"channel: ({_sizes(size)}). Output size is too small"
        )
    out = ConvTranspose.apply(y, weight, bias, Geometry(stride, pads, dilation, groups), size)
    return out if batched else out.squeeze(0)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """Apply a 1-D convolution. Mirrors ``torch.nn.functional.conv1d``.

    Shapes: input (N, C_in, L) or unbatched (C_in, L); weight (C_out, C_in/groups, kL).
    ``padding`` is an int, a tuple, 'valid' or 'same' (an odd total pads one more at the end).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """Apply a 2-D convolution. Mirrors ``torch.nn.functional.conv2d``.

    Shapes: input (N, C_in, H, W) or unbatched (C_in, H, W); weight (C_out, C_in/groups, kH, kW).
    ``padding`` is an int, a tuple, 'valid' or 'same' (an odd total pads one more at the end).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """Apply a 3-D convolution. Mirrors ``torch.nn.functional.conv3d``.

    Shapes: input (N, C_in, D, H, W) or unbatched (C_in, D, H, W);
    weight (C_out, C_in/groups, kD, kH, kW).
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, 3)


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Apply a 1-D transposed convolution. Mirrors ``torch.nn.functional.conv_transpose1d``.

    Shapes: input (N, C_in, L) or (C_in, L); weight (C_in, C_out/groups, kL).
    """
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 1
    )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Apply a 2-D transposed convolution. Mirrors ``torch.nn.functional.conv_transpose2d``.

    Shapes: input (N, C_in, H, W) or (C_in, H, W); weight (C_in, C_out/groups, kH, kW).
    """
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 2
    )


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: Any = 1,
    padding: Any = 0,
    output_padding: Any = 0,
    groups: int = 1,
    dilation: Any = 1,
) -> Tensor:
    """Apply a 3-D transposed convolution. Mirrors ``torch.nn.functional.conv_transpose3d``.

    Shapes: input (N, C_in, D, H, W) or (C_in, D, H, W); weight (C_in, C_out/groups, kD, kH, kW).
    """
    return _conv_transpose(
        input, weight, bias, stride, padding, output_padding, groups, dilation, 3
    )
