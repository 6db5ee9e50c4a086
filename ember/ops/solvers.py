"""Triangular and factored solvers: solve_triangular, LU (factor, unpack, solve), cholesky_solve.

forward computes on arrays (LU is a batched Doolittle loop with partial pivoting, LAPACK's
getrf conventions: 1-based int32 pivots, info = first zero pivot); backward composes Ember ops,
so second derivatives work. Triangular solves run ``TriangularSolve`` on the masked triangle.
The ``torch.linalg.*`` spellings live in ``ember/linalg.py``; ``torch.*`` ones are exported here.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import return_type
from ember.ops.decomposition import LinAlgError, _eye, _mm, _mT, _tril, _triu, check_matrix
from ember.ops.elementwise import add, clone, neg, sub
from ember.ops.indexing import getitem
from ember.ops.join import cat
from ember.ops.linalg import check_broadcast
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "cholesky_inverse",
    "cholesky_solve",
    "lu",
    "lu_solve",
    "lu_unpack",
    "triangular_solve",
]


# -- triangular solves (Tensor level, differentiable) ---------------------------------------
def _triangle(a: Tensor, upper: bool, unitriangular: bool) -> Tensor:
    """The triangle of A a triangular solve reads (strict, plus I, when unitriangular)."""
    if unitriangular:
        strict = _triu(a, 1) if upper else _tril(a, -1)
        return add(strict, _eye(a.data.shape[-1], a))
    return _triu(a) if upper else _tril(a)


def _substitute(xp: Any, a: Array, b: Array, upper: bool) -> Array:
    """Back (or forward) substitution: inf/nan where A's diagonal holds zeros, as LAPACK's trtrs."""
    batch = xp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    a = xp.broadcast_to(a, (*batch, *a.shape[-2:]))
    out = xp.array(xp.broadcast_to(b, (*batch, *b.shape[-2:])), dtype=b.dtype)
    n = a.shape[-1]
    with xp.errstate(divide="ignore", invalid="ignore"):
        for i in range(n - 1, -1, -1) if upper else range(n):
            done = slice(i + 1, n) if upper else slice(0, i)
            rest = a[..., i, None, done] @ out[..., done, :]  # (*, 1, k)
            out[..., i, :] = (out[..., i, :] - rest[..., 0, :]) / a[..., i, i, None]
    return out


class TriangularSolve(Function):
    """X = A^{-1} B for triangular A (inf/nan when A is singular, as PyTorch's).

    grad_B = A^{-T} grad, grad_A = -grad_B X^T (the caller masks it to the triangle).
    """

    @staticmethod
    def forward(ctx: Context, a: Array, b: Array, upper: bool) -> Array:
        xp = array_module(a)
        try:
            out = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError:
            out = _substitute(xp, a, b, upper)
        ctx.upper = upper
        ctx.shapes = a.shape, b.shape
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        a, out = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_b = TriangularSolve.apply(_mT(a), grad, not ctx.upper)
        grad_a = sum_to(neg(_mm(grad_b, _mT(out))), a_shape) if ctx.needs_input_grad[0] else None
        return grad_a, sum_to(grad_b, b_shape) if ctx.needs_input_grad[1] else None, None


def solve_tri(a: Tensor, b: Tensor, upper: bool, left: bool = True, unit: bool = False) -> Tensor:
    """X with tri(A) X = B (or X tri(A) = B); no validation. The gradient of A is masked."""
    tri = _triangle(a, upper, unit)
    if left:
        return TriangularSolve.apply(tri, b, upper)
    return _mT(TriangularSolve.apply(_mT(tri), _mT(b), not upper))


def check_solve_shapes(a: Tensor, b: Tensor, op: str, left: bool = True) -> None:
    """PyTorch's 'Incompatible shapes of A and B' check (A square, B a batch of matrices)."""
    if b.data.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 2 dimensions.")
    n, (p, q) = a.data.shape[-1], b.data.shape[-2:]
    if (p if left else q) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation {equation} "
            f"({n}x{n} and {p}x{q})"
        )
    check_broadcast(a.data.shape[:-2], b.data.shape[:-2])


# -- LU with partial pivoting --------------------------------------------------------------------
def _count(batch: tuple) -> int:
    count = 1
    for size in batch:
        count *= size
    return count


def lu_arrays(xp: Any, a: Array) -> tuple[Array, Array, Array]:
    """(packed LU, 1-based int32 pivots, int32 info) of a batch, as LAPACK's getrf."""
    *batch, m, n = a.shape
    k = min(m, n)
    lu = a.reshape(_count(batch), m, n).copy()
    rows = xp.arange(lu.shape[0])
    pivots = xp.empty((lu.shape[0], k), dtype=xp.int32)
    info = xp.zeros(lu.shape[0], dtype=xp.int32)
    for j in range(k):
        p = xp.argmax(xp.abs(lu[:, j:, j]), axis=1) + j  # first largest, as idamax
        pivots[:, j] = p + 1
        row = lu[rows, j].copy()
        lu[rows, j] = lu[rows, p]
        lu[rows, p] = row
        pivot = lu[:, j, j]
        zero = pivot == 0
        info[(info == 0) & zero] = j + 1
        lu[:, j + 1 :, j] /= xp.where(zero, 1, pivot)[:, None]  # a zero pivot's column is zero
        lu[:, j + 1 :, j + 1 :] -= lu[:, j + 1 :, j, None] * lu[:, j, None, j + 1 :]
    return lu.reshape(a.shape), pivots.reshape(*batch, k), info.reshape(batch)


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


