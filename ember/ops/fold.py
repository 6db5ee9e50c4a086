"""F.unfold (im2col) and F.fold (col2im), and the strided window helpers convolutions share.

``windows`` is a strided view of every kernel window of a zero-padded input (no copy);
``add_windows`` is its adjoint, one vectorised strided add per kernel offset (never a loop over
pixels). ``Im2Col`` and ``Col2Im`` are each other's backward, so gradients of any order flow.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, NamedTuple

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.tensor import Tensor

__all__ = ["fold", "unfold"]

DIM_NAMES = {1: ("width",), 2: ("height", "width"), 3: ("depth", "height", "width")}


class Geometry(NamedTuple):
    """Where windows sit: per-dim stride, (before, after) zero pads, dilation; and groups."""

    stride: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    dilation: tuple[int, ...]
    groups: int = 1


def pad_zeros(x: Array, pads: Sequence[tuple[int, int]]) -> Array:
    """Return x (N, C, *S) zero-padded around the spatial dims (x itself when pads are 0)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    spatial = x.shape[2:]
    shape = (*x.shape[:2], *(n + lo + hi for n, (lo, hi) in zip(spatial, pads)))
    out = array_module(x).zeros(shape, dtype=x.dtype)
    out[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(spatial, pads)))] = x
    return out


def windows(xpad: Array, ksize: tuple, geo: Geometry, out_size: tuple) -> Array:
    """Strided view (N, C, *K, *Out) of padded xpad: [n, c, k, o] = xpad[n, c, o*s + k*d]."""
    st = xpad.strides[2:]
    shape = (*xpad.shape[:2], *ksize, *out_size)
    strides = (
        *xpad.strides[:2],
        *(s * d for s, d in zip(st, geo.dilation)),
        *(s * t for s, t in zip(st, geo.stride)),
    )
    return array_module(xpad).lib.stride_tricks.as_strided(xpad, shape, strides)


def add_windows(out: Array, cols: Array, geo: Geometry) -> None:
    """Add windows cols (N, C, *K, *Out) into padded out (N, C, *padded): windows' adjoint.

    One strided add per kernel offset (prod(K) vectorised adds, no loop over pixels).
    """
    d = out.ndim - 2
    ksize, out_size = cols.shape[2 : 2 + d], cols.shape[2 + d :]
    if 0 in out_size:
        return
    for k in itertools.product(*map(range, ksize)):
        index = tuple(
            slice(i * dl, i * dl + s * (o - 1) + 1, s)
            for i, dl, s, o in zip(k, geo.dilation, geo.stride, out_size)
        )
        out[(slice(None), slice(None), *index)] += cols[(slice(None), slice(None), *k)]


def crop(x: Array, size: tuple, pads: Sequence[tuple[int, int]]) -> Array:
    """The (N, C, *size) interior of a padded x (a view)."""
    return x[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(size, pads)))]


def padded_size(size: Sequence[int], pads: Sequence[tuple[int, int]]) -> tuple[int, ...]:
    """Spatial size after padding."""
    return tuple(n + lo + hi for n, (lo, hi) in zip(size, pads))


class Im2Col(Function):
    """(N, C, *S) -> (N, C * prod(K), prod(Out)), every window as a column; backward: Col2Im."""

    @staticmethod
    def forward(ctx: Context, x: Array, ksize: tuple, geo: Geometry, out_size: tuple) -> Array:
        ctx.size, ctx.ksize, ctx.geo, ctx.out_size = x.shape[2:], ksize, geo, out_size
        n, c = x.shape[:2]
        view = windows(pad_zeros(x, geo.pads), ksize, geo, out_size)  # (N, C, *K, *Out)
        return view.reshape(n, c * math.prod(ksize), math.prod(out_size))  # one copy

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Col2Im.apply(grad, ctx.size, ctx.ksize, ctx.geo, ctx.out_size), None, None, None


