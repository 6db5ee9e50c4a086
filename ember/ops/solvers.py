"""Triangular and Cholesky solves (triangular_solve, cholesky_solve), and the LU array kernel.

forward computes on arrays; backward composes Ember ops, so second derivatives work. Triangular
solves run ``TriangularSolve`` on the masked triangle. ``lu_arrays`` is the LU factorization on
arrays (a batched Doolittle loop with partial pivoting, LAPACK's getrf conventions: 1-based int32
pivots, info = first zero pivot); the differentiable LU family built on it is in ``lu.py``. The
``torch.linalg.*`` spellings live in ``ember/linalg/``; ``torch.*`` ones are exported here.
"""

from __future__ import annotations

from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import SCALAR_NAMES
from ember.ops.common import return_type
from ember.ops.decomposition import LinAlgError, _eye, _mm, _mT, _tril, _triu, check_matrix
from ember.ops.elementwise import add, clone, neg
from ember.ops.linalg import check_broadcast
from ember.ops.shape import sum_to
from ember.tensor import Tensor

__all__ = [
    "cholesky_inverse",
    "cholesky_solve",
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


# -- the LU kernel on arrays (the differentiable LU family is in lu.py) --------------------------
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
