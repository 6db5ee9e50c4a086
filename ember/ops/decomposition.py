"""Matrix decompositions and solvers: inv, det, slogdet, solve, cholesky, qr, svd, eigh.

forward calls ``xp.linalg``; backward follows PyTorch's formulas (autograd/FunctionsManual.cpp),
written with Ember ops so that second derivatives work. This module holds the primitives and
the ``torch.*`` spellings (``torch.det``, ``torch.svd``, ...); ``ember/linalg.py`` holds the
``torch.linalg.*`` ones.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import return_type
from ember.ops.elementwise import add, div, mul, neg, sub
from ember.ops.indexing import getitem
from ember.ops.linalg import MatMul
from ember.ops.shape import reshape, sum_to, transpose
from ember.tensor import Tensor

__all__ = ["cholesky", "det", "inverse", "logdet", "qr", "slogdet", "svd"]


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive-definite. Mirrors ``torch.linalg.LinAlgError``."""


# -- validation ----------------------------------------------------------------------------------
def check_matrix(a: Tensor, op: str, square: bool = True) -> None:
    """PyTorch's checks on a (batch of) matrices: >= 2 dims, a float32/float64 dtype, square."""
    x = a.data
    if x.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if x.dtype.kind not in "fV":
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. Got "
            f"{SCALAR_NAMES[x.dtype.name]}"
        )
    if x.dtype.itemsize == 2:
        raise RuntimeError(
            f"{op}: Low precision dtypes not supported. Got {SCALAR_NAMES[x.dtype.name]}"
        )
    if square and x.shape[-1] != x.shape[-2]:
        raise RuntimeError(
            f"{op}: A must be batches of square matrices, but they are {x.shape[-2]} by "
            f"{x.shape[-1]} matrices"
        )


def _first_failure(xp: Any, a: Array, factor: Any) -> tuple[str, Array]:
    """The '(Batch element i): ' prefix and matrix of the first batch element factor rejects."""
    if a.ndim == 2:
        return "", a
    for i, matrix in enumerate(a.reshape(-1, *a.shape[-2:])):
        try:
            factor(matrix)
        except xp.linalg.LinAlgError:
            return f"(Batch element {i}): ", matrix
    return "", a  # pragma: no cover - factor rejected the batch, so some element fails


def _singular(xp: Any, a: Array, op: str) -> LinAlgError:
    prefix, _ = _first_failure(xp, a, xp.linalg.inv)
    return LinAlgError(
        f"{op}: {prefix}The inversion could not be completed because the input matrix is singular."
    )


def _not_positive_definite(xp: Any, a: Array, op: str) -> LinAlgError:
    prefix, matrix = _first_failure(xp, a, xp.linalg.cholesky)
    low, high = 1, matrix.shape[-1]  # bisect for the first leading minor that fails
    while low < high:
        mid = (low + high) // 2
        try:
            xp.linalg.cholesky(matrix[:mid, :mid])
            low = mid + 1
        except xp.linalg.LinAlgError:
            high = mid
    return LinAlgError(
        f"{op}: {prefix}The factorization could not be completed because the input is not "
        f"positive-definite (the leading minor of order {low} is not positive-definite)."
    )


# -- Tensor helpers for the backward formulas ------------------------------------------------
def _mT(t: Tensor) -> Tensor:
    return transpose(t, -1, -2)


def _col(t: Tensor) -> Tensor:
    return reshape(t, (*t.data.shape, 1))  # (..., n) -> (..., n, 1)


def _row(t: Tensor) -> Tensor:
    return reshape(t, (*t.data.shape[:-1], 1, t.data.shape[-1]))  # (..., n) -> (..., 1, n)


def _eye(n: int, like: Tensor) -> Tensor:
    return Tensor(array_module(like.data).eye(n, dtype=like.data.dtype))


def _triu(t: Tensor, k: int = 0) -> Tensor:
    xp = array_module(t.data)
    m, n = t.data.shape[-2:]
    return mul(t, Tensor(1 - xp.tri(m, n, k - 1, dtype=t.data.dtype)))


def _tril(t: Tensor, k: int = 0) -> Tensor:
    xp = array_module(t.data)
    m, n = t.data.shape[-2:]
    return mul(t, Tensor(xp.tri(m, n, k, dtype=t.data.dtype)))


def _diag_embed(v: Tensor) -> Tensor:
    return mul(_col(v), _eye(v.data.shape[-1], v))


def _mm(a: Tensor, b: Tensor) -> Tensor:
    return MatMul.apply(a, b)


