"""LU with partial pivoting: the differentiable factorization, unpack, pack and solve.

``LU`` returns P, L, U (plus LAPACK's 1-based int32 pivots and info) from ``lu_arrays`` (the
batched getrf kernel in ``solvers.py``); its backward is PyTorch's linalg_lu_backward, composed
of triangular solves so that second derivatives work. The ``torch.*`` spellings (``lu``,
``lu_unpack``, ``lu_solve``) are exported here; the ``torch.linalg.*`` ones live in
``ember/linalg/lu_ex.py``.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import return_type
from ember.ops.decomposition import _mm, _mT, _tril, _triu, check_matrix
from ember.ops.elementwise import add, neg, sub
from ember.ops.indexing import getitem
from ember.ops.join import cat
from ember.ops.solvers import _count, check_solve_shapes, lu_arrays, solve_tri
from ember.tensor import Tensor

__all__ = ["lu", "lu_solve", "lu_unpack"]


def permutation_arrays(xp: Any, pivots: Array, m: int, dtype: Any) -> Array:
    """The matrices P (*, m, m) with A = P L U, from LAPACK's sequential row swaps."""
    batch = pivots.shape[:-1]
    piv = pivots.reshape(_count(batch), pivots.shape[-1]).astype(xp.int64) - 1
    rows = xp.arange(piv.shape[0])
    perm = xp.broadcast_to(xp.arange(m), (piv.shape[0], m)).copy()
    for j in range(piv.shape[1]):
        p = piv[:, j]
        row = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = row
    out = xp.zeros((piv.shape[0], m, m), dtype=dtype)
    out[rows[:, None], perm, xp.arange(m)[None, :]] = 1  # P[perm[i], i] = 1
    return out.reshape(*batch, m, m)


