"""Matrix functions: matrix_power, matrix_exp, pinv, lstsq, matrix_rank, cond, chain_matmul, addr.

matrix_exp is a primitive (scaling and squaring with a degree-13 Pade approximant, computed in
float64) whose gradient is PyTorch's block-matrix trick; the rest compose differentiable ops
(pinv has PyTorch's pinv_backward). The ``torch.linalg.*`` spellings live in
``ember/linalg.py``; the ``torch.*`` ones are exported here.
"""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.combine import where
from ember.ops.common import return_type
from ember.ops.decomposition import SVD, Inv, _col, _mm, _mT, check_matrix
from ember.ops.elementwise import add, div, mul, sub
from ember.ops.indexing import getitem
from ember.ops.join import cat
from ember.ops.linalg import Zeroed, _check_expand, _scale_add, matmul, outer
from ember.ops.norms import matrix_norm
from ember.ops.reduction import sum as reduce_sum
from ember.ops.shape import reshape
from ember.ops.solvers import lu_arrays
from ember.tensor import Tensor

__all__ = ["addr", "chain_matmul", "matrix_exp", "matrix_power", "orgqr", "pinverse"]


# -- matrix_power --------------------------------------------------------------------------------
def _check_square(A: Tensor, op: str) -> None:
    shape = A.data.shape
    if len(shape) < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if shape[-1] != shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {shape[-2]} by "
            f"{shape[-1]} matrices"
        )


def matrix_power(input: Tensor, n: int) -> Tensor:
    """Raise square matrices to an integer power. Mirrors ``torch.matrix_power``.

    n < 0 inverts first; n = 0 gives the identity (with a zero gradient). Integer matrices
    accept n >= 0.
    """
    _check_square(input, "linalg.matrix_power")
    if n == 0:
        xp = array_module(input.data)
        eye = xp.eye(input.data.shape[-1], dtype=input.data.dtype)
        eye = Tensor(xp.broadcast_to(eye, input.data.shape).copy())
        return add(Zeroed.apply(input), eye) if input.requires_grad else eye
    if n < 0:
        check_matrix(input, "linalg.inv")
        input, n = Inv.apply(input, "linalg.inv"), -n
    out = None
    while True:  # binary exponentiation
        if n & 1:
            out = input if out is None else matmul(out, input)
        n >>= 1
        if not n:
            return out
        input = matmul(input, input)


# -- matrix_exp ----------------------------------------------------------------------------------
_PADE13 = (
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
)
_THETA13 = 5.371920351148152


def expm_array(a: Array) -> Array:
    """exp(A) of a batch: scaling and squaring with a [13/13] Pade approximant (Higham 2005)."""
    xp = array_module(a)
    work = a.astype(xp.float64)
    norm = xp.abs(work).sum(-2).max(-1) if work.size else xp.zeros(work.shape[:-2])
    with xp.errstate(divide="ignore", invalid="ignore"):
        steps = xp.ceil(xp.log2(norm / _THETA13))
    steps = xp.where(xp.isfinite(steps) & (steps > 0), steps, 0).astype(xp.int64)
    work = work * (2.0 ** -steps.astype(xp.float64))[..., None, None]
    b, eye = _PADE13, xp.eye(a.shape[-1])
    a2 = work @ work
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = work @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2) + b[7] * a6 + b[5] * a4 + b[3] * a2)
    u = u + b[1] * work
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    out = xp.linalg.solve(v - u, v + u)
    for i in range(int(steps.max()) if steps.size else 0):
        out = xp.where((steps > i)[..., None, None], out @ out, out)
    return out.astype(a.dtype)


class MatrixExp(Function):
    """exp(A); grad_A = exp([[A^T, G], [0, A^T]])[:n, n:] (PyTorch's block-matrix trick)."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        ctx.save_for_backward(a)
        return expm_array(a)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        n = a.data.shape[-1]
        a_t = _mT(a)
        zeros = Tensor(array_module(a.data).zeros(grad.data.shape, dtype=grad.data.dtype))
        block = cat([cat([a_t, grad], -1), cat([zeros, a_t], -1)], -2)  # (*, 2n, 2n)
        return getitem(MatrixExp.apply(block), (..., slice(None, n), slice(n, None)))


def matrix_exp(input: Tensor) -> Tensor:
    """Return the matrix exponential of square matrices. Mirrors ``torch.matrix_exp``."""
    _check_square(input, "linalg.matrix_exp")
    check_matrix(input, "linalg.matrix_exp")
    return MatrixExp.apply(input)


# -- pseudo-inverse, rank, least squares ---------------------------------------------------------
def _check_pinv(A: Tensor, op: str) -> None:
    x = A.data
    if x.ndim < 2 or x.dtype.kind != "f" or x.dtype.itemsize == 2:
        raise RuntimeError(
            f"{op}({SCALAR_NAMES[x.dtype.name]}{{{list(x.shape)}}}): expected a tensor with 2 or "
            "more dimensions of float, double, cfloat or cdouble types"
        )


def _tolerance(xp: Any, smax: Array, shape: tuple, atol: Any, rtol: Any) -> Array:
    """max(atol, rtol * smax) with PyTorch's defaults (rtol = eps * max(m, n) if neither given)."""
    if rtol is None:
        default = xp.finfo(smax.dtype).eps * max(shape[-2:])
        rtol = default if atol is None or xp.all(xp.asarray(atol) <= 0) else 0.0
    return xp.maximum(0.0 if atol is None else atol, rtol * smax).astype(smax.dtype)


