"""``torch.linalg`` LU factorizations and solves, and the ``_ex`` variants that report ``info``.

Wrappers over ``ember.ops.lu`` (``lu``, ``lu_factor``, ``lu_factor_ex``, ``lu_solve``) and
``ember.ops.decomposition`` (``inv_ex``, ``solve_ex``, ``cholesky_ex``), with PyTorch's error
messages for singular inputs (prefixed by the failing batch element).
"""

from __future__ import annotations

from typing import Any

from ember.backend import array_module
from ember.linalg.decompositions import solve
from ember.ops.common import return_type
from ember.ops.decomposition import Cholesky, Inv, LinAlgError, check_matrix
from ember.ops.lu import (
    LU,
    check_lu_dtype,
    check_lu_input,
    check_pivots,
    lu_solve_tensors,
    pack_lu,
)
from ember.ops.shape import transpose
from ember.ops.solvers import check_solve_shapes, lu_arrays
from ember.tensor import Tensor

__all__ = [
    "cholesky_ex",
    "inv_ex",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "solve_ex",
]


def _check_pivot(pivot: bool) -> None:
    if not pivot:
        raise RuntimeError("linalg.lu_factor: LU without pivoting is not implemented on the CPU")


def _lu_factor(A: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    check_lu_input(A, "torch.lu_factor")
    _, low, up, pivots, info = LU.apply(A)
    return pack_lu(low, up), pivots, info


def _batch_prefix(info: Any) -> tuple[str, int]:
    """The '(Batch element i): ' prefix and info value of the first failing batch element."""
    flat = info.reshape(-1)
    i = int(array_module(flat).flatnonzero(flat)[0])
    return (f"(Batch element {i}): " if info.ndim else ""), int(flat[i])


def _zero_pivot(info: Tensor, op: str) -> LinAlgError:
    prefix, j = _batch_prefix(info.data)
    return LinAlgError(
        f"{op}: {prefix}U[{j},{j}] is zero and using it on lu_solve would result in a division "
        "by zero. If you still want to perform the factorization, consider calling "
        "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
    )


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False) -> Any:
    """Return (LU, pivots, info) of A = P L U. Mirrors ``torch.linalg.lu_factor_ex``.

    pivots are LAPACK's 1-based int32 row swaps; info (int32) is the 1-based index of the first
    zero on U's diagonal, else 0. Differences from PyTorch: only pivot=True, as on its CPU.
    """
    _check_pivot(pivot)
    lu_packed, pivots, info = _lu_factor(A)
    if check_errors and info.data.any():
        raise _zero_pivot(info, "torch.linalg.lu_factor_ex")
    return return_type("linalg_lu_factor_ex", ("LU", "pivots", "info"))(lu_packed, pivots, info)


def lu_factor(A: Tensor, *, pivot: bool = True) -> Any:
    """Return (LU, pivots), the packed LU factorization of A. Mirrors ``torch.linalg.lu_factor``.

    Raises ``LinAlgError`` when U has a zero on its diagonal, as PyTorch.
    """
    _check_pivot(pivot)
    lu_packed, pivots, info = _lu_factor(A)
    if info.data.any():
        raise _zero_pivot(info, "torch.linalg.lu_factor")
    return return_type("linalg_lu_factor", ("LU", "pivots"))(lu_packed, pivots)


def lu(A: Tensor, *, pivot: bool = True) -> Any:
    """Return (P, L, U) with A = P L U, L unit lower, U upper. Mirrors ``torch.linalg.lu``.

    Shapes: A (*, m, n) -> P (*, m, m), L (*, m, k), U (*, k, n), k = min(m, n).
    """
    _check_pivot(pivot)
    check_lu_input(A, "linalg.lu")
    perm, low, up, _, _ = LU.apply(A)
    return return_type("linalg_lu", ("P", "L", "U"))(perm, low, up)


def lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False
) -> Tensor:
    """Solve AX = B from A's packed LU factorization. Mirrors ``torch.linalg.lu_solve``.

    ``adjoint`` solves A^T X = B; ``left=False`` solves XA = B. Differentiable in LU and B.
    """
    check_matrix(LU, "linalg.lu_solve")
    check_pivots(LU, pivots, "linalg.lu_solve")
    check_lu_dtype(LU, B)
    check_solve_shapes(LU, B, "linalg.lu_solve", left)
    return lu_solve_tensors(LU, pivots, B, left, adjoint)