class LU(Function):
    """P, L, U (and the pivots and info) with A = P L U; PyTorch's linalg_lu_backward."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> tuple[Array, ...]:
        xp = array_module(a)
        m, n = a.shape[-2:]
        k = min(m, n)
        lu, pivots, info = lu_arrays(xp, a)
        perm = permutation_arrays(xp, pivots, m, a.dtype)
        low = xp.tril(lu[..., :, :k], -1) + xp.eye(m, k, dtype=a.dtype)
        up = xp.triu(lu[..., :k, :])
        ctx.set_materialize_grads(False)
        ctx.mark_non_differentiable(perm)
        ctx.save_for_backward(perm, low, up)
        return perm, low, up, pivots, info

    @staticmethod
    def backward(ctx: Context, _gp: Any, grad_l: Any, grad_u: Any, *_: Any) -> Tensor | None:
        perm, low, up = ctx.saved_tensors
        if grad_l is None and grad_u is None:
            return None
        return _mm(perm, lu_grad(grad_l, grad_u, low, up))


def lu_grad(grad_l: Any, grad_u: Any, low: Tensor, up: Tensor) -> Tensor:
    """P^T grad_A for A = P L U (PyTorch's linalg_lu_backward, real case)."""
    m, k = low.data.shape[-2:]
    n = up.data.shape[-1]
    if m == n:  # L^{-T} [tril(L^T gL, -1) + triu(gU U^T)] U^{-T}
        g = _tril(_mm(_mT(low), grad_l), -1) if grad_l is not None else None
        if grad_u is not None:
            gu = _triu(_mm(grad_u, _mT(up)))
            g = gu if g is None else add(g, gu)
        g = solve_tri(_mT(up), g, upper=False, left=False)
        return solve_tri(_mT(low), g, upper=True, unit=True)
    cols, rest = (..., slice(None), slice(None, k)), (..., slice(None), slice(k, None))
    if m < n:  # wide: U = [U1 | U2]
        g = _mm(_mT(low), grad_l) if grad_l is not None else None
        if grad_u is not None:
            gu = _mm(_triu(grad_u), _mT(up))
            g = neg(gu) if g is None else sub(g, gu)
        g = solve_tri(_mT(getitem(up, cols)), _tril(g, -1), upper=False, left=False)
        if grad_u is not None:
            g = cat([add(g, _triu(getitem(grad_u, cols))), getitem(grad_u, rest)], -1)
        g = solve_tri(_mT(low), g, upper=True, unit=True)
        if grad_u is None:
            g = cat([g, Tensor(array_module(g.data).zeros_like(getitem(up, rest).data))], -1)
        return g
    rows, below = (..., slice(None, k), slice(None)), (..., slice(k, None), slice(None))
    g = _mm(grad_u, _mT(up)) if grad_u is not None else None  # tall: L = [L1; L2]
    if grad_l is not None:
        gl = _mm(_mT(low), _tril(grad_l, -1))
        g = neg(gl) if g is None else sub(g, gl)
    g = solve_tri(_mT(getitem(low, rows)), _triu(g), upper=True, unit=True)
    if grad_l is not None:
        g = cat([add(g, _tril(getitem(grad_l, rows), -1)), getitem(grad_l, below)], -2)
    g = solve_tri(_mT(up), g, upper=False, left=False)
    if grad_l is None:
        g = cat([g, Tensor(array_module(g.data).zeros_like(getitem(low, below).data))], -2)
    return g


def unpack(lu: Tensor, pivots: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """P, L, U from a packed LU and its pivots; L and U are differentiable in LU."""
    xp = array_module(lu.data)
    m, n = lu.data.shape[-2:]
    k = min(m, n)
    low = _tril(lu, -1)
    low = add(getitem(low, (..., slice(None), slice(None, k))) if k < n else low, _eye_mk(m, k, lu))
    up = _triu(lu)
    up = getitem(up, (..., slice(None, k), slice(None))) if k < m else up
    perm = Tensor(permutation_arrays(xp, pivots.data, m, lu.data.dtype))
    return perm, low, up


def pack_lu(low: Tensor, up: Tensor) -> Tensor:
    """The packed LU matrix (strict lower triangle of L over U), differentiable in L and U."""
    xp = array_module(low.data)
    (m, k), n = low.data.shape[-2:], up.data.shape[-1]
    place_l = Tensor(xp.eye(k, n, dtype=low.data.dtype))
    place_u = Tensor(xp.eye(m, k, dtype=low.data.dtype))
    return add(_mm(sub(low, place_u), place_l), _mm(place_u, up))


def _eye_mk(m: int, k: int, like: Tensor) -> Tensor:
    return Tensor(array_module(like.data).eye(m, k, dtype=like.data.dtype))


def check_lu_input(A: Tensor, op: str) -> None:
    """PyTorch's checks on the input of an LU factorization: >= 2 dims, float32/float64."""
    x = A.data
    if x.ndim < 2:
        raise RuntimeError(
            f"{op}: Expected tensor with 2 or more dimensions. Got size: {list(x.shape)} instead"
        )
    if x.dtype.kind != "f" or x.dtype.itemsize == 2:
        raise NotImplementedError(f"\"lu_cpu\" not implemented for '{SCALAR_NAMES[x.dtype.name]}'")


def check_pivots(lu: Tensor, pivots: Tensor, op: str) -> None:
    """PyTorch's checks on LU pivots: int32, shape (*, min(m, n))."""
    if pivots.data.dtype.name != "int32":
        raise RuntimeError(
            f"{op}: LU_pivots is expected to be a contiguous tensor of torch.int32 dtype.\n"
            "Note: this function is intended to be used with the output produced by "
            "torch.linalg.lu_factor"
        )
    m, n = lu.data.shape[-2:]
    piv = pivots.data
    if piv.size and (piv.min() < 1 or piv.max() > m):
        raise RuntimeError(
            "pivots passed to lu_unpack must be between 1 and LU.size(-2) inclusive.Did you "
            "properly pass the result of lu_factor?"
        )
    if pivots.data.shape != (*lu.data.shape[:-2], min(m, n)):
        raise RuntimeError(
            f"{op}: Expected LU_pivots.size(-1) == min(LU.size(-2), LU.size(-1)) and the batch "
            f"sizes of LU and pivots to match, but got {list(pivots.shape)} for LU of shape "
            f"{list(lu.shape)}"
        )


def check_lu_dtype(lu: Tensor, b: Tensor) -> None:
    """PyTorch's same-dtype check of lu_solve."""
    if lu.data.dtype != b.data.dtype:
        raise RuntimeError(
            "linalg.lu_solve: Expected LU and B to have the same dtype, but found LU of type "
            f"{SCALAR_NAMES[lu.data.dtype.name]} and B of type {SCALAR_NAMES[b.data.dtype.name]} "
            "instead"
        )


def lu_solve_tensors(
    lu: Tensor, pivots: Tensor, b: Tensor, left: bool = True, adjoint: bool = False
) -> Tensor:
    """X with A X = B (A^T X = B when adjoint; X A = B when not left), A = P L U packed in lu."""
    perm, low, up = unpack(lu, pivots)
    if left and not adjoint:  # X = U^{-1} L^{-1} P^T B
        y = solve_tri(low, _mm(_mT(perm), b), upper=False, unit=True)
        return solve_tri(up, y, upper=True)
    if left:  # U^T L^T P^T X = B  ->  X = P L^{-T} U^{-T} B
        y = solve_tri(_mT(up), b, upper=False)
        return _mm(perm, solve_tri(_mT(low), y, upper=True, unit=True))
    if not adjoint:  # X P L U = B  ->  X = B U^{-1} L^{-1} P^T
        y = solve_tri(up, b, upper=True, left=False)
        return _mm(solve_tri(low, y, upper=False, left=False, unit=True), _mT(perm))
    y = _mm(b, perm)  # X U^T L^T P^T = B  ->  X = B P L^{-T} U^{-T}
    y = solve_tri(_mT(low), y, upper=True, left=False, unit=True)
    return solve_tri(_mT(up), y, upper=False, left=False)


def lu_unpack(
    LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots: bool = True
) -> Any:
    """Split a packed LU into P, L, U with A = P L U. Mirrors ``torch.lu_unpack``.

    ``unpack_data=False`` gives empty L and U; ``unpack_pivots=False`` an empty P.
    """
    if LU_data.data.ndim < 2:
        raise RuntimeError(
            "torch.lu_unpack: Expected tensor with 2 or more dimensions. Got size: "
            f"{list(LU_data.shape)} instead"
        )
    check_pivots(LU_data, LU_pivots, "torch.lu_unpack")
    perm, low, up = unpack(LU_data, LU_pivots)
    empty = Tensor(array_module(LU_data.data).empty((0,), dtype=LU_data.data.dtype))
    result = return_type("lu_unpack", ("P", "L", "U"))
    return result(
        perm if unpack_pivots else empty,
        low if unpack_data else empty,
        up if unpack_data else empty,
    )


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor) -> Tensor:
    """Solve A X = b from A's packed LU factorization. Mirrors ``torch.lu_solve``.

    Differences from PyTorch: no deprecation warning.
    """
    check_matrix(LU_data, "linalg.lu_solve")
    check_pivots(LU_data, LU_pivots, "linalg.lu_solve")
    check_lu_dtype(LU_data, b)
    check_solve_shapes(LU_data, b, "linalg.lu_solve")
    return lu_solve_tensors(LU_data, LU_pivots, b)


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False) -> Any:
    """Return (LU, pivots), plus info with get_infos. Mirrors ``torch.lu``.

    Never raises for a singular matrix (info tells). Differences from PyTorch: no deprecation
    warning; only pivot=True, as on PyTorch's CPU.
    """
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")
    check_lu_input(A, "torch.lu_factor")
    _, low, up, pivots, info = LU.apply(A)
    if get_infos:
        return return_type("_lu_with_info", ("LU", "pivots", "info"))(
            pack_lu(low, up), pivots, info
        )
    return pack_lu(low, up), pivots
