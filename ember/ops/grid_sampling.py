"""Sampling at given points: grid_sample, and the affine grids that affine_grid builds.

grid_sample is composed of Ember ops, so its gradients with respect to input and grid, and
theirs in turn, come from those ops' backwards:
- ``SourceCoordinates`` maps one axis of the grid to pixel coordinates (unnormalise, then
  border or reflection padding); its gradient is PyTorch's piecewise slope: 0 where clipped,
  -1 where reflected;
- per axis, the taps (1 for nearest, 2 for bilinear, 4 for bicubic) and their weights, which
  are polynomials in t = coordinate - floor(coordinate) and carry the gradient to the grid;
- one gather (``GatherRows``) fetches every corner at once; the output is the weighted sum
  over the corners. Its backward, ``ScatterAddRows``, adds rows up with one ``bincount`` per
  channel, several times faster than ``add.at``; each is the other's backward.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.dims import stack, unbind, unsqueeze
from ember.ops.elementwise import mul
from ember.ops.linalg import matmul
from ember.ops.reduction import sum
from ember.ops.shape import permute, reshape, transpose
from ember.tensor import Tensor

__all__ = ["affine_grid", "grid_sample"]

_ALIGN_WARNING = (
    "Default grid_sample and affine_grid behavior has changed to align_corners=False since "
    "1.3.0. Please specify align_corners=True if the old behavior is desired. See the "
    "documentation of grid_sample for details."
)


def cubic_near(x: Any, a: float) -> Any:
    """Keys' cubic convolution kernel at |x| <= 1 (arrays or Tensors)."""
    return ((a + 2) * x - (a + 3)) * x * x + 1


def cubic_far(x: Any, a: float) -> Any:
    """Keys' cubic convolution kernel at 1 < |x| < 2 (arrays or Tensors)."""
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a


def cubic_convolution(t: Any, a: float) -> list:
    """Return the weights of the taps at -1, 0, 1, 2 from floor(x), for t = x - floor(x).

    PyTorch uses a = -0.75 (interpolate and grid_sample), a = -0.5 when antialiasing.
    """
    return [cubic_far(t + 1, a), cubic_near(t, a), cubic_near(1 - t, a), cubic_far(2 - t, a)]


class SourceCoordinates(Function):
    """Pixel coordinates of normalised grid values along an axis of the given size.

    padding_mode 'border' clips and 'reflection' reflects then clips ('zeros' and 'none'
    leave the coordinate as it is); the gradient is the slope of that piecewise-linear map.
    """

    @staticmethod
    def forward(ctx: Context, g: Array, size: int, padding_mode: str, align_corners: bool) -> Array:
        xp = array_module(g)
        if align_corners:
            factor = (size - 1) / 2
            coord = (g + 1) * factor
        else:
            factor = size / 2
            coord = ((g + 1) * size - 1) / 2
        slope = None
        if padding_mode == "reflection":
            coord, slope = _reflect(xp, coord, size, align_corners)
        if padding_mode in ("border", "reflection"):
            inside = (coord > 0) & (coord < size - 1)  # the borders count as outside, as PyTorch
            coord = xp.clip(coord, 0, size - 1)
            slope = inside if slope is None else slope * inside
        ctx.factor, ctx.slope = factor, slope
        return coord.astype(g.dtype, copy=False)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        slope = ctx.factor
        if ctx.slope is not None:
            slope = Tensor((ctx.slope * ctx.factor).astype(grad.data.dtype))
        return mul(grad, slope), None, None, None


class GatherRows(Function):
    """rows[index] for (R, C) rows and an integer index of any shape: (*index.shape, C)."""

    @staticmethod
    def forward(ctx: Context, rows: Array, index: Array) -> Array:
        ctx.index, ctx.count = index, rows.shape[0]
        return rows[index]

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return ScatterAddRows.apply(grad, ctx.index, ctx.count), None


class ScatterAddRows(Function):
    """zeros((count, C)) with the rows of x (*index.shape, C) added at index; repeats add up."""

    @staticmethod
    def forward(ctx: Context, x: Array, index: Array, count: int) -> Array:
        ctx.index = index
        xp = array_module(x)
        flat = index.ravel()
        columns = x.reshape(flat.size, -1).T.astype(xp.float64)  # bincount sums in float64
        out = xp.empty((columns.shape[0], count), dtype=x.dtype)
        for c, column in enumerate(columns):
            out[c] = xp.bincount(flat, weights=column, minlength=count)
        return out.T

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return GatherRows.apply(grad, ctx.index), None, None


