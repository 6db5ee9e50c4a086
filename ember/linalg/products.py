"""``torch.linalg`` products, norms and least squares: multi_dot, vecdot, norm, pinv, lstsq, ...

Wrappers over ``ember.ops.linalg`` (products), ``ember.ops.norms`` and
``ember.ops.matrix_functions`` (pinv, matrix_rank, lstsq, cond).
"""

from __future__ import annotations

from typing import Any

from ember.backend import array_module
from ember.backend.dtypes import SCALAR_NAMES, int64
from ember.ops.common import cast
from ember.ops.decomposition import check_matrix
from ember.ops.elementwise import mul
from ember.ops.join import cat
from ember.ops.linalg import check_broadcast, matmul
from ember.ops.matrix_functions import (
    _COND_NORMS,
    _DRIVERS,
    _check_pinv,
    cond_tensor,
    lstsq_tensors,
    matrix_rank_tensor,
    pinv_tensors,
)
from ember.ops.norms import matrix_norm, vector_norm
from ember.ops.reduction import sum as reduce_sum
from ember.ops.shape import reshape
from ember.ops.strided import diagonal as _diagonal
from ember.tensor import Tensor

__all__ = [
    "cond",
    "diagonal",
    "lstsq",
    "matrix_rank",
    "multi_dot",
    "norm",
    "pinv",
    "vander",
    "vecdot",
]


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


def _check_float_double(A: Tensor) -> None:
    if A.data.dtype.kind != "f" or A.data.dtype.itemsize == 2:
        raise RuntimeError("This function doesn't handle types other than float and double")


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
