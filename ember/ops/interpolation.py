"""interpolate: resize the spatial dims of a (N, C, *) input, by every mode PyTorch has.

The work is separable. Per spatial dim, a small table (index and weight, each of shape
(taps, out)) says which input slices each output slice mixes, and with what weight; it
depends only on sizes and options, and is cached. ``Resample`` applies a table along one dim
with one gather and one multiply-add per tap. Its backward applies the transposed table
(built with the table) the same way, so every gradient, of any order, is a gather as well.
In the nearest modes every weight is 1 (``weight`` is None): the forward is a plain gather, and
the backward sums the copies with gathers too, instead of a slow scatter-add.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.elementwise import clone
from ember.ops.grid_sampling import cubic_convolution, cubic_far, cubic_near
from ember.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]


# -- Resample: a table applied along one dim ------------------------------------------------
class Resample(Function):
    """out[.., o, ..] = sum_t weight[t, o] * x[.., index[t, o], ..] along dim.

    A sparse matrix applied along one axis (weight None: all ones); backward applies its
    transpose (``adjoint``), whose backward is this table again.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, dim: int, table: tuple, adjoint: tuple) -> Array:
        ctx.dim, ctx.table, ctx.adjoint = dim, table, adjoint
        xp = array_module(x)
        index, weight = table
        shape = (-1,) + (1,) * (x.ndim - dim - 1)  # weights broadcast along the trailing dims
        if weight is None:
            out = xp.take(x, index[0], axis=dim)
            for t in range(1, len(index)):
                out += xp.take(x, index[t], axis=dim)
            return out
        out = xp.take(x, index[0], axis=dim) * weight[0].reshape(shape)
        for t in range(1, len(index)):
            out += xp.take(x, index[t], axis=dim) * weight[t].reshape(shape)
        return out.astype(x.dtype, copy=False)  # half types accumulate in float32

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        return Resample.apply(grad, ctx.dim, ctx.adjoint, ctx.table), None, None, None


_MODES = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_NEEDS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}
_KERNELS = {
    "nearest": "upsample_nearest{}d",
    "nearest-exact": "_upsample_nearest_exact{}d",
    "linear": "upsample_linear1d",
    "bilinear": "upsample_bilinear2d",
    "bicubic": "upsample_bicubic2d",
    "trilinear": "upsample_trilinear3d",
    "area": "adaptive_avg_pool{}d",
}


def interpolate(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize the spatial dims of a (N, C, *) input. Mirrors ``torch.nn.functional.interpolate``.

    Modes: 'nearest' (PyTorch's floor(dst * scale) rule), 'nearest-exact', 'linear' (3-D),
    'bilinear' and 'bicubic' (4-D), 'trilinear' (5-D), and 'area' (adaptive average pooling).
    A given scale_factor is used in the coordinate mapping unless recompute_scale_factor is
    True, as in PyTorch. antialias=True applies to bilinear and bicubic on 4-D input.

    Differences from PyTorch: mode='lanczos' is not implemented, and of the integer dtypes
    only uint8 works, in the nearest modes.
    """
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    sizes, scales = _output_sizes(input, size, scale_factor, mode, recompute_scale_factor)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input"
        )
    _check_mode(input, mode)
    _check_sizes(tuple(input.shape[2:]), sizes)
    _check_dtype(input, mode)
    xp = array_module(input.data)
    opmath = "float64" if input.data.dtype == xp.float64 else "float32"
    kind = {"trilinear": "linear", "bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if antialias:
        kind = "aa-" + kind
    out = input
    for i, (n_in, n_out, scale) in enumerate(zip(input.shape[2:], sizes, scales)):
        table = _table(xp, kind, n_in, n_out, bool(align_corners), scale, opmath)
        if table is None:  # this dim stays as it is
            continue
        out = Resample.apply(out, i + 2, *table)
    return clone(input) if out is input else out


def _output_sizes(
    input: Tensor, size: Any, scale_factor: Any, mode: str, recompute: bool | None
) -> tuple[list[int], list[float | None]]:
    """The output size and the scale factor (or None) of each spatial dim, as PyTorch's."""
    dim = input.ndim - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                    "size in (o1, o2, ...,oK) format."
                )
            sizes = list(size)
        else:
            sizes = [size] * dim
        if not all(isinstance(n, int) or hasattr(n, "__index__") for n in sizes):
            raise TypeError(
                "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                f"Tuple[int, int, int], but got size with types {[type(n) for n in sizes]}"
            )
        if recompute:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return [int(n) for n in sizes], [None] * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but "
                f"got input with spatial dimensions of {spatial} and scale_factor of shape "
                f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                "and scale_factor in (s1, s2, ...,sK) format."
            )
        factors = [float(s) for s in scale_factor]
    else:
        factors = [float(scale_factor)] * dim
    sizes = [int(n * s) for n, s in zip(spatial, factors)]  # truncation, as PyTorch's
    if recompute or mode == "area":  # area always maps through the integer sizes
        return sizes, [None] * dim
    return sizes, factors


