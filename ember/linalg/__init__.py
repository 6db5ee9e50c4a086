"""``ember.linalg``: the ``torch.linalg`` namespace.

Thin validating wrappers over the primitives in ``ember.ops``, by job: ``decompositions``
(inv, solve, cholesky, qr, svd, eigh, triangular and tensor solves), ``lu_ex`` (the LU family
and the ``_ex`` variants that report ``info``) and ``products`` (multi_dot, vecdot, norms,
pinv, matrix_rank, lstsq, cond, vander). ``det``, ``cross``, ``matmul``, ``matrix_exp``,
``matrix_power``, ``householder_product`` and the norms are the ``ember.ops`` functions.
"""

from ember.linalg.decompositions import (
    cholesky,
    eig,
    eigh,
    eigvals,
    eigvalsh,
    inv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
    tensorinv,
    tensorsolve,
)
from ember.linalg.lu_ex import (
    cholesky_ex,
    inv_ex,
    lu,
    lu_factor,
    lu_factor_ex,
    lu_solve,
    solve_ex,
)
from ember.linalg.products import (
    cond,
    diagonal,
    lstsq,
    matrix_rank,
    multi_dot,
    norm,
    pinv,
    vander,
    vecdot,
)
from ember.ops.decomposition import LinAlgError, det
from ember.ops.einsum import linalg_cross as cross
from ember.ops.linalg import matmul
from ember.ops.matrix_functions import householder_product, matrix_exp, matrix_power
from ember.ops.norms import matrix_norm, vector_norm

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