def pinv_array(a: Array, atol: Any, rtol: Any, hermitian: bool) -> Array:
    """V diag(1/s for s > tol, else 0) U^T from the SVD (eigh when hermitian)."""
    xp = array_module(a)
    if hermitian:
        values, vectors = xp.linalg.eigh(a)
        mags, left, right_t = xp.abs(values), vectors, vectors
    else:
        left, values, vh = xp.linalg.svd(a, full_matrices=False)
        mags, right_t = values, vh.swapaxes(-1, -2)
    smax = mags.max(-1) if mags.shape[-1] else xp.zeros(mags.shape[:-1], dtype=mags.dtype)
    keep = mags > _tolerance(xp, smax, a.shape, atol, rtol)[..., None]
    inv = xp.where(keep, 1 / xp.where(keep, values, 1), 0).astype(a.dtype)
    return (right_t * inv[..., None, :]) @ left.swapaxes(-1, -2)


class Pinv(Function):
    """A^+; PyTorch's pinv_backward (constant rank), so hermitian A gets a full gradient too."""

    @staticmethod
    def forward(ctx: Context, a: Array, atol: Any, rtol: Any, hermitian: bool) -> Array:
        out = pinv_array(a, atol, rtol, hermitian)
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None, None, None]:
        a, pinv_a = ctx.saved_tensors
        m, n = a.data.shape[-2:]
        pinv_t, grad_t = _mT(pinv_a), _mT(grad)
        if m <= n:
            k = _mm(grad_t, pinv_a)
            k_pinv_t = _mm(k, pinv_t)
            out = sub(k_pinv_t, _mT(_mm(pinv_a, k)))
            out = sub(out, _mm(_mm(a, pinv_a), k_pinv_t))
            out = add(out, _mm(_mm(pinv_t, pinv_a), sub(grad_t, _mm(k, a))))
        else:
            k = _mm(pinv_a, grad_t)
            pinv_t_k = _mm(pinv_t, k)
            out = sub(pinv_t_k, _mT(_mm(k, pinv_a)))
            out = add(out, _mm(_mm(sub(grad_t, _mm(a, k)), pinv_a), pinv_t))
            out = sub(out, _mm(_mm(pinv_t_k, pinv_a), a))
        return out, None, None, None


def pinv_tensors(A: Tensor, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """The pseudo-inverse with PyTorch's tolerance rule (atol, rtol may be floats or Tensors)."""
    return Pinv.apply(A, getattr(atol, "data", atol), getattr(rtol, "data", rtol), hermitian)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """Return the Moore-Penrose pseudo-inverse. Mirrors ``torch.pinverse``.

    Singular values <= rcond * max are dropped.
    """
    _check_pinv(input, "linalg.pinv")
    return pinv_tensors(input, atol=0.0, rtol=rcond)


def matrix_rank_tensor(A: Tensor, atol: Any, rtol: Any, hermitian: bool) -> Tensor:
    """The number of singular values (|eigenvalues|) above the tolerance, as int64."""
    xp = array_module(A.data)
    if hermitian:
        mags = xp.abs(xp.linalg.eigvalsh(A.data))
    else:
        mags = xp.linalg.svd(A.data, compute_uv=False)
    smax = mags.max(-1) if mags.shape[-1] else xp.zeros(mags.shape[:-1], dtype=mags.dtype)
    tol = _tolerance(xp, smax, A.data.shape, atol, rtol)[..., None]
    return Tensor(xp.asarray((mags > tol).sum(-1), dtype=xp.int64))


_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq_tensors(A: Tensor, B: Tensor, rcond: Any, driver: str | None) -> Any:
    """torch.linalg.lstsq's four fields, the solution being pinv(A) B (differentiable)."""
    xp = array_module(A.data)
    driver = driver or "gelsy"
    m, n = A.data.shape[-2:]
    if rcond is None:
        rcond = float(xp.finfo(A.data.dtype).eps) * max(m, n)
    vector = B.data.ndim == A.data.ndim - 1
    rhs = _col(B) if vector else B
    solution = _mm(pinv_tensors(A, atol=0.0, rtol=rcond), rhs)
    empty = Tensor(xp.empty((0,), dtype=A.data.dtype))
    values = xp.linalg.svd(A.data, compute_uv=False)
    smax = values[..., :1] if n and m else values
    rank_array = (values > rcond * smax).sum(-1).astype(xp.int64)
    rank = Tensor(rank_array) if driver != "gels" else Tensor(xp.empty((0,), dtype=xp.int64))
    residuals = empty
    if driver != "gelsy" and m > n and bool(xp.all(rank_array == n)):
        diff = sub(_mm(A, solution), rhs)
        residuals = reduce_sum(mul(diff, diff), -2)
    singular = Tensor(values) if driver in ("gelsd", "gelss") else empty
    if vector:
        solution = getitem(solution, (..., 0))
    return return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))(
        solution, residuals, rank, singular
    )


