"""Resampling: pixel and channel shuffles here; interpolate and grid_sample next door.

The shuffles are reshapes and permutes of Ember ops, so their gradients come for free.
``interpolation.py`` holds interpolate (separable tables), ``grid_sampling.py`` grid_sample
and affine_grid; this module re-exports them as the resampling family of nn.functional.
"""

from __future__ import annotations

from typing import Any

from ember.ops.elementwise import clone
from ember.ops.grid_sampling import affine_grid, grid_sample
from ember.ops.interpolation import interpolate, upsample, upsample_bilinear, upsample_nearest
from ember.ops.shape import permute, reshape, transpose
from ember.tensor import Tensor

__all__ = [
    "affine_grid",
    "channel_shuffle",
    "grid_sample",
    "interpolate",
    "pixel_shuffle",
    "pixel_unshuffle",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]


def _check_int(op: str, name: str, value: Any) -> None:
    if not isinstance(value, int):
        kind = type(value).__name__
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not {kind}")


def _check_factor(op: str, name: str, input: Tensor, factor: Any) -> None:
    _check_int(op, name, factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"{op} expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if factor <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {factor}")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """Move channel blocks into space: (*, C r^2, H, W) -> (*, C, H r, W r).

    Mirrors ``torch.nn.functional.pixel_shuffle``.
    """
    r = upscale_factor
    _check_factor("pixel_shuffle", "upscale_factor", input, r)
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            "pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
            f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    if r == 1:
        return clone(input)
    nb = len(batch)
    x = reshape(input, (*batch, c // (r * r), r, r, h, w))
    x = permute(x, (*range(nb), nb, nb + 3, nb + 1, nb + 4, nb + 2))  # (*, C, H, r, W, r)
    return reshape(x, (*batch, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """Move space into channel blocks: (*, C, H r, W r) -> (*, C r^2, H, W).

    Mirrors ``torch.nn.functional.pixel_unshuffle``.
    """
    r = downscale_factor
    _check_factor("pixel_unshuffle", "downscale_factor", input, r)
    *batch, c, h, w = input.shape
    for side, n, dim in (("height", h, -2), ("width", w, -1)):
        if n % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {side} to be divisible by downscale_factor, but "
                f"input.size({dim})={n} is not divisible by {r}"
            )
    if r == 1:
        return clone(input)
    nb = len(batch)
    x = reshape(input, (*batch, c, h // r, r, w // r, r))
    x = permute(x, (*range(nb), nb, nb + 2, nb + 4, nb + 1, nb + 3))  # (*, C, r, r, H, W)
    return reshape(x, (*batch, c * r * r, h // r, w // r))


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of g groups: (N, g, C/g, *) -> (N, C/g, g, *), flattened.

    Mirrors ``torch.nn.functional.channel_shuffle``.
    """
    _check_int("channel_shuffle", "groups", groups)
    if input.ndim <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes "
            f"{list(input.shape)}"
        )
    if groups <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{groups}"
        )
    n, c, *rest = input.shape
    if c % groups:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups."
        )
    if groups in (1, c):  # the identity permutation: still a new tensor, as in PyTorch
        return clone(input)
    x = reshape(input, (n, groups, c // groups, *rest))
    return reshape(transpose(x, 1, 2), tuple(input.shape))
