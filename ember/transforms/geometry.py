"""Rotations and affine warps of tensor images, as torchvision's tensor path computes them.

The output pixel grid (pixel centres, origin at the image centre) is mapped through the
inverse affine matrix and sampled with ``grid_sample`` (align_corners=False, zero padding). A
fill value is blended in through an extra all-ones mask channel, as torchvision does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ember.ops.creation import ones, tensor
from ember.ops.grid_sampling import grid_sample
from ember.ops.join import cat
from ember.tensor import Tensor
from ember.transforms.image import InterpolationMode, _check_image, _from_float, _to_float

__all__ = ["affine", "inverse_affine_matrix", "rotate"]


def inverse_affine_matrix(
    center: Sequence[float],
    angle: float,
    translate: Sequence[float],
    scale: float,
    shear: Sequence[float],
) -> list[float]:
    """Return the 2x3 inverse of rotate/scale/shear about center, then translate (row-major).

    The forward map is T * C * R * S * Sh * C^-1 (torchvision's ``_get_inverse_affine_matrix``).
    """
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    (cx, cy), (tx, ty) = center, translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def _expanded_size(matrix: list[float], w: int, h: int) -> tuple[int, int]:
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], np.float32)  # fmt: skip
    moved = corners @ np.asarray(matrix, np.float32).reshape(2, 3).T
    low = moved.min(0) + np.array([w * 0.5, h * 0.5], np.float32)
    high = moved.max(0) + np.array([w * 0.5, h * 0.5], np.float32)
    tol = np.float32(1e-4)  # drop float noise before rounding outwards
    size = np.ceil(np.trunc(high / tol) * tol) - np.floor(np.trunc(low / tol) * tol)
    return int(size[0]), int(size[1])


def _warp(
    img: Tensor, matrix: list[float], mode: str, fill: float | Sequence[float] | None, out: tuple
) -> Tensor:
    x, undo = _to_float(img)  # (N, C, H, W)
    n, _, h, w = x.shape
    ow, oh = out
    # pixel-centre grid of the output, origin at its centre: (oh, ow, 3) rows of (x, y, 1)
    xs = np.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow)
    ys = np.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh)
    base = np.stack([*np.meshgrid(xs, ys), np.ones((oh, ow))], axis=-1)
    theta = np.asarray(matrix, np.float64).reshape(2, 3).T / np.array([0.5 * w, 0.5 * h])
    grid = (base.reshape(-1, 3) @ theta).reshape(1, oh, ow, 2).astype(x.data.dtype)
    grid = tensor(np.broadcast_to(grid, (n, oh, ow, 2)).copy(), device=x.device)
    if fill is not None:
        x = cat([x, ones(n, 1, h, w, dtype=x.dtype, device=x.device)], dim=1)
    x = grid_sample(x, grid, mode=mode, padding_mode="zeros", align_corners=False)
    if fill is not None:
        x, mask = x[:, :-1], x[:, -1:]
        values = [float(v) for v in fill] if isinstance(fill, Sequence) else [float(fill)]
        fill_t = tensor(np.asarray(values, x.data.dtype).reshape(1, -1, 1, 1), device=x.device)
        if mode == "nearest":
            keep = (mask >= 0.5).to(x.dtype)
            x = x * keep + fill_t * (1 - keep)
        else:
            x = x * mask + (1.0 - mask) * fill_t
    return _from_float(x, undo)


def _center(img: Tensor, center: Sequence[float] | None) -> list[float]:
    if center is None:
        return [0.0, 0.0]
    h, w = img.shape[-2:]
    return [float(cv) - s * 0.5 for cv, s in zip(center, (w, h))]


def rotate(
    img: Tensor,
    angle: float,
    interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
    expand: bool = False,
    center: Sequence[int] | None = None,
    fill: float | Sequence[float] | None = None,
) -> Tensor:
    """Rotate counter-clockwise by ``angle`` degrees. Mirrors ``torchvision...rotate``.

    ``expand`` grows the output to hold the whole rotated image; ``center`` is (x, y) in
    pixels (default: the image centre); pixels from outside the image get ``fill``.
    """
    _check_image(img, "rotate")
    mode = InterpolationMode(interpolation).value
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"rotate: interpolation must be nearest or bilinear, got {mode}")
    matrix = inverse_affine_matrix(_center(img, center), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    h, w = img.shape[-2:]
    size = _expanded_size(matrix, w, h) if expand else (w, h)
    return _warp(img, matrix, mode, fill, size)


def affine(
    img: Tensor,
    angle: float,
    translate: Sequence[int],
    scale: float,
    shear: float | Sequence[float],
    interpolation: InterpolationMode | str = InterpolationMode.NEAREST,
    fill: float | Sequence[float] | None = None,
    center: Sequence[int] | None = None,
) -> Tensor:
    """Apply rotation, translation, scale and shear about the centre. Mirrors ``...affine``.

    ``angle`` is in degrees (clockwise, torchvision's convention for ``affine``), ``shear`` in
    degrees (one value: x shear; two: x and y).
    """
    _check_image(img, "affine")
    mode = InterpolationMode(interpolation).value
    if mode not in ("nearest", "bilinear"):
        raise ValueError(f"affine: interpolation must be nearest or bilinear, got {mode}")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if len(translate) != 2:
        raise ValueError(f"Argument translate should be a sequence of length 2, got {translate}")
    shear = [float(shear), 0.0] if isinstance(shear, (int, float)) else [*map(float, shear)]
    shear = [*shear, 0.0] if len(shear) == 1 else shear
    matrix = inverse_affine_matrix(
        _center(img, center), angle, [float(t) for t in translate], scale, shear
    )
    h, w = img.shape[-2:]
    return _warp(img, matrix, mode, fill, (w, h))