def _reflect(xp: Any, coord: Array, size: int, align_corners: bool) -> tuple[Array, Array]:
    """Reflect coord into [low, high] (pixel centres or edges); also return the slope, +-1."""
    low = 0.0 if align_corners else -0.5
    twice_span = 2 * (size - 1) if align_corners else 2 * size
    if twice_span == 0:
        return xp.zeros_like(coord), xp.zeros_like(coord)
    shifted = coord - low
    extra = xp.fmod(xp.abs(shifted), twice_span)
    flip = extra > twice_span / 2
    out = xp.where(flip, twice_span - extra, extra) + low
    slope = xp.where(flip != (shifted < 0), -1, 1).astype(coord.dtype)
    return out.astype(coord.dtype, copy=False), slope


def _pad_taps(xp: Any, index: Array, size: int, padding_mode: str, align_corners: bool) -> Array:
    """Integer tap positions moved inside by the padding (bicubic pads each tap)."""
    if padding_mode == "zeros":
        return index
    coord = index.astype(xp.float64)
    if padding_mode == "reflection":
        coord = _reflect(xp, coord, size, align_corners)[0]
    return xp.clip(coord, 0, size - 1).astype(xp.int64)


def _axis_taps(
    g: Tensor, size: int, mode: str, padding_mode: str, align_corners: bool
) -> tuple[Array, Tensor]:
    """The input positions (taps, N, *out) one grid axis reads, and their weights."""
    xp = array_module(g.data)
    if mode == "bicubic":  # padding applies to each tap, not to the coordinate
        u = SourceCoordinates.apply(g, size, "none", align_corners)
        floor = xp.floor(u.data)
        index = floor.astype(xp.int64) + xp.arange(-1, 3).reshape((4,) + (1,) * floor.ndim)
        index = _pad_taps(xp, index, size, padding_mode, align_corners)
        weight = stack(cubic_convolution(u - Tensor(floor), -0.75))
    else:
        u = SourceCoordinates.apply(g, size, padding_mode, align_corners)
        if mode == "nearest":
            index = xp.rint(u.data).astype(xp.int64)[None]  # half to even, as nearbyint
            inside = Tensor(((index >= 0) & (index < size)).astype(g.data.dtype))
            # 1 inside, 0 outside; u * 0 gives the grid a zero gradient, as PyTorch
            return xp.clip(index, 0, size - 1), unsqueeze(u * 0, 0) + inside
        floor = xp.floor(u.data)
        t = u - Tensor(floor)
        index = floor.astype(xp.int64) + xp.arange(2).reshape((2,) + (1,) * floor.ndim)
        weight = stack([1 - t, t])
    inside = (index >= 0) & (index < size)
    if not inside.all():  # corners outside read zeros
        weight = mul(weight, Tensor(inside.astype(g.data.dtype)))
        index = xp.clip(index, 0, size - 1)
    return index, weight


def grid_sample(
    input: Tensor,
    grid: Tensor,
    mode: str = "bilinear",
    padding_mode: str = "zeros",
    align_corners: bool | None = None,
) -> Tensor:
    """Sample input at the normalised grid points. Mirrors ``torch.nn.functional.grid_sample``.

    Shapes: input (N, C, H, W) with grid (N, Ho, Wo, 2) -> (N, C, Ho, Wo); or 5-D input
    (N, C, D, H, W) with grid (N, Do, Ho, Wo, 3) (bilinear and nearest). Differentiable with
    respect to input and grid; nearest gives the grid a zero gradient, as PyTorch.
    """
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(
            "nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or "
            f"'bicubic', but got: '{mode}'"
        )
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(
            "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
            f"'reflection', but got: '{padding_mode}'"
        )
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    _check_grid(input, grid, mode)
    n, c, *sizes = input.shape
    d = len(sizes)
    xp = array_module(input.data)
    rows = reshape(permute(input, (0, *range(2, d + 2), 1)), (n * math.prod(sizes), c))
    # flat row of each corner: n * prod(sizes) + sum_k index_k * stride_k, over all tap combos
    flat = (xp.arange(n) * math.prod(sizes)).reshape((n,) + (1,) * (grid.ndim - 2))
    weight = None
    axes = unbind(grid, -1)[::-1]  # the grid lists x (the last input dim) first
    for k, (g, size) in enumerate(zip(axes, sizes)):
        index, w = _axis_taps(g, size, mode, padding_mode, align_corners)
        spread = (1,) * k + (index.shape[0],) + (1,) * (d - 1 - k) + tuple(g.shape)
        flat = flat + index.reshape(spread) * math.prod(sizes[k + 1 :])
        w = reshape(w, spread)
        weight = w if weight is None else weight * w
    corners = math.prod(flat.shape[:d])
    flat = flat.reshape((corners, *flat.shape[d:]))  # (K, N, *out)
    weight = reshape(weight, (corners, *flat.shape[1:], 1))
    out = sum(mul(GatherRows.apply(rows, flat), weight), 0)  # (N, *out, C)
    return permute(out, (0, d + 1, *range(1, d + 1)))


