"""Top-level odds and ends: ``*_copy`` views, old norms, histogramdd, geqrf/ormqr, low-rank SVD.

The ``*_copy`` ops return fresh memory with the gradient of the view they copy. ``svd_lowrank``
follows Halko et al. 2009 (algorithm 5.1, with ``niter`` power iterations) exactly as PyTorch's
``torch/_lowrank.py`` does, composed of differentiable Ember ops.
"""

from __future__ import annotations

import builtins
import warnings
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import return_type, wrap_dim
from ember.ops.decomposition import qr, svd
from ember.ops.elementwise import clone, sub
from ember.ops.indexing import getitem
from ember.ops.join import cat, split
from ember.ops.linalg import matmul
from ember.ops.matrix_functions import householder_product
from ember.ops.norms import matrix_norm, vector_norm
from ember.ops.pooling import max_pool1d_with_indices
from ember.ops.random import randn
from ember.ops.reduction import mean
from ember.ops.shape import transpose
from ember.ops.statistics import _histogram_edges
from ember.ops.strided import unfold
from ember.tensor import Tensor

__all__ = [
    "frobenius_norm",
    "geqrf",
    "histogramdd",
    "max_pool1d_with_indices",
    "nonzero_static",
    "nuclear_norm",
    "ormqr",
    "pca_lowrank",
    "slice_copy",
    "split_with_sizes_copy",
    "svd_lowrank",
    "unfold_copy",
]


# -- Copies of views --------------------------------------------------------------------------
def slice_copy(
    input: Tensor, dim: int = 0, start: int | None = None, end: int | None = None, step: int = 1
) -> Tensor:
    """Return a copy of input[start:end:step] along dim. Mirrors ``torch.slice_copy``."""
    dim = wrap_dim(dim, input.data.ndim)
    if step <= 0:
        raise RuntimeError("slice step must be positive")
    return clone(getitem(input, (slice(None),) * dim + (slice(start, end, step),)))


