"""Norms: ``norm``, ``vector_norm`` and ``matrix_norm`` (``torch.linalg``'s), as reductions."""

from __future__ import annotations

import math
from typing import Any

from ember.autograd.function import Context, Function
from ember.backend import Array, array_module
from ember.backend.dtypes import as_dtype
from ember.ops.common import cast, is_float_array, wrap_dim
from ember.ops.elementwise import mul
from ember.ops.reduction import expand_grad, kept_shape, reduce_dims
from ember.ops.reduction import sum as _sum
from ember.ops.selection import amax, amin
from ember.ops.shape import permute, reshape
from ember.tensor import Tensor

__all__ = ["matrix_norm", "norm", "vector_norm"]


class VectorNorm(Function):
    """(sum |x|^p)^(1/p) over dims, with p = 0 (count), inf and -inf (max and min of |x|).

    Gradients follow PyTorch: sgn(x) |x|^(p-1) / norm^(p-1), taken as 0 where the norm is 0;
    for +-inf, tied elements share it evenly; for p = 0, it is 0.
    """

    @staticmethod
    def forward(ctx: Context, x: Array, p: float, dims: tuple, keepdim: bool) -> Array:
        xp = array_module(x)
        ctx.p, ctx.dims = p, dims
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        elif p == 0:
            out = (x != 0).sum(axis=dims, keepdims=keepdim).astype(x.dtype)
        else:
            a = xp.abs(x)
            if p == math.inf:
                out = a.max(axis=dims, keepdims=keepdim)
            elif p == -math.inf:
                out = a.min(axis=dims, keepdims=keepdim)
            elif p == 1:
                out = a.sum(axis=dims, keepdims=keepdim)
            else:
                with xp.errstate(divide="ignore"):  # 0 ** negative p = inf, as in PyTorch
                    out = (a**p).sum(axis=dims, keepdims=keepdim) ** (1 / p)
        out = xp.asarray(out)  # a full reduction gives a numpy scalar
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Context, grad: Tensor) -> tuple:
        x, out = ctx.saved_tensors
        p, dims, data = ctx.p, ctx.dims, x.data
        xp = array_module(data)
        grad = expand_grad(grad, data.shape, dims)
        if p == 0:
            return grad * 0.0, None, None, None
        sgn = xp.sign(data)
        if p in (math.inf, -math.inf):
            hit = xp.abs(data) == out.data.reshape(kept_shape(data.shape, dims))
            weights = sgn * hit / hit.sum(axis=dims, keepdims=True)
            return mul(grad, Tensor(weights.astype(data.dtype))), None, None, None
        if p == 1:
            return mul(grad, Tensor(sgn)), None, None, None
        safe_out = expand_grad(out + Tensor((out.data == 0).astype(data.dtype)), data.shape, dims)
        if p == 2:
            return grad * x / safe_out, None, None, None
        zero = Tensor((data == 0).astype(data.dtype))
        safe_abs = x * Tensor(sgn) + zero  # |x|, with 1 where x == 0 (sgn zeroes those)
        return Tensor(sgn) * safe_abs ** (p - 1) * grad * safe_out ** (1 - p), None, None, None


def _float_input(input: Tensor, dtype: Any, op: str) -> Tensor:
    if not is_float_array(input.data):
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as input. "
            f"Got {input.dtype.name.capitalize()}"
        )
    if dtype is None:
        return input
    dtype = as_dtype(dtype)
    if not dtype.is_floating_point:
        raise RuntimeError(
            f"{op}: dtype should be floating point or complex, but got {dtype.name.capitalize()}"
        )
    return cast(input, dtype)


def vector_norm(
    x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Return the ord-norm of x over dims (all by default). Mirrors ``torch.linalg.vector_norm``.

    ord may be any number, inf, -inf or 0 (the count of nonzeros). The gradient at a zero
    vector is 0 (p >= 1), as in PyTorch.
    """
    x = _float_input(x, dtype, "linalg.vector_norm")
    dims = reduce_dims(dim, x.data.ndim, "linalg.vector_norm")
    return VectorNorm.apply(x, float(ord), dims, keepdim)


def _abs(x: Tensor) -> Tensor:
    """|x| as x * sgn(x), so its gradient is sgn(x) (0 at 0)."""
    return mul(x, Tensor(array_module(x.data).sign(x.data)))


def matrix_norm(
    A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *, dtype: Any = None
) -> Tensor:
    """Return the ord-norm of the matrices in A over dims. Mirrors ``torch.linalg.matrix_norm``.

    ord 'nuc', 2 and -2 go through the singular values (their sum, largest, smallest).
    """
    A = _float_input(A, dtype, "linalg.matrix_norm")
    ndim = A.data.ndim
    if ndim < 2:
        raise RuntimeError(
            "linalg.matrix_norm: The input tensor A must have at least 2 dimensions."
        )
    rows, cols = (wrap_dim(d, ndim, "linalg.matrix_norm") for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({rows}, {cols})")
    if ord == "fro":
        return vector_norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        return _spectral_norm(A, ord, rows, cols, keepdim)
    if ord not in (1, -1, math.inf, -math.inf):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    inner, outer = (rows, cols) if ord in (1, -1) else (cols, rows)
    sums = _sum(_abs(A), inner, keepdim=True)
    out = (amax if ord > 0 else amin)(sums, outer, keepdim=True)
    if keepdim:
        return out
    shape = [n for i, n in enumerate(A.data.shape) if i not in (rows, cols)]
    return reshape(out, tuple(shape))


def _spectral_norm(A: Tensor, ord: Any, rows: int, cols: int, keepdim: bool) -> Tensor:
    """The nuclear (sum), 2 (largest) or -2 (smallest) norm, from the singular values."""
    from ember.ops.decomposition import SVD  # a sibling family; imported when needed

    rest = [d for d in range(A.data.ndim) if d not in (rows, cols)]
    values = SVD.apply(permute(A, *rest, rows, cols), False)[1]  # (*rest, k)
    out = _sum(values, -1) if ord == "nuc" else (amax if ord == 2 else amin)(values, -1)
    if keepdim:
        shape = list(A.data.shape)
        shape[rows] = shape[cols] = 1
        out = reshape(out, tuple(shape))
    return out


def norm(
    input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None
) -> Tensor:
    """Return a vector or matrix norm of input. Mirrors ``torch.norm``.

    A number p (or 'fro' over at most two dims) gives ``vector_norm``; 'nuc' gives
    ``matrix_norm``.
    """
    if isinstance(p, str):
        if p == "fro" and (dim is None or isinstance(dim, int) or len(dim) <= 2):
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        dims = tuple(range(input.data.ndim)) if dim is None else dim
        return matrix_norm(input, p, dims, keepdim, dtype=dtype)
    return vector_norm(input, 2.0 if p is None else p, dim, keepdim, dtype=dtype)
