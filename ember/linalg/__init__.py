"""``ember.linalg``: the ``torch.linalg`` namespace.

Thin validating wrappers over the primitives in ``ember.ops.decomposition`` (factorizations and
solvers), ``ember.ops.solvers`` (triangular and LU solves), ``ember.ops.matrix_functions``
(matrix_exp, pinv, lstsq, ...), ``ember.ops.linalg`` and ``ember.ops.einsum`` (products) and
``ember.ops.norms``.
"""

from __future__ import annotations

from typing import Any

from ember.backend import array_module
from ember.backend.dtypes import SCALAR_NAMES, int64
from ember.ops.common import cast, return_type
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
from ember.ops.dims import movedim
from ember.ops.einsum import linalg_cross as cross
from ember.ops.elementwise import mul
from ember.ops.join import cat
from ember.ops.linalg import check_broadcast, matmul
from ember.ops.matrix_functions import (
    _COND_NORMS,
    _DRIVERS,
    _check_pinv,
    cond_tensor,
    householder_product,
    lstsq_tensors,
    matrix_exp,
    matrix_power,
    matrix_rank_tensor,
    pinv_tensors,
)
from ember.ops.norms import matrix_norm, vector_norm
from ember.ops.reduction import sum as reduce_sum
from ember.ops.shape import reshape, transpose
from ember.ops.solvers import (
    LU,
    check_lu_dtype,
    check_lu_input,
    check_pivots,
    check_solve_shapes,
    lu_arrays,
    lu_solve_tensors,
    pack_lu,
    solve_tri,
)
from ember.ops.strided import diagonal as _diagonal
from ember.tensor import Tensor

__all__ = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "cond",
    "cross",
    "det",
    "diagonal",
    "eig",
    "eigh",
    "eigvals",
    "eigvalsh",
    "householder_product",
    "inv",
    "inv_ex",
    "lstsq",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "matmul",
    "matrix_exp",
    "matrix_norm",
    "matrix_power",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_ex",
    "solve_triangular",
    "svd",
    "svdvals",
    "tensorinv",
    "tensorsolve",
    "vander",
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


# -- triangular and LU solves --------------------------------------------------------------------
def _check_float_double(A: Tensor) -> None:
    if A.data.dtype.kind != "f" or A.data.dtype.itemsize == 2:
        raise RuntimeError("This function doesn't handle types other than float and double")


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


# -- pseudo-inverse, rank, least squares, conditioning, matrix functions ------------------------
def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Return the Moore-Penrose pseudo-inverse. Mirrors ``torch.linalg.pinv``.

    Singular values (|eigenvalues| when ``hermitian``) <= max(atol, rtol * s_max) are dropped;
    with neither given, rtol = eps * max(m, n). Differentiable through the SVD (or eigh).
    """
    _check_pinv(A, "linalg.pinv")
    return pinv_tensors(A, atol, rtol, hermitian)


def matrix_rank(
    A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False
) -> Tensor:
    """Return the numerical rank (int64). Mirrors ``torch.linalg.matrix_rank``.

    Counts singular values (|eigenvalues| when ``hermitian``) above pinv's tolerance.
    """
    if A.data.ndim < 2:
        raise RuntimeError(
            "torch.linalg.matrix_rank: The input tensor input must have at least 2 dimensions."
        )
    _check_float_double(A)
    check_matrix(A, "linalg.matrix_rank", square=hermitian)
    return matrix_rank_tensor(A, atol, rtol, hermitian)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> Any:
    """Return the least-squares solution of AX = B. Mirrors ``torch.linalg.lstsq``.

    The result is (solution, residuals, rank, singular_values).

    Fields follow PyTorch's CPU drivers: rank for all but 'gels'; singular values for 'gelsd'
    and 'gelss'; residuals (squared column norms of AX - B) when m > n, A is full rank and the
    driver is not 'gelsy' (the default). The solution is pinv(A) B, differentiable in A and B.
    """
    if driver is not None and driver not in _DRIVERS:
        raise RuntimeError(
            "torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)"
        )
    if A.data.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    _check_float_double(A)
    check_matrix(A, "torch.linalg.lstsq", square=False)
    if B.data.ndim < 1 or A.data.dtype != B.data.dtype:
        raise RuntimeError(
            "torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
            f"input's dtype {SCALAR_NAMES[A.data.dtype.name]} and other's dtype "
            f"{SCALAR_NAMES[B.data.dtype.name]}"
        )
    if not 0 <= A.data.ndim - B.data.ndim <= 1:
        raise RuntimeError(
            "torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
            "(input.dim() - other.dim()) <= 1"
        )
    vector = B.data.ndim == A.data.ndim - 1
    if B.data.shape[-1 if vector else -2] != A.data.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    return lstsq_tensors(A, B, rcond, driver)


def cond(A: Tensor, p: Any = None) -> Tensor:
    """Return the condition number of A in norm p. Mirrors ``torch.linalg.cond``.

    p in (None, 2, -2) uses the singular values (any shape); 'fro', 'nuc', inf, -inf, 1, -1
    need square A (inf for a singular one, as PyTorch).
    """
    if p is not None and p not in (2, -2) and p not in _COND_NORMS:
        raise RuntimeError(f"linalg.cond got an invalid norm type: {p}")
    if A.data.ndim < 2:
        raise RuntimeError("linalg.cond: The input tensor must have at least 2 dimensions.")
    square = p is not None and p not in (2, -2)
    if A.data.dtype.kind != "f" or A.data.dtype.itemsize == 2:
        check_matrix(A, "linalg.inv" if square else "linalg.svd", square=False)
    check_matrix(A, f"linalg.cond(ord={p})" if square else "linalg.cond", square=square)
    return cond_tensor(A, p)


def vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """Return the Vandermonde matrix of increasing powers. Mirrors ``torch.linalg.vander``.

    Column j holds x**j, j < N.

    Shapes: x (*, n) -> (*, n, N), N = n by default.
    """
    n = x.data.shape[-1] if x.data.ndim else 1
    N = n if N is None else N
    if N <= 1:
        raise RuntimeError("N must be greater than 1.")
    if x.data.dtype.kind in "iub":  # integer powers come out int64, as PyTorch's cumprod
        x = cast(x, int64)
    column = reshape(x, (*x.data.shape, 1))  # (*, n, 1)
    columns = [Tensor(array_module(x.data).ones(column.data.shape, dtype=x.data.dtype)), column]
    for _ in range(N - 2):  # repeated products: exact gradients where x == 0
        columns.append(mul(columns[-1], column))
    return cat(columns, -1)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Return the diagonals of a batch of matrices. Mirrors ``torch.linalg.diagonal``."""
    return _diagonal(A, offset, dim1, dim2)


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