# -- primitives ----------------------------------------------------------------------------------
class Inv(Function):
    """A^{-1}; grad_A = -A^{-T} grad A^{-T}."""

    @staticmethod
    def forward(ctx: Context, a: Array, op: str) -> Array:
        xp = array_module(a)
        try:
            out = xp.linalg.inv(a)
        except xp.linalg.LinAlgError:
            raise _singular(xp, a, op) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (out,) = ctx.saved_tensors
        out_t = _mT(out)
        return neg(_mm(_mm(out_t, grad), out_t)), None


class Det(Function):
    """det(A); grad_A = grad * det(A) * A^{-T} (A invertible)."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        out = array_module(a).asarray(array_module(a).linalg.det(a))
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        a, out = ctx.saved_tensors
        scale = _col(_col(mul(grad, out)))
        return mul(scale, _mT(Inv.apply(a, "linalg.det")))


class SlogDet(Function):
    """(sign, log|det A|); grad_A = grad_logabsdet * A^{-T}; the sign contributes zero."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> tuple[Array, Array]:
        xp = array_module(a)
        sign, logabsdet = xp.linalg.slogdet(a)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a)
        return xp.asarray(sign), xp.asarray(logabsdet)

    @staticmethod
    def backward(ctx: Context, grad_sign: Tensor | None, grad: Tensor | None) -> Tensor:
        (a,) = ctx.saved_tensors
        if grad is None:  # the sign is piecewise constant: a zero gradient, as in PyTorch
            return Tensor(array_module(a.data).zeros_like(a.data))
        return mul(_col(_col(grad)), _mT(Inv.apply(a, "linalg.slogdet")))


class LogDet(Function):
    """log det(A): nan where det < 0, -inf where det == 0; grad_A = grad * A^{-T}."""

    @staticmethod
    def forward(ctx: Context, a: Array) -> Array:
        xp = array_module(a)
        sign, logabsdet = xp.linalg.slogdet(a)
        ctx.save_for_backward(a)
        return xp.asarray(xp.where(sign < 0, xp.nan, logabsdet), dtype=a.dtype)

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> Tensor:
        (a,) = ctx.saved_tensors
        return mul(_col(_col(grad)), _mT(Inv.apply(a, "logdet")))


class Solve(Function):
    """X = A^{-1} B for batches of matrices B; grad_B = A^{-T} grad, grad_A = -grad_B X^T."""

    @staticmethod
    def forward(ctx: Context, a: Array, b: Array) -> Array:
        xp = array_module(a)
        try:
            out = xp.linalg.solve(a, b)
        except xp.linalg.LinAlgError:
            raise LinAlgError(
                "torch.linalg.solve: The solver failed because the input matrix is singular."
            ) from None
        ctx.shapes = a.shape, b.shape
        ctx.save_for_backward(a, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, out = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_b = Solve.apply(_mT(a), grad)
        grad_a = sum_to(neg(_mm(grad_b, _mT(out))), a_shape) if ctx.needs_input_grad[0] else None
        return grad_a, sum_to(grad_b, b_shape) if ctx.needs_input_grad[1] else None


class Cholesky(Function):
    """Lower L with A = L L^T; PyTorch's symmetric gradient L^{-T} Phi(L^T grad) L^{-1}.

    Phi keeps the lower triangle of a matrix and mirrors it, with the diagonal halved.
    """

    @staticmethod
    def forward(ctx: Context, a: Array, op: str) -> Array:
        xp = array_module(a)
        try:
            out = xp.linalg.cholesky(a)
        except xp.linalg.LinAlgError:
            raise _not_positive_definite(xp, a, op) from None
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple[Tensor, None]:
        (low,) = ctx.saved_tensors
        phi = _tril(_mm(_mT(low), grad))
        phi = mul(add(phi, _mT(_tril(phi, -1))), 0.5)
        low_inv = Inv.apply(low, "linalg.cholesky")
        return _mm(_mm(_mT(low_inv), phi), low_inv), None


class QR(Function):
    """Q, R with A = QR (Householder, LAPACK's signs); differentiable for modes reduced/complete."""

    @staticmethod
    def forward(ctx: Context, a: Array, mode: str) -> tuple[Array, Array]:
        xp = array_module(a)
        if mode == "r":
            q, r = xp.empty((0,), dtype=a.dtype), xp.linalg.qr(a, mode="r")
        else:
            q, r = xp.linalg.qr(a, mode=mode)
        ctx.mode = mode
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(a, q, r)
        return q, r

    @staticmethod
    def backward(ctx: Context, grad_q: Tensor | None, grad_r: Tensor | None) -> tuple:
        a, q, r = ctx.saved_tensors
        m, n = a.data.shape[-2:]
        if ctx.mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr."
            )
        if ctx.mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if m >= n:
            return _qr_grad(grad_q, grad_r, q, r), None
        # A = [X | Y] with X square: Q, U = qr(X) and V = Q^T Y, where R = [U | V].
        left, right = (..., slice(None), slice(None, m)), (..., slice(None), slice(m, None))
        grad_u = grad_v = None
        if grad_r is not None:
            grad_u, grad_v = getitem(grad_r, left), getitem(grad_r, right)
            grad_y_q = _mm(getitem(a, right), _mT(grad_v))
            grad_q = grad_y_q if grad_q is None else add(grad_q, grad_y_q)
        xp = array_module(a.data)
        grad_x = _qr_grad(grad_q, grad_u, q, getitem(r, left))
        grad_a = _mm(grad_x, Tensor(xp.eye(m, n, dtype=a.data.dtype)))  # [grad_X | 0]
        if grad_v is not None:
            place_y = Tensor(xp.eye(n - m, n, m, dtype=a.data.dtype))  # [0 | grad_Y]
            grad_a = add(grad_a, _mm(_mm(q, grad_v), place_y))
        return grad_a, None