def _check_mode(input: Tensor, mode: str) -> None:
    ndim = input.ndim
    if mode == "lanczos" and ndim == 4:
        raise NotImplementedError("interpolate(): mode='lanczos' is not implemented in Ember")
    needs = _NEEDS.get(mode)
    if needs is not None and ndim in (3, 4, 5) and ndim != needs:
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {needs}D input")
    if ndim not in (3, 4, 5) or (needs is None and mode not in _KERNELS):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the "
            f"modes: {_MODES} (got {mode})"
        )


def _check_sizes(spatial: tuple, sizes: list[int]) -> None:
    if min(spatial) > 0 and min(sizes) > 0:
        return
    names = ("D", "H", "W")[3 - len(sizes) :]
    got_in = ", ".join(f"{k}: {n}" for k, n in zip(names, spatial))
    got_out = ", ".join(f"{k}: {n}" for k, n in zip(names, sizes))
    joint = " and output" if len(sizes) == 1 else " output"  # PyTorch's wording differs by rank
    raise RuntimeError(
        "Input and output sizes should be greater than 0, but got "
        f"input ({got_in}){joint} ({got_out})"
    )


def _check_dtype(input: Tensor, mode: str) -> None:
    dtype = input.data.dtype
    if dtype.kind in "fV" or (dtype.kind == "u" and mode.startswith("nearest")):
        return
    kernel = _KERNELS[mode].format(input.ndim - 2)
    name = SCALAR_NAMES.get(dtype.name, dtype.name)
    raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


# -- the tables: which input slices each output slice mixes, and with what weights -------------
@functools.lru_cache(maxsize=512)
def _table(
    xp: Any, kind: str, n_in: int, n_out: int, align_corners: bool, scale: Any, opmath: str
) -> Any:
    """The (table, adjoint) pair of one dim, each an (index, weight) pair.

    None when the dim maps onto itself. Weights are in opmath (float32 for half types).
    """
    dt = getattr(xp, opmath)
    s = _scale(dt, n_in, n_out, align_corners, scale)
    if kind.startswith("nearest"):
        index = _nearest(xp, dt, s, n_out, kind == "nearest-exact")
        index = xp.minimum(index, n_in - 1)
        if n_in == n_out and bool((index == xp.arange(n_in)).all()):
            return None
        ones = xp.ones((1, n_out), dtype=dt)
        adj_index, adj_weight = _adjoint(xp, index[None], ones, n_in)
        return (index[None], None), (adj_index, None if adj_weight.all() else adj_weight)
    if kind == "area":
        index, weight = _area(xp, dt, n_in, n_out)
    elif kind.startswith("aa-"):
        index, weight = _antialias(xp, dt, s, n_in, n_out, kind == "aa-cubic")
    else:
        src = _source(xp, dt, s, n_out, align_corners, kind == "cubic")
        index, weight = (_cubic if kind == "cubic" else _linear)(xp, src, n_in)
    if n_in == n_out and _is_identity(xp, index, weight):
        return None
    return (index, weight), _adjoint(xp, index, weight, n_in)


def _scale(dt: Any, n_in: int, n_out: int, align_corners: bool, scale: float | None) -> Any:
    """Input units per output unit (PyTorch's area_pixel_compute_scale), in dtype dt."""
    if align_corners:
        return dt(n_in - 1) / dt(n_out - 1) if n_out > 1 else dt(0)
    if scale is not None and scale > 0:
        return dt(1.0 / scale)
    return dt(n_in) / dt(n_out)


def _nearest(xp: Any, dt: Any, s: Any, n_out: int, exact: bool) -> Array:
    dst = xp.arange(n_out, dtype=xp.float64)
    if exact:
        # s * (dst + 0.5) - 0.5 rounded once (PyTorch's kernel is built with fused
        # multiply-add), then floor(src + 0.5); float64 holds the exact product.
        src = ((dst + 0.5) * float(s) - 0.5).astype(dt)
        src = xp.maximum(src, dt(0)) + dt(0.5)
    else:
        src = dst.astype(dt) * s
    return xp.floor(src.astype(xp.float32)).astype(xp.int64)  # PyTorch floors in float


def _source(xp: Any, dt: Any, s: Any, n_out: int, align_corners: bool, cubic: bool) -> Array:
    """The input coordinate of each output index (area_pixel_compute_source_index)."""
    dst = xp.arange(n_out, dtype=xp.float64)
    if align_corners:
        return dst.astype(dt) * s
    src = ((dst + 0.5) * float(s) - 0.5).astype(dt)  # one rounding, as a fused multiply-add
    return src if cubic else xp.maximum(src, dt(0))