_COND_NORMS = ("fro", "nuc", math.inf, -math.inf, 1, -1)


def cond_tensor(A: Tensor, p: Any) -> Tensor:
    """kappa_p(A) = ||A||_p ||A^{-1}||_p; p in (None, 2, -2) through the singular values."""
    if p is None or p in (2, -2):
        s = SVD.apply(A, False)[1]
        first, last = getitem(s, (..., 0)), getitem(s, (..., -1))
        return div(last, first) if p == -2 else div(first, last)
    xp = array_module(A.data)
    singular = lu_arrays(xp, A.data)[2] != 0  # (*,): exactly singular -> inf, as PyTorch
    if singular.any():
        eye = xp.eye(A.data.shape[-1], dtype=A.data.dtype)
        safe = Tensor(xp.where(singular[..., None, None], eye, A.data))
        return where(Tensor(singular), math.inf, cond_tensor(safe, p))
    inverse = Inv.apply(A, "linalg.cond")
    return mul(matrix_norm(A, p), matrix_norm(inverse, p))


# -- small products ------------------------------------------------------------------------------
def chain_matmul(*matrices: Tensor) -> Tensor:
    """Multiply a chain of 2-D matrices. Mirrors ``torch.chain_matmul``.

    Differences from PyTorch: no deprecation warning; multiplies left to right.
    """
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for m in matrices:
        if m.data.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {m.data.ndim}, expected 2 instead.")
    if len(matrices) == 1:
        return add(matrices[0], 0)
    result = matrices[0]
    for i, m in enumerate(matrices[1:], 1):
        if result.data.shape[1] != m.data.shape[0]:
            raise RuntimeError(
                f"multi_dot(): tensors {i - 1} and {i} with shapes {list(matrices[i - 1].shape)} "
                f"and {list(m.shape)} cannot be multiplied"
            )
        result = matmul(result, m)
    return result


def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """Return beta * input + alpha * outer(vec1, vec2). Mirrors ``torch.addr``.

    Shapes: input broadcastable to (n, m); vec1 (n,); vec2 (m,).
    """
    for name, t in (("vec1", vec1), ("vec2", vec2)):
        if t.data.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {t.data.ndim}-D")
    _check_expand(input, (vec1.data.shape[0], vec2.data.shape[0]))
    return _scale_add(input, outer(vec1, vec2), beta, alpha)


# -- Householder products ------------------------------------------------------------------------
def _check_householder(A: Tensor, tau: Tensor) -> None:
    op = "torch.linalg.householder_product"
    a, t = A.data, tau.data
    if a.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(
            f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]"
        )
    if t.ndim != a.ndim - 1:
        raise RuntimeError(
            f"{op}: Expected tau to have one dimension less than input, but got tau.ndim equal "
            f"to {t.ndim} and input.ndim is equal to {a.ndim}"
        )
    if a.shape[-1] < t.shape[-1]:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(
            f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
            f"{list(t.shape[:-1])}"
        )
    if t.dtype != a.dtype:
        raise RuntimeError(
            f"{op}: tau dtype {SCALAR_NAMES[t.dtype.name]} does not match input dtype "
            f"{SCALAR_NAMES[a.dtype.name]}"
        )
    if a.dtype.kind != "f" or a.dtype.itemsize == 2:
        raise NotImplementedError(
            f"\"orgqr_cpu\" not implemented for '{SCALAR_NAMES[a.dtype.name]}'"
        )


def householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """Return the product of Householder reflectors. Mirrors ``torch.linalg.householder_product``.

    The first n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i being column i of A
    below the diagonal with a 1 on it (LAPACK's orgqr layout). Shapes: A (*, m, n), tau (*, k),
    k <= n <= m. Differentiable in A and tau by composition (k rank-one updates).
    """
    _check_householder(A, tau)
    xp = array_module(A.data)
    m, n = A.data.shape[-2:]
    dtype = A.data.dtype
    q = Tensor(xp.broadcast_to(xp.eye(m, dtype=dtype), (*A.data.shape[:-2], m, m)).copy())
    for i in range(tau.data.shape[-1]):
        below = Tensor((xp.arange(m) > i).astype(dtype))
        unit = Tensor(xp.eye(1, m, i, dtype=dtype)[0])
        v = _col(add(mul(getitem(A, (..., slice(None), i)), below), unit))  # (*, m, 1)
        tau_i = reshape(getitem(tau, (..., i)), (*tau.data.shape[:-1], 1, 1))
        q = sub(q, mul(tau_i, _mm(_mm(q, v), _mT(v))))  # Q (I - tau v v^T)
    return getitem(q, (..., slice(None), slice(None, n)))


def orgqr(input: Tensor, input2: Tensor) -> Tensor:
    """Return the Q of a QR from LAPACK's Householder form. Mirrors ``torch.orgqr``."""
    return householder_product(input, input2)
