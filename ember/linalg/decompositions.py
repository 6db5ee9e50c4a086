"""``torch.linalg`` factorizations and direct solvers: inv, solve, cholesky, qr, svd, eigh, ...

Thin validating wrappers over the primitives in ``ember.ops.decomposition`` and
``ember.ops.solvers`` (triangular solves); ``tensorinv``/``tensorsolve`` reshape onto inv/solve.
"""

from __future__ import annotations

from typing import Any

from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import cast, return_type
from ember.ops.decomposition import QR, SVD, Cholesky, Eigh, Inv, SlogDet, Solve, check_matrix
from ember.ops.dims import movedim
from ember.ops.linalg import check_broadcast
from ember.ops.shape import reshape, transpose
from ember.ops.solvers import check_solve_shapes, solve_tri
from ember.tensor import Tensor

__all__ = [
    "cholesky",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "inv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
]


def inv(A: Tensor) -> Tensor:
    """Return the inverse of a (batch of) square matrices. Mirrors ``torch.linalg.inv``.

    Raises ``LinAlgError`` (a RuntimeError) for a singular matrix.
    """
    check_matrix(A, "linalg.inv")
    return Inv.apply(A, "linalg.inv")


def slogdet(A: Tensor) -> Any:
    """Return (sign, log|det|) of square matrices. Mirrors ``torch.linalg.slogdet``."""
    check_matrix(A, "linalg.slogdet")
    return return_type("linalg_slogdet", ("sign", "logabsdet"))(*SlogDet.apply(A))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """Solve AX = B (or XA = B with left=False) for X. Mirrors ``torch.linalg.solve``.

    Shapes: A (*, n, n); B (*, n) (a batch of vectors) or (*, n, k); batch dims broadcast.
    Raises ``LinAlgError`` for a singular A.
    """
    check_matrix(A, "linalg.solve")
    if B.data.ndim == 0:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if A.data.dtype != B.data.dtype:
        raise RuntimeError(
            "linalg.solve: Expected A and B to have the same dtype, but found A of type "
            f"{SCALAR_NAMES[A.data.dtype.name]} and B of type {SCALAR_NAMES[B.data.dtype.name]} "
            "instead"
        )
    a_shape, b_shape = A.data.shape, B.data.shape
    vector = B.data.ndim == 1 or (B.data.ndim == A.data.ndim - 1 and b_shape == a_shape[:-1])
    matrix_b = reshape(B, (*b_shape, 1)) if vector else B  # (*, n, 1) or (*, n, k)
    m_shape, n = matrix_b.data.shape, a_shape[-1]
    if (m_shape[-2] if left else m_shape[-1]) != n:
        equation = "AX = B" if left else "XA = B"
        raise RuntimeError(
            f"linalg.solve: Incompatible shapes of A and B for the equation {equation} "
            f"({n}x{n} and {m_shape[-2]}x{m_shape[-1]})"
        )
    check_broadcast(m_shape[:-2], a_shape[:-2])
    if left:
        out = Solve.apply(A, matrix_b)
    else:  # XA = B  <=>  A^T X^T = B^T
        out = transpose(Solve.apply(transpose(A, -1, -2), transpose(matrix_b, -1, -2)), -1, -2)
    return reshape(out, out.data.shape[:-1]) if vector else out


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Return the Cholesky factor of an SPD matrix. Mirrors ``torch.linalg.cholesky``.

    Reads the lower triangle of A; ``upper=True`` returns L^T. Raises ``LinAlgError`` when A is
    not positive-definite. The gradient is symmetric, as PyTorch's.
    """
    check_matrix(A, "linalg.cholesky")
    low = Cholesky.apply(A, "linalg.cholesky")
    return transpose(low, -1, -2) if upper else low


def qr(A: Tensor, mode: str = "reduced") -> Any:
    """Return (Q, R) with A = QR. Mirrors ``torch.linalg.qr``.

    mode is 'reduced', 'complete' or 'r' (Q is then empty and there is no gradient).
    """
    check_matrix(A, "linalg.qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(
            f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
            "'r', or 'complete'"
        )
    return return_type("linalg_qr", ("Q", "R"))(*QR.apply(A, mode))


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None) -> Any:
    """Return (U, S, Vh) with A = U diag(S) Vh. Mirrors ``torch.linalg.svd``.

    Singular values are descending. Gradients assume distinct singular values (and nonzero ones
    when A is not square); with full_matrices, only the first k columns of U and rows of Vh
    carry gradient, as in PyTorch. ``driver`` (a CUDA option in PyTorch) is ignored.
    """
    check_matrix(A, "linalg.svd", square=False)
    return return_type("linalg_svd", ("U", "S", "Vh"))(*SVD.apply(A, full_matrices))


def svdvals(A: Tensor, *, driver: str | None = None) -> Tensor:
    """Return the singular values of A, descending. Mirrors ``torch.linalg.svdvals``."""
    check_matrix(A, "linalg.svdvals", square=False)
    return SVD.apply(A, False)[1]


def _check_uplo(UPLO: str) -> None:
    if UPLO not in ("L", "l", "U", "u"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")


def eigh(A: Tensor, UPLO: str = "L") -> Any:
    """Return (eigenvalues, eigenvectors) of a symmetric matrix. Mirrors ``torch.linalg.eigh``.

    Reads the UPLO triangle of A; eigenvalues ascend. Gradients assume distinct eigenvalues.
    """
    check_matrix(A, "linalg.eigh")
    _check_uplo(UPLO)
    values, vectors = Eigh.apply(A, UPLO.upper())
    return return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))(values, vectors)


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Return a symmetric matrix's eigenvalues, ascending. Mirrors ``torch.linalg.eigvalsh``."""
    check_matrix(A, "linalg.eigvalsh")
    _check_uplo(UPLO)
    return Eigh.apply(A, UPLO.upper())[0]


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False
) -> Tensor:
    """Solve AX = B (or XA = B) for triangular A. Mirrors ``torch.linalg.solve_triangular``.

    Reads only the ``upper`` (or lower) triangle of A; ``unitriangular`` takes its diagonal as
    ones. Batch dims broadcast; a singular A gives inf/nan, as PyTorch.
    """
    if A.data.dtype.kind != "f" or A.data.dtype.itemsize == 2:
        raise NotImplementedError(
            f"\"triangular_solve_cpu\" not implemented for '{SCALAR_NAMES[A.data.dtype.name]}'"
        )
    check_matrix(A, "linalg.solve_triangular")
    check_solve_shapes(A, B, "linalg.solve_triangular", left)
    if B.data.dtype != A.data.dtype:  # PyTorch's result takes A's dtype
        B = cast(B, A.dtype)
    return solve_tri(A, B, upper, left, unitriangular)