# -- Cholesky solves -----------------------------------------------------------------------------
def _mT_array(x: Array) -> Array:
    return x.swapaxes(-1, -2)


class CholeskySolve(Function):
    """X = (L L^T)^{-1} B (or (U^T U)^{-1} B); PyTorch's cholesky_solve_backward."""

    @staticmethod
    def forward(ctx: Context, b: Array, factor: Array, upper: bool) -> Array:
        xp = array_module(b)
        low = _mT_array(xp.triu(factor)) if upper else xp.tril(factor)
        try:
            out = xp.linalg.solve(_mT_array(low), xp.linalg.solve(low, b))
        except xp.linalg.LinAlgError:
            raise LinAlgError(
                "cholesky_solve: the Cholesky factor is singular (a zero on its diagonal)."
            ) from None
        ctx.upper = upper
        ctx.shapes = b.shape, factor.shape
        ctx.save_for_backward(factor, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None, None]:
        factor, out = ctx.saved_tensors
        b_shape, f_shape = ctx.shapes
        grad_b = CholeskySolve.apply(grad, factor, ctx.upper)
        grad_f = None
        if ctx.needs_input_grad[1]:
            common = _mm(grad_b, _mT(out))
            common = add(common, _mT(common))
            grad_f = _mm(factor, common) if ctx.upper else _mm(common, factor)
            grad_f = sum_to(neg(grad_f), f_shape)
        grad_b = sum_to(grad_b, b_shape) if ctx.needs_input_grad[0] else None
        return grad_b, grad_f, None


def _check_float(t: Tensor, kernel: str) -> None:
    if t.data.dtype.kind != "f" or t.data.dtype.itemsize == 2:
        name = SCALAR_NAMES[t.data.dtype.name]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """Solve A X = B given the Cholesky factor of A. Mirrors ``torch.cholesky_solve``.

    ``input`` is B (*, n, k); ``input2`` the lower (or ``upper``) factor (*, n, n); batch dims
    broadcast. Only the factor's triangle is read.
    """
    for t in (input, input2):
        if t.data.ndim < 2:
            raise RuntimeError(
                f"b should have at least 2 dimensions, but has {input.data.ndim} dimensions instead"
                if t is input
                else f"u should have at least 2 dimensions, but has {t.data.ndim} dimensions "
                "instead"
            )
    _check_float(input, "cholesky_solve_cpu")
    if input.data.dtype != input2.data.dtype:
        raise RuntimeError(
            "Expected b and A to have the same dtype, but found b of type "
            f"{SCALAR_NAMES[input.data.dtype.name]} and A of type "
            f"{SCALAR_NAMES[input2.data.dtype.name]} instead."
        )
    (n1, n2), (p, q) = input2.data.shape[-2:], input.data.shape[-2:]
    if n1 != n2 or p != n1:
        raise RuntimeError(
            f"Incompatible matrix sizes for cholesky_solve: each A matrix is {n1} by {n2} but "
            f"each b matrix is {p} by {q}"
        )
    check_broadcast(input.data.shape[:-2], input2.data.shape[:-2])
    return CholeskySolve.apply(input, input2, upper)


def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """Return A^{-1} given the Cholesky factor of A. Mirrors ``torch.cholesky_inverse``."""
    _check_float(input, "cholesky_inverse_out_cpu")
    check_matrix(input, "cholesky_inverse")
    eye = Tensor(array_module(input.data).eye(input.data.shape[-1], dtype=input.data.dtype))
    return CholeskySolve.apply(eye, input, upper)


def triangular_solve(
    input: Tensor,
    A: Tensor,
    upper: bool = True,
    transpose: bool = False,
    unitriangular: bool = False,
) -> Any:
    """Solve A X = b (or A^T X = b) for triangular A. Mirrors ``torch.triangular_solve``.

    Returns (solution, cloned_coefficient). A singular A gives inf/nan, as PyTorch.
    Differences from PyTorch: no deprecation warning.
    """
    for name, t in (("b", input), ("A", A)):
        if t.data.ndim < 2:
            raise RuntimeError(
                f"torch.triangular_solve: Expected {name} to have at least 2 dimensions, but it "
                f"has {t.data.ndim} dimensions instead"
            )
    (n1, n2), (p, q) = A.data.shape[-2:], input.data.shape[-2:]
    if n1 != n2 or p != n1:
        raise RuntimeError(
            f"Incompatible matrix sizes for triangular_solve: each A matrix is {n1} by {n2} but "
            f"each b matrix is {p} by {q}"
        )
    if A.data.dtype.kind != "f" or A.data.dtype.itemsize == 2:
        raise NotImplementedError(
            f"\"triangular_solve_cpu\" not implemented for '{SCALAR_NAMES[A.data.dtype.name]}'"
        )
    if input.data.dtype != A.data.dtype:
        raise RuntimeError(
            "Expected b and A to have the same dtype, but found b of type "
            f"{SCALAR_NAMES[input.data.dtype.name]} and A of type "
            f"{SCALAR_NAMES[A.data.dtype.name]} instead."
        )
    check_broadcast(input.data.shape[:-2], A.data.shape[:-2])
    tri = _triangle(A, upper, unitriangular)
    out = TriangularSolve.apply(_mT(tri) if transpose else tri, input, upper != transpose)
    return return_type("triangular_solve", ("solution", "cloned_coefficient"))(out, clone(A))


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
