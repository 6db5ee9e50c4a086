"""``ember.linalg``: the ``torch.linalg`` namespace.

Thin validating wrappers over the primitives in ``ember.ops.decomposition`` (factorizations and
solvers), ``ember.ops.linalg`` and ``ember.ops.einsum`` (products) and ``ember.ops.norms``.
"""

from __future__ import annotations

from typing import Any

from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import return_type
from ember.ops.decomposition import (
    QR,
    SVD,
    Cholesky,
    Eigh,
    Inv,
    LinAlgError,
    SlogDet,
    Solve,
    check_matrix,
    det,
)
from ember.ops.einsum import linalg_cross as cross
from ember.ops.elementwise import mul
from ember.ops.linalg import check_broadcast, matmul
from ember.ops.norms import matrix_norm, vector_norm
from ember.ops.reduction import sum as reduce_sum
from ember.ops.shape import reshape, transpose
from ember.tensor import Tensor

__all__ = [
    "LinAlgError",
    "cholesky",
    "cross",
    "det",
    "eigh",
    "eigvalsh",
    "inv",
    "matmul",
    "matrix_norm",
    "multi_dot",
    "norm",
    "qr",
    "slogdet",
    "solve",
    "svd",
    "svdvals",
    "vecdot",
    "vector_norm",
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


def multi_dot(tensors: Any) -> Tensor:
    """Multiply a chain of matrices (the ends may be vectors). Mirrors ``torch.linalg.multi_dot``.

    Differences from PyTorch: multiplies left to right, without choosing the cheapest order.
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    for i, t in enumerate(tensors):
        ndim = t.data.ndim
        if ndim != 2 and not (ndim == 1 and i in (0, len(tensors) - 1)):
            where = "first" if i == 0 else "last" if i == len(tensors) - 1 else None
            if where is None:
                raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {ndim}D")
            raise RuntimeError(f"multi_dot(): the {where} tensor must be 1D or 2D but got {ndim}D")
    out = tensors[0]
    for i, t in enumerate(tensors[1:], 1):
        if out.data.shape[-1] != t.data.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i - 1} and {i} with shapes {list(tensors[i - 1].shape)} "
                f"and {list(t.shape)} cannot be multiplied"
            )
        out = matmul(out, t)
    return out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Return the dot products of vectors along dim. Mirrors ``torch.linalg.vecdot``."""
    check_broadcast(x.data.shape, y.data.shape)
    return reduce_sum(mul(x, y), dim)


def norm(
    A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Return a vector or matrix norm, depending on ord and dim. Mirrors ``torch.linalg.norm``.

    With ``dim`` a 2-tuple (or None on a 2-D input with ord given), a matrix norm; otherwise a
    vector norm (ord=None flattens and takes the 2-norm).
    """
    if isinstance(dim, int):
        dim = (dim,)
    if dim is None and ord is not None and A.data.ndim > 2:
        raise RuntimeError(
            "linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. "
            f"Got {A.data.ndim}D."
        )
    matrix = dim is None and ord is not None and A.data.ndim == 2
    if matrix or (dim is not None and len(dim) == 2):
        return matrix_norm(A, "fro" if ord is None else ord, dim or (-2, -1), keepdim, dtype=dtype)
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 2. Got {dim}")
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)