def _qr_grad(grad_q: Tensor | None, grad_r: Tensor | None, q: Tensor, r: Tensor) -> Tensor:
    """grad_A = (grad_Q + Q sym(triu(grad_R R^T - Q^T grad_Q))) R^{-T}, for m >= n."""
    if grad_r is not None:
        x = _mm(grad_r, _mT(r))
        if grad_q is not None:
            x = sub(x, _mm(_mT(q), grad_q))
    else:
        x = neg(_mm(_mT(q), grad_q))
    x = _triu(x)
    grad_a = _mm(q, add(x, _mT(_triu(x, 1))))  # X + X^T - diag(X)
    if grad_q is not None:
        grad_a = add(grad_a, grad_q)
    return _mm(grad_a, _mT(Inv.apply(r, "linalg.qr")))


class SVD(Function):
    """U, S, Vh with A = U diag(S) Vh; gradient for distinct (nonzero, if m != n) values."""

    @staticmethod
    def forward(ctx: Context, a: Array, full_matrices: bool) -> tuple[Array, Array, Array]:
        u, s, vh = array_module(a).linalg.svd(a, full_matrices=full_matrices)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx: Context, grad_u: Any, grad_s: Any, grad_vh: Any) -> tuple[Tensor, None]:
        u, s, vh = ctx.saved_tensors
        k = s.data.shape[-1]
        if u.data.shape[-1] != k:  # full_matrices: only the first k columns carry gradient
            cols = (..., slice(None), slice(None, k))
            u = getitem(u, cols)
            grad_u = None if grad_u is None else getitem(grad_u, cols)
        if vh.data.shape[-2] != k:
            rows = (..., slice(None, k), slice(None))
            vh = getitem(vh, rows)
            grad_vh = None if grad_vh is None else getitem(grad_vh, rows)
        return _svd_grad(grad_u, grad_s, grad_vh, u, s, vh), None


def _svd_grad(grad_u: Any, grad_s: Any, grad_vh: Any, u: Tensor, s: Tensor, vh: Tensor) -> Tensor:
    """PyTorch's svd_backward for real inputs (reduced U, Vh)."""
    m, n = u.data.shape[-2], vh.data.shape[-1]
    if grad_u is None and grad_vh is None:
        return _mm(mul(u, _row(grad_s)), vh)
    s_row, s_col = _row(s), _col(s)
    s2 = mul(s, s)
    gaps = add(sub(_row(s2), _col(s2)), _eye(s.data.shape[-1], s))  # s_k^2 - s_j^2, 1 on diag
    if grad_u is not None:
        uhgu = _mm(_mT(u), grad_u)
        uhgu = sub(uhgu, _mT(uhgu))
    if grad_vh is not None:
        vhgv = _mm(vh, _mT(grad_vh))
        vhgv = sub(vhgv, _mT(vhgv))
    if grad_u is not None and grad_vh is not None:
        inner = div(add(mul(uhgu, s_row), mul(s_col, vhgv)), gaps)
    elif grad_u is not None:
        inner = mul(div(uhgu, gaps), s_row)
    else:
        inner = mul(s_col, div(vhgv, gaps))
    if grad_s is not None:
        inner = add(inner, _diag_embed(grad_s))
    if m > n and grad_u is not None:  # + (I - U U^T) grad_U S^{-1} V^T
        grad_u_sinv = div(grad_u, s_row)
        out = add(_mm(u, inner), sub(grad_u_sinv, _mm(u, _mm(_mT(u), grad_u_sinv))))
        return _mm(out, vh)
    if m < n and grad_vh is not None:  # + U S^{-1} grad_V^T (I - V V^T)
        sinv_grad_vh = div(grad_vh, s_col)
        out = add(_mm(inner, vh), sub(sinv_grad_vh, _mm(_mm(sinv_grad_vh, _mT(vh)), vh)))
        return _mm(u, out)
    return _mm(u, _mm(inner, vh))


