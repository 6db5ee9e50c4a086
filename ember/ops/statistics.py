"""Statistics: covariance, correlation, quantiles and histograms.

``cov``/``corrcoef`` and ``quantile`` compose differentiable ops (a matmul; a sort, two
gathers and a lerp), so their gradients, and gradients of gradients, come for free: a
quantile's gradient flows to the two neighbouring order statistics, as in PyTorch.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ember.backend import array_module
from ember.backend.dtypes import CPP_NAMES, SCALAR_NAMES, get_default_dtype
from ember.ops.combine import clamp, lerp
from ember.ops.common import cast, return_type, wrap_dim
from ember.ops.dims import movedim, squeeze
from ember.ops.floatmath import sqrt
from ember.ops.linalg import mm
from ember.ops.reduction import sum
from ember.ops.scatter import gather
from ember.ops.shape import reshape
from ember.ops.sorting import sort
from ember.ops.strided import diagonal
from ember.tensor import Tensor

__all__ = ["corrcoef", "cov", "histogram", "nanquantile", "quantile"]

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _check_weights(name: str, w: Tensor, observations: int) -> None:
    data = w.data
    if data.ndim > 1:
        raise RuntimeError(
            f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
            f"{data.ndim} dimensions"
        )
    if data.size != observations:
        raise RuntimeError(
            f"cov(): expected {name} to have the same numel as there are observations in the "
            f"input but got {data.size} != {observations}"
        )
    if data.size and (data < 0).any():
        raise RuntimeError(f"cov(): {name} cannot be negative")


def cov(
    input: Tensor,
    *,
    correction: int = 1,
    fweights: Tensor | None = None,
    aweights: Tensor | None = None,
) -> Tensor:
    """Estimate the covariance matrix of rows (variables) over columns. Mirrors ``torch.cov``.

    Args:
        input: a 1-D (one variable) or 2-D (variables x observations) tensor.
        correction: subtracted from the (weighted) number of observations.
        fweights: integer frequency weights, one per observation.
        aweights: float observation weights, one per observation.

    Integer inputs give a default-float result. A non-positive number of degrees of freedom
    warns and gives inf/NaN, as in PyTorch.
    """
    if input.data.ndim > 2:
        raise RuntimeError(
            "cov(): expected input to have two or fewer dimensions but got an input with "
            f"{input.data.ndim} dimensions"
        )
    x = input if input.data.ndim == 2 else reshape(input, (1, -1))
    observations = x.data.shape[1]
    w = None
    if fweights is not None:
        if fweights.data.dtype.kind not in "iu":
            raise RuntimeError(
                "cov(): expected fweights to have integral dtype but got fweights with "
                f"{SCALAR_NAMES[fweights.dtype.name]} dtype"
            )
        _check_weights("fweights", fweights, observations)
        w = fweights
    if aweights is not None:
        if not aweights.dtype.is_floating_point:
            raise RuntimeError(
                "cov(): expected aweights to have floating point dtype but got aweights with "
                f"{SCALAR_NAMES[aweights.dtype.name]} dtype"
            )
        _check_weights("aweights", aweights, observations)
        w = aweights if w is None else w * aweights
    if not x.dtype.is_floating_point:
        x = cast(x, get_default_dtype())
    if w is None:
        w_sum = float(observations)
        avg = sum(x, 1) / w_sum
        norm = w_sum - correction
    else:
        w_sum = sum(w)
        avg = sum(x * w, 1) / w_sum
        if aweights is None:
            norm = w_sum - correction
        else:
            norm = w_sum - correction * sum(w * aweights) / w_sum
    norm_value = float(norm.data) if isinstance(norm, Tensor) else norm
    if norm_value <= 0:
        warnings.warn(
            "cov(): degrees of freedom is <= 0. Correction should be strictly less than the "
            "number of observations.",
            UserWarning,
            stacklevel=2,
        )
        norm = 0.0
    centered = x - reshape(avg, (-1, 1))
    weighted = centered if w is None else centered * w
    xp = array_module(x.data)
    with xp.errstate(divide="ignore", invalid="ignore"):  # 0 degrees of freedom: inf/NaN
        return squeeze(mm(centered, weighted.mT) / norm)


def corrcoef(input: Tensor) -> Tensor:
    """Return the Pearson correlation matrix of rows. Mirrors ``torch.corrcoef``.

    Values are clipped to [-1, 1]; a constant row gives NaN, as in PyTorch.
    """
    if input.data.ndim > 2:
        raise RuntimeError(
            "corrcoef(): expected input to have two or fewer dimensions but got an input with "
            f"{input.data.ndim} dimensions"
        )
    c = cov(input)
    xp = array_module(c.data)
    with xp.errstate(divide="ignore", invalid="ignore"):  # constant rows give NaN, as torch
        if c.data.ndim == 0:
            return c / c
        std = sqrt(diagonal(c))
        c = c / reshape(std, (-1, 1))
        c = c / reshape(std, (1, -1))
    return clamp(c, -1, 1)


def _check_quantile(input: Tensor, q: Any, interpolation: str) -> None:
    if not input.dtype.is_floating_point or input.dtype.itemsize < 4:
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q.dtype is not input.dtype:
            raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
        if q.data.ndim > 1:
            raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if input.data.size > 2**24:  # PyTorch's limit
        raise RuntimeError("quantile() input tensor is too large")
    if input.data.size == 0:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if isinstance(q, Tensor):
        if q.data.size and ((q.data < 0).any() or (q.data > 1).any()):
            raise RuntimeError("quantile() q values must be in the range [0, 1]")
    elif not 0 <= q <= 1:
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q}")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or "
            f"nearest, but got {interpolation}"
        )


def _quantile(
    input: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str, ignore_nan: bool
) -> Tensor:
    _check_quantile(input, q, interpolation)
    shape = input.data.shape
    if dim is None:
        values = reshape(input, (-1,))
        out_shape = (1,) * len(shape) if keepdim else ()
    else:
        dim = wrap_dim(dim, len(shape))
        values = movedim(input, dim, -1) if shape else reshape(input, (1,))
        out_shape = tuple(1 if i == dim else s for i, s in enumerate(shape) if keepdim or i != dim)
    q_is_vector = isinstance(q, Tensor) and q.data.ndim == 1
    if q_is_vector:
        out_shape = (q.data.shape[0], *out_shape)
    ordered = sort(values, -1).values  # NaN sorts last
    s = ordered.data
    xp = array_module(s)
    qv = (q.data if isinstance(q, Tensor) else xp.asarray(q)).astype(s.dtype).reshape(-1)
    nan = xp.isnan(s)
    if ignore_nan:  # rank among the non-NaN values; all-NaN slices pick the NaN at 0
        count = (~nan).sum(axis=-1, keepdims=True).astype(s.dtype)
        ranks = xp.maximum(qv * (count - 1), 0)
    else:  # any NaN: rank the last element, which is NaN
        last = s.shape[-1] - 1
        ranks = xp.broadcast_to(qv * s.dtype.type(last), (*s.shape[:-1], qv.shape[0]))
        ranks = xp.where(nan.any(axis=-1, keepdims=True), s.dtype.type(last), ranks)
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # half to even, as torch.round
    below = ranks.astype(xp.int64)
    out = gather(ordered, -1, Tensor(below))
    if interpolation in ("linear", "midpoint"):
        weights = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        above = gather(ordered, -1, Tensor(xp.ceil(ranks).astype(xp.int64)))
        out = lerp(out, above, Tensor(weights.astype(s.dtype, copy=False)))
    if q_is_vector:
        out = movedim(out, -1, 0)
    return reshape(out, out_shape)


def quantile(
    input: Tensor,
    q: float | Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
) -> Tensor:
    """Return the q-th quantiles of input along dim. Mirrors ``torch.quantile``.

    dim None takes all elements. A 1-D q puts its quantiles in a new leading dim; any NaN in a
    slice makes its quantiles NaN. interpolation is one of linear, lower, higher, midpoint or
    nearest. The gradient flows to the one or two order statistics used.
    """
    return _quantile(input, q, dim, keepdim, interpolation, False)


def nanquantile(
    input: Tensor,
    q: float | Tensor,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    interpolation: str = "linear",
) -> Tensor:
    """Return quantiles as ``quantile``, ignoring NaN values. Mirrors ``torch.nanquantile``.

    A slice of NaN only gives NaN.
    """
    return _quantile(input, q, dim, keepdim, interpolation, True)


def _histogram_edges(input: Tensor, bins: Any, range: Any) -> Any:
    data = input.data
    if isinstance(bins, Tensor):
        if bins.data.ndim != 1:
            raise RuntimeError(
                "torch.histogramdd: bins tensor should have one dimension, but got "
                f"{bins.data.ndim} dimensions in the bins tensor for dimension 0"
            )
        if bins.dtype is not input.dtype:
            raise RuntimeError(
                "torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                f"but got input with dtype {CPP_NAMES[input.dtype.name]} and bins for "
                f"dimension 0 with dtype {CPP_NAMES[bins.dtype.name]}"
            )
        return bins.data
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    if range is not None:
        low, high = float(range[0]), float(range[1])
        if low > high:
            raise RuntimeError(
                f"torch.histogramdd: min should not exceed max, but got min {low:g} max "
                f"{high:g} for dimension 0"
            )
    elif data.size:
        low, high = float(data.min()), float(data.max())
    else:
        low, high = 0.0, 1.0
    if not (math.isfinite(low) and math.isfinite(high)):
        raise RuntimeError(
            f"torch.histogramdd: dimension 0's range [{low:g}, {high:g}] is not finite"
        )
    if low == high:
        low, high = low - 0.5, high + 0.5
    from ember.ops.ranges import linspace  # ranges imports creation helpers; keep it local

    return linspace(low, high, bins + 1, dtype=input.dtype).data


def histogram(
    input: Tensor,
    bins: int | Tensor = 100,
    *,
    range: tuple[float, float] | None = None,
    weight: Tensor | None = None,
    density: bool = False,
) -> Any:
    """Count input's elements into bins; return (hist, bin_edges). Mirrors ``torch.histogram``.

    ``bins`` is a number of equal-width bins over ``range`` (the
    data's min and max by default) or a 1-D tensor of increasing edges; the last bin includes
    its right edge; elements outside the edges are ignored. Float inputs only. Not
    differentiable.
    """
    data = input.data
    if not input.dtype.is_floating_point or input.dtype.itemsize < 4:  # float32/64 only
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{SCALAR_NAMES[input.dtype.name]}'"
        )
    if weight is not None:
        if weight.data.shape != data.shape:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided it should have the same shape "
                "as the input tensor excluding its innermost dimension, but got input with "
                f"shape [{data.size}, 1] and weight with shape {list(weight.data.shape)}"
            )
        if weight.dtype is not input.dtype:
            raise RuntimeError(
                "torch.histogramdd: if weight tensor is provided, input tensor and weight "
                f"tensor should have the same dtype, but got "
                f"input({CPP_NAMES[input.dtype.name]}), and "
                f"weight({CPP_NAMES[weight.dtype.name]})"
            )
    edges = _histogram_edges(input, bins, range)
    xp = array_module(data)
    nbins = edges.shape[0] - 1
    flat = data.reshape(-1)
    inside = (flat >= edges[0]) & (flat <= edges[-1]) if nbins > 0 else flat != flat
    pos = xp.searchsorted(edges, flat[inside], side="right") - 1
    pos = xp.minimum(pos, nbins - 1)  # the last bin includes its right edge
    w = None if weight is None else weight.data.reshape(-1)[inside].astype(xp.float64)
    hist = xp.bincount(pos, weights=w, minlength=max(nbins, 0))[: max(nbins, 0)]
    hist = hist.astype(data.dtype)
    if density:
        with xp.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum() / xp.diff(edges)
    return return_type("histogram", ("hist", "bin_edges"))(Tensor(hist), Tensor(edges.copy()))