def _prod(shape: tuple) -> int:
    out = 1
    for s in shape:
        out *= s
    return out


def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """Return the tensordot inverse of A. Mirrors ``torch.linalg.tensorinv``.

    Shapes: A (*out, *in) with prod(out) == prod(in) -> (*in, *out), out = A.shape[:ind].
    """
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    out_shape, in_shape = A.data.shape[:ind], A.data.shape[ind:]
    rows, cols = _prod(out_shape), _prod(in_shape)
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}"
        )
    return reshape(inv(reshape(A, (rows, cols))), (*in_shape, *out_shape))


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None) -> Tensor:
    """Return X with tensordot(A, X, X.ndim) == B. Mirrors ``torch.linalg.tensorsolve``.

    ``dims`` are dims of A moved to the end first. Shapes: A (*B.shape, *X.shape).
    """
    if dims is not None:
        dims = [dims] if isinstance(dims, int) else list(dims)
        A = movedim(A, dims, list(range(A.data.ndim - len(dims), A.data.ndim)))
    rows, cols = _prod(B.data.shape), _prod(A.data.shape[B.data.ndim :])
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}"
        )
    if _prod(A.data.shape[: B.data.ndim]) != rows:
        raise RuntimeError(
            f"shape '{[rows, cols]}' is invalid for input of size {_prod(A.data.shape)}"
        )
    out = solve(reshape(A, (rows, cols)), reshape(B, (rows,)))
    return reshape(out, A.data.shape[B.data.ndim :])


_NO_COMPLEX = "complex results are not supported yet; use eigh for symmetric matrices"


def eig(A: Tensor) -> Any:
    """Eigen-decomposition of a general matrix. Mirrors ``torch.linalg.eig``.

    Differences from PyTorch: Ember has no complex dtype, so this raises NotImplementedError.
    """
    raise NotImplementedError(f"ember.linalg.eig: {_NO_COMPLEX}")


def eigvals(A: Tensor) -> Any:
    """Eigenvalues of a general matrix. Mirrors ``torch.linalg.eigvals``.

    Differences from PyTorch: Ember has no complex dtype, so this raises NotImplementedError.
    """
    raise NotImplementedError(f"ember.linalg.eigvals: {_NO_COMPLEX}")