class Eigh(Function):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, from its UPLO triangle.

    grad_A = V (diag(grad_L) + skew(V^T grad_V) / (L_k - L_j)) V^T, for distinct eigenvalues.
    """

    @staticmethod
    def forward(ctx: Context, a: Array, uplo: str) -> tuple[Array, Array]:
        values, vectors = array_module(a).linalg.eigh(a, UPLO=uplo)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(values, vectors)
        return values, vectors

    @staticmethod
    def backward(ctx: Context, grad_values: Any, grad_vectors: Any) -> tuple[Tensor, None]:
        values, v = ctx.saved_tensors
        if grad_vectors is None:
            return _mm(mul(v, _row(grad_values)), _mT(v)), None
        vhgv = _mm(_mT(v), grad_vectors)
        vhgv = mul(sub(vhgv, _mT(vhgv)), 0.5)
        gaps = add(sub(_row(values), _col(values)), _eye(values.data.shape[-1], values))
        inner = div(vhgv, gaps)
        if grad_values is not None:
            inner = add(inner, _diag_embed(grad_values))
        return _mm(v, _mm(inner, _mT(v))), None


# -- the torch.* spellings ------------------------------------------------------------------------
def inverse(input: Tensor) -> Tensor:
    """Return the inverse of a (batch of) square matrices. Mirrors ``torch.inverse``.

    Raises ``ember.linalg.LinAlgError`` for a singular matrix.
    """
    check_matrix(input, "linalg.inv")
    return Inv.apply(input, "linalg.inv")


def det(input: Tensor) -> Tensor:
    """Return the determinant of a (batch of) square matrices. Mirrors ``torch.det``.

    Differences from PyTorch: the gradient at a singular matrix raises LinAlgError.
    """
    check_matrix(input, "linalg.det")
    return Det.apply(input)


def logdet(input: Tensor) -> Tensor:
    """Return log det(input): nan for a negative determinant. Mirrors ``torch.logdet``."""
    check_matrix(input, "logdet")
    return LogDet.apply(input)


def slogdet(input: Tensor) -> Any:
    """Return (sign, log|det|) of a (batch of) square matrices. Mirrors ``torch.slogdet``."""
    check_matrix(input, "linalg.slogdet")
    return return_type("slogdet", ("sign", "logabsdet"))(*SlogDet.apply(input))


def cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """Return the Cholesky factor of an SPD matrix. Mirrors ``torch.cholesky``.

    Reads the lower triangle; ``upper=True`` returns L^T. Differences from PyTorch: no
    deprecation warning.
    """
    check_matrix(input, "cholesky")
    low = Cholesky.apply(input, "cholesky")
    return _mT(low) if upper else low


def qr(input: Tensor, some: bool = True) -> Any:
    """Return (Q, R), reduced when some=True, else complete. Mirrors ``torch.qr``.

    Differences from PyTorch: no deprecation warning.
    """
    check_matrix(input, "linalg.qr", square=False)
    return return_type("qr", ("Q", "R"))(*QR.apply(input, "reduced" if some else "complete"))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> Any:
    """Return (U, S, V) with input = U diag(S) V^T (note V, not Vh). Mirrors ``torch.svd``.

    ``some=True`` gives the reduced factors; ``compute_uv=False`` gives zero-filled U and V.
    """
    check_matrix(input, "linalg.svd", square=False)
    result = return_type("svd", ("U", "S", "V"))
    u, s, vh = SVD.apply(input, not some and compute_uv)
    if not compute_uv:
        xp = array_module(input.data)
        *batch, m, n = input.data.shape
        zeros_u = Tensor(xp.zeros((*batch, m, m), dtype=input.data.dtype))
        zeros_v = Tensor(xp.zeros((*batch, n, n), dtype=input.data.dtype))
        return result(zeros_u, s, zeros_v)
    return result(u, s, _mT(vh))