def _linear(xp: Any, src: Array, n_in: int) -> tuple[Array, Array]:
    index = xp.minimum(xp.floor(src).astype(xp.int64), n_in - 1)
    lam = xp.clip(src - index.astype(src.dtype), 0, 1)
    return xp.stack([index, index + (index < n_in - 1)]), xp.stack([1 - lam, lam])


def _cubic(xp: Any, src: Array, n_in: int) -> tuple[Array, Array]:
    floor = xp.floor(src)
    index = floor.astype(xp.int64)
    taps = xp.clip(index + xp.arange(-1, 3)[:, None], 0, n_in - 1)  # clamped border access
    return taps, xp.stack(cubic_convolution(src - floor, -0.75)).astype(src.dtype)


def _area(xp: Any, dt: Any, n_in: int, n_out: int) -> tuple[Array, Array]:
    """Adaptive average pooling: output o averages input [floor(o n/m), ceil((o+1) n/m))."""
    o = xp.arange(n_out)
    start = (o * n_in) // n_out
    end = ((o + 1) * n_in + n_out - 1) // n_out
    count = end - start
    k = xp.arange(int(count.max()))[:, None]
    index = xp.minimum(start + k, end - 1)
    weight = xp.where(k < count, dt(1) / count.astype(dt), dt(0))
    return index, weight.astype(dt)


def _antialias(xp: Any, dt: Any, s: Any, n_in: int, n_out: int, cubic: bool) -> tuple:
    """PyTorch's (and Pillow's) antialiased weights: the filter widened by the scale."""
    size = 4 if cubic else 2
    support = size / 2 * float(s) if s >= 1 else size / 2
    taps = math.ceil(support) * 2 + 1
    invscale = 1 / float(s) if s >= 1 else 1.0
    center = s * (xp.arange(n_out, dtype=dt) + dt(0.5))
    xmin = xp.maximum((center - support + 0.5).astype(xp.int64), 0)
    xsize = xp.clip(xp.minimum((center + support + 0.5).astype(xp.int64), n_in) - xmin, 0, taps)
    j = xp.arange(taps)[:, None]
    x = xp.abs((j + xmin - center + 0.5) * invscale).astype(dt)
    if cubic:  # Keys' kernel with a = -0.5 (Pillow's), zero beyond 2
        w = xp.where(x < 1, cubic_near(x, -0.5), xp.where(x < 2, cubic_far(x, -0.5), 0))
    else:
        w = xp.maximum(1 - x, 0)
    w = xp.where(j < xsize, w, 0).astype(dt)
    total = w.sum(axis=0)
    w = w / xp.where(total == 0, dt(1), total)
    return xp.minimum(xmin + j, n_in - 1), w.astype(dt)


def _is_identity(xp: Any, index: Array, weight: Array) -> bool:
    """Whether the table copies each input slice to the same output slice, weight 1."""
    own = index == xp.arange(index.shape[1])
    return bool((weight[~own] == 0).all() and (xp.where(own, weight, 0).sum(axis=0) == 1).all())


def _adjoint(xp: Any, index: Array, weight: Array, n_in: int) -> tuple[Array, Array]:
    """The transposed table: for each input slice, the output slices it went to, and weights."""
    taps, n_out = index.shape
    keep = (weight != 0).ravel()
    src = index.ravel()[keep]
    dst = xp.broadcast_to(xp.arange(n_out), (taps, n_out)).ravel()[keep]
    w = weight.ravel()[keep]
    order = xp.argsort(src, kind="stable")
    src, dst, w = src[order], dst[order], w[order]
    counts = xp.bincount(src, minlength=n_in)
    width = max(int(counts.max()), 1) if src.size else 1
    slot = xp.arange(src.size) - (xp.cumsum(counts) - counts)[src]
    adj_index = xp.zeros((width, n_in), dtype=index.dtype)
    adj_weight = xp.zeros((width, n_in), dtype=weight.dtype)
    adj_index[slot, src] = dst
    adj_weight[slot, src] = w
    return adj_index, adj_weight


# -- the deprecated spellings ---------------------------------------------------------------
def upsample(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
) -> Tensor:
    """Resize (deprecated spelling of interpolate). Mirrors ``torch.nn.functional.upsample``."""
    warnings.warn(
        "`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Resize by nearest neighbour (deprecated).

    Mirrors ``torch.nn.functional.upsample_nearest``.
    """
    warnings.warn(
        "`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(
    input: Tensor,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
) -> Tensor:
    """Resize bilinearly with aligned corners (deprecated).

    Mirrors ``torch.nn.functional.upsample_bilinear``.
    """
    warnings.warn(
        "`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
        stacklevel=2,
    )
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