def split_with_sizes_copy(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Split into pieces of the given sizes, each a copy. Mirrors ``torch.split_with_sizes_copy``."""  # noqa: E501
    dim = wrap_dim(dim, input.data.ndim)
    sizes, total = [int(n) for n in split_sizes], input.data.shape[dim]
    if sum(sizes) != total:
        raise RuntimeError(
            f"split_with_sizes expects split_sizes to sum exactly to {total} (input tensor's "
            f"size at dimension {dim}), but got split_sizes={sizes}"
        )
    return tuple(clone(piece) for piece in split(input, sizes, dim))


def unfold_copy(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Return a copy of ``input.unfold(dimension, size, step)``. Mirrors ``torch.unfold_copy``."""
    return clone(unfold(input, dimension, size, step))


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """Return nonzero's indices padded with fill_value (or cut) to size rows. Mirrors ``torch.nonzero_static``.

    Shapes: input (*) -> (size, input.ndim), int64.
    """  # noqa: E501
    if not isinstance(size, int) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    xp = array_module(input.data)
    found = xp.argwhere(input.data)[:size]
    out = xp.full((size, input.data.ndim), fill_value, dtype=xp.int64)
    out[: found.shape[0]] = found
    return Tensor(out)


# -- Deprecated norms -------------------------------------------------------------------------
def frobenius_norm(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """Return the 2-norm over dim (deprecated). Mirrors ``torch.frobenius_norm``."""
    warnings.warn(
        "frobenius_norm is deprecated and it is just left for JIT compatibility. Please use "
        "`linalg.vector_norm(A, 2., dim, keepdim)` instead",
        UserWarning,
        stacklevel=2,
    )
    return vector_norm(input, 2.0, dim, keepdim)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Return the nuclear norm of the matrices over dim (deprecated). Mirrors ``torch.nuclear_norm``.

    ``nuclear_norm(input, keepdim)`` (a bool second argument) is accepted as in PyTorch.
    """  # noqa: E501
    warnings.warn(
        "nuclear_norm is deprecated and it is just left for JIT compatibility. Please use "
        "`linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead",
        UserWarning,
        stacklevel=2,
    )
    if isinstance(dim, bool):
        dim, keepdim = None, dim
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else tuple(dim), keepdim)


# -- histogramdd ------------------------------------------------------------------------------
def histogramdd(
    input: Tensor,
    bins: Any,
    *,
    range: Any = None,
    weight: Tensor | None = None,
    density: bool = False,
) -> Any:
    """Count the points input[..., :] into a D-dimensional grid of bins. Mirrors ``torch.histogramdd``.

    ``bins`` is an int, a sequence of D ints or a sequence of D 1-D tensors of edges; ``range``
    is a flat sequence (min_0, max_0, min_1, ...). Returns (hist, bin_edges). Float inputs only;
    not differentiable.
    """  # noqa: E501
    if not input.dtype.is_floating_point or input.dtype.itemsize < 4:
        raise NotImplementedError(
            f"\"histogramdd\" not implemented for '{SCALAR_NAMES[input.dtype.name]}'"
        )
    data = input.data
    D = data.shape[-1] if data.ndim else 1
    points = data.reshape(-1, D)  # (N, D)
    bins = [bins] * D if isinstance(bins, int) else list(bins)
    if len(bins) != D:
        raise RuntimeError(
            "histogramdd: The size of bins must be equal to the innermost dimension of the input."
        )
    if range is not None and len(range) != 2 * D:
        raise RuntimeError(
            "torch.histogramdd: range should have 2 * D elements, but got "
            f"{len(range)} elements for D = {D}"
        )
    xp = array_module(data)
    inside = xp.ones(points.shape[0], dtype=bool)
    positions, edges = [], []
    for d in builtins.range(D):  # `range` is an argument here
        column = Tensor(points[:, d])
        edge = _histogram_edges(
            column, bins[d], None if range is None else range[2 * d : 2 * d + 2]
        )
        nbins = edge.shape[0] - 1
        values = points[:, d]
        inside &= (values >= edge[0]) & (values <= edge[-1])
        pos = xp.minimum(xp.searchsorted(edge, values, side="right") - 1, nbins - 1)
        positions.append(xp.clip(pos, 0, max(nbins - 1, 0)))
        edges.append(edge)
    shape = tuple(e.shape[0] - 1 for e in edges)
    flat = xp.ravel_multi_index(tuple(p[inside] for p in positions), shape)
    w = None
    if weight is not None:
        w = weight.data.reshape(-1)[inside].astype(xp.float64)
    hist = xp.bincount(flat, weights=w, minlength=int(xp.prod(shape)))
    hist = hist.reshape(shape).astype(data.dtype)
    if density:
        widths = xp.ones(shape, dtype=data.dtype)
        for d, edge in enumerate(edges):
            view = [1] * D
            view[d] = shape[d]
            widths = widths * xp.diff(edge).reshape(view)
        with xp.errstate(divide="ignore", invalid="ignore"):
            hist = hist / hist.sum() / widths
    result = return_type("histogramdd", ("hist", "bin_edges"))
    return result(Tensor(hist), tuple(Tensor(e.copy()) for e in edges))


# -- Randomized low-rank SVD ------------------------------------------------------------------
def _mH(t: Tensor) -> Tensor:
    return transpose(t, -2, -1)


def _approximate_basis(A: Tensor, q: int, niter: int, M: Tensor | None) -> Tensor:
    """An orthonormal Q whose range approximates A's (randomized range finder, power iterations)."""

    def times(R: Tensor, adjoint: bool) -> Tensor:  # (A - M) @ R, or its adjoint
        out = matmul(_mH(A) if adjoint else A, R)
        return out if M is None else sub(out, matmul(_mH(M) if adjoint else M, R))

    Q = qr(times(randn(A.data.shape[-1], q, dtype=A.dtype), False)).Q
    for _ in range(niter):
        Q = qr(times(Q, True)).Q
        Q = qr(times(Q, False)).Q
    return Q


def svd_lowrank(
    A: Tensor, q: int | None = 6, niter: int | None = 2, M: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Return (U, S, V) of a randomized rank-q SVD of A - M. Mirrors ``torch.svd_lowrank``.

    Shapes: A (*, m, n) -> U (*, m, q), S (*, q), V (*, n, q). Random vectors come from Ember's
    generator, so results match PyTorch's only up to the approximation.
    """
    q = 6 if q is None else q
    niter = 2 if niter is None else niter
    m, n = A.data.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.shape)
    if m < n:  # work on the tall side
        A = _mH(A)
        M = None if M is None else _mH(M)
    Q = _approximate_basis(A, q, niter, M)
    B = matmul(_mH(Q), A)
    if M is not None:
        B = sub(B, matmul(_mH(Q), M))
    U, S, V = svd(B)
    U = matmul(Q, U)
    return (V, S, U) if m < n else (U, S, V)


def pca_lowrank(
    A: Tensor, q: int | None = None, center: bool = True, niter: int = 2
) -> tuple[Tensor, Tensor, Tensor]:
    """Return (U, S, V) of a randomized PCA of the rows of A. Mirrors ``torch.pca_lowrank``.

    With ``center=True`` the column means are subtracted first; q defaults to min(6, m, n).
    """
    m, n = A.data.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not 0 <= q <= min(m, n):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}"
        )
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if not center:
        return svd_lowrank(A, q, niter=niter)
    return svd_lowrank(sub(A, mean(A, dim=(-2,), keepdim=True)), q, niter=niter)


# -- LAPACK's Householder form ----------------------------------------------------------------
class Geqrf(Function):
    """LAPACK geqrf: R on and above the diagonal, reflectors below, and their scales tau."""

    @staticmethod
    def forward(ctx: Context, x: Array) -> tuple[Array, Array]:
        xp = array_module(x)
        h, tau = xp.linalg.qr(x, mode="raw")  # h is the transposed (Fortran-order) result
        return xp.ascontiguousarray(xp.swapaxes(h, -1, -2)), tau

    @staticmethod
    def backward(ctx: Context, grad_a: Tensor, grad_tau: Tensor) -> Tensor:
        raise RuntimeError("the derivative for 'geqrf' is not implemented.")


def _check_lapack_dtype(t: Tensor, op: str) -> None:
    if not t.dtype.is_floating_point or t.dtype.itemsize < 4:
        raise NotImplementedError(
            f"\"{op}_cpu\" not implemented for '{SCALAR_NAMES[t.dtype.name]}'"
        )


def geqrf(input: Tensor) -> Any:
    """Return (a, tau), the QR of input in LAPACK's Householder form. Mirrors ``torch.geqrf``.

    Shapes: input (*, m, n) -> a (*, m, n), tau (*, min(m, n)). Not differentiable (as PyTorch,
    backward raises). ``ormqr`` and ``householder_product`` read the result.
    """
    if input.data.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    _check_lapack_dtype(input, "geqrf")
    return return_type("geqrf", ("a", "tau"))(*Geqrf.apply(input))


def _check_ormqr(input: Tensor, tau: Tensor, other: Tensor, left: bool) -> None:
    if input.data.ndim < 2:
        raise RuntimeError("torch.ormqr: input must have at least 2 dimensions.")
    if other.data.ndim < 2:
        raise RuntimeError("torch.ormqr: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if input.data.ndim - tau.data.ndim != 1:
        raise RuntimeError(
            "torch.ormqr: Expected tau to have one dimension less than input, but got tau.ndim "
            f"equal to {tau.data.ndim} and input.ndim is equal to {input.data.ndim}"
        )
    if tau.data.shape[-1] != min(other.data.shape[side], input.data.shape[-1]):
        raise RuntimeError(
            f"torch.ormqr: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])"
        )
    if other.data.shape[side] != input.data.shape[-2]:
        raise RuntimeError(f"torch.ormqr: other.shape[{side}] must be equal to input.shape[-2]")
    for name, t in (("tau", tau), ("other", other)):
        if t.dtype is not input.dtype:
            raise RuntimeError(
                f"torch.ormqr: Expected input and {name} to have the same dtype, but input has "
                f"dtype{SCALAR_NAMES[input.dtype.name]} and {name} has dtype "
                f"{SCALAR_NAMES[t.dtype.name]}"
            )
    _check_lapack_dtype(input, "ormqr")


def ormqr(
    input: Tensor, tau: Tensor, other: Tensor, left: bool = True, transpose: bool = False
) -> Tensor:
    """Multiply other by the Q of a ``geqrf`` result. Mirrors ``torch.ormqr``.

    Returns op(Q) other (``left``) or other op(Q), op = transpose when ``transpose``; Q is the
    full (mn, mn) orthogonal matrix, mn = input.shape[-2]. Differentiable in all three tensors
    (Q is built by ``householder_product`` over the reflectors padded to a square).
    """
    _check_ormqr(input, tau, other, left)
    xp = array_module(input.data)
    *batch, mn, _ = input.data.shape
    k = tau.data.shape[-1]
    reflectors = getitem(input, (..., slice(None), slice(None, k)))  # (*, mn, k)
    padding = Tensor(xp.zeros((*batch, mn, mn - k), dtype=input.data.dtype))
    q = householder_product(cat([reflectors, padding], -1), tau)  # (*, mn, mn)
    if transpose:
        q = _mH(q)
    return matmul(q, other) if left else matmul(other, q)