# -- the _ex variants ----------------------------------------------------------------------------
def _nan_where_singular(A: Tensor, info: Tensor, fn: Any, tail: int = 2) -> Tensor:
    """fn(A) with the batch's singular matrices replaced by I and their results by nan.

    ``tail`` is the number of non-batch dims of the result (1 for a vector solve).
    """
    xp = array_module(A.data)
    bad = info.data != 0
    eye = xp.eye(A.data.shape[-1], dtype=A.data.dtype)
    out = fn(Tensor(xp.where(bad[..., None, None], eye, A.data))).data
    bad = bad.reshape(bad.shape + (1,) * tail)
    return Tensor(xp.where(bad, xp.nan, out).astype(out.dtype))


def inv_ex(A: Tensor, *, check_errors: bool = False) -> Any:
    """Return (inverse, info) without raising. Mirrors ``torch.linalg.inv_ex``.

    info (int32) > 0 marks a singular matrix; ``check_errors`` raises ``LinAlgError`` then.

    Differences from PyTorch: a singular matrix's inverse is all nan (PyTorch gives LAPACK's
    partial results), and a batch holding one is not differentiable.
    """
    check_matrix(A, "linalg.inv")
    info = Tensor(lu_arrays(array_module(A.data), A.data)[2])
    result = return_type("linalg_inv_ex", ("inverse", "info"))
    if not info.data.any():
        return result(Inv.apply(A, "linalg.inv_ex"), info)
    if check_errors:
        prefix, j = _batch_prefix(info.data)
        raise LinAlgError(
            f"linalg.inv_ex: {prefix}The diagonal element {j} is zero, the inversion could not "
            "be completed because the input matrix is singular."
        )
    return result(_nan_where_singular(A, info, lambda a: Inv.apply(a, "linalg.inv_ex")), info)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> Any:
    """Return (solution, info) of AX = B without raising. Mirrors ``torch.linalg.solve_ex``.

    info (int32) > 0 marks a singular A; ``check_errors`` raises ``LinAlgError`` then.

    Differences from PyTorch: the solution for a singular A is all nan, and a batch holding one
    is not differentiable.
    """
    check_matrix(A, "linalg.solve")
    info = Tensor(lu_arrays(array_module(A.data), A.data)[2])
    result = return_type("linalg_solve_ex", ("result", "info"))
    if not info.data.any():
        return result(solve(A, B, left=left), info)
    if check_errors:
        prefix, _ = _batch_prefix(info.data)
        raise LinAlgError(
            f"torch.linalg.solve_ex: {prefix}The solver failed because the input matrix is "
            "singular."
        )
    vector = B.data.ndim == 1 or (
        B.data.ndim == A.data.ndim - 1 and B.data.shape == A.data.shape[:-1]
    )
    out = _nan_where_singular(A, info, lambda a: solve(a, B, left=left), 1 if vector else 2)
    return result(out, info)


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> Any:
    """Return (L, info), the Cholesky factor without raising. Mirrors ``torch.linalg.cholesky_ex``.

    info (int32) is the order of the first leading minor that is not positive-definite, else 0.

    Differences from PyTorch: a failed matrix's factor is all zeros (PyTorch gives LAPACK's
    partial factor).
    """
    check_matrix(A, "linalg.cholesky")
    xp = array_module(A.data)
    result = return_type("linalg_cholesky_ex", ("L", "info"))
    try:
        low = Cholesky.apply(A, "linalg.cholesky_ex")
        info = Tensor(xp.zeros(A.data.shape[:-2], dtype=xp.int32))
        return result(transpose(low, -1, -2) if upper else low, info)
    except LinAlgError:
        if check_errors:
            raise
    flat = A.data.reshape(-1, *A.data.shape[-2:])
    info = xp.zeros(flat.shape[0], dtype=xp.int32)
    out = xp.zeros_like(flat)
    for i, matrix in enumerate(flat):
        try:
            out[i] = xp.linalg.cholesky(matrix)
        except xp.linalg.LinAlgError:
            low, high = 1, matrix.shape[-1]  # bisect for the first failing leading minor
            while low < high:
                mid = (low + high) // 2
                try:
                    xp.linalg.cholesky(matrix[:mid, :mid])
                    low = mid + 1
                except xp.linalg.LinAlgError:
                    high = mid
            info[i] = low
    out = out.reshape(A.data.shape)
    return result(
        Tensor(out.swapaxes(-1, -2).copy() if upper else out),
        Tensor(info.reshape(A.data.shape[:-2])),
    )