def _sizes(t: Tensor) -> list[int]:
    return list(t.shape)


def _check_grid(input: Tensor, grid: Tensor, mode: str) -> None:
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(
            "grid_sampler(): expected grid and input to have same batch size, but got input "
            f"with sizes {_sizes(input)} and grid with sizes {_sizes(grid)}"
        )
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(
            f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, "
            f"but got grid with sizes {_sizes(grid)}"
        )
    for i in range(2, input.ndim):
        if input.shape[i] == 0:
            raise RuntimeError(
                "grid_sampler(): expected input to have non-empty spatial dimensions, but "
                f"input has sizes {_sizes(input)} with dimension {i} being empty"
            )
    rank = 4 if input.ndim == 4 else 5
    if input.ndim != rank or grid.ndim != rank:
        raise RuntimeError(
            f"grid_sampler(): expected {rank}D input and grid with same number of dimensions, "
            f"but got input with sizes {_sizes(input)} and grid with sizes {_sizes(grid)}"
        )
    if mode == "bicubic" and rank == 5:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    dtype, grid_dtype = input.data.dtype, grid.data.dtype
    if dtype.kind not in "fV":
        name = SCALAR_NAMES.get(dtype.name, dtype.name)
        kernel = f"grid_sampler_{rank - 2}d_cpu_kernel_impl"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")
    if grid_dtype != dtype:
        raise RuntimeError(
            f"expected scalar type {SCALAR_NAMES.get(dtype.name, dtype.name)} but found "
            f"{SCALAR_NAMES.get(grid_dtype.name, grid_dtype.name)}"
        )


# -- affine_grid --------------------------------------------------------------------------
def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """Build the sampling grids of a batch of affine maps.

    Mirrors ``torch.nn.functional.affine_grid``.

    Shapes: theta (N, 2, 3) with size (N, C, H, W) -> (N, H, W, 2); theta (N, 3, 4) with size
    (N, C, D, H, W) -> (N, D, H, W, 3). Differentiable with respect to theta.
    """
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if not theta.is_floating_point():
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    d = len(size) - 2
    if d not in (2, 3):
        raise NotImplementedError(
            "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
            f"respectively. Got size {size}."
        )
    if theta.ndim != 3 or tuple(theta.shape[-2:]) != (d, d + 1):
        raise ValueError(
            f"Expected a batch of {d}D affine matrices of shape Nx{d}x{d + 1} for size {size}. "
            f"Got {theta.shape}."
        )
    spatial = [int(s) for s in size[2:]]
    if align_corners and min(spatial) == 1:
        warnings.warn(
            "Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
            "align_corners=True. This is not an intended use case of affine_grid. See the "
            "documentation of affine_grid for details.",
            stacklevel=2,
        )
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if size[0] != theta.shape[0]:  # PyTorch's bmm of the base grid with theta^T says so
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{size[0]}, {d + 1}] but got: [{theta.shape[0]}, {d + 1}]."
        )
    base = _base_grid(array_module(theta.data), theta.data.dtype, spatial, align_corners)
    grid = matmul(Tensor(base), transpose(theta, 1, 2))  # (N, prod(spatial), d)
    return reshape(grid, (int(size[0]), *spatial, d))


def _linspace_from_neg_one(xp: Any, dtype: Any, n: int, align_corners: bool) -> Array:
    """Return n points over [-1, 1] (pixel centres unless align_corners), as PyTorch."""
    if n <= 1:
        return xp.zeros(1, dtype=dtype)
    i = xp.arange(n)
    step = xp.asarray(2.0 / (n - 1), dtype=dtype)
    values = xp.where(i < n // 2, -1 + step * i, 1 - step * (n - 1 - i)).astype(dtype)
    if not align_corners:
        values = values * (n - 1) / n
    return values.astype(dtype, copy=False)


def _base_grid(xp: Any, dtype: Any, spatial: list[int], align_corners: bool) -> Array:
    """(prod(spatial), d + 1) rows (x, y[, z], 1): x runs along the last dim."""
    d = len(spatial)
    base = xp.ones((*spatial, d + 1), dtype=dtype)
    for k in range(d):
        axis = d - 1 - k
        shape = [1] * d
        shape[axis] = spatial[axis]
        base[..., k] = _linspace_from_neg_one(xp, dtype, spatial[axis], align_corners).reshape(
            shape
        )
    return base.reshape(-1, d + 1)