class Col2Im(Function):
    """(N, C * prod(K), L) -> (N, C, *size), overlapping windows summed; backward: Im2Col."""

    @staticmethod
    def forward(
        ctx: Context, cols: Array, size: tuple, ksize: tuple, geo: Geometry, out_size: tuple
    ) -> Array:
        ctx.ksize, ctx.geo, ctx.out_size = ksize, geo, out_size
        n, rows = cols.shape[:2]
        cols = cols.reshape(n, rows // math.prod(ksize), *ksize, *out_size)  # (N, C, *K, *Out)
        xp = array_module(cols)
        out = xp.zeros((*cols.shape[:2], *padded_size(size, geo.pads)), dtype=cols.dtype)
        add_windows(out, cols, geo)
        return xp.ascontiguousarray(crop(out, size, geo.pads))

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Im2Col.apply(grad, ctx.ksize, ctx.geo, ctx.out_size), None, None, None, None


def _pair(value: Any, name: str) -> tuple[int, ...]:
    """An int, or a sequence of exactly 2 ints (F.unfold/F.fold take no 1-element lists)."""
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2:
        raise RuntimeError(f"It is expected {name} equals to 2, but got size {len(values)}")
    return values


def _geometry(kernel_size: Any, dilation: Any, padding: Any, stride: Any) -> tuple:
    """Checked (ksize, Geometry) for F.unfold and F.fold, with PyTorch's messages."""
    ksize = _pair(kernel_size, "kernel_size")
    dilation, padding = _pair(dilation, "dilation"), _pair(padding, "padding")
    stride = _pair(stride, "stride")
    for values, bad, what, label in (
        (ksize, min(ksize) <= 0, "kernel size should be greater than zero", "kernel"),
        (stride, min(stride) <= 0, "stride should be greater than zero", "stride"),
        (dilation, min(dilation) <= 0, "dilation should be greater than zero", "dilation"),
        (padding, min(padding) < 0, "padding should be non-negative", "pad"),
    ):
        if bad:
            parts = " ".join(f"{label}_{n}: {v}" for n, v in zip(DIM_NAMES[2], values))
            raise RuntimeError(f"{what}, but got {parts}")
    return ksize, Geometry(stride, tuple((p, p) for p in padding), dilation)


def _blocks(size: Sequence[int], ksize: tuple, geo: Geometry) -> tuple[int, ...]:
    """The number of sliding blocks per spatial dim."""
    return tuple(
        (n + lo + hi - dl * (k - 1) - 1) // s + 1
        for n, (lo, hi), dl, k, s in zip(size, geo.pads, geo.dilation, ksize, geo.stride)
    )


def _describe(ksize: tuple, geo: Geometry) -> str:
    pads = tuple(lo for lo, _ in geo.pads)
    return f"kernel_size={ksize}, dilation={geo.dilation}, padding={pads}, stride={geo.stride}"


def unfold(
    input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1
) -> Tensor:
    """Extract sliding local blocks as columns (im2col). Mirrors ``torch.nn.functional.unfold``.

    Shapes: input (N, C, H, W) or unbatched (C, H, W) -> (N, C * kH * kW, L), where L is the
    number of blocks.
    """
    shape = tuple(input.shape)
    if len(shape) not in (3, 4) or 0 in shape[-3:]:
        raise RuntimeError(
            "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero "
            f"dimensions for input, but got: {list(shape)}"
        )
    ksize, geo = _geometry(kernel_size, dilation, padding, stride)
    out_size = _blocks(shape[-2:], ksize, geo)
    if min(out_size) < 1:
        pads = tuple(lo for lo, _ in geo.pads)
        raise RuntimeError(
            f"Given input with spatial size {shape[-2:]}, kernel_size={ksize}, dilation="
            f"{geo.dilation}, padding={pads}, calculated shape of the array of sliding blocks as "
            f"{out_size}, but its components must be at least one."
        )
    batched = len(shape) == 4
    x = input if batched else input.unsqueeze(0)
    out = Im2Col.apply(x, ksize, geo, out_size)
    return out if batched else out.squeeze(0)


def fold(
    input: Tensor,
    output_size: Any,
    kernel_size: Any,
    dilation: Any = 1,
    padding: Any = 0,
    stride: Any = 1,
) -> Tensor:
    """Sum columns of sliding blocks into an image (col2im). Mirrors ``torch.nn.functional.fold``.

    Shapes: input (N, C * kH * kW, L) or unbatched (C * kH * kW, L) -> (N, C, *output_size).
    """
    shape = tuple(input.shape)
    if len(shape) not in (2, 3) or 0 in shape[-2:]:
        raise RuntimeError(
            "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and "
            f"non-zero dimensions for input, but got: {list(shape)}"
        )
    size = _pair(output_size, "output_size")
    ksize, geo = _geometry(kernel_size, dilation, padding, stride)
    rows, length = shape[-2:]
    if rows % math.prod(ksize):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product of kernel_size, "
            f"but got input.size(1)={rows} and kernel_size={ksize}."
        )
    out_size = _blocks(size, ksize, geo)
    if math.prod(out_size) != length or min(out_size) < 1:
        raise RuntimeError(
            f"Given output_size={size}, {_describe(ksize, geo)}, expected size of input's "
            "dimension 2 to match the calculated number of sliding blocks "
            f"{out_size[0]} * {out_size[1]} = {math.prod(out_size)}, but got input.size(2)="
            f"{length}."
        )
    batched = len(shape) == 3
    cols = input if batched else input.unsqueeze(0)
    out = Col2Im.apply(cols, size, ksize, geo, out_size)
    return out if batched else out.squeeze(0)
